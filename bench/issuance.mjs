#!/usr/bin/env node
// Issuance throughput: Gatehouse (persisting every certificate in PostgreSQL) against cfssl
// (`cfssl serve`, /api/v1/cfssl/sign, storing nothing) in the same run, same CSRs (P-256), same
// closed-loop client, concurrency 1, 16 and 64. Prints certificates/s, p50/p99 latency and server
// CPU per certificate. Traffic goes to 127.0.0.1 only; every phase is bounded in time and count.
//
//   npm run build && node bench/issuance.mjs
//   SECONDS=20 CONCS="16 64" WORKERS=2 PEERS="" node bench/issuance.mjs
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { closedLoop, cpuSeconds } from "./lib/load.mjs";

const SECS = Number(process.env.SECONDS ?? 10);
const WARMUP = Number(process.env.WARMUP ?? 2);
const CONCS = (process.env.CONCS ?? "1 16 64").split(/\s+/).filter(Boolean).map(Number);
const WORKERS = process.env.WORKERS ?? "2";
const PEERS = (process.env.PEERS ?? "cfssl").split(/\s+/).filter(Boolean);
const NCSR = Number(process.env.CSRS ?? 500);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MAX = 2_000_000;

const work = mkdtempSync(join(tmpdir(), "gh-bench-"));
const cleanups = [];
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

function freePort() {
  return Number(execFileSync(process.execPath, ["-e", 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})']).toString());
}

function waitForLine(child, re, ms = 60_000) {
  return new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}: ${out.slice(-2000)}`)), ms);
    const on = (c) => {
      out += c;
      const m = re.exec(out);
      if (m) { clearTimeout(t); resolve(m); }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
  });
}

async function waitHttp(url, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`${url} did not answer`);
}

console.error(`making ${NCSR} P-256 CSRs with openssl…`);
const csrs = [];
for (let i = 0; i < NCSR; i++) {
  csrs.push(execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "/dev/null", "-subj", `/O=Bench/CN=bench-client-${i}`], { stdio: ["ignore", "pipe", "ignore"] }).toString());
}

async function measure(label, url, bodies, headers, pids, check) {
  const rows = [];
  for (const concurrency of CONCS) {
    await closedLoop({ url, bodies, headers, concurrency, seconds: WARMUP, maxRequests: MAX, check });
    const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const r = await closedLoop({ url, bodies, headers, concurrency, seconds: SECS, maxRequests: MAX, check });
    const cpu = pids.reduce((s, p) => s + cpuSeconds(p), 0) - cpu0;
    rows.push({ label, concurrency, ...r, cpuMsPerOp: (cpu * 1000) / Math.max(1, r.ok) });
    console.error(`${label} c=${concurrency}: ${r.rate.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms errors ${r.errors}`);
  }
  return rows;
}

async function benchGatehouse() {
  const name = `gatehouse_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(BASE_URL); dbUrl.pathname = `/${name}`;
  const [{ synchronous_commit }] = await admin`SHOW synchronous_commit`;
  const [{ fsync }] = await admin`SHOW fsync`;
  cleanups.push(async () => { await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); await admin.end(); });
  const port = freePort();
  const op = "gh_bench_" + randomBytes(16).toString("hex");
  const child = spawn(process.execPath, ["dist/server.js"], {
    env: { ...process.env, DATABASE_URL: dbUrl.toString(), GATEHOUSE_MASTER_KEY: randomBytes(32).toString("base64"),
      GATEHOUSE_OPERATOR_TOKEN: op, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: process.env.GH_LOG_LEVEL ?? "warn", GATEHOUSE_WORKERS: WORKERS },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(async () => { child.kill("SIGTERM"); });
  const api = `http://127.0.0.1:${port}/client/v4`;
  await waitHttp(`http://127.0.0.1:${port}/healthz`);
  const call = async (path, token, body) => (await (await fetch(api + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) })).json()).result;
  const account = await call("/accounts", op, { name: "bench" });
  const zone = await call("/zones", op, { name: "bench.example", account: { id: account.id } });
  const token = await call(`/accounts/${account.id}/tokens`, op, { name: "bench", scopes: ["ssl_certificates:edit"] });
  const bodies = csrs.map((csr) => JSON.stringify({ csr, validity_days: 365 }));
  console.error(`Gatehouse: PostgreSQL ${BASE_URL.replace(/\/\/.*@/, "//")} synchronous_commit=${synchronous_commit} fsync=${fsync}, GATEHOUSE_WORKERS=${WORKERS}`);
  const rows = await measure(`gatehouse(workers=${WORKERS})`, `${api}/zones/${zone.id}/client_certificates`, bodies, { authorization: `Bearer ${token.value}` }, [child.pid]);
  const db = postgres(dbUrl.toString(), { max: 1 });
  const [{ n }] = await db`SELECT count(*)::int AS n FROM client_certificates`;
  await db.end();
  const acknowledged = rows.reduce((s, r) => s + r.ok, 0);
  console.error(`Gatehouse persisted ${n} certificates (${acknowledged} acknowledged in measured phases, plus warm-ups)`);
  return { rows, synchronous_commit };
}

