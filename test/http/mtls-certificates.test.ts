import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/log.js";
import { open } from "../../src/keys/secrets.js";
import { ByocaErrors } from "../../src/pki/byoca.js";
import { MtlsCertificateErrors, MTLS_KEY_TABLE } from "../../src/services/mtls-certificates.js";
import { RequestErrors } from "../../src/errors.js";
import { TestPki, type Issued } from "../fixtures/byoca/pki.js";
import {
  createTenant,
  DATABASE_KINDS,
  describeEachDatabase,
  startTestGatehouse,
  TEST_DATABASE_URL,
  type Tenant,
  type TestGatehouse,
  refused,
} from "../helpers/gatehouse.js";

// One throwaway PKI per file, made by openssl: RSA and EC roots, intermediates (chains of 2 and
// 3), client leaves, and the bad inputs of the refusal table.
const pki = new TestPki();
let rsaRoot: Issued, ecRoot: Issued, ecInt: Issued, ecInt2: Issued, leaf: Issued, rsaLeaf: Issued;
let weakRoot: Issued, expiredRoot: Issued, extraRoots: Issued[];
before(() => {
  rsaRoot = pki.root("Acme RSA Root", "rsa2048", { subject: "/C=US/ST=California/L=San Francisco/O=Acme, Inc./CN=Acme RSA Root" });
  ecRoot = pki.root("ec-root", "p256");
  ecInt = pki.issue("ec-int", ecRoot, { ca: true });
  ecInt2 = pki.issue("ec-int2", ecInt, { ca: true, spec: "p384" });
  leaf = pki.issue("leaf", ecInt, { ca: false });
  rsaLeaf = pki.issue("rsa-leaf", rsaRoot, { ca: false, spec: "rsa2048" });
  weakRoot = pki.root("weak-root", "rsa1024");
  expiredRoot = pki.expiredRoot("expired-root");
  extraRoots = [1, 2, 3, 4, 5].map((i) => pki.root(`extra-root-${i}`, "p256"));
});
after(() => pki.cleanup());

const listUrl = (t: Tenant) => `/client/v4/accounts/${t.accountId}/mtls_certificates`;
const certUrl = (t: Tenant, id: string) => `${listUrl(t)}/${id}`;
const assocUrl = (t: Tenant) => `/client/v4/zones/${t.zoneId}/certificate_authorities/hostname_associations`;

async function upload(h: TestGatehouse, t: Tenant, body: Record<string, unknown>) {
  const res = await h.request({ method: "POST", url: listUrl(t), token: t.editToken, body });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result;
}

