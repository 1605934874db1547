import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { createTenant } from "../helpers/gatehouse.js";
import { certsFromPkcs7, createEnrollmentToken, describeEst, estPost, headerOf, makeCsr, sh, shOk } from "./est-helpers.js";

/**
 * A real EST exchange as RFC 7030's examples show it: curl over TLS as the device, openssl to
 * decode the certs-only answers and to verify them against /cacerts.
 */
describeEst("EST exchange with curl and openssl", (get) => {
  it("cacerts decodes with openssl pkcs7 and holds the zone account's CA", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const r = await sh(e.dir, `${e.curl} -D cacerts.hdr -o cacerts.p7.b64 -w '%{http_code}' ${e.estUrl}/${tenant.zoneId}/cacerts`);
    assert.equal(r.stdout, "200");
    assert.match(headerOf(readFileSync(join(e.dir, "cacerts.hdr"), "utf8"), "content-type")!, /^application\/pkcs7-mime; smime-type=certs-only/);
    await shOk(e.dir, "openssl base64 -d -in cacerts.p7.b64 | openssl pkcs7 -inform DER -print_certs -out cacerts.pem");
    const pem = readFileSync(join(e.dir, "cacerts.pem"), "utf8");
    assert.equal(new X509Certificate(pem).fingerprint256, new X509Certificate(tenant.caPem).fingerprint256);
  });

  it("simpleenroll with a token (Basic password) issues a certificate openssl verifies against cacerts; reenroll renews and rekeys", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant, { max_uses: 10, common_name_pattern: "device-*" });
    await shOk(e.dir, `${e.curl} -o cacerts.p7.b64 ${e.estUrl}/${tenant.zoneId}/cacerts`);
    await shOk(e.dir, "openssl base64 -d -in cacerts.p7.b64 | openssl pkcs7 -inform DER -print_certs -out cacerts.pem");

    await makeCsr(e.dir, "dev1", "/CN=device-1/O=Acme", { addext: "subjectAltName=DNS:device-1.iot.example.com" });
    const enrolled = await estPost(e, tenant.zoneId, "simpleenroll", "dev1.b64", `-u device-1:${token.value}`);
    assert.equal(enrolled.status, 200, enrolled.body);
    assert.match(headerOf(enrolled.headers, "content-type")!, /^application\/pkcs7-mime; smime-type=certs-only/);
    const certPem = await certsFromPkcs7(e.dir, enrolled.body, "dev1-cert");
    assert.equal((await shOk(e.dir, "openssl verify -CAfile cacerts.pem dev1-cert.pem")).trim(), "dev1-cert.pem: OK");
    const cert = new X509Certificate(certPem);
    assert.match(cert.subject, /CN=device-1/);
    assert.equal(cert.subjectAltName, "DNS:device-1.iot.example.com");
    // The device's key matches the certificate.
    const keyPub = await shOk(e.dir, "openssl pkey -in dev1.key -pubout");
    assert.equal(cert.publicKey.export({ type: "spki", format: "pem" }), keyPub);

    // An ordinary client certificate: listed by the API, audit event naming the token.
    const list = await e.h.request({ method: "GET", url: `/client/v4/zones/${tenant.zoneId}/client_certificates`, token: tenant.readToken });
    assert.equal(list.json.result_info.total_count, 1);
    const issuedId = list.json.result[0].id;
    assert.equal(list.json.result[0].serial_number, cert.serialNumber.toLowerCase());
    const [audit] = await e.h.gh.db.sql`SELECT actor FROM audit_events WHERE action = 'client_certificate.issue' AND object_id = ${issuedId}`;
    assert.equal(audit.actor, `enrollment_token:${token.id}`);
    const tokens = await e.h.request({ method: "GET", url: `/client/v4/zones/${tenant.zoneId}/enrollment_tokens`, token: tenant.readToken });
    assert.equal(tokens.json.result[0].uses, 1);

    // simplereenroll with the same key (renew), authenticated by the certificate in the TLS handshake.
    const renewed = await estPost(e, tenant.zoneId, "simplereenroll", "dev1.b64", "--cert dev1-cert.pem --key dev1.key");
    assert.equal(renewed.status, 200, renewed.body);
    const renewedPem = await certsFromPkcs7(e.dir, renewed.body, "dev1-renewed");
    assert.equal((await shOk(e.dir, "openssl verify -CAfile cacerts.pem dev1-renewed.pem")).trim(), "dev1-renewed.pem: OK");
    const renewedCert = new X509Certificate(renewedPem);
    assert.equal(renewedCert.subject, cert.subject);
    assert.equal(renewedCert.subjectAltName, cert.subjectAltName);
    assert.notEqual(renewedCert.serialNumber, cert.serialNumber);
    assert.equal(renewedCert.publicKey.export({ type: "spki", format: "pem" }), keyPub);

    // The old certificate stays active and records its successor.
    const rows = await e.h.gh.db.sql`SELECT id, status, superseded_by FROM client_certificates ORDER BY seq`;
    assert.equal(rows.length, 2);
    assert.equal(rows[0].status, "active");
    assert.equal(rows[0].superseded_by, rows[1].id);
    const [supersede] = await e.h.gh.db.sql`SELECT actor, reason FROM audit_events WHERE action = 'client_certificate.supersede'`;
    assert.equal(supersede.actor, `client_certificate:${rows[0].id}`);
    assert.equal(supersede.reason, `renew:${rows[1].id}`);

    // Rekey: a new key with the same names, authenticated by the renewed certificate.
    await makeCsr(e.dir, "dev1b", "/CN=device-1/O=Acme", { addext: "subjectAltName=DNS:device-1.iot.example.com" });
    const rekeyed = await estPost(e, tenant.zoneId, "simplereenroll", "dev1b.b64", "--cert dev1-renewed.pem --key dev1.key");
    assert.equal(rekeyed.status, 200, rekeyed.body);
    const rekeyedCert = new X509Certificate(await certsFromPkcs7(e.dir, rekeyed.body, "dev1-rekeyed"));
    assert.equal(rekeyedCert.publicKey.export({ type: "spki", format: "pem" }), await shOk(e.dir, "openssl pkey -in dev1b.key -pubout"));
    const [after] = await e.h.gh.db.sql`SELECT superseded_by FROM client_certificates WHERE id = ${rows[1].id}`;
    assert.ok(after.superseded_by);
    const [rekeyAudit] = await e.h.gh.db.sql`SELECT reason FROM audit_events WHERE action = 'client_certificate.supersede' AND object_id = ${rows[1].id}`;
    assert.match(rekeyAudit.reason, /^rekey:/);
  });

  it("simpleenroll with Authorization: Bearer, an RSA key, and no token limits", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    await makeCsr(e.dir, "rsa", "/CN=sensor-rsa", { newkey: "rsa:2048" });
    const res = await estPost(e, tenant.zoneId, "simpleenroll", "rsa.b64", `-H 'Authorization: Bearer ${token.value}'`);
    assert.equal(res.status, 200, res.body);
    const cert = new X509Certificate(await certsFromPkcs7(e.dir, res.body, "rsa-cert"));
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  it("serverkeygen returns a PKCS#8 key that matches the certificate", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    await makeCsr(e.dir, "skg", "/CN=tiny-device-7");
    const res = await estPost(e, tenant.zoneId, "serverkeygen", "skg.b64", `-u tiny:${token.value}`);
    assert.equal(res.status, 200, res.body);
    assert.equal(headerOf(res.headers, "cache-control"), "no-store");
    const boundary = /boundary=([^\s;]+)/.exec(headerOf(res.headers, "content-type")!)![1];
    const parts = res.body.split(`--${boundary}`).slice(1, -1);
    assert.equal(parts.length, 2);
    const [keyHead, keyBody] = parts[0].split("\r\n\r\n");
    const [certHead, certBody] = parts[1].split("\r\n\r\n");
    assert.match(keyHead, /Content-Type: application\/pkcs8/);
    assert.match(certHead, /Content-Type: application\/pkcs7-mime; smime-type=certs-only/);
    writeFileSync(join(e.dir, "skg-key.b64"), keyBody);
    await shOk(e.dir, "openssl base64 -d -in skg-key.b64 -out skg-key.der");
    await certsFromPkcs7(e.dir, certBody, "skg-cert");
    const fromKey = await shOk(e.dir, "openssl pkey -inform DER -in skg-key.der -pubout");
    const fromCert = await shOk(e.dir, "openssl x509 -in skg-cert.pem -pubkey -noout");
    assert.equal(fromKey, fromCert);
    // The CSR's own key is not the one certified, and the server kept no key.
    assert.notEqual(fromCert, await shOk(e.dir, "openssl pkey -in skg.key -pubout"));
    const [row] = await e.h.gh.db.sql`SELECT count(*)::int AS n FROM client_certificates`;
    assert.equal(row.n, 1);
  });

  it("csrattrs answers 204", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const r = await sh(e.dir, `${e.curl} -o /dev/null -w '%{http_code}' ${e.estUrl}/${tenant.zoneId}/csrattrs`);
    assert.equal(r.stdout, "204");
  });
});