async function benchCfssl() {
  const dir = join(work, "cfssl");
  execFileSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "ca-csr.json"), JSON.stringify({ CN: "Bench CA", key: { algo: "ecdsa", size: 256 }, names: [{ O: "Bench" }], ca: { expiry: "87600h" } }));
  const gen = execFileSync("cfssl", ["gencert", "-initca", join(dir, "ca-csr.json")], { stdio: ["ignore", "pipe", "ignore"] });
  const { cert, key } = JSON.parse(gen.toString());
  writeFileSync(join(dir, "ca.pem"), cert);
  writeFileSync(join(dir, "ca-key.pem"), key);
  writeFileSync(join(dir, "signing.json"), JSON.stringify({ signing: { default: { usages: ["signing", "key encipherment", "client auth"], expiry: "8760h" } } }));
  const port = freePort();
  const child = spawn("cfssl", ["serve", "-address", "127.0.0.1", "-port", String(port), "-ca", join(dir, "ca.pem"), "-ca-key", join(dir, "ca-key.pem"), "-config", join(dir, "signing.json"), "-loglevel", "5"], { stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(async () => { child.kill("SIGTERM"); });
  await waitHttp(`http://127.0.0.1:${port}/api/v1/cfssl/info`);
  const bodies = csrs.map((csr) => JSON.stringify({ certificate_request: csr, profile: "default" }));
  const check = (buf) => buf.includes('"success":true');
  return { rows: await measure("cfssl serve (no db)", `http://127.0.0.1:${port}/api/v1/cfssl/sign`, bodies, {}, [child.pid], check) };
}

try {
  const results = [];
  if (PEERS.includes("cfssl")) results.push(...(await benchCfssl()).rows);
  results.push(...(await benchGatehouse()).rows);
  if (PEERS.includes("cfssl")) results.push(...(await benchCfssl()).rows.map((r) => ({ ...r, label: r.label + " (again)" })));
  console.log(`\nP-256 CSRs → client certificates, ${SECS} s per point after ${WARMUP} s warm-up, closed loop, keep-alive, client on the same 2 cores`);
  console.log("| server | conc | certs/s | p50 ms | p99 ms | errors | server CPU ms/cert |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) console.log(`| ${r.label} | ${r.concurrency} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.cpuMsPerOp.toFixed(3)} |`);
  const gh = results.filter((r) => r.label.startsWith("gatehouse"));
  const cf = results.filter((r) => r.label.startsWith("cfssl"));
  for (const c of CONCS) {
    const g = gh.find((r) => r.concurrency === c);
    const peers = cf.filter((r) => r.concurrency === c).map((r) => r.rate);
    if (g && peers.length) console.log(`c=${c}: Gatehouse/cfssl = ${(g.rate / Math.max(...peers)).toFixed(2)}–${(g.rate / Math.min(...peers)).toFixed(2)} (cfssl runs before and after: ${peers.map((p) => p.toFixed(0)).join(", ")}/s)`);
  }
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}
process.exit(0);
