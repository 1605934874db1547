#!/usr/bin/env node
// OCSP responses per second at concurrency 32: Gatehouse (on PostgreSQL, GATEHOUSE_WORKERS=2 so
// both cores serve) against OpenSSL's reference responder `openssl ocsp -index` in the same run.
// Both answer 100 single-certificate requests cycled by the client: 50 good and 50 revoked serials
// (Gatehouse: certificates issued and revoked through the API; openssl: the same serials in its
// index.txt), each index also holding INDEX_REVOKED more revoked rows (Gatehouse: bulk SQL INSERT).
// Requests are made by `openssl ocsp -reqout`, without a nonce ("cached") and with one ("nonce").
//
// Gatehouse phases: cached (every answer from the response cache), nonce within budget (budget
// unlimited: every answer signed fresh with the nonce), nonce past budget (the default budget, 120
// per minute per address: the cached answer without the nonce). openssl signs every answer; it
// serves one connection at a time, so it is measured with one connection per request (its mode),
// and with `-multi 2` (two processes) as the both-cores peer. Gatehouse is measured both with one
// connection per request and with kept-alive connections. Clients: wrk (light, -t1) and a Node
// closed loop (checks every body: status, content type, OCSPResponseStatus successful, and in
// nonce phases whether the nonce came back).
//
// openssl ocsp binds every interface (it takes no address), so its phases run in a private
// network namespace (`unshare -n`, root) holding only loopback, with the client inside it.
// Every phase is bounded in time (WARMUP + SECONDS) and in count (MAX_REQUESTS).
//
//   npm run build && node bench/ocsp.mjs
//   SECONDS=10 WARMUP=2 INDEX_REVOKED=100000 CLUSTER_SCHED=rr node bench/ocsp.mjs
// CLUSTER_SCHED (default none): NODE_CLUSTER_SCHED_POLICY for Gatehouse's workers. With Node's
// default on Linux (rr) the primary accepts every connection and hands it to a worker, which
// about doubles the CPU of a connection-per-request client; "none" lets the kernel spread them.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { cpuSeconds } from "./lib/load.mjs";

const SECS = Number(process.env.SECONDS ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 2);
const CONC = Number(process.env.CONC ?? 32);
const INDEX_REVOKED = Number(process.env.INDEX_REVOKED ?? 100_000);
const MAX_REQUESTS = Number(process.env.MAX_REQUESTS ?? 2_000_000);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** CLUSTER_SCHED: node:cluster's connection distribution for Gatehouse's workers ("rr", Node's default on Linux, or "none"). */
const CLUSTER_SCHED = process.env.CLUSTER_SCHED ?? "none";
/** WORKERS: GATEHOUSE_WORKERS (2: both cores serve; the client shares them). */
const WORKERS = process.env.WORKERS ?? "2";
const SELF = new URL(import.meta.url).pathname;
const NONCE_OID = Buffer.from("06092b0601050507300102", "hex");

/** ocspStatusOk: an OCSPResponse whose responseStatus is successful with responseBytes. */
function ocspStatusOk(b) {
  if (b.length < 8 || b[0] !== 0x30) return false;
  let i = 2;
  if (b[1] & 0x80) i += b[1] & 0x7f;
  return b[i] === 0x0a && b[i + 1] === 1 && b[i + 2] === 0 && b[i + 3] === 0xa0;
}

/** nodeLoad: closed loop over pre-built DER requests (POST), `conc` workers, bounded in time and count. */
async function nodeLoad({ url, bodies, conc, seconds, keepAlive, maxRequests = MAX_REQUESTS }) {
  const u = new URL(url);
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: conc }) : false;
  const lat = [];
  let errors = 0, bad = 0, withNonce = 0, sent = 0, next = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = (body) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", agent,
        headers: { "content-type": "application/ocsp-request", "content-length": body.length, ...(keepAlive ? {} : { connection: "close" }) } }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const b = Buffer.concat(chunks);
          if (res.statusCode !== 200 || !/^application\/ocsp-response/.test(res.headers["content-type"] ?? "") || !ocspStatusOk(b)) bad++;
          else {
            lat.push(performance.now() - t0);
            if (b.includes(NONCE_OID)) withNonce++;
          }
          resolve();
        });
        res.on("error", () => { errors++; resolve(); });
      });
      req.on("error", () => { errors++; resolve(); });
      req.end(body);
    });
  const worker = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      sent++;
      await one(bodies[next++ % bodies.length]);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = (performance.now() - t0) / 1000;
  if (agent) agent.destroy();
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : NaN);
  return { ok: lat.length, rps: lat.length / secs, p50: pct(50), p99: pct(99), errors, bad, noncePct: lat.length ? (100 * withNonce) / lat.length : 0 };
}

