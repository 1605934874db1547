import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { before, it } from "node:test";
import { CsrErrors } from "../../src/pki/errors.js";
import { ClientCertificateErrors } from "../../src/services/client-certificates.js";
import { RequestErrors } from "../../src/errors.js";
import { makeCsr, tamperCsrSignature, type MadeCsr } from "../helpers/csr.js";
import { createTenant, describeEachDatabase, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";

// CSRs are made once per file by openssl; each case issues from them.
let p256: MadeCsr;
let withCaRequest: MadeCsr;
let rsa1024: MadeCsr;
before(() => {
  p256 = makeCsr({ subject: "/C=US/ST=CA/L=Somewhere/O=Acme/OU=Devices/CN=device-1", addext: ["subjectAltName=DNS:device-1.example.com"] });
  withCaRequest = makeCsr({ subject: "/CN=wants-ca", addext: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign"] });
  rsa1024 = makeCsr({ keyType: "RSA-1024" });
});

const certsUrl = (t: Tenant) => `/client/v4/zones/${t.zoneId}/client_certificates`;

async function issue(h: TestGatehouse, t: Tenant, body: Record<string, unknown> = { csr: p256.csrPem, validity_days: 365 }) {
  const res = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, body });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result;
}

describeEachDatabase("client certificates API", (get) => {
  it("200/issues a certificate with every Cloudflare field, read back from the certificate", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, body: { csr: p256.csrPem, validity_days: 365 } });
    assert.equal(res.statusCode, 200);
    const c = res.json.result;
    const x509 = new X509Certificate(c.certificate);
    assert.equal(c.status, "active");
    assert.equal(c.common_name, "device-1");
    assert.deepEqual([c.country, c.state, c.location, c.organization, c.organizational_unit], ["US", "CA", "Somewhere", "Acme", "Devices"]);
    assert.equal(c.serial_number, x509.serialNumber.toLowerCase().replace(/^(0{2})+/, ""));
    assert.equal(c.fingerprint_sha256, x509.fingerprint256.replace(/:/g, "").toLowerCase());
    assert.equal(new Date(c.issued_on).getTime(), new Date(x509.validFrom).getTime());
    assert.equal(new Date(c.expires_on).getTime(), new Date(x509.validTo).getTime());
    assert.equal(new Date(c.expires_on).getTime() - new Date(c.issued_on).getTime(), 365 * 86400_000);
    assert.equal(c.validity_days, 365);
    assert.equal(c.signature, "ECDSAWithSHA256");
    assert.equal(c.certificate_authority.id, t.caId);
    assert.ok(x509.verify(new X509Certificate(t.caPem).publicKey), "signed by the account's managed CA");
    assert.equal(c.csr, p256.csrPem);
    assert.match(x509.subjectAltName ?? "", /DNS:device-1\.example\.com/);
  });

  it("200/validity_days defaults to 3650", async () => {
    const h = get();
    const t = await createTenant(h);
    const c = await issue(h, t, { csr: p256.csrPem });
    assert.equal(c.validity_days, 3650);
    assert.equal(new Date(c.expires_on).getTime() - new Date(c.issued_on).getTime(), 3650 * 86400_000);
  });

  it("200/requested CA extensions are dropped and named in messages[]", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, body: { csr: withCaRequest.csrPem } });
    assert.equal(res.statusCode, 200);
    const x509 = new X509Certificate(res.json.result.certificate);
    assert.equal(x509.ca, false);
    const names = res.json.messages.map((m: { message: string }) => m.message).join(" ");
    assert.match(names, /basicConstraints/);
    assert.match(names, /keyUsage/);
  });

  it("200/list pages newest first with result_info; a page past the end is empty; legacy limit/offset", async () => {
    const h = get();
    const t = await createTenant(h);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await issue(h, t)).id);
    const page1 = await h.request({ method: "GET", url: `${certsUrl(t)}?per_page=5`, token: t.readToken });
    assert.equal(page1.statusCode, 200);
    assert.deepEqual(page1.json.result_info, { page: 1, per_page: 5, count: 5, total_count: 7, total_pages: 2 });
    assert.deepEqual(page1.json.result.map((c: { id: string }) => c.id), ids.slice().reverse().slice(0, 5));
    const page2 = await h.request({ method: "GET", url: `${certsUrl(t)}?per_page=5&page=2`, token: t.readToken });
    assert.deepEqual(page2.json.result.map((c: { id: string }) => c.id), ids.slice(0, 2).reverse());
    const page3 = await h.request({ method: "GET", url: `${certsUrl(t)}?per_page=5&page=3`, token: t.readToken });
    assert.deepEqual(page3.json.result, []);
    assert.equal(page3.json.result_info.count, 0);
    const legacy = await h.request({ method: "GET", url: `${certsUrl(t)}?limit=3&offset=3`, token: t.readToken });
    assert.deepEqual(legacy.json.result.map((c: { id: string }) => c.id), ids.slice().reverse().slice(3, 6));
    const both = await h.request({ method: "GET", url: `${certsUrl(t)}?limit=3&offset=3&per_page=5`, token: t.readToken });
    assert.equal(both.json.result.length, 5, "page/per_page win over limit/offset");
    const dflt = await h.request({ method: "GET", url: certsUrl(t), token: t.readToken });
    assert.equal(dflt.json.result_info.per_page, 20);
  });

  it("200/status filter: active, revoked, all, pending_* (never persisted)", async () => {
    const h = get();
    const t = await createTenant(h);
    const a = await issue(h, t);
    const b = await issue(h, t);
    await h.request({ method: "DELETE", url: `${certsUrl(t)}/${b.id}`, token: t.editToken });
    const ids = async (status: string) =>
      (await h.request({ method: "GET", url: `${certsUrl(t)}?status=${status}`, token: t.readToken })).json.result.map((c: { id: string }) => c.id);
    assert.deepEqual(await ids("active"), [a.id]);
    assert.deepEqual(await ids("revoked"), [b.id]);
    assert.deepEqual((await ids("all")).sort(), [a.id, b.id].sort());
    assert.deepEqual(await ids("pending_revocation"), []);
  });

  it("200/get one; 404/unknown id; 404/malformed id", async () => {
    const h = get();
    const t = await createTenant(h);
    const c = await issue(h, t);
    const got = await h.request({ method: "GET", url: `${certsUrl(t)}/${c.id}`, token: t.readToken });
    assert.deepEqual(got.json.result, c);
    const missing = await h.request({ method: "GET", url: `${certsUrl(t)}/00000000-0000-4000-8000-000000000000`, token: t.readToken });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json.errors[0].code, RequestErrors.notFound);
    const malformed = await h.request({ method: "GET", url: `${certsUrl(t)}/not-a-uuid`, token: t.readToken });
    assert.equal(malformed.statusCode, 404);
  });

  it("200/DELETE without reason holds; repeat answers 200; PATCH reactivates; bodiless, empty JSON and {} all work", async () => {
    const h = get();
    const t = await createTenant(h);
    const c = await issue(h, t);
    const url = `${certsUrl(t)}/${c.id}`;
    const held = await h.request({ method: "DELETE", url, token: t.editToken });
    assert.equal(held.statusCode, 200);
    assert.equal(held.json.result.status, "revoked");
    assert.equal(held.json.result.revocation_reason, "certificateHold");
    assert.ok(held.json.result.revoked_on);
    const again = await h.request({ method: "DELETE", url, token: t.editToken, payload: "", headers: { "content-type": "application/json" } });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json.result.revoked_on, held.json.result.revoked_on);
    const back = await h.request({ method: "PATCH", url, token: t.editToken, body: {} });
    assert.equal(back.statusCode, 200);
    assert.equal(back.json.result.status, "active");
    assert.equal(back.json.result.revocation_reason, null);
    const backAgain = await h.request({ method: "PATCH", url, token: t.editToken });
    assert.equal(backAgain.statusCode, 200);
    assert.equal(backAgain.json.result.status, "active");
  });

  it("409/a final reason cannot be reactivated; a hold may be escalated; ?reason= works", async () => {
    const h = get();
    const t = await createTenant(h);
    const c1 = await issue(h, t);
    const final = await h.request({ method: "DELETE", url: `${certsUrl(t)}/${c1.id}?reason=keyCompromise`, token: t.editToken });
    assert.equal(final.json.result.revocation_reason, "keyCompromise");
    const refused = await h.request({ method: "PATCH", url: `${certsUrl(t)}/${c1.id}`, token: t.editToken });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json.errors[0].code, ClientCertificateErrors.revocationIsFinal);
    const c2 = await issue(h, t);
    await h.request({ method: "DELETE", url: `${certsUrl(t)}/${c2.id}`, token: t.editToken });
    const escalated = await h.request({ method: "DELETE", url: `${certsUrl(t)}/${c2.id}`, token: t.editToken, body: { reason: "superseded" } });
    assert.equal(escalated.json.result.revocation_reason, "superseded");
    const bad = await h.request({ method: "DELETE", url: `${certsUrl(t)}/${c2.id}`, token: t.editToken, body: { reason: "because" } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json.errors[0].code, ClientCertificateErrors.badReason);
  });

  it("200/audit events for issue, revoke and reactivate, without the CSR body", async () => {
    const h = get();
    const t = await createTenant(h);
    const c = await issue(h, t);
    await h.request({ method: "DELETE", url: `${certsUrl(t)}/${c.id}`, token: t.editToken });
    await h.request({ method: "PATCH", url: `${certsUrl(t)}/${c.id}`, token: t.editToken });
    const events = await h.gh.db.sql<{ action: string; actor: string; serial: string; old_status: string; new_status: string; request_id: string }[]>`
      SELECT action, actor, serial, old_status, new_status, request_id FROM audit_events WHERE object_id = ${c.id} ORDER BY id`;
    assert.deepEqual(events.map((e) => e.action), ["client_certificate.issue", "client_certificate.revoke", "client_certificate.reactivate"]);
    assert.ok(events.every((e) => e.actor.startsWith("token:") && e.serial === c.serial_number && e.request_id));
    assert.equal(events[1].new_status, "revoked:certificateHold");
    const text = JSON.stringify(await h.gh.db.sql`SELECT * FROM audit_events`);
    assert.ok(!text.includes("BEGIN CERTIFICATE REQUEST"));
    await assert.rejects(h.gh.db.sql`UPDATE audit_events SET actor = 'x'`, /append-only/);
  });

  it("200/Idempotency-Key replays the same certificate; 422/same key, other body", async () => {
    const h = get();
    const t = await createTenant(h);
    const headers = { "idempotency-key": "device-42" };
    const first = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, body: { csr: p256.csrPem, validity_days: 30 }, headers });
    const before = await h.counts();
    const second = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, body: { csr: p256.csrPem, validity_days: 30 }, headers });
    assert.equal(second.statusCode, 200);
    assert.equal(second.headers["idempotent-replayed"], "true");
    assert.deepEqual(second.json, first.json);
    const other = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, body: { csr: p256.csrPem, validity_days: 31 }, headers });
    assert.equal(other.statusCode, 422);
    assert.equal(other.json.errors[0].code, RequestErrors.idempotencyKeyReused);
    assert.deepEqual(await h.counts(), before);
  });

  it("isolation/another account's token gets 404 everywhere; a read token 403 on writes; no token 401", async () => {
    const h = get();
    const t = await createTenant(h);
    const other = await createTenant(h);
    const c = await issue(h, t);
    const before = await h.counts();
    const one = `${certsUrl(t)}/${c.id}`;
    for (const [method, url] of [["POST", certsUrl(t)], ["GET", certsUrl(t)], ["GET", one], ["DELETE", one], ["PATCH", one]] as const) {
      const res = await h.request({ method, url, token: other.editToken, body: method === "POST" ? { csr: p256.csrPem } : undefined });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      const anon = await h.request({ method, url });
      assert.equal(anon.statusCode, 401);
      assert.equal(anon.json.errors[0].code, RequestErrors.unauthenticated);
      const bogus = await h.request({ method, url, token: "gh_not-a-token" });
      assert.equal(bogus.statusCode, 401);
    }
    for (const [method, url] of [["POST", certsUrl(t)], ["DELETE", one], ["PATCH", one]] as const) {
      const res = await h.request({ method, url, token: t.readToken, body: method === "POST" ? { csr: p256.csrPem } : undefined });
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.equal(res.json.errors[0].code, RequestErrors.forbidden);
    }
    const otherAccount = await h.request({ method: "GET", url: `/client/v4/accounts/${t.accountId}`, token: other.readToken });
    assert.equal(otherAccount.statusCode, 404);
    const otherCa = await h.request({ method: "GET", url: `/client/v4/accounts/${t.accountId}/certificate_authorities/managed`, token: other.readToken });
    assert.equal(otherCa.statusCode, 404);
    const otherZone = await h.request({ method: "GET", url: `/client/v4/zones/${t.zoneId}`, token: other.readToken });
    assert.equal(otherZone.statusCode, 404);
    assert.deepEqual(await h.counts(), before);
  });

  it("401/a revoked token stops working at once", async () => {
    const h = get();
    const t = await createTenant(h);
    const created = await h.request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/tokens`, token: h.operatorToken, body: { name: "short-lived", scopes: ["ssl_certificates:read"] } });
    const value = created.json.result.value;
    assert.equal((await h.request({ method: "GET", url: certsUrl(t), token: value })).statusCode, 200);
    const del = await h.request({ method: "DELETE", url: `/client/v4/accounts/${t.accountId}/tokens/${created.json.result.id}`, token: h.operatorToken });
    assert.equal(del.json.result.status, "revoked");
    await new Promise((r) => setTimeout(r, 200)); // the change notice is delivered on commit
    assert.equal((await h.request({ method: "GET", url: certsUrl(t), token: value })).statusCode, 401);
  });

  // Each bad input: its status, its code, and nothing written.
  const badInputs: Array<[string, () => { body?: unknown; payload?: string; headers?: Record<string, string> }, number, number]> = [
    ["400/invalid JSON", () => ({ payload: "{\"csr\": ", headers: { "content-type": "application/json" } }), 400, RequestErrors.invalidJson],
    ["400/body is not an object", () => ({ body: ["csr"] }), 400, RequestErrors.validation],
    ["400/missing csr", () => ({ body: { validity_days: 5 } }), 400, RequestErrors.validation],
    ["400/csr not a string", () => ({ body: { csr: 42 } }), 400, RequestErrors.validation],
    ["400/csr too long", () => ({ body: { csr: "A".repeat(40_000) } }), 400, RequestErrors.validation],
    ["400/csr not PEM", () => ({ body: { csr: "hello" } }), 400, CsrErrors.notPem],
    ["400/csr PEM of garbage DER", () => ({ body: { csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n" } }), 400, CsrErrors.notDer],
    ["400/csr signature fails", () => ({ body: { csr: tamperCsrSignature(p256.csrPem) } }), 400, CsrErrors.badSignature],
    ["400/weak RSA key", () => ({ body: { csr: rsa1024.csrPem } }), 400, CsrErrors.rsaKeySize],
    ["400/validity_days 0", () => ({ body: { csr: p256.csrPem, validity_days: 0 } }), 400, CsrErrors.validityDaysOutOfRange],
    ["400/validity_days 3651", () => ({ body: { csr: p256.csrPem, validity_days: 3651 } }), 400, CsrErrors.validityDaysOutOfRange],
    ["400/validity_days not a number", () => ({ body: { csr: p256.csrPem, validity_days: "10" } }), 400, RequestErrors.validation],
    ["413/body over 64 KiB", () => ({ body: { csr: "A".repeat(70_000) } }), 413, RequestErrors.bodyTooLarge],
    ["415/not JSON", () => ({ payload: "csr=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, RequestErrors.unsupportedMediaType],
  ];
  for (const [name, make, status, code] of badInputs) {
    it(name, async () => {
      const h = get();
      const t = await createTenant(h);
      const before = await h.counts();
      const res = await h.request({ method: "POST", url: certsUrl(t), token: t.editToken, ...make() });
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json.errors[0].code, code);
      assert.equal(res.json.success, false);
      assert.equal(res.json.result, null);
      assert.ok(!res.body.includes("AAAA"), "the error does not echo the input");
      assert.deepEqual(await h.counts(), before);
    });
  }

  it("400/per_page outside 5..50, unknown status, page 0", async () => {
    const h = get();
    const t = await createTenant(h);
    for (const [query, code] of [["per_page=4", ClientCertificateErrors.badPerPage], ["per_page=51", ClientCertificateErrors.badPerPage], ["status=lost", ClientCertificateErrors.badStatusFilter], ["page=0", ClientCertificateErrors.badPage], ["page=x", ClientCertificateErrors.badPage]] as const) {
      const res = await h.request({ method: "GET", url: `${certsUrl(t)}?${query}`, token: t.readToken });
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.json.errors[0].code, code, query);
    }
  });

  it("404/unknown route answers 7003; 405/known path, wrong method", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "GET", url: "/client/v4/nothing/here", token: t.readToken });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json.errors, [{ code: 7003, message: "No route for the URI" }]);
    const badEscape = await h.gh.app.inject({ method: "GET", url: `${certsUrl(t)}/%ZZ`, headers: { authorization: `Bearer ${t.readToken}` } });
    assert.equal(badEscape.statusCode, 400);
    assert.equal(badEscape.json().errors[0].code, RequestErrors.validation, "a bad %-escape answers in the envelope");
    const wrong = await h.request({ method: "PUT", url: certsUrl(t), token: t.editToken, body: {} });
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.json.errors[0].code, RequestErrors.methodNotAllowed);
  });
});
