#!/usr/bin/env node
// Factory provisioning throughput: `gatehouse provision` (the real CLI, a child process) against
// the service (a child process) on a real PostgreSQL server, for P-256 and RSA-2048 devices.
// Prints devices/s (wall clock of the whole command, start-up included and reported apart) and
// where the time of one device goes: key generation vs issuance (HTTP + server) vs file writes,
// summed over devices (they overlap under concurrency, so the shares are of busy time, not wall
// time). A keygen-only phase gives the ceiling that key generation alone allows on this machine.
// Traffic goes to 127.0.0.1 only; every phase is bounded in count.
//
//   node bench/provision.mjs
//   P256=5000 RSA=1000 CONCURRENCY=32 WORKERS=2 node bench/provision.mjs
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (default)
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPair, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";

const ROOT = new URL("..", import.meta.url).pathname;
const COUNTS = { p256: Number(process.env.P256 ?? 2000), rsa2048: Number(process.env.RSA ?? 500) };
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const WORKERS = process.env.WORKERS ?? "1";
const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MAX = 100_000;
for (const n of Object.values(COUNTS)) if (!(n >= 1 && n <= MAX)) throw new Error(`counts must be 1..${MAX}`);

const work = mkdtempSync(join(tmpdir(), "gh-bench-provision-"));
const cleanups = [];
const tsx = ["--import", "tsx"];

function freePort() {
  return Number(execFileSync(process.execPath, ["-e", 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})']).toString());
}

async function waitHttp(url, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function run(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...tsx, "src/cli/main.ts", ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ out, ms: performance.now() - started }) : reject(new Error(`provision exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** keygenOnly: the same key generation the CLI does, with the same concurrency, and nothing else. */
async function keygenOnly(keyType, count) {
  const gen = promisify(generateKeyPair);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next++ < count) {
      if (keyType === "p256") await gen("ec", { namedCurve: "P-256" });
      else await gen("rsa", { modulusLength: 2048, publicExponent: 65537 });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - started) / 1000);
}

async function main() {
  const name = `gatehouse_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  cleanups.push(async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const [{ synchronous_commit }] = await admin`SHOW synchronous_commit`;
  const dbUrl = new URL(BASE_URL);
  dbUrl.pathname = `/${name}`;
  const port = freePort();
  const op = "gh_bench_" + randomBytes(16).toString("hex");
  const server = spawn(process.execPath, [...tsx, "src/server.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl.toString(),
      GATEHOUSE_MASTER_KEY: randomBytes(32).toString("base64"),
      GATEHOUSE_OPERATOR_TOKEN: op,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      GATEHOUSE_WORKERS: WORKERS,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  cleanups.push(async () => server.kill("SIGTERM"));
  await waitHttp(`http://127.0.0.1:${port}/healthz`);
  const api = `http://127.0.0.1:${port}/client/v4`;
  const call = async (path, body) =>
    (await (await fetch(api + path, { method: "POST", headers: { authorization: `Bearer ${op}`, "content-type": "application/json" }, body: JSON.stringify(body) })).json()).result;
  const account = await call("/accounts", { name: "bench" });
  const env = { GATEHOUSE_API_URL: `http://127.0.0.1:${port}`, GATEHOUSE_API_TOKEN: (await call(`/accounts/${account.id}/tokens`, { name: "bench", scopes: ["ssl_certificates:edit"] })).value };

  // CLI start-up alone (tsx + module loading + the zone/CA look-ups): a 1-device run.
  const warmZone = await call("/zones", { name: "warm.bench.example", account: { id: account.id } });
  const startup = await run(["provision", "--zone", warmZone.id, "--count", "1", "--out", join(work, "warm"), "--json"], env);

  console.error(`load average before: ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  console.error(`PostgreSQL ${BASE_URL.replace(/\/\/.*@/, "//")} (synchronous_commit=${synchronous_commit}), GATEHOUSE_WORKERS=${WORKERS}, --concurrency ${CONCURRENCY}, ${execFileSync("nproc").toString().trim()} cores shared by CLI, service and database`);
  const rows = [];
  for (const keyType of ["p256", "rsa2048"]) {
    const count = COUNTS[keyType];
    const zone = await call("/zones", { name: `${keyType}.bench.example`, account: { id: account.id } });
    const out = join(work, keyType);
    const { out: stdout, ms } = await run(["provision", "--zone", zone.id, "--count", String(count), "--out", out, "--key-type", keyType, "--concurrency", String(CONCURRENCY), "--json"], env);
    const r = JSON.parse(stdout);
    if (r.issued !== count || r.failed.length) throw new Error(`${keyType}: issued ${r.issued}/${count}, ${r.failed.length} failed`);
    const busy = r.keygenMs + r.issueMs + r.writeMs;
    const keygenCeiling = await keygenOnly(keyType, Math.min(count, keyType === "p256" ? 2000 : 60));
    rows.push({
      keyType,
      count,
      rate: count / (r.wallMs / 1000),
      rateWithStartup: count / (ms / 1000),
      keygen: r.keygenMs / busy,
      issue: r.issueMs / busy,
      write: r.writeMs / busy,
      keygenMsPerDevice: r.keygenMs / count,
      issueMsPerDevice: r.issueMs / count,
      keygenCeiling,
    });
    console.error(`${keyType}: ${count} devices in ${(r.wallMs / 1000).toFixed(1)} s`);
    rmSync(out, { recursive: true, force: true });
  }
  const db = postgres(dbUrl.toString(), { max: 1, onnotice: () => {} });
  const [{ n }] = await db`SELECT count(*)::int AS n FROM client_certificates`;
  await db.end();

  console.log(`\ngatehouse provision → API (GATEHOUSE_WORKERS=${WORKERS}) → PostgreSQL, --concurrency ${CONCURRENCY}; CLI start-up ${(startup.ms / 1000).toFixed(2)} s (1-device run)`);
  console.log("| key type | devices | devices/s (run) | devices/s (incl. start-up) | keygen share | issuing share | writing share | keygen ms/device | issue ms/device | keygen-only ceiling/s |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    const pct = (x) => `${(x * 100).toFixed(0)}%`;
    console.log(
      `| ${r.keyType} | ${r.count} | ${r.rate.toFixed(0)} | ${r.rateWithStartup.toFixed(0)} | ${pct(r.keygen)} | ${pct(r.issue)} | ${pct(r.write)} | ${r.keygenMsPerDevice.toFixed(2)} | ${r.issueMsPerDevice.toFixed(2)} | ${r.keygenCeiling.toFixed(0)} |`,
    );
  }
  console.log(`certificates in the database: ${n} (expected ${COUNTS.p256 + COUNTS.rsa2048 + 1}); load average at the end ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
}

try {
  await main();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
