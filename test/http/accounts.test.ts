import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { it } from "node:test";
import { RequestErrors } from "../../src/errors.js";
import { AccountErrors } from "../../src/services/accounts.js";
import { TokenErrors } from "../../src/services/tokens.js";
import { ZoneErrors } from "../../src/services/zones.js";
import { createTenant, describeEachDatabase } from "../helpers/gatehouse.js";

describeEachDatabase("accounts, zones, tokens", (get) => {
  it("200/an account comes with a self-signed managed CA of the asked key type, 20 years", async () => {
    const h = get();
    for (const [keyType, alg] of [["P-256", "ec"], ["RSA-2048", "rsa"]] as const) {
      const res = await h.request({ method: "POST", url: "/client/v4/accounts", token: h.operatorToken, body: { name: "Acme", ca_key_type: keyType } });
      assert.equal(res.statusCode, 200);
      const ca = res.json.result.managed_ca;
      assert.equal(ca.key_type, keyType);
      const x509 = new X509Certificate(ca.certificate);
      assert.equal(x509.ca, true);
      assert.equal(x509.publicKey.asymmetricKeyType, alg);
      assert.ok(x509.verify(x509.publicKey));
      assert.match(x509.subject, new RegExp(res.json.result.id));
      const years = (new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime()) / (365.25 * 86400_000);
      assert.ok(years > 19.9 && years < 20.1, `validity ${years} years`);
      const got = await h.request({ method: "GET", url: `/client/v4/accounts/${res.json.result.id}/certificate_authorities/managed`, token: h.operatorToken });
      assert.deepEqual(got.json.result, ca);
    }
  });

  it("200/the CA key is stored sealed, never in clear", async () => {
    const h = get();
    await createTenant(h);
    const [row] = await h.gh.db.sql<{ sealed_key: Buffer }[]>`SELECT sealed_key FROM certificate_authorities`;
    assert.equal(row.sealed_key[0], 1, "version byte");
    assert.ok(!row.sealed_key.includes(Buffer.from([0x30, 0x81])) || row.sealed_key.length > 60);
    const dump = JSON.stringify(await h.gh.db.sql`SELECT * FROM certificate_authorities`);
    assert.ok(!dump.includes("PRIVATE KEY"));
  });

  it("400/bad account input; 403/tokens cannot create accounts", async () => {
    const h = get();
    const t = await createTenant(h);
    const before = await h.counts();
    const cases: Array<[unknown, number, number]> = [
      [{}, 400, RequestErrors.validation],
      [{ name: "" }, 400, AccountErrors.badName],
      [{ name: "x", ca_key_type: "DSA" }, 400, AccountErrors.badCaKeyType],
    ];
    for (const [body, status, code] of cases) {
      const res = await h.request({ method: "POST", url: "/client/v4/accounts", token: h.operatorToken, body });
      assert.equal(res.statusCode, status);
      assert.equal(res.json.errors[0].code, code);
    }
    const byToken = await h.request({ method: "POST", url: "/client/v4/accounts", token: t.editToken, body: { name: "x" } });
    assert.equal(byToken.statusCode, 403);
    assert.deepEqual(await h.counts(), before);
  });

  it("409/zone names are unique across the deployment; 400/bad zone name; 404/zone for another account's id", async () => {
    const h = get();
    const t = await createTenant(h, { zoneName: "unique.example" });
    const other = await createTenant(h);
    const before = await h.counts();
    const dup = await h.request({ method: "POST", url: "/client/v4/zones", token: h.operatorToken, body: { name: "UNIQUE.example.", account: { id: other.accountId } } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json.errors[0].code, ZoneErrors.nameTaken);
    const bad = await h.request({ method: "POST", url: "/client/v4/zones", token: h.operatorToken, body: { name: "not a name", account: { id: t.accountId } } });
    assert.equal(bad.json.errors[0].code, ZoneErrors.badName);
    const crossAccount = await h.request({ method: "POST", url: "/client/v4/zones", token: other.editToken, body: { name: "x.example", account: { id: t.accountId } } });
    assert.equal(crossAccount.statusCode, 404);
    const ownAccount = await h.request({ method: "POST", url: "/client/v4/zones", token: t.editToken, body: { name: "x.example", account: { id: t.accountId } } });
    assert.equal(ownAccount.statusCode, 403);
    const noAccount = await h.request({ method: "POST", url: "/client/v4/zones", token: h.operatorToken, body: { name: "y.example", account: { id: "0".repeat(32) } } });
    assert.equal(noAccount.statusCode, 404);
    assert.deepEqual(await h.counts(), before);
  });

  it("200/tokens: value shown once, listed without it, stored as a digest; 400/bad scopes", async () => {
    const h = get();
    const t = await createTenant(h);
    const res = await h.request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/tokens`, token: h.operatorToken, body: { name: "ci", scopes: ["ssl_certificates:read"] } });
    const value: string = res.json.result.value;
    assert.match(value, /^gh_[A-Za-z0-9_-]{43}$/);
    const list = await h.request({ method: "GET", url: `/client/v4/accounts/${t.accountId}/tokens`, token: h.operatorToken });
    assert.ok(!list.body.includes(value));
    assert.equal(list.json.result.length, 3);
    const dump = JSON.stringify(await h.gh.db.sql`SELECT * FROM api_tokens`);
    assert.ok(!dump.includes(value.slice(3)));
    for (const scopes of [[], ["admin"], "ssl_certificates:read"]) {
      const bad = await h.request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/tokens`, token: h.operatorToken, body: { name: "x", scopes } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json.errors[0].code, TokenErrors.badScopes);
    }
  });

  it("200/healthz, the contract and the reference page are served", async () => {
    const h = get();
    const health = await h.request({ method: "GET", url: "/healthz" });
    assert.deepEqual(health.json, { status: "ok" });
    const spec = await h.request({ method: "GET", url: "/client/v4/openapi.yaml" });
    assert.match(spec.body, /^openapi: 3\.1/);
    const docs = await h.request({ method: "GET", url: "/docs" });
    assert.match(docs.body, /POST \/client\/v4\/zones\/\{zone_id\}\/client_certificates/);
  });
});
