import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { it } from "node:test";
import { createTenant, describeEachDatabase } from "../helpers/gatehouse.js";

/** The enrollment-token API: value once, digest stored, scopes, account isolation, field checks. */
describeEachDatabase("enrollment tokens API", (get) => {
  const url = (zoneId: string) => `/client/v4/zones/${zoneId}/enrollment_tokens`;

  it("200/create returns the value once; list and delete never show it; only its digest is stored", async () => {
    const h = get();
    const t = await createTenant(h);
    const expires = new Date(Date.now() + 86_400_000);
    const created = await h.request({
      method: "POST",
      url: url(t.zoneId),
      token: t.editToken,
      body: { name: "line 4", max_uses: 5, expires_on: expires.toISOString(), common_name_pattern: "device-*", validity_days: 30 },
    });
    assert.equal(created.statusCode, 200);
    const r = created.json.result;
    assert.match(r.value, /^ghe_[A-Za-z0-9_-]{43}$/);
    assert.equal(r.status, "active");
    assert.equal(r.max_uses, 5);
    assert.equal(r.uses, 0);
    assert.equal(r.expires_on, expires.toISOString().replace(/\.\d+Z$/, "Z"));
    assert.equal(r.common_name_pattern, "device-*");
    assert.equal(r.validity_days, 30);
    const [row] = await h.gh.db.sql`SELECT digest FROM enrollment_tokens WHERE id = ${r.id}`;
    assert.ok(row.digest.equals(createHash("sha256").update(r.value).digest()));
    const [audit] = await h.gh.db.sql`SELECT actor, action FROM audit_events WHERE object_id = ${r.id}`;
    assert.equal(audit.action, "enrollment_token.create");

    const list = await h.request({ method: "GET", url: url(t.zoneId), token: t.readToken });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json.result.length, 1);
    assert.ok(!("value" in list.json.result[0]));

    const del = await h.request({ method: "DELETE", url: `${url(t.zoneId)}/${r.id}`, token: t.editToken });
    assert.equal(del.statusCode, 200);
    assert.equal(del.json.result.status, "revoked");
    assert.ok(!("value" in del.json.result));
    const again = await h.request({ method: "DELETE", url: `${url(t.zoneId)}/${r.id}`, token: t.editToken });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json.result.revoked_on, del.json.result.revoked_on);
  });

  it("200/defaults: unlimited, no expiry, no pattern, 365 days", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "POST", url: url(t.zoneId), token: t.editToken, body: { name: "open" } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      [res.json.result.max_uses, res.json.result.expires_on, res.json.result.common_name_pattern, res.json.result.validity_days],
      [null, null, null, 365],
    );
  });

  const bad: Array<[string, Record<string, unknown>, number]> = [
    ["400/missing name", {}, 1003],
    ["400/empty name", { name: "  " }, 1900],
    ["400/max_uses zero", { name: "a", max_uses: 0 }, 1901],
    ["400/max_uses not an integer", { name: "a", max_uses: 1.5 }, 1003],
    ["400/expires_on in the past", { name: "a", expires_on: "2001-01-01T00:00:00Z" }, 1902],
    ["400/expires_on not RFC 3339", { name: "a", expires_on: "tomorrow" }, 1902],
    ["400/common_name_pattern with a control character", { name: "a", common_name_pattern: "dev\n*" }, 1903],
    ["400/common_name_pattern too long", { name: "a", common_name_pattern: "x".repeat(65) }, 1003],
    ["400/validity_days too large", { name: "a", validity_days: 3651 }, 1904],
  ];
  for (const [name, body, code] of bad) {
    it(name, async () => {
      const h = get();
      const t = await createTenant(h);
      const before = await h.counts();
      const res = await h.request({ method: "POST", url: url(t.zoneId), token: t.editToken, body });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json.errors[0].code, code);
      assert.deepEqual(await h.counts(), before);
    });
  }

  it("403/read token cannot create or delete; 404/another account's zone and token", async () => {
    const h = get();
    const t = await createTenant(h);
    const other = await createTenant(h);
    const mine = await h.request({ method: "POST", url: url(t.zoneId), token: t.editToken, body: { name: "a" } });
    const before = await h.counts();
    const create = await h.request({ method: "POST", url: url(t.zoneId), token: t.readToken, body: { name: "b" } });
    assert.equal(create.statusCode, 403);
    assert.equal(create.json.errors[0].code, 10001);
    const del = await h.request({ method: "DELETE", url: `${url(t.zoneId)}/${mine.json.result.id}`, token: t.readToken });
    assert.equal(del.statusCode, 403);
    const otherZone = await h.request({ method: "GET", url: url(t.zoneId), token: other.readToken });
    assert.equal(otherZone.statusCode, 404);
    const otherCreate = await h.request({ method: "POST", url: url(t.zoneId), token: other.editToken, body: { name: "c" } });
    assert.equal(otherCreate.statusCode, 404);
    // The token id inside another account's zone path is not found either.
    const otherDel = await h.request({ method: "DELETE", url: `${url(other.zoneId)}/${mine.json.result.id}`, token: other.editToken });
    assert.equal(otherDel.statusCode, 404);
    const unknown = await h.request({ method: "DELETE", url: `${url(t.zoneId)}/${randomBytes(4).toString("hex")}`, token: t.editToken });
    assert.equal(unknown.statusCode, 404);
    const noAuth = await h.request({ method: "GET", url: url(t.zoneId) });
    assert.equal(noAuth.statusCode, 401);
    assert.deepEqual(await h.counts(), before);
  });
});
