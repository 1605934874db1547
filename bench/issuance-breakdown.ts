// Where an issuance's CPU goes: the service's own CPU per request (process.cpuUsage, so load
// elsewhere on the machine inflates it less than wall-clock rates) for stages added one at a time:
//   noop         HTTP + fastify + bearer auth, an empty JSON answer
//   parse-only   + parseCsr (PEM, strict DER walk, key policy, CSR signature: key import + verify)
//   sign-only    + issueClientCertificate (profile, TBS, lint, P-256 signature, PEM, fingerprint)
//   issue        the real route: + zone lookup, group-committed INSERT with audit, the API view
// The load runs in a child process (bench/lib/load-child.mjs) on the same 2 cores, 32 connections.
//
//   node --import tsx bench/issuance-breakdown.ts            (needs a PostgreSQL server: BENCH_DATABASE_URL)
import { execFileSync, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import type { Config } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { issueClientCertificate } from "../src/pki/certificate.js";
import { parseCsr } from "../src/pki/csr.js";
import { newSerial } from "../src/pki/serial.js";
import { startGatehouse } from "../src/runtime.js";

const BASE = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECONDS = Number(process.env.SECONDS ?? 5);
const REPEAT = Number(process.env.REPEAT ?? 2);
const name = `gatehouse_breakdown_${randomBytes(3).toString("hex")}`;
const admin = postgres(BASE, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const dbUrl = new URL(BASE);
dbUrl.pathname = `/${name}`;
const op = "gh_op_" + randomBytes(12).toString("hex");
let accountId = "";
const config: Config = {
  host: "127.0.0.1", port: 0, databaseUrl: dbUrl.toString(), dataDir: "unused", masterKey: randomBytes(32),
  operatorToken: op, logLevel: "warn", workers: 1, byocaLimit: 5,
};
const gh = await startGatehouse({
  config,
  logger: createLogger("warn"),
  announce: () => {},
  apiRoutes: [
    async (app) => {
      app.post("/bench/noop", async () => ({ success: true }));
      app.post("/bench/parse-only", async (req) => {
        parseCsr((req.body as { csr: string }).csr);
        return { success: true };
      });
      app.post("/bench/sign-only", async (req) => {
        const csr = parseCsr((req.body as { csr: string }).csr);
        const issuer = await gh.ctx.issuers.activeIssuer(accountId);
        const cert = await issueClientCertificate({ csr, issuer: issuer!.info, serial: newSerial(), now: new Date(), validityDays: 30 });
        return { success: true, result: { certificate: cert.pem, csr: csr.pem } };
      });
    },
  ],
});
const url = (await gh.app.listen({ host: "127.0.0.1", port: 0 })).replace(/\/$/, "");
const call = async (path: string, token: string, body: unknown) =>
  ((await (await fetch(`${url}/client/v4${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as any).result;
const account = await call("/accounts", op, { name: "bench" });
accountId = account.id;
const zone = await call("/zones", op, { name: "bench.example", account: { id: account.id } });
const token = (await call(`/accounts/${account.id}/tokens`, op, { name: "bench", scopes: ["ssl_certificates:edit"] })).value;
const bodies = Array.from({ length: 100 }, (_, i) =>
  JSON.stringify({
    csr: execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null", "-subj", `/CN=c${i}`], { stdio: ["ignore", "pipe", "ignore"] }).toString(),
    validity_days: 30,
  }),
);
const stages: Array<[string, string]> = [
  ["noop", "/client/v4/bench/noop"],
  ["parse-only", "/client/v4/bench/parse-only"],
  ["sign-only", "/client/v4/bench/sign-only"],
  ["issue", `/client/v4/zones/${zone.id}/client_certificates`],
];
const results = new Map<string, number[]>();
for (let round = 0; round < REPEAT; round++) {
  for (const [label, path] of stages) {
    const child = fork(new URL("./lib/load-child.mjs", import.meta.url), [], { stdio: "inherit" });
    child.send({ url: url + path, headers: { authorization: `Bearer ${token}` }, bodies, concurrency: 32, warmup: 1.5, seconds: SECONDS });
    const warmedUp = await new Promise((r) => child.once("message", r));
    void warmedUp;
    const c0 = process.cpuUsage();
    const r: any = await new Promise((resolve) => child.once("message", resolve));
    const c = process.cpuUsage(c0);
    const perReq = (c.user + c.system) / Math.max(1, r.ok);
    results.set(label, [...(results.get(label) ?? []), perReq]);
    console.error(`${label}: ${r.rate.toFixed(0)} req/s, ${perReq.toFixed(0)} µs CPU/req, errors ${r.errors}`);
  }
}
console.log("\n| stage | server CPU µs/request (runs) | added by this stage (µs, medians) |\n| --- | --- | ---: |");
let previous = 0;
for (const [label] of stages) {
  const runs = results.get(label)!;
  const median = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  console.log(`| ${label} | ${runs.map((v) => v.toFixed(0)).join(", ")} | ${(median - previous).toFixed(0)} |`);
  previous = median;
}
await gh.close();
await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
