import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { curl, waitFor } from "../edge/harness.js";
import { TestPki } from "../edge/test-pki.js";
import { createTestDatabase, TEST_DATABASE_URL } from "../helpers/gatehouse.js";
import { tempDir } from "../helpers/openssl.js";
import { spawnService, waitForExit } from "../helpers/process.js";

/** pidsOf: the distinct pids of the JSON log lines whose msg matches `msg`. */
function pidsOf(output: string, msg: RegExp): number[] {
  const pids = output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { pid: number; msg: string })
    .filter((l) => msg.test(l.msg))
    .map((l) => l.pid);
  return [...new Set(pids)];
}

/** The service as a process: start-up checks, generated secrets, logs, health and SIGTERM. */
describe("service process", () => {
  it("embedded: generates the operator token (0600), prints it once to stderr, never into a log line; a second start reuses it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-svc-"));
    try {
      const svc = await spawnService({ GATEHOUSE_DATA_DIR: dir, DATABASE_URL: "", GATEHOUSE_MASTER_KEY: "", GATEHOUSE_OPERATOR_TOKEN: "" }, 120_000);
      const token = readFileSync(join(dir, "operator-token"), "utf8").trim();
      assert.equal(statSync(join(dir, "operator-token")).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, "master-key")).mode & 0o777, 0o600);
      const res = await fetch(`${svc.url}/client/v4/accounts`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "x" }) });
      assert.equal(res.status, 200);
      svc.child.kill("SIGTERM");
      assert.equal(await waitForExit(svc.child), 0);
      const out = svc.output();
      const logLines = out.split("\n").filter((l) => l.startsWith("{"));
      assert.ok(logLines.length > 0);
      assert.ok(logLines.every((l) => !l.includes(token)), "no log line holds the token");
      assert.equal(out.split(token).length - 1, 1, "printed exactly once");
      assert.ok(logLines.some((l) => l.includes("embedded PGlite")), "the start-up log says which database is in use");
      assert.ok(logLines.filter((l) => l.includes('"req"')).every((l) => JSON.parse(l).reqId), "request lines carry a request id");

      const again = await spawnService({ GATEHOUSE_DATA_DIR: dir, DATABASE_URL: "", GATEHOUSE_MASTER_KEY: "", GATEHOUSE_OPERATOR_TOKEN: "" }, 120_000);
      assert.ok(!again.output().includes(token), "not printed again");
      again.child.kill("SIGTERM");
      assert.equal(await waitForExit(again.child), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("server: refuses to start without a master key, and with the wrong one; SIGTERM drains within 10 s; healthz 503 when the database is gone", { skip: !TEST_DATABASE_URL && "TEST_DATABASE_URL is not set" }, async () => {
    const db = await createTestDatabase();
    try {
      await assert.rejects(spawnService({ DATABASE_URL: db.url, GATEHOUSE_MASTER_KEY: "" }), /GATEHOUSE_MASTER_KEY is required/);
      const key = randomBytes(32).toString("base64");
      const env = { DATABASE_URL: db.url, GATEHOUSE_MASTER_KEY: key, GATEHOUSE_OPERATOR_TOKEN: "gh_op_" + randomBytes(16).toString("hex") };
      const svc = await spawnService(env);
      const secret = "Bearer " + env.GATEHOUSE_OPERATOR_TOKEN;
      await fetch(`${svc.url}/client/v4/accounts`, { method: "POST", headers: { authorization: secret, "content-type": "application/json" }, body: "{\"name\":\"a\"}" });
      const started = Date.now();
      svc.child.kill("SIGTERM");
      assert.equal(await waitForExit(svc.child), 0);
      assert.ok(Date.now() - started < 10_000);
      assert.ok(!svc.output().includes(env.GATEHOUSE_OPERATOR_TOKEN), "authorization is redacted from logs");
      await assert.rejects(spawnService({ ...env, GATEHOUSE_MASTER_KEY: randomBytes(32).toString("base64") }), /does not match the key/);

      const live = await spawnService(env);
      assert.equal((await fetch(`${live.url}/healthz`)).status, 200);
      await db.drop();
      assert.equal((await fetch(`${live.url}/healthz`)).status, 503);
      live.child.kill("SIGKILL");
    } finally {
      await db.drop();
    }
  });

  it("server with GATEHOUSE_WORKERS=2 and EDGE_PORT: both workers serve the API and the edge; a worker killed later is replaced; one that cannot start stops the service instead of restarting in a loop", { skip: !TEST_DATABASE_URL && "TEST_DATABASE_URL is not set" }, async () => {
    const db = await createTestDatabase();
    const dir = tempDir("gh-workers-");
    try {
      const env = { DATABASE_URL: db.url, GATEHOUSE_MASTER_KEY: randomBytes(32).toString("base64"), GATEHOUSE_OPERATOR_TOKEN: "gh_op_" + randomBytes(16).toString("hex"), GATEHOUSE_WORKERS: "2", EDGE_PORT: "0" };

      // No edge certificate: each worker fails in start-up; the primary stops with 1, no restarts.
      const started = Date.now();
      const failure = await spawnService(env).then(
        () => assert.fail("started without an edge certificate"),
        (err: Error) => err.message,
      );
      assert.match(failure, /service exited with 1/);
      assert.match(failure, /the edge needs a server certificate/);
      assert.match(failure, /a worker failed to start; stopping/);
      assert.doesNotMatch(failure, /starting another/);
      assert.ok(Date.now() - started < 30_000);

      const pki = new TestPki(dir);
      const ca = pki.root("workers-ca");
      const server = pki.issue("workers-server", ca, { kind: "server", san: ["localhost"] });
      const svc = await spawnService({ ...env, EDGE_TLS_CERT: server.certFile, EDGE_TLS_KEY: server.keyFile });
      try {
        assert.ok((await waitFor(async () => pidsOf(svc.output(), /^mTLS edge listening/).length === 2, 30_000, 50)) < 30_000, svc.output());
        const [first, second] = pidsOf(svc.output(), /^mTLS edge listening/);
        assert.ok(first && second && first !== second, svc.output());
        const port = Number(/mTLS edge listening on [\d.]+:(\d+)/.exec(svc.output())![1]);
        assert.equal((await curl(port, "localhost", { caFile: ca.certFile, path: "/healthz" })).status, 200);

        process.kill(first, "SIGKILL");
        assert.ok((await waitFor(async () => pidsOf(svc.output(), /^mTLS edge listening/).length === 3, 30_000, 50)) < 30_000, svc.output());
        assert.match(svc.output(), /worker exited; starting another/);
        assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
        assert.equal((await curl(port, "localhost", { caFile: ca.certFile, path: "/healthz" })).status, 200);

        svc.child.kill("SIGTERM");
        assert.equal(await waitForExit(svc.child), 0);
      } finally {
        svc.child.kill("SIGKILL");
      }
    } finally {
      await db.drop();
      dir.remove();
    }
  });
});