const WRK_LUA = `
-- POST pre-built DER OCSP requests, cycling; counts answers that are not a successful OCSPResponse.
local threads = {}
function wrk.resolve(host, service) wrk.addrs = wrk.lookup(host, service) end -- no empty probe connection (it wedges openssl ocsp)
function setup(t) table.insert(threads, t) end
function init(args)
  local headers = { ["Content-Type"] = "application/ocsp-request" }
  if os.getenv("CLOSE") == "1" then headers["Connection"] = "close" end
  reqs = {}
  for path in io.lines(os.getenv("REQS_LIST")) do
    local f = assert(io.open(path, "rb")); reqs[#reqs + 1] = wrk.format("POST", nil, headers, f:read("*a")); f:close()
  end
  i, bad, n, max = 0, 0, 0, tonumber(os.getenv("MAX_REQUESTS"))
end
function request() i = i % #reqs + 1; return reqs[i] end
function response(status, headers, body)
  n = n + 1
  local b = body or ""
  local at = 3
  if #b > 1 and b:byte(2) >= 0x80 then at = 3 + (b:byte(2) - 0x80) end
  if status ~= 200 or b:byte(1) ~= 0x30 or b:byte(at) ~= 0x0a or b:byte(at + 2) ~= 0x00 or b:byte(at + 3) ~= 0xa0 then bad = bad + 1 end
  if n >= max then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  local e = summary.errors
  local ok = summary.requests - b - e.status
  io.write(string.format("RESULT ok=%d secs=%.3f p50=%.3f p99=%.3f errors=%d bad=%d\\n", ok, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, b + e.status))
end
`;

