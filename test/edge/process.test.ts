/**
 * The edge as real processes: `npm start`'s entry (src/server.ts) with EDGE_PORT runs it in the
 * API's process (embedded database); `gatehouse edge` (src/edge/main.ts startEdge) runs it on its
 * own against the server database, where a revocation made by the API process reaches it through
 * LISTEN/NOTIFY within a second on a kept-alive connection. Bad settings fail the start clearly.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { makeCsr } from "../helpers/csr.js";
import { createTestDatabase, TEST_DATABASE_URL } from "../helpers/gatehouse.js";
import { tempDir } from "../helpers/openssl.js";
import { spawnService, waitForExit, type ServiceProcess } from "../helpers/process.js";
import { caNames, curl, KeepAliveClient, sClient, startOrigin, waitFor, type Origin } from "./harness.js";
import { TestPki, type Issued } from "./test-pki.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = tempDir("gh-edge-proc-");
const pki = new TestPki(dir);
const serverCa = pki.root("proc-server-ca");
const serverCert = pki.issue("proc-server", serverCa, { kind: "server", san: ["example.net", "*.example.net", "localhost"] });
const operatorToken = "gh_" + randomBytes(32).toString("base64url");
const edgeEnv = { EDGE_TLS_CERT: serverCert.certFile, EDGE_TLS_KEY: serverCert.keyFile, GATEHOUSE_OPERATOR_TOKEN: operatorToken };

/** edgePortOf waits for the edge's "listening" log line in a process's output. */
async function edgePortOf(output: () => string): Promise<number> {
  let port = 0;
  await waitFor(async () => {
    const m = /mTLS edge listening on [\d.]+:(\d+)/.exec(output());
    if (m) port = Number(m[1]);
    return port > 0;
  }, 30_000, 50);
  assert.ok(port > 0, `no edge line in:\n${output()}`);
  return port;
}

async function api(base: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}/client/v4${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as any;
  assert.ok(json.success, `${method} ${path}: ${JSON.stringify(json.errors)}`);
  return json.result;
}

/** setUp: account, zone example.net, edge origin, mtls.example.net trusting the managed CA, one issued certificate. */
async function setUp(base: string, origin: Origin): Promise<{ token: string; zoneId: string; cert: Issued; certId: string }> {
  const account = await api(base, "POST", "/accounts", operatorToken, { name: "proc" });
  const zone = await api(base, "POST", "/zones", operatorToken, { name: "example.net", account: { id: account.id } });
  const token = (await api(base, "POST", `/accounts/${account.id}/tokens`, operatorToken, { name: "t", scopes: ["ssl_certificates:edit"] })).value;
  await api(base, "PATCH", `/zones/${zone.id}/edge_settings`, token, { origin: origin.url });
  await api(base, "PUT", `/zones/${zone.id}/certificate_authorities/hostname_associations`, token, { hostnames: ["mtls.example.net"] });
  const csr = makeCsr({ subject: "/CN=proc-client" });
  const row = await api(base, "POST", `/zones/${zone.id}/client_certificates`, token, { csr: csr.csrPem, validity_days: 1 });
  return { token, zoneId: zone.id, cert: pki.fromPem(`proc-client-${row.id}`, row.certificate, csr.keyPem), certId: row.id };
}

describe("edge processes", () => {
  let origin: Origin;
  before(async () => {
    origin = await startOrigin();
  });
  after(async () => {
    await origin.close();
    dir.remove();
  });

  test("npm start with EDGE_PORT: the edge runs in the API's process (embedded database)", async () => {
    const data = tempDir("gh-edge-data-");
    let svc: ServiceProcess | undefined;
    try {
      svc = await spawnService({ ...edgeEnv, EDGE_PORT: "0", GATEHOUSE_DATA_DIR: data.path });
      const port = await edgePortOf(svc.output);
      const health = await curl(port, "localhost", { caFile: serverCa.certFile, path: "/healthz" });
      assert.equal(health.status, 200);
      const s = await setUp(svc.url, origin);
      assert.match(caNames(await sClient(port, "mtls.example.net")), /Gatehouse Managed CA/);
      assert.equal((await curl(port, "mtls.example.net", { caFile: serverCa.certFile, cert: s.cert })).status, 200);
      const output = svc.output;
      assert.ok((await waitFor(async () => /"msg":"edge request"/.test(output()), 5000, 20)) < 5000, "a request log line");
      assert.match(svc.output(), /"host":"mtls.example.net".*"verdict":"verified".*"serial":"[0-9A-F]+"/);
      assert.doesNotMatch(svc.output(), /PRIVATE KEY/);
      svc.child.kill("SIGTERM");
      assert.equal(await waitForExit(svc.child), 0);
    } finally {
      if (svc && svc.child.exitCode === null) svc.child.kill("SIGKILL");
      data.remove();
    }
  });

  test("gatehouse edge refuses to start with an unreadable certificate, naming it", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/edge/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, EDGE_TLS_CERT: "/nonexistent/edge.crt", EDGE_TLS_KEY: "/nonexistent/edge.key", GATEHOUSE_DATA_DIR: dir.path, EDGE_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    assert.equal(await waitForExit(child), 1);
    assert.match(err, /cannot read the edge certificate or key \(\/nonexistent\/edge\.crt/);
  });

  test("gatehouse edge on its own process, server database: a DELETE through the API reaches a kept-alive connection within 1 s", { skip: TEST_DATABASE_URL ? false : "needs TEST_DATABASE_URL" }, async () => {
    const db = await createTestDatabase();
    const masterKey = randomBytes(32).toString("base64");
    let svc: ServiceProcess | undefined;
    let edge: ChildProcess | undefined;
    let client: KeepAliveClient | undefined;
    try {
      svc = await spawnService({ ...edgeEnv, DATABASE_URL: db.url, GATEHOUSE_MASTER_KEY: masterKey });
      let out = "";
      edge = spawn(process.execPath, ["--import", "tsx", "src/edge/main.ts"], {
        cwd: ROOT,
        env: { ...process.env, ...edgeEnv, DATABASE_URL: db.url, GATEHOUSE_MASTER_KEY: masterKey, EDGE_PORT: "0", EDGE_HOST: "127.0.0.1", LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      edge.stdout!.on("data", (d) => (out += d));
      edge.stderr!.on("data", (d) => (out += d));
      const port = await edgePortOf(() => out);
      const s = await setUp(svc.url, origin);
      client = new KeepAliveClient(port, "mtls.example.net", { cert: s.cert, caPem: serverCa.pem });
      const first = await client.get("/");
      assert.equal(first.status, 200);
      await api(svc.url, "DELETE", `/zones/${s.zoneId}/client_certificates/${s.certId}?reason=superseded`, s.token);
      let last = first;
      const elapsed = await waitFor(async () => {
        last = await client!.get("/");
        return last.status === 403;
      }, 1000, 5);
      assert.ok(elapsed < 1000, "refused within 1 s of the DELETE's answer");
      assert.equal(last.localPort, first.localPort, "on the same connection");
      edge.kill("SIGTERM");
      assert.equal(await waitForExit(edge), 0);
    } finally {
      client?.close();
      if (edge && edge.exitCode === null) edge.kill("SIGKILL");
      if (svc && svc.child.exitCode === null) {
        svc.child.kill("SIGTERM");
        await waitForExit(svc.child);
      }
      await db.drop();
    }
  });
});
