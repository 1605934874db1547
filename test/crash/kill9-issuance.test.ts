import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { makeCsr } from "../helpers/csr.js";
import { createTestDatabase, TEST_DATABASE_URL } from "../helpers/gatehouse.js";
import { spawnService, waitForExit, type ServiceProcess } from "../helpers/process.js";

/**
 * Crash safety: under concurrent issuance on the real server, kill -9 the service. After a
 * restart, every certificate a client got a 200 for is in the database (a certificate is recorded
 * in the transaction that makes it visible, before the response is sent).
 */
describe("kill -9 during concurrent issuance [server]", { skip: !TEST_DATABASE_URL && "TEST_DATABASE_URL is not set" }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: ServiceProcess | undefined;
  after(async () => {
    svc?.child.kill("SIGKILL");
    await db?.drop();
  });

  it("loses no acknowledged certificate", async () => {
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      GATEHOUSE_MASTER_KEY: randomBytes(32).toString("base64"),
      GATEHOUSE_OPERATOR_TOKEN: "gh_op_" + randomBytes(20).toString("hex"),
      LOG_LEVEL: "info",
    };
    svc = await spawnService(env);
    const call = async (url: string, method: string, token: string, body?: unknown) => {
      const res = await fetch(url, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as any };
    };
    const op = env.GATEHOUSE_OPERATOR_TOKEN;
    const account = (await call(`${svc.url}/client/v4/accounts`, "POST", op, { name: "crash" })).json.result.id;
    const zone = (await call(`${svc.url}/client/v4/zones`, "POST", op, { name: "crash.example", account: { id: account } })).json.result.id;
    const token = (await call(`${svc.url}/client/v4/accounts/${account}/tokens`, "POST", op, { name: "t", scopes: ["ssl_certificates:edit"] })).json.result.value;
    const csr = makeCsr().csrPem;

    const acknowledged: string[] = [];
    let failures = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const res = await call(`${svc!.url}/client/v4/zones/${zone}/client_certificates`, "POST", token, { csr, validity_days: 7 });
          if (res.status === 200) acknowledged.push(res.json.result.id);
        } catch {
          failures++; // the connection died with the process: no acknowledgement
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 20));
    svc.child.kill("SIGKILL");
    await waitForExit(svc.child);
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(workers);
    assert.ok(failures > 0, "some requests were in flight when the process died");

    svc = await spawnService(env);
    const listed = new Set<string>();
    for (let page = 1; ; page++) {
      const res = await call(`${svc.url}/client/v4/zones/${zone}/client_certificates?per_page=50&page=${page}`, "GET", token);
      if (res.json.result.length === 0) break;
      for (const c of res.json.result) listed.add(c.id);
    }
    const missing = acknowledged.filter((id) => !listed.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged certificates are missing`);
    assert.ok(listed.size >= acknowledged.length);
  });
});
