#!/usr/bin/env node
// Outbound binding overhead: requests/s and p50/p99 latency of env.MY_CERT.fetch (the global fetch
// with the binding's undici Agent) against the same fetch with a bare undici Agent holding the same
// certificate, to an HTTPS server on 127.0.0.1 that demands client certificates. Also the time
// createBindings takes (key material over the API + lease registration). Closed loop, bounded in
// count and time; everything stays on loopback.
//
//   npm run build && node bench/binding-fetch.mjs
//   REQUESTS=5000 CONCS="1 16" node bench/binding-fetch.mjs
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { createBindings } from "../dist/index.js";
import { createLogger } from "../dist/log.js";
import { startGatehouse } from "../dist/runtime.js";

const REQUESTS = Number(process.env.REQUESTS ?? 3000);
const CONCS = (process.env.CONCS ?? "1 16").split(/\s+/).filter(Boolean).map(Number);
const MAX_SECONDS = Number(process.env.MAX_SECONDS ?? 20);

const dir = mkdtempSync(join(tmpdir(), "gh-bench-binding-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const ssl = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
const read = (f) => readFileSync(join(dir, f), "utf8");
ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=bench-ca", "-days", "30", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
for (const [name, ext] of [["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"], ["client", "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n"]]) {
  ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=bench-${name}`);
  execFileSync("sh", ["-c", `printf '${ext}' > ${name}.ext`], { cwd: dir });
  ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", `${name}.ext`, "-out", `${name}.pem`);
}

const server = createServer({ key: read("server.key"), cert: read("server.pem"), ca: read("ca.pem"), requestCert: true, rejectUnauthorized: true }, (_req, res) => res.end("ok"));
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const target = `https://127.0.0.1:${server.address().port}/`;

const operatorToken = "gh_bench_" + randomBytes(24).toString("base64url");
const gh = await startGatehouse({
  config: { host: "127.0.0.1", port: 0, dataDir: "memory://", masterKey: randomBytes(32), operatorToken, logLevel: "silent", workers: 1, byocaLimit: 5 },
  logger: createLogger("silent"),
  announce: () => {},
});
await gh.app.listen({ host: "127.0.0.1", port: 0 });
const apiUrl = `http://127.0.0.1:${gh.app.server.address().port}`;
const call = async (method, path, token, body) => {
  const res = await fetch(apiUrl + "/client/v4" + path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!json.success) throw new Error(`${path}: ${JSON.stringify(json.errors)}`);
  return json.result;
};
const account = await call("POST", "/accounts", operatorToken, { name: "bench" });
const edit = (await call("POST", `/accounts/${account.id}/tokens`, operatorToken, { name: "edit", scopes: ["ssl_certificates:edit"] })).value;
const use = (await call("POST", `/accounts/${account.id}/tokens`, operatorToken, { name: "use", scopes: ["mtls_certificates:use"] })).value;
const cert = await call("POST", `/accounts/${account.id}/mtls_certificates`, edit, { ca: false, certificates: read("client.pem"), private_key: read("client.key"), name: "bench" });

const t0 = performance.now();
const env = await createBindings({ mtls_certificates: [{ binding: "MY_CERT", certificate_id: cert.id }] }, { apiUrl, apiToken: use, accountId: account.id }, { ca: read("ca.pem") });
const setupMs = performance.now() - t0;
const bare = new Agent({ connect: { cert: read("client.pem"), key: read("client.key"), ca: read("ca.pem") } });

async function run(label, doFetch, conc) {
  const latencies = [];
  let next = 0;
  const deadline = performance.now() + MAX_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < REQUESTS && performance.now() < deadline) {
        next++;
        const s = performance.now();
        const res = await doFetch();
        await res.arrayBuffer();
        latencies.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
  console.log(`${label.padEnd(28)} conc ${String(conc).padStart(3)}  ${latencies.length} req  ${(latencies.length / secs).toFixed(0).padStart(6)} req/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms`);
}

console.log(`createBindings (key material + lease over the API): ${setupMs.toFixed(1)} ms`);
for (const conc of CONCS) {
  await run("bare undici Agent", () => fetch(target, { dispatcher: bare }), conc);
  await run("env.MY_CERT.fetch", () => env.MY_CERT.fetch(target), conc);
}
await env.close();
await bare.close();
server.closeAllConnections();
server.close();
await gh.close();
