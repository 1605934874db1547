import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { after, before, it } from "node:test";
import { RequestErrors } from "../../src/errors.js";
import { BindingLeaseErrors } from "../../src/services/binding-leases.js";
import { KeyMaterialErrors } from "../../src/services/key-material.js";
import { assertMatchesContract } from "../helpers/contract.js";
import { describeEachDatabase, type TestGatehouse, refused } from "../helpers/gatehouse.js";
import { createBindingTenant, createToken, makeBindingPki, uploadClient, type BindingPki } from "./helpers.js";

let p: BindingPki;
before(() => {
  p = makeBindingPki();
});
after(() => p.pki.cleanup());

const certUrl = (accountId: string, id: string) => `/client/v4/accounts/${accountId}/mtls_certificates/${id}`;
const keyUrl = (accountId: string, id: string) => `${certUrl(accountId, id)}/key_material`;

describeEachDatabase("key material and binding leases", (get) => {
  it("200/a use token gets the chain and the decrypted key, no-store, and the read is audited naming the token", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    const [tokenRow] = await h.gh.db.sql`SELECT id FROM api_tokens WHERE account_id = ${t.accountId} AND 'mtls_certificates:use' = ANY(scopes)`;
    const res = await h.request({ method: "POST", url: keyUrl(t.accountId, id), token: t.useToken });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers["cache-control"], "no-store");
    const km = res.json.result;
    assert.equal(km.id, id);
    assert.equal(km.name, "client-one");
    assert.equal(new X509Certificate(km.certificates).subject, new X509Certificate(p.clientOne.certPem).subject);
    const key = createPrivateKey(km.private_key);
    assert.ok(createPublicKey(key).equals(createPublicKey(p.clientOne.keyPem)), "the key returned is the key uploaded");
    const events = await h.gh.db.sql`SELECT actor, action, object_id, source_ip FROM audit_events WHERE action = 'mtls_certificate.key_read'`;
    assert.equal(events.length, 1);
    assert.equal(events[0].actor, `token:${tokenRow.id}`);
    assert.equal(events[0].object_id, id);
    assert.equal(events[0].source_ip, "127.0.0.1");
  });

  it("403/read and edit tokens (neither implies mtls_certificates:use), and the operator (1802)", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    for (const token of [t.readToken, t.editToken]) {
      const res = await refused(h, { method: "POST", url: keyUrl(t.accountId, id), token }, 403, RequestErrors.forbidden);
      assert.match(res.json.errors[0].message, /mtls_certificates:use/);
    }
    await refused(h, { method: "POST", url: keyUrl(t.accountId, id), token: h.operatorToken }, 403, KeyMaterialErrors.operatorRefused);
    const both = await createToken(h, t.accountId, ["ssl_certificates:read", "ssl_certificates:edit"]);
    await refused(h, { method: "POST", url: keyUrl(t.accountId, id), token: both }, 403, RequestErrors.forbidden);
  });

  it("404/a use token of another account, for its own account path and for the victim's", async () => {
    const h = get();
    const victim = await createBindingTenant(h);
    const other = await createBindingTenant(h);
    const id = await uploadClient(h, victim, p.clientOne);
    await refused(h, { method: "POST", url: keyUrl(victim.accountId, id), token: other.useToken }, 404, RequestErrors.notFound);
    await refused(h, { method: "POST", url: keyUrl(other.accountId, id), token: other.useToken }, 404, RequestErrors.notFound);
  });

  it("404/unknown or malformed id; 401/no token", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    await refused(h, { method: "POST", url: keyUrl(t.accountId, "7bf7f70c-7600-42e1-81c4-e4c0da9aa515"), token: t.useToken }, 404, RequestErrors.notFound);
    await refused(h, { method: "POST", url: keyUrl(t.accountId, "not-a-uuid"), token: t.useToken }, 404, RequestErrors.notFound);
    await refused(h, { method: "POST", url: keyUrl(t.accountId, "7bf7f70c-7600-42e1-81c4-e4c0da9aa515") }, 401, RequestErrors.unauthenticated);
  });

  it("400/a CA upload has no key (1800)", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const res = await h.request({ method: "POST", url: certUrl(t.accountId, "").slice(0, -1), token: t.editToken, body: { ca: true, certificates: p.caA.certPem, name: "ca-a" } });
    assert.equal(res.statusCode, 200, res.body);
    await refused(h, { method: "POST", url: keyUrl(t.accountId, res.json.result.id), token: t.useToken }, 400, KeyMaterialErrors.notAClientCertificate);
    await refused(h, { method: "POST", url: `${certUrl(t.accountId, res.json.result.id)}/bindings`, token: t.useToken, body: { binding: "X", holder: "h:1" } }, 400, KeyMaterialErrors.notAClientCertificate);
  });

  it("403/plain HTTP from a non-loopback address (1801), even claiming X-Forwarded-Proto: https; ::1 counts as loopback", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    const before = await h.counts();
    for (const remoteAddress of ["203.0.113.7", "10.1.2.3", "::ffff:192.0.2.1"]) {
      const res = await h.gh.app.inject({ method: "POST", url: keyUrl(t.accountId, id), headers: { authorization: `Bearer ${t.useToken}`, "x-forwarded-proto": "https" }, remoteAddress });
      const out = { statusCode: res.statusCode, headers: res.headers as Record<string, string>, json: res.json() };
      assertMatchesContract("POST", keyUrl(t.accountId, id), out);
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(out.json.errors[0].code, KeyMaterialErrors.plainHttp);
      assert.ok(!res.body.includes("PRIVATE KEY"));
    }
    assert.deepEqual(await h.counts(), before);
    const v6 = await h.gh.app.inject({ method: "POST", url: keyUrl(t.accountId, id), headers: { authorization: `Bearer ${t.useToken}` }, remoteAddress: "::1" });
    assert.equal(v6.statusCode, 200, v6.body);
  });

  it("200/leases: register, list, renew, release; the association appears and goes", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    const reg = await h.request({ method: "POST", url: `${certUrl(t.accountId, id)}/bindings`, token: t.useToken, body: { binding: "MY_CERT", holder: "host-a:123", ttl_seconds: 30 } });
    assert.equal(reg.statusCode, 200, reg.body);
    const lease = reg.json.result;
    assert.equal(lease.binding, "MY_CERT");
    assert.equal(lease.status, "active");
    assert.equal(lease.certificate_id, id);
    const ttl = (Date.parse(lease.expires_on) - Date.parse(lease.renewed_on)) / 1000;
    assert.ok(ttl >= 29 && ttl <= 31, `ttl ${ttl}`);
    const assoc = await h.request({ method: "GET", url: `${certUrl(t.accountId, id)}/associations`, token: t.readToken });
    assert.deepEqual(assoc.json.result, [{ service: "binding", status: "active" }]);
    const listed = await h.request({ method: "GET", url: `${certUrl(t.accountId, id)}/bindings`, token: t.readToken });
    assert.equal(listed.json.result.length, 1);
    const renewed = await h.request({ method: "PUT", url: `${certUrl(t.accountId, id)}/bindings/${lease.id}`, token: t.useToken, body: { ttl_seconds: 120 } });
    assert.equal(renewed.statusCode, 200, renewed.body);
    assert.ok(Date.parse(renewed.json.result.expires_on) > Date.parse(lease.expires_on));
    const released = await h.request({ method: "DELETE", url: `${certUrl(t.accountId, id)}/bindings/${lease.id}`, token: t.useToken });
    assert.equal(released.statusCode, 200, released.body);
    const after = await h.request({ method: "GET", url: `${certUrl(t.accountId, id)}/associations`, token: t.readToken });
    assert.deepEqual(after.json.result, []);
    await refused(h, { method: "PUT", url: `${certUrl(t.accountId, id)}/bindings/${lease.id}`, token: t.useToken }, 404, BindingLeaseErrors.leaseNotFound);
    const audit = await h.gh.db.sql`SELECT action FROM audit_events WHERE action LIKE 'binding_lease.%' ORDER BY id`;
    assert.deepEqual(audit.map((r) => r.action), ["binding_lease.register", "binding_lease.release"]);
  });

  it("400/lease input: binding name, holder, ttl; 403 read token; 404 other account", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const other = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    const url = `${certUrl(t.accountId, id)}/bindings`;
    await refused(h, { method: "POST", url, token: t.useToken, body: { binding: "1BAD", holder: "h:1" } }, 400, BindingLeaseErrors.badBindingName);
    await refused(h, { method: "POST", url, token: t.useToken, body: { binding: "OK", holder: "" } }, 400, BindingLeaseErrors.badHolder);
    await refused(h, { method: "POST", url, token: t.useToken, body: { binding: "OK", holder: "h\n1" } }, 400, BindingLeaseErrors.badHolder);
    await refused(h, { method: "POST", url, token: t.useToken, body: { binding: "OK", holder: "h:1", ttl_seconds: 5 } }, 400, BindingLeaseErrors.badTtl);
    await refused(h, { method: "POST", url, token: t.useToken, body: { binding: "OK", holder: "h:1", ttl_seconds: "60" } }, 400, BindingLeaseErrors.badTtl);
    await refused(h, { method: "POST", url, token: t.readToken, body: { binding: "OK", holder: "h:1" } }, 403, RequestErrors.forbidden);
    await refused(h, { method: "POST", url, token: other.useToken, body: { binding: "OK", holder: "h:1" } }, 404, RequestErrors.notFound);
    await refused(h, { method: "PUT", url: `${url}/not-a-uuid`, token: t.useToken }, 404, RequestErrors.notFound);
  });

  it("409/DELETE of a bound certificate names the binding (1810); ?force=true deletes it and its leases; ?force=yes is 400 (1815)", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    const reg = await h.request({ method: "POST", url: `${certUrl(t.accountId, id)}/bindings`, token: t.useToken, body: { binding: "PAYMENTS_CERT", holder: "worker-7:42" } });
    assert.equal(reg.statusCode, 200, reg.body);
    const res = await refused(h, { method: "DELETE", url: certUrl(t.accountId, id), token: t.editToken }, 409, BindingLeaseErrors.inUseByBinding);
    assert.match(res.json.errors[0].message, /PAYMENTS_CERT/);
    assert.match(res.json.errors[0].message, /force=true/);
    await refused(h, { method: "DELETE", url: `${certUrl(t.accountId, id)}?force=yes`, token: t.editToken }, 400, BindingLeaseErrors.badForce);
    const forced = await h.request({ method: "DELETE", url: `${certUrl(t.accountId, id)}?force=true`, token: t.editToken });
    assert.equal(forced.statusCode, 200, forced.body);
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM binding_leases`)[0].n, 0);
    const [event] = await h.gh.db.sql`SELECT reason FROM audit_events WHERE action = 'mtls_certificate.delete'`;
    assert.match(event.reason, /ended 1 active binding lease/);
  });

  it("200/a lapsed lease no longer blocks DELETE", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const id = await uploadClient(h, t, p.clientOne);
    const reg = await h.request({ method: "POST", url: `${certUrl(t.accountId, id)}/bindings`, token: t.useToken, body: { binding: "OLD", holder: "gone:1" } });
    await h.gh.db.sql`UPDATE binding_leases SET expires_on = now() - interval '1 second' WHERE id = ${reg.json.result.id}`;
    const assoc = await h.request({ method: "GET", url: `${certUrl(t.accountId, id)}/associations`, token: t.readToken });
    assert.deepEqual(assoc.json.result, []);
    const listed = await h.request({ method: "GET", url: `${certUrl(t.accountId, id)}/bindings`, token: t.readToken });
    assert.equal(listed.json.result[0].status, "expired");
    const del = await h.request({ method: "DELETE", url: certUrl(t.accountId, id), token: t.editToken });
    assert.equal(del.statusCode, 200, del.body);
  });

  it("200/wrangler's questions: token verify, /user (9109), /accounts and /memberships list the token's account", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const verify = await h.request({ method: "GET", url: "/client/v4/user/tokens/verify", token: t.readToken });
    assert.equal(verify.statusCode, 200, verify.body);
    assert.equal(verify.json.result.status, "active");
    const acctVerify = await h.request({ method: "GET", url: `/client/v4/accounts/${t.accountId}/tokens/verify`, token: t.readToken });
    assert.equal(acctVerify.statusCode, 200);
    const other = await createBindingTenant(h);
    await refused(h, { method: "GET", url: `/client/v4/accounts/${other.accountId}/tokens/verify`, token: t.readToken }, 404, RequestErrors.notFound);
    await refused(h, { method: "GET", url: "/client/v4/user", token: t.readToken }, 403, 9109);
    const accounts = await h.request({ method: "GET", url: "/client/v4/accounts?page=1", token: t.readToken });
    assert.deepEqual(accounts.json.result.map((a: { id: string }) => a.id), [t.accountId]);
    assert.equal(accounts.json.result_info.total_count, 1);
    const memberships = await h.request({ method: "GET", url: "/client/v4/memberships?page=1", token: t.editToken });
    assert.equal(memberships.json.result[0].account.id, t.accountId);
    assert.deepEqual(memberships.json.result[0].roles, ["ssl_certificates:edit"]);
    const op = await h.request({ method: "GET", url: "/client/v4/memberships", token: h.operatorToken });
    assert.deepEqual(op.json.result, []);
    await refused(h, { method: "GET", url: "/client/v4/accounts?per_page=500", token: t.readToken }, 400, RequestErrors.validation);
    await refused(h, { method: "GET", url: "/client/v4/user/tokens/verify", token: "gh_nope" }, 401, RequestErrors.unauthenticated);
  });

  it("200/an upload sent as text/plain (as wrangler sends it) is read as JSON; garbage text/plain JSON is 400", async () => {
    const h = get();
    const t = await createBindingTenant(h);
    const url = `/client/v4/accounts/${t.accountId}/mtls_certificates`;
    const payload = JSON.stringify({ ca: false, certificates: p.clientOne.certPem, private_key: p.clientOne.keyPem, name: "plain" });
    const res = await h.request({ method: "POST", url, token: t.editToken, payload, headers: { "content-type": "text/plain;charset=UTF-8" } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json.result.name, "plain");
    const before = await h.counts();
    const bad = await h.request({ method: "POST", url, token: t.editToken, payload: "{nope", headers: { "content-type": "text/plain" } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json.errors[0].code, RequestErrors.invalidJson);
    assert.deepEqual(await h.counts(), before);
  });
});