/** wrkLoad runs wrk -t1 -c<conc> with the Lua script above; keepAlive false sends Connection: close. */
function wrkLoad({ url, list, conc, seconds, keepAlive, script }) {
  const r = spawnSync("wrk", ["-t1", `-c${conc}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url], {
    env: { ...process.env, REQS_LIST: list, CLOSE: keepAlive ? "0" : "1", MAX_REQUESTS: String(MAX_REQUESTS) }, encoding: "utf8", timeout: (seconds + 30) * 1000,
  });
  const m = /RESULT ok=(\d+) secs=([\d.]+) p50=([\d.]+) p99=([\d.]+) errors=(\d+) bad=(\d+)/.exec(r.stdout ?? "");
  if (!m) throw new Error(`wrk failed: ${r.stdout}${r.stderr}`);
  return { ok: +m[1], rps: +m[1] / +m[2], p50: +m[3], p99: +m[4], errors: +m[5], bad: +m[6], noncePct: NaN };
}

/** phase: warm-up, then a measured run with the server's CPU seconds around it. */
async function phase(label, { pids, run }) {
  if (WARMUP > 0) await run(WARMUP);
  const c0 = pids().reduce((s, p) => s + cpuSeconds(p), 0);
  const r = await run(SECS);
  const cpu = pids().reduce((s, p) => s + cpuSeconds(p), 0) - c0;
  const row = { label, ...r, cpuUs: (cpu * 1e6) / Math.max(1, r.ok) };
  console.error(`${label}: ${r.rps.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms errors ${r.errors} bad ${r.bad} server CPU ${row.cpuUs.toFixed(0)} µs/resp`);
  return row;
}

// ── the openssl phases, run inside `unshare -n` ────────────────────────────────────────────
if (process.argv[2] === "--openssl-phases") {
  const dir = process.argv[3];
  execFileSync("ip", ["link", "set", "lo", "up"]);
  const rows = [];
  const freePort = () => 20000 + Math.floor(Math.random() * 20000);
  let resp;
  const start = async (multi) => {
    const port = freePort();
    resp = spawn("openssl", ["ocsp", "-index", join(dir, "index.txt"), "-port", String(port), "-rsigner", join(dir, "ca.pem"), "-rkey", join(dir, "ca.key"),
      "-CA", join(dir, "ca.pem"), "-nmin", "5", "-ignore_err", "-nrequest", "50000000", ...(multi ? ["-multi", String(multi)] : [])], { stdio: ["ignore", "ignore", "ignore"] });
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 100; i++) {
      const r = spawnSync("openssl", ["ocsp", "-reqin", readdirSync(join(dir, "reqs")).map((f) => join(dir, "reqs", f))[0], "-url", url, "-noverify", "-timeout", "2"], { encoding: "utf8" });
      if (/: good|successful|Response/.test(r.stdout + r.stderr) && r.status === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return url;
  };
  const stop = async () => {
    if (!resp || resp.exitCode !== null) return;
    const kids = (() => { try { return readFileSync(`/proc/${resp.pid}/task/${resp.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; } })();
    resp.kill("SIGTERM");
    for (const k of kids) { try { process.kill(k, "SIGTERM"); } catch {} }
    await new Promise((r) => (resp.exitCode !== null ? r() : resp.once("exit", r)));
  };
  const bodies = (sub) => readdirSync(join(dir, sub)).sort().map((f) => readFileSync(join(dir, sub, f)));
  const cases = [
    ["openssl ocsp, wrk, conn/request, no nonce", 0, "reqs", "wrk"],
    ["openssl ocsp, node, conn/request, no nonce", 0, "reqs", "node"],
    ["openssl ocsp, wrk, conn/request, nonce", 0, "reqs-nonce", "wrk"],
    ["openssl ocsp -multi 2, wrk, conn/request, no nonce", 2, "reqs", "wrk"],
  ];
  for (const [label, multi, sub, client] of cases) {
    // a fresh responder per phase: a connection closed before its request line wedges openssl ocsp (3.0)
    let url = await start(multi);
    const run = async (secs) => {
      const r = client === "wrk" ? wrkLoad({ url, list: join(dir, `${sub}.list`), conc: CONC, seconds: secs, keepAlive: false, script: join(dir, "ocsp.lua") })
        : await nodeLoad({ url, bodies: bodies(sub), conc: CONC, seconds: secs, keepAlive: false });
      await stop();
      url = await start(multi);
      return r;
    };
    if (WARMUP > 0) await run(WARMUP);
    // openssl ocsp (3.0) can wedge on a connection closed before its request line; a phase whose
    // connections failed is measured again on a fresh responder (at most twice), and says so
    let row;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const c0 = cpuSeconds(resp.pid);
      const pid = resp.pid;
      const r = client === "wrk" ? wrkLoad({ url, list: join(dir, `${sub}.list`), conc: CONC, seconds: SECS, keepAlive: false, script: join(dir, "ocsp.lua") })
        : await nodeLoad({ url, bodies: bodies(sub), conc: CONC, seconds: SECS, keepAlive: false });
      const cpu = cpuSeconds(pid) - c0;
      await stop();
      row = { label: attempt > 1 ? `${label} (attempt ${attempt})` : label, ...r, cpuUs: (cpu * 1e6) / Math.max(1, r.ok) };
      if (r.errors <= r.ok / 100) break;
      url = await start(multi);
    }
    rows.push(row);
  }
  console.log(JSON.stringify(rows));
  process.exit(0);
}

