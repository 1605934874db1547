#!/usr/bin/env node
// What nginx cannot do without a reload: how long after a DELETE (revocation through the API) the
// edge refuses the certificate — on a connection that stays open. Per trial: issue a managed-CA
// certificate through the API, open ONE kept-alive mTLS connection to the edge, send requests back
// to back on it, DELETE the certificate through the API (another process: the change travels by
// LISTEN/NOTIFY on a server database), and time the first 403 on that same connection.
// Loopback only; bounded by TRIALS and a 5 s limit per trial.
//
//   API=http://127.0.0.1:P TOKEN=gh_... ZONE=<zone id> EDGE_PORT=Q CERTS=dir [TRIALS=20] [PATH_=/proxy] \
//     node bench/edge-revocation.mjs
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";

const { API, TOKEN, ZONE, EDGE_PORT, CERTS } = process.env;
const TRIALS = Number(process.env.TRIALS ?? 20);
const PATH_ = process.env.PATH_ ?? "/proxy";
if (!API || !TOKEN || !ZONE || !EDGE_PORT || !CERTS) {
  console.error("edge-revocation: API, TOKEN, ZONE, EDGE_PORT and CERTS are required");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "gh-bench-revoke-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

async function call(method, path, body) {
  const res = await fetch(`${API}/client/v4${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!json.success) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.errors)}`);
  return json.result;
}

function newClientCertificate(i) {
  execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", join(dir, `k${i}.pem`), "-out", join(dir, `r${i}.pem`), "-subj", `/CN=revocation-bench-${i}`], { stdio: "ignore" });
  return { csr: readFileSync(join(dir, `r${i}.pem`), "utf8"), key: readFileSync(join(dir, `k${i}.pem`), "utf8") };
}

/** A raw kept-alive connection: request() sends one GET and resolves with the status. */
function connect(cert, key) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: Number(EDGE_PORT), servername: "localhost", cert, key,
      ca: readFileSync(join(CERTS, "ca.pem")) }, () => resolve(api));
    socket.on("error", reject);
    let buf = Buffer.alloc(0);
    let waiting = null;
    const tryParse = () => {
      const end = buf.indexOf("\r\n\r\n");
      if (!waiting || end < 0) return;
      const head = buf.subarray(0, end).toString("latin1");
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      buf = buf.subarray(end + 4 + len);
      const w = waiting;
      waiting = null;
      w(Number(head.slice(9, 12)));
    };
    socket.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      tryParse();
    });
    const api = {
      localPort: () => socket.localPort,
      request: () => new Promise((r) => {
        waiting = r;
        socket.write(`GET ${PATH_} HTTP/1.1\r\nHost: localhost:${EDGE_PORT}\r\n\r\n`);
      }),
      close: () => socket.destroy(),
    };
  });
}

const fromSend = [];
const fromAck = [];
let served = 0;
for (let i = 0; i < TRIALS; i++) {
  const { csr, key } = newClientCertificate(i);
  const row = await call("POST", `/zones/${ZONE}/client_certificates`, { csr, validity_days: 1 });
  const conn = await connect(row.certificate, key);
  const port = conn.localPort();
  for (let k = 0; k < 20; k++) {
    const s = await conn.request();
    if (s !== 200) throw new Error(`trial ${i}: warm-up request answered ${s}`);
  }
  let ackAt = 0;
  const sentAt = performance.now();
  call("DELETE", `/zones/${ZONE}/client_certificates/${row.id}?reason=keyCompromise`).then(() => (ackAt = performance.now()));
  let status = 200;
  let n = 0;
  while (status === 200 && performance.now() - sentAt < 5000) {
    status = await conn.request();
    n++;
  }
  const refusedAt = performance.now();
  while (ackAt === 0) await new Promise((r) => setTimeout(r, 1));
  if (status !== 403) throw new Error(`trial ${i}: still ${status} after 5 s`);
  if (conn.localPort() !== port) throw new Error(`trial ${i}: the connection changed`);
  conn.close();
  fromSend.push(refusedAt - sentAt);
  fromAck.push(refusedAt - ackAt);
  served += n - 1;
}
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (xs) => `p50=${q(xs, 50).toFixed(1)} p90=${q(xs, 90).toFixed(1)} max=${Math.max(...xs).toFixed(1)}`;
console.log(`RESULT trials=${TRIALS} refused_after_delete_sent_ms: ${fmt(fromSend)} | after_delete_answered_ms: ${fmt(fromAck)} | ` +
  `requests_still_served_per_trial=${(served / TRIALS).toFixed(1)} (same connection every time)`);
