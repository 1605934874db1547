import assert from "node:assert/strict";
import { test } from "node:test";
import { createTenant, describeEachDatabase } from "../helpers/gatehouse.js";

describeEachDatabase("edge settings API", (get) => {
  const url = (zoneId: string) => `/client/v4/zones/${zoneId}/edge_settings`;

  test("200/defaults: no origin, policy block", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "GET", url: url(t.zoneId), token: t.readToken });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json.result, { origin: null, policy: "block", modified_on: null });
  });

  test("200/PATCH sets origin and policy, normalised; GET reads them back; one audit event", async () => {
    const h = get();
    const t = await createTenant(h);
    const before = await h.counts();
    const res = await h.request({ method: "PATCH", url: url(t.zoneId), token: t.editToken, body: { origin: "HTTPS://Origin.Example.COM:8443/", policy: "forward" } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json.result.origin, "https://origin.example.com:8443");
    assert.equal(res.json.result.policy, "forward");
    assert.match(res.json.result.modified_on, /Z$/);
    const after = await h.counts();
    assert.equal(after.edge_settings, before.edge_settings + 1);
    assert.equal(after.audit_events, before.audit_events + 1);
    const [audit] = await h.gh.db.sql<{ action: string; object_id: string; old_status: string; new_status: string }[]>`
      SELECT action, object_id, old_status, new_status FROM audit_events ORDER BY id DESC LIMIT 1`;
    assert.deepEqual({ ...audit }, { action: "edge_settings.update", object_id: t.zoneId, old_status: "policy:block", new_status: "policy:forward" });
    const read = await h.request({ method: "GET", url: url(t.zoneId), token: t.readToken });
    assert.equal(read.json.result.origin, "https://origin.example.com:8443");

    // Only the policy: the origin stays; the same values again write nothing.
    const p2 = await h.request({ method: "PATCH", url: url(t.zoneId), token: t.editToken, body: { policy: "block" } });
    assert.deepEqual([p2.json.result.origin, p2.json.result.policy], ["https://origin.example.com:8443", "block"]);
    const c2 = await h.counts();
    const p3 = await h.request({ method: "PATCH", url: url(t.zoneId), token: t.editToken, body: { policy: "block" } });
    assert.equal(p3.statusCode, 200);
    assert.deepEqual(await h.counts(), c2);
    // null removes the origin.
    const p4 = await h.request({ method: "PATCH", url: url(t.zoneId), token: t.editToken, body: { origin: null } });
    assert.equal(p4.json.result.origin, null);
  });

  const refusals: Array<[string, unknown, number]> = [
    ["400/origin not a URL", { origin: "not a url" }, 1700],
    ["400/origin with a path", { origin: "http://origin.example.com/app" }, 1700],
    ["400/origin with credentials", { origin: "http://user:pw@origin.example.com" }, 1700],
    ["400/origin with a query", { origin: "http://origin.example.com/?a=1" }, 1700],
    ["400/origin of another scheme", { origin: "ftp://origin.example.com" }, 1700],
    ["400/origin not a string", { origin: 42 }, 1700],
    ["400/unknown policy", { policy: "allow" }, 1701],
    ["400/unknown field", { origin: "http://o.example.com", mode: "x" }, 1702],
    ["400/body not an object", [1, 2], 1003],
  ];
  for (const [name, body, code] of refusals) {
    test(name, async () => {
      const h = get();
      const t = await createTenant(h);
      const before = await h.counts();
      const res = await h.request({ method: "PATCH", url: url(t.zoneId), token: t.editToken, body });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json.errors[0].code, code);
      assert.ok(!JSON.stringify(res.json).includes("user:pw"), "the message never echoes the input");
      assert.deepEqual(await h.counts(), before);
    });
  }

  test("403/read token cannot PATCH", async () => {
    const h = get();
    const t = await createTenant(h);
    const before = await h.counts();
    const res = await h.request({ method: "PATCH", url: url(t.zoneId), token: t.readToken, body: { policy: "forward" } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json.errors[0].code, 10001);
    assert.deepEqual(await h.counts(), before);
  });

  test("404/other account's zone, for GET and PATCH", async () => {
    const h = get();
    const a = await createTenant(h);
    const b = await createTenant(h);
    const before = await h.counts();
    for (const method of ["GET", "PATCH"]) {
      const res = await h.request({ method, url: url(b.zoneId), token: a.editToken, body: method === "PATCH" ? { policy: "forward" } : undefined });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json.errors[0].code, 1005);
    }
    assert.deepEqual(await h.counts(), before);
  });

  test("401/no token", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "GET", url: url(t.zoneId) });
    assert.equal(res.statusCode, 401);
  });

  test("200/operator token may read and change any zone", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "PATCH", url: url(t.zoneId), token: h.operatorToken, body: { origin: "http://127.0.0.1:9" } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json.result.origin, "http://127.0.0.1:9");
  });
});