// ── main ───────────────────────────────────────────────────────────────────────────────────
const work = join(tmpdir(), `gh-bench-ocsp-${randomBytes(4).toString("hex")}`);
mkdirSync(work);
const cleanups = [];
const sh = (cmd, args) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
const freePort = () => Number(sh(process.execPath, ["-e", 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})']));

async function startGatehouse(dbUrl, env) {
  const port = freePort();
  const child = spawn(process.execPath, [new URL("../dist/server.js", import.meta.url).pathname], {
    env: { ...process.env, DATABASE_URL: dbUrl, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", GATEHOUSE_WORKERS: WORKERS, GATEHOUSE_PKI_RATE_LIMIT: "0", NODE_CLUSTER_SCHED_POLICY: CLUSTER_SCHED, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {}
    if (i > 300) throw new Error("Gatehouse did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  // both workers up: healthz answers from either; give the second a moment
  await new Promise((r) => setTimeout(r, 1500));
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  };
  return { base, pid: child.pid, stop };
}

async function main() {
  const name = `gatehouse_bench_ocsp_${randomBytes(4).toString("hex")}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  cleanups.push(async () => { await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); await admin.end(); });
  const dbUrl = new URL(BASE_URL);
  dbUrl.pathname = `/${name}`;
  const masterKey = randomBytes(32).toString("base64");
  const op = "gh_bench_" + randomBytes(16).toString("hex");
  const common = { GATEHOUSE_MASTER_KEY: masterKey, GATEHOUSE_OPERATOR_TOKEN: op };

  let gh = await startGatehouse(dbUrl.toString(), { ...common, GATEHOUSE_OCSP_NONCE_PER_MINUTE: "1000000" });
  cleanups.push(() => gh.stop());
  const call = async (method, path, token, body) => {
    const r = await fetch(`${gh.base}/client/v4${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const j = await r.json();
    if (!j.success) throw new Error(JSON.stringify(j));
    return j.result;
  };
  const account = await call("POST", "/accounts", op, { name: "ocsp bench", ca_key_type: "P-256" });
  const zone = await call("POST", "/zones", op, { name: "ocsp-bench.example", account: { id: account.id } });
  const token = (await call("POST", `/accounts/${account.id}/tokens`, op, { name: "b", scopes: ["ssl_certificates:edit"] })).value;
  const caId = account.managed_ca.id;
  const csr = sh("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null", "-subj", "/CN=ocsp-bench"]);
  const good = [], revoked = [];
  for (let i = 0; i < 100; i++) {
    const c = await call("POST", `/zones/${zone.id}/client_certificates`, token, { csr, validity_days: 365 });
    if (i < 50) good.push(c.serial_number);
    else {
      await call("DELETE", `/zones/${zone.id}/client_certificates/${c.id}${i % 2 ? "?reason=keyCompromise" : ""}`, token);
      revoked.push(c.serial_number);
    }
  }
  const sql = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} });
  await sql.unsafe(`INSERT INTO client_certificates (id, zone_id, ca_id, serial, status, revocation_reason, revoked_on, certificate_pem, csr_pem,
      fingerprint_sha256, ski, signature, validity_days, issued_on, expires_on)
    SELECT gen_random_uuid(), $1, $2::uuid, set_byte(b, 0, (get_byte(b, 0) & 63) | 64), 'revoked', 'keyCompromise', date_trunc('second', now() - interval '1 day'),
      repeat('A', 750), repeat('B', 500), md5(g::text) || md5(g::text), substr(md5(g::text), 1, 40), 'ECDSAWithSHA256', 365, now() - interval '1 day', now() + interval '364 days'
    FROM (SELECT g, uuid_send(gen_random_uuid()) AS b FROM generate_series(1, $3) g) r`, [zone.id, caId, INDEX_REVOKED]);
  await sql.unsafe("VACUUM ANALYZE client_certificates");
  await sql.end();
  writeFileSync(join(work, "ca.pem"), await (await fetch(`${gh.base}/pki/${caId}/ca.pem`)).text());

  // requests for Gatehouse's CA and, with the same serials, for the openssl responder's CA
  const od = join(work, "openssl");
  mkdirSync(od);
  writeFileSync(join(od, "req.cnf"), "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n");
  sh("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(od, "ca.key"), "-out", join(od, "ca.pem"), "-days", "3650", "-sha256", "-subj", "/O=Bench/CN=openssl OCSP CA", "-config", join(od, "req.cnf"), "-extensions", "v3"]);
  const serials = [...good.map((s) => ["V", s]), ...revoked.map((s) => ["R", s])];
  for (const [root, ca] of [[work, join(work, "ca.pem")], [od, join(od, "ca.pem")]]) {
    for (const [sub, opt] of [["reqs", "-no_nonce"], ["reqs-nonce", "-nonce"]]) {
      mkdirSync(join(root, sub));
      serials.forEach(([st, s], i) => sh("openssl", ["ocsp", "-issuer", ca, "-serial", `0x${s}`, opt, "-reqout", join(root, sub, `${String(i).padStart(4, "0")}-${st}.der`)]));
      writeFileSync(join(root, `${sub}.list`), readdirSync(join(root, sub)).sort().map((f) => join(root, sub, f)).join("\n") + "\n");
    }
    writeFileSync(join(root, "ocsp.lua"), WRK_LUA);
  }
  const utc = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  const exp = utc(Date.now() + 365 * 86400e3), rev = utc(Date.now() - 86400e3);
  let index = serials.map(([st, s]) => `${st}\t${exp}\t${st === "R" ? rev + ",keyCompromise" : ""}\t${s.toUpperCase()}\tunknown\t/CN=${s}\n`).join("");
  for (let i = 0; i < INDEX_REVOKED; i++) {
    const b = randomBytes(16);
    b[0] = (b[0] & 0x3f) | 0x40;
    index += `R\t${exp}\t${rev},keyCompromise\t${b.toString("hex").toUpperCase()}\tunknown\t/CN=r${i}\n`;
  }
  writeFileSync(join(od, "index.txt"), index);
  writeFileSync(join(od, "index.txt.attr"), "unique_subject = no\n");

  // smoke: openssl ocsp -url says good / revoked / unknown and verifies every answer
  let url = `${gh.base}/pki/${caId}/ocsp`;
  for (const [want, s] of [["good", good[0]], ["revoked", revoked[0]], ["unknown", "7f" + randomBytes(15).toString("hex")]]) {
    const r = spawnSync("openssl", ["ocsp", "-issuer", join(work, "ca.pem"), "-serial", `0x${s}`, "-url", url, "-CAfile", join(work, "ca.pem")], { encoding: "utf8" });
    const out = r.stdout + r.stderr;
    if (!/Response verify OK/.test(out) || !new RegExp(`: ${want}`).test(out)) throw new Error(`smoke ${want}: ${out}`);
    console.error(`smoke: 0x${s.slice(0, 8)}… ${want}, Response verify OK`);
  }

  const rows = [];
  const ghBodies = (sub) => readdirSync(join(work, sub)).sort().map((f) => readFileSync(join(work, sub, f)));
  const ghPhase = (label, sub, client, keepAlive) =>
    phase(label, {
      pids: () => [gh.pid],
      run: async (secs) => (client === "wrk" ? wrkLoad({ url, list: join(work, `${sub}.list`), conc: CONC, seconds: secs, keepAlive, script: join(work, "ocsp.lua") }) : nodeLoad({ url, bodies: ghBodies(sub), conc: CONC, seconds: secs, keepAlive })),
    });
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), wrk, keep-alive, cached`, "reqs", "wrk", true));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), wrk, conn/request, cached`, "reqs", "wrk", false));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), node, keep-alive, cached`, "reqs", "node", true));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), node, conn/request, cached`, "reqs", "node", false));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), wrk, keep-alive, nonce within budget (signed fresh)`, "reqs-nonce", "wrk", true));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), node, keep-alive, nonce within budget (signed fresh)`, "reqs-nonce", "node", true));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), wrk, conn/request, nonce within budget (signed fresh)`, "reqs-nonce", "wrk", false));
  await gh.stop();
  gh = await startGatehouse(dbUrl.toString(), common); // default budget: 120 fresh signatures per minute per address
  url = `${gh.base}/pki/${caId}/ocsp`;
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), wrk, keep-alive, nonce past budget (cached, no nonce)`, "reqs-nonce", "wrk", true));
  rows.push(await ghPhase(`Gatehouse (${WORKERS} workers), node, keep-alive, nonce past budget (cached, no nonce)`, "reqs-nonce", "node", true));
  await gh.stop();

  // openssl, in a private network namespace
  const r = spawnSync("unshare", ["-n", process.execPath, SELF, "--openssl-phases", od], { encoding: "utf8", env: process.env, timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`openssl phases failed: ${r.stdout}`);
  const peer = JSON.parse(r.stdout.trim().split("\n").pop());
  for (const p of peer) console.error(`${p.label}: ${Math.round(p.rps)}/s errors ${p.errors} bad ${p.bad} responder CPU ${Math.round(p.cpuUs)} µs/resp`);
  rows.push(...peer);

  console.log(`\nOCSP, P-256 CA, concurrency ${CONC}, ${SECS} s measured after ${WARMUP} s warm-up, 100 requests (50 good, 50 revoked) cycled, index +${INDEX_REVOKED} revoked rows, unpinned on ${sh("nproc", []).trim()} cores shared with the client, NODE_CLUSTER_SCHED_POLICY=${CLUSTER_SCHED}`);
  console.log("| server, client, connections, requests | responses/s | p50 ms | p99 ms | errors | bad | nonce echoed % | server CPU µs/response |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const f = (x, d) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "–");
  for (const x of rows) console.log(`| ${x.label} | ${f(x.rps, 0)} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${x.errors} | ${x.bad} | ${f(x.noncePct, 0)} | ${f(x.cpuUs, 0)} |`);
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