describeEachDatabase("mTLS certificates API", (get) => {
  it("200/an RSA root as a BYOCA: Cloudflare's fields, and a byoca CA row with the same id", async () => {
    const h = get();
    const t = await createTenant(h);
    const c = await upload(h, t, { ca: true, certificates: rsaRoot.certPem, name: "acme-root" });
    const x509 = new X509Certificate(rsaRoot.certPem);
    assert.equal(c.ca, true);
    assert.equal(c.name, "acme-root");
    assert.equal(c.type, "custom");
    assert.equal(c.signature, "SHA256WithRSA");
    assert.equal(c.serial_number, pki.serialDecimal(rsaRoot.certPath));
    assert.equal(c.issuer, pki.issuerRfc2253(rsaRoot.certPath));
    assert.equal(c.issuer, "CN=Acme RSA Root,O=Acme\\, Inc.,L=San Francisco,ST=California,C=US");
    assert.equal(new Date(c.expires_on).getTime(), Math.floor(new Date(x509.validTo).getTime() / 1000) * 1000);
    assert.equal(c.updated_at, c.uploaded_on);
    assert.equal(c.certificates, rsaRoot.certPem);
    const [ca] = await h.gh.db.sql`SELECT kind, account_id, certificate_der, key_type, sealed_key FROM certificate_authorities WHERE id = ${c.id}`;
    assert.equal(ca.kind, "byoca");
    assert.equal(ca.account_id, t.accountId);
    assert.ok(ca.certificate_der.equals(pki.der(rsaRoot.certPath)));
    assert.equal(ca.key_type, null);
    assert.equal(ca.sealed_key, null);
    const [audit] = await h.gh.db.sql`SELECT action, object_id, ca_id FROM audit_events WHERE action = 'mtls_certificate.upload'`;
    assert.deepEqual({ ...audit }, { action: "mtls_certificate.upload", object_id: c.id, ca_id: c.id });
    const got = await h.request({ method: "GET", url: certUrl(t, c.id), token: t.readToken });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json.result.updated_at, undefined, "updated_at is only in the POST response, as at Cloudflare");
    assert.deepEqual({ ...got.json.result }, (({ updated_at: _u, ...rest }) => rest)(c));
  });

  it("200/EC chains of 2 and 3 and an intermediate alone: only the first certificate is a trust anchor", async () => {
    const h = get();
    const t = await createTenant(h);
    const two = await upload(h, t, { ca: true, certificates: ecInt.certPem + ecRoot.certPem });
    const three = await upload(h, t, { ca: true, certificates: ecInt2.certPem + ecInt.certPem + ecRoot.certPem });
    const alone = await upload(h, t, { ca: true, certificates: ecInt.certPem });
    assert.equal(two.certificates, ecInt.certPem + ecRoot.certPem, "the whole chain is kept for display");
    assert.equal(three.signature, "ECDSAWithSHA256");
    assert.equal(three.issuer, pki.issuerRfc2253(ecInt2.certPath));
    for (const [c, first] of [[two, ecInt], [three, ecInt2], [alone, ecInt]] as const) {
      const [ca] = await h.gh.db.sql`SELECT certificate_der, certificate_pem FROM certificate_authorities WHERE id = ${c.id}`;
      assert.ok(ca.certificate_der.equals(pki.der(first.certPath)), "the anchor is the first certificate, never the root after it");
      assert.equal(ca.certificate_pem, first.certPem);
    }
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM certificate_authorities WHERE kind = 'byoca'`)[0].n, 3);
  });

  it("200/certificates come back byte-stable whatever the line endings and wrapping sent", async () => {
    const h = get();
    const t = await createTenant(h);
    const messy = "\r\n" + (ecInt.certPem + "\n\n" + ecRoot.certPem).replace(/\n/g, "\r\n") + "  \r\n";
    const c = await upload(h, t, { ca: true, certificates: messy });
    assert.equal(c.certificates, ecInt.certPem + ecRoot.certPem);
    for (let i = 0; i < 2; i++) {
      const got = await h.request({ method: "GET", url: certUrl(t, c.id), token: t.readToken });
      assert.equal(got.json.result.certificates, c.certificates);
    }
    const list = await h.request({ method: "GET", url: listUrl(t), token: t.readToken });
    assert.equal(list.json.result[0].certificates, c.certificates);
  });

  it("200/ca:false with PKCS#8, SEC1 and PKCS#1 keys; the key is stored sealed and never returned", async () => {
    const h = get();
    const t = await createTenant(h);
    const a = await upload(h, t, { ca: false, certificates: leaf.certPem + ecInt.certPem, private_key: leaf.keyPem, name: "origin" });
    const b = await upload(h, t, { ca: false, certificates: leaf.certPem, private_key: pki.sec1(leaf.keyPath), name: "origin-sec1" });
    const c = await upload(h, t, { ca: false, certificates: rsaLeaf.certPem, private_key: pki.pkcs1(rsaLeaf.keyPath), name: "rsa" });
    for (const r of [a, b, c]) {
      assert.equal(r.ca, false);
      assert.equal("private_key" in r, false);
      const [row] = await h.gh.db.sql`SELECT sealed_private_key FROM mtls_certificates WHERE id = ${r.id}`;
      const pkcs8 = open(h.gh.ctx.masterKeys, MTLS_KEY_TABLE, r.id, row.sealed_private_key);
      const key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
      const cert = new X509Certificate(r.certificates.split(/(?<=-----END CERTIFICATE-----\n)/)[0]);
      assert.ok(createPublicKey(key).equals(cert.publicKey), "the sealed key opens to the certificate's key");
    }
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM certificate_authorities WHERE kind = 'byoca'`)[0].n, 0, "a leaf is no CA");
  });

  it("200/list filters ca=true|false and name (wrangler), with result_info", async () => {
    const h = get();
    const t = await createTenant(h);
    const root = await upload(h, t, { ca: true, certificates: ecRoot.certPem, name: "root" });
    const l1 = await upload(h, t, { ca: false, certificates: leaf.certPem, private_key: leaf.keyPem, name: "origin" });
    const l2 = await upload(h, t, { ca: false, certificates: leaf.certPem, private_key: leaf.keyPem, name: "origin" });
    const l3 = await upload(h, t, { ca: false, certificates: rsaLeaf.certPem, private_key: rsaLeaf.keyPem });
    const ids = async (query: string) => {
      const res = await h.request({ method: "GET", url: `${listUrl(t)}${query}`, token: t.readToken });
      assert.equal(res.statusCode, 200, res.body);
      return { ids: res.json.result.map((r: { id: string }) => r.id), info: res.json.result_info };
    };
    const all = await ids("");
    assert.deepEqual(all.ids, [root.id, l1.id, l2.id, l3.id], "upload order");
    assert.deepEqual(all.info, { page: 1, per_page: 1000, count: 4, total_count: 4, total_pages: 1 });
    assert.deepEqual((await ids("?ca=true")).ids, [root.id]);
    assert.deepEqual((await ids("?ca=false")).ids, [l1.id, l2.id, l3.id]);
    assert.deepEqual((await ids("?ca=false&name=origin")).ids, [l1.id, l2.id], "names are not unique (wrangler refuses >1 itself)");
    assert.deepEqual((await ids("?ca=false&name=nope")).ids, []);
    assert.deepEqual((await ids("?type=custom,gateway_managed")).ids.length, 4);
    assert.deepEqual((await ids("?type=gateway_managed")).ids, []);
    const paged = await ids("?ca=false&per_page=2&page=2");
    assert.deepEqual(paged.ids, [l3.id]);
    assert.deepEqual(paged.info, { page: 2, per_page: 2, count: 1, total_count: 3, total_pages: 2 });
    await refused(h, { method: "GET", url: `${listUrl(t)}?ca=maybe`, token: t.readToken }, 400, MtlsCertificateErrors.badCaFilter);
    await refused(h, { method: "GET", url: `${listUrl(t)}?type=other`, token: t.readToken }, 400, MtlsCertificateErrors.badTypeFilter);
  });

  it("200/delete answers the deleted object and removes the upload and its CA row", async () => {
    const h = get();
    const t = await createTenant(h);
    const ca = await upload(h, t, { ca: true, certificates: ecRoot.certPem });
    const lf = await upload(h, t, { ca: false, certificates: leaf.certPem, private_key: leaf.keyPem });
    for (const c of [ca, lf]) {
      const res = await h.request({ method: "DELETE", url: certUrl(t, c.id), token: t.editToken });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json.result.id, c.id);
      assert.equal(res.json.result.certificates, c.certificates);
      const gone = await h.request({ method: "GET", url: certUrl(t, c.id), token: t.readToken });
      assert.equal(gone.statusCode, 404);
    }
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM mtls_certificates`)[0].n, 0);
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM certificate_authorities WHERE kind = 'byoca'`)[0].n, 0);
    assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'mtls_certificate.delete'`)[0].n, 2);
  });

  it("409/deleting an associated CA; associations lists each zone; cleared, it deletes", async () => {
    const h = get();
    const t = await createTenant(h);
    const ca = await upload(h, t, { ca: true, certificates: ecRoot.certPem });
    const put = await h.request({ method: "PUT", url: assocUrl(t), token: t.editToken, body: { hostnames: [`api.${t.zoneName}`], mtls_certificate_id: ca.id } });
    assert.equal(put.statusCode, 200, put.body);
    const zone2 = await h.request({ method: "POST", url: "/client/v4/zones", token: h.operatorToken, body: { name: `second-${t.zoneName}`, account: { id: t.accountId } } });
    const z2 = zone2.json.result.id;
    const put2 = await h.request({
      method: "PUT",
      url: `/client/v4/zones/${z2}/certificate_authorities/hostname_associations`,
      token: t.editToken,
      body: { hostnames: [`second-${t.zoneName}`], mtls_certificate_id: ca.id },
    });
    assert.equal(put2.statusCode, 200, put2.body);
    const assoc = await h.request({ method: "GET", url: `${certUrl(t, ca.id)}/associations`, token: t.readToken });
    assert.equal(assoc.statusCode, 200);
    assert.deepEqual(assoc.json.result, [
      { service: "hostname_association", status: "active" },
      { service: "hostname_association", status: "active" },
    ]);
    const res = await refused(h, { method: "DELETE", url: certUrl(t, ca.id), token: t.editToken }, 409, MtlsCertificateErrors.stillAssociated);
    assert.match(res.json.errors[0].message, /hostnames: \[\]/);
    for (const url of [assocUrl(t), `/client/v4/zones/${z2}/certificate_authorities/hostname_associations`]) {
      const cleared = await h.request({ method: "PUT", url, token: t.editToken, body: { hostnames: [], mtls_certificate_id: ca.id } });
      assert.deepEqual(cleared.json.result, { hostnames: [] });
    }
    const none = await h.request({ method: "GET", url: `${certUrl(t, ca.id)}/associations`, token: t.readToken });
    assert.deepEqual(none.json.result, []);
    const del = await h.request({ method: "DELETE", url: certUrl(t, ca.id), token: t.editToken });
    assert.equal(del.statusCode, 200);
  });

  it("400/refusals of bad uploads, each with its own code and nothing written", async () => {
    const h = get();
    const t = await createTenant(h);
    const post = (body: Record<string, unknown>) => ({ method: "POST", url: listUrl(t), token: t.editToken, body });
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ["garbage PEM", { ca: true, certificates: "this is not a certificate" }, ByocaErrors.notPem],
      ["damaged PEM", { ca: true, certificates: ecRoot.certPem.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!") }, ByocaErrors.notPem],
      ["a DER blob", { ca: true, certificates: pki.der(ecRoot.certPath).toString("base64") }, ByocaErrors.derNotPem],
      ["a leaf sent as ca:true", { ca: true, certificates: leaf.certPem }, ByocaErrors.notACa],
      ["an expired CA", { ca: true, certificates: expiredRoot.certPem }, ByocaErrors.expired],
      ["a chain out of order", { ca: true, certificates: ecRoot.certPem + ecInt.certPem }, ByocaErrors.chainOutOfOrder],
      ["a chain with a gap", { ca: true, certificates: ecInt2.certPem + ecRoot.certPem }, ByocaErrors.chainBroken],
      ["a key that does not match", { ca: false, certificates: leaf.certPem, private_key: rsaLeaf.keyPem }, ByocaErrors.keyMismatch],
      ["an encrypted key", { ca: false, certificates: leaf.certPem, private_key: pki.encryptedPkcs8(leaf.keyPath) }, ByocaErrors.privateKeyEncrypted],
      ["a legacy encrypted key", { ca: false, certificates: rsaLeaf.certPem, private_key: pki.encryptedLegacy(rsaLeaf.keyPath) }, ByocaErrors.privateKeyEncrypted],
      ["a combined PEM", { ca: false, certificates: leaf.certPem + leaf.keyPem }, ByocaErrors.combinedPem],
      ["a combined PEM with the key field too", { ca: false, certificates: leaf.certPem + leaf.keyPem, private_key: leaf.keyPem }, ByocaErrors.combinedPem],
      ["a 1024-bit RSA CA", { ca: true, certificates: weakRoot.certPem }, ByocaErrors.rsaKeySize],
      ["a CSR", { ca: true, certificates: pki.read("leaf.csr") }, ByocaErrors.notACertificate],
      ["a private key with ca:true", { ca: true, certificates: ecRoot.certPem, private_key: ecRoot.keyPem }, ByocaErrors.privateKeyNotAllowed],
      ["no private key with ca:false", { ca: false, certificates: leaf.certPem }, ByocaErrors.privateKeyRequired],
      ["no ca flag", { certificates: ecRoot.certPem }, MtlsCertificateErrors.badCaFlag],
      ["ca as a string", { ca: "true", certificates: ecRoot.certPem }, MtlsCertificateErrors.badCaFlag],
      ["no certificates", { ca: true }, RequestErrors.validation],
      ["a name with a newline", { ca: true, certificates: ecRoot.certPem, name: "a\nb" }, MtlsCertificateErrors.badName],
    ];
    for (const [what, body, code] of cases) {
      const res = await refused(h, post(body), 400, code).catch((e) => {
        throw new Error(`${what}: ${(e as Error).message}`);
      });
      assert.doesNotMatch(res.json.errors[0].message, /MII/, `${what}: the message never echoes the input`);
    }
  });

  it("400/the sixth CA answers 1489 \"Hit maximum CA cert allocation.\"; leaves do not count", async () => {
    const h = get();
    const t = await createTenant(h);
    for (const root of extraRoots) await upload(h, t, { ca: true, certificates: root.certPem });
    await upload(h, t, { ca: false, certificates: leaf.certPem, private_key: leaf.keyPem });
    const res = await refused(h, { method: "POST", url: listUrl(t), token: t.editToken, body: { ca: true, certificates: ecRoot.certPem } }, 400, 1489);
    assert.equal(res.json.errors[0].message, "Hit maximum CA cert allocation.");
    const other = await createTenant(h);
    await upload(h, other, { ca: true, certificates: ecRoot.certPem });
  });

  it("404/another account's id; 403/a read token cannot upload or delete", async () => {
    const h = get();
    const t = await createTenant(h);
    const other = await createTenant(h);
    const theirs = await upload(h, other, { ca: true, certificates: ecRoot.certPem });
    for (const [method, suffix] of [["GET", ""], ["DELETE", ""], ["GET", "/associations"]]) {
      await refused(h, { method, url: `${certUrl(t, theirs.id)}${suffix}`, token: t.editToken }, 404, RequestErrors.notFound);
      await refused(h, { method, url: `${certUrl(other, theirs.id)}${suffix}`, token: t.editToken }, 404, RequestErrors.notFound);
    }
    await refused(h, { method: "GET", url: certUrl(t, "not-a-uuid"), token: t.readToken }, 404, RequestErrors.notFound);
    await refused(h, { method: "POST", url: listUrl(other), token: t.editToken, body: { ca: true, certificates: ecRoot.certPem } }, 404, RequestErrors.notFound);
    await refused(h, { method: "POST", url: listUrl(t), token: t.readToken, body: { ca: true, certificates: ecRoot.certPem } }, 403, RequestErrors.forbidden);
    const mine = await upload(h, t, { ca: true, certificates: ecRoot.certPem });
    await refused(h, { method: "DELETE", url: certUrl(t, mine.id), token: t.readToken }, 403, RequestErrors.forbidden);
    const ok = await h.request({ method: "GET", url: listUrl(t), token: h.operatorToken });
    assert.equal(ok.statusCode, 200, "the operator may read any account's list");
  });
});

// ── key secrecy: responses, logs and plain columns never hold the private key ───────────────

for (const kind of DATABASE_KINDS) {
  describe(`mTLS certificate key secrecy [${kind}]`, () => {
    it("200/after an upload with private_key, no response, log line or plain column holds the key's bytes", async () => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const h = await startTestGatehouse(kind, { logLevel: "debug" }, { logger: createLogger("debug", stream) });
      try {
        const t = await createTenant(h);
        const pkcs8Der = pki.keyDer(leaf.keyPath);
        const scalar = Buffer.from(createPrivateKey(leaf.keyPem).export({ format: "jwk" }).d!, "base64url");
        const sec1Pem = pki.sec1(leaf.keyPath);
        const sec1Der = Buffer.from(sec1Pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
        // The secret is the scalar d: look for it as bytes, as hex, and as base64 at each of the
        // three alignments it can have inside a longer base64 text (a PEM body, a JSON string).
        const base64Runs = [0, 1, 2].map((k) => {
          const b64 = Buffer.concat([Buffer.alloc(k), scalar]).toString("base64");
          return b64.slice(4 * Math.ceil(k / 3), 4 * Math.floor((k + scalar.length) / 3));
        });
        const textNeedles = [...base64Runs, ...base64Runs.map((r) => r.replace(/\+/g, "-").replace(/\//g, "_")), scalar.toString("hex"), scalar.toString("hex").toUpperCase()];
        const byteNeedles = [pkcs8Der, sec1Der, scalar];
        // PEM line breaks (raw or JSON-escaped) are dropped first, so a run split across lines is found.
        const holds = (text: string) => {
          const flat = text.replace(/\\r|\\n|\s+/g, "");
          return textNeedles.find((n) => flat.includes(n));
        };
        for (const leak of [leaf.keyPem, sec1Pem, JSON.stringify({ private_key: leaf.keyPem }), pkcs8Der.toString("hex")]) {
          assert.notEqual(holds(leak), undefined, "the search finds the key in every form it could leak in");
        }

        const bodies: string[] = [];
        const send = async (req: { method: string; url: string; token: string; body?: unknown }) => {
          const res = await h.request(req);
          bodies.push(res.body, JSON.stringify(res.headers));
          return res;
        };
        const up = await send({ method: "POST", url: listUrl(t), token: t.editToken, body: { ca: false, certificates: leaf.certPem, private_key: leaf.keyPem, name: "secret" } });
        assert.equal(up.statusCode, 200);
        const id = up.json.result.id;
        await send({ method: "POST", url: listUrl(t), token: t.editToken, body: { ca: false, certificates: leaf.certPem, private_key: sec1Pem } });
        // Refusals that carry the key: a mismatch, a key in the wrong field, a key with ca:true, malformed JSON.
        await send({ method: "POST", url: listUrl(t), token: t.editToken, body: { ca: false, certificates: rsaLeaf.certPem, private_key: leaf.keyPem } });
        await send({ method: "POST", url: listUrl(t), token: t.editToken, body: { ca: false, certificates: leaf.certPem + leaf.keyPem } });
        await send({ method: "POST", url: listUrl(t), token: t.editToken, body: { ca: true, certificates: ecRoot.certPem, private_key: leaf.keyPem } });
        const broken = await h.gh.app.inject({
          method: "POST",
          url: listUrl(t),
          headers: { authorization: `Bearer ${t.editToken}`, "content-type": "application/json" },
          payload: `{"ca": false, "private_key": ${JSON.stringify(leaf.keyPem)}, `,
        });
        bodies.push(broken.body);
        for (const url of [listUrl(t), `${listUrl(t)}?ca=false&name=secret`, certUrl(t, id), `${certUrl(t, id)}/associations`]) {
          await send({ method: "GET", url, token: t.readToken });
        }
        await send({ method: "DELETE", url: certUrl(t, id), token: t.editToken });

        for (const b of bodies) assert.equal(holds(b), undefined, "no API response holds the key");
        assert.ok(lines.length > 10, "the debug log was captured");
        const logged = lines.join("");
        assert.equal(holds(logged), undefined, "no log line holds the key");

        // A pg_dump-like sweep: every text, bytea and json column of every table.
        const columns = await h.gh.db.sql<{ table_name: string; column_name: string; data_type: string }[]>`
          SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'jsonb', 'json', 'character varying', 'ARRAY')`;
        let sealedSeen = 0;
        for (const c of columns) {
          const rows = await h.gh.db.sql.unsafe(`SELECT "${c.column_name}" AS v FROM "${c.table_name}" WHERE "${c.column_name}" IS NOT NULL`);
          for (const { v } of rows) {
            const where = `${c.table_name}.${c.column_name}`;
            if (Buffer.isBuffer(v)) {
              assert.equal(byteNeedles.some((n) => v.includes(n)), false, `${where} holds the key bytes`);
              assert.equal(holds(v.toString("latin1")), undefined, `${where} holds the key text`);
              if (c.column_name === "sealed_private_key") sealedSeen++;
            } else {
              assert.equal(holds(typeof v === "string" ? v : JSON.stringify(v)), undefined, `${where} holds the key`);
            }
          }
        }
        assert.equal(sealedSeen, 1, "the one remaining leaf keeps its key, sealed");
      } finally {
        await h.stop();
      }
    });
  });
}

// ── the quota holds under racing uploads (real server only: embedded mode has one connection) ─

describe("mTLS certificate quota under concurrency [server]", { skip: TEST_DATABASE_URL ? false : "TEST_DATABASE_URL is not set" }, () => {
  it("400/six racing CA uploads with a limit of 5: exactly five land", async () => {
    const h = await startTestGatehouse("server");
    try {
      const t = await createTenant(h);
      const roots = [...extraRoots, ecRoot];
      const results = await Promise.all(
        roots.map((r) => h.request({ method: "POST", url: listUrl(t), token: t.editToken, body: { ca: true, certificates: r.certPem } })),
      );
      assert.equal(results.filter((r) => r.statusCode === 200).length, 5);
      const refusedOnes = results.filter((r) => r.statusCode !== 200);
      assert.equal(refusedOnes.length, 1);
      assert.equal(refusedOnes[0].json.errors[0].code, MtlsCertificateErrors.quotaExceeded);
      assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM mtls_certificates WHERE ca`)[0].n, 5);
      assert.equal((await h.gh.db.sql`SELECT count(*)::int AS n FROM certificate_authorities WHERE kind = 'byoca'`)[0].n, 5);
    } finally {
      await h.stop();
    }
  });
});
