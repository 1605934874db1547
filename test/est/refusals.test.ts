import assert from "node:assert/strict";
import { randomBytes, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { findZone } from "../../src/db/zones.js";
import { authenticateClientCertificate, reenroll } from "../../src/services/enrollment.js";
import { createTenant, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";
import { certsFromPkcs7, createEnrollmentToken, describeEst, estPost, headerOf, makeCsr, sh, type EstHarness } from "./est-helpers.js";

/**
 * Every bad input the issue lists, and a few more: each answers its status with a plain-text
 * reason and the code in gatehouse-error-code, and leaves every table as it was.
 */
async function usesOf(h: TestGatehouse, tenant: Tenant): Promise<number[]> {
  const res = await h.request({ method: "GET", url: `/client/v4/zones/${tenant.zoneId}/enrollment_tokens`, token: tenant.readToken });
  return res.json.result.map((t: { uses: number }) => t.uses);
}

async function expectRefused(
  e: EstHarness,
  tenant: Tenant,
  send: () => Promise<{ status: number; headers: string; body: string }>,
  want: { status: number; code: number; reason: RegExp },
): Promise<void> {
  const before = await e.h.counts();
  const usesBefore = await usesOf(e.h, tenant);
  const res = await send();
  assert.equal(res.status, want.status, res.body);
  assert.equal(headerOf(res.headers, "gatehouse-error-code"), String(want.code));
  assert.match(headerOf(res.headers, "content-type")!, /^text\/plain/);
  assert.match(res.body, want.reason);
  if (want.status === 401) assert.match(headerOf(res.headers, "www-authenticate")!, /^Basic realm=/);
  assert.deepEqual(await e.h.counts(), before, "nothing written");
  assert.deepEqual(await usesOf(e.h, tenant), usesBefore, "no token use counted");
}

/** enrollOne enrolls a P-256 device `cn` with a fresh token and returns the files' base name. */
async function enrollOne(e: EstHarness, tenant: Tenant, cn: string): Promise<string> {
  const token = await createEnrollmentToken(e.h, tenant);
  await makeCsr(e.dir, cn, `/CN=${cn}`);
  const res = await estPost(e, tenant.zoneId, "simpleenroll", `${cn}.b64`, `-u x:${token.value}`);
  assert.equal(res.status, 200, res.body);
  await certsFromPkcs7(e.dir, res.body, `${cn}-cert`);
  return cn;
}

describeEst("EST refusals", (get) => {
  it("400/malformed base64", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    writeFileSync(join(e.dir, "bad.b64"), "MIIB!!not*base64==\n");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "bad.b64", `-u x:${token.value}`), {
      status: 400,
      code: 1913,
      reason: /not valid base64/,
    });
  });

  it("400/body that is not PKCS#10", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    writeFileSync(join(e.dir, "junk.b64"), randomBytes(300).toString("base64"));
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "junk.b64", `-u x:${token.value}`), {
      status: 400,
      code: 1101,
      reason: /not a DER-encoded PKCS#10/,
    });
    // A certificate is DER but not a CSR either.
    writeFileSync(join(e.dir, "cert.b64"), Buffer.from(tenant.caPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64").toString("base64"));
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "cert.b64", `-u x:${token.value}`), {
      status: 400,
      code: 1101,
      reason: /PKCS#10/,
    });
  });

  it("415/CSR sent as another media type", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    await makeCsr(e.dir, "mt", "/CN=mt");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "mt.b64", `-u x:${token.value}`, "application/json"), {
      status: 415,
      code: 1912,
      reason: /application\/pkcs10/,
    });
  });

  it("401/no token, unknown token, another zone's token, a revoked token", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const other = await createTenant(e.h);
    const otherToken = await createEnrollmentToken(e.h, other);
    const revoked = await createEnrollmentToken(e.h, tenant);
    await e.h.request({ method: "DELETE", url: `/client/v4/zones/${tenant.zoneId}/enrollment_tokens/${revoked.id}`, token: tenant.editToken });
    await makeCsr(e.dir, "nt", "/CN=nt");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "nt.b64"), { status: 401, code: 1920, reason: /enrollment token/ });
    for (const value of [`ghe_${randomBytes(32).toString("base64url")}`, otherToken.value, revoked.value]) {
      await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "nt.b64", `-u x:${value}`), {
        status: 401,
        code: 1921,
        reason: /not valid for this zone/,
      });
    }
  });

  it("403/used-up token", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant, { max_uses: 1 });
    await makeCsr(e.dir, "u1", "/CN=u1");
    assert.equal((await estPost(e, tenant.zoneId, "simpleenroll", "u1.b64", `-u x:${token.value}`)).status, 200);
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "u1.b64", `-u x:${token.value}`), {
      status: 403,
      code: 1923,
      reason: /no uses left/,
    });
  });

  it("403/expired token", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant, { expires_on: new Date(Date.now() + 3600_000).toISOString() });
    await e.h.gh.db.sql`UPDATE enrollment_tokens SET expires_on = now() - interval '1 second' WHERE id = ${token.id}`;
    await makeCsr(e.dir, "ex", "/CN=ex");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "ex.b64", `-u x:${token.value}`), {
      status: 403,
      code: 1922,
      reason: /expired/,
    });
  });

  it("403/common name outside the pattern (and no common name at all)", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant, { common_name_pattern: "device-*" });
    await makeCsr(e.dir, "cn", "/CN=printer-1");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "cn.b64", `-u x:${token.value}`), {
      status: 403,
      code: 1924,
      reason: /common_name_pattern/,
    });
    await makeCsr(e.dir, "nocn", "/O=Acme", { addext: "subjectAltName=DNS:device-1.example.com" });
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "nocn.b64", `-u x:${token.value}`), {
      status: 403,
      code: 1924,
      reason: /common_name_pattern/,
    });
  });

  it("400/weak key in the CSR keeps its CSR code", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    await makeCsr(e.dir, "weak", "/CN=weak", { newkey: "ec -pkeyopt ec_paramgen_curve:secp256k1" });
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "weak.b64", `-u x:${token.value}`), {
      status: 400,
      code: 1110,
      reason: /curve/,
    });
  });

  it("401/reenroll without a client certificate", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const base = await enrollOne(e, tenant, "re0");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", `${base}.b64`), {
      status: 401,
      code: 1930,
      reason: /client certificate/,
    });
  });

  it("403/reenroll with a revoked certificate, and with a held one", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    for (const [cn, reason] of [["held-1", ""], ["revoked-1", "?reason=keyCompromise"]] as const) {
      const base = await enrollOne(e, tenant, cn);
      const [row] = await e.h.gh.db.sql`SELECT id FROM client_certificates WHERE common_name = ${cn}`;
      const del = await e.h.request({ method: "DELETE", url: `/client/v4/zones/${tenant.zoneId}/client_certificates/${row.id}${reason}`, token: tenant.editToken });
      assert.equal(del.statusCode, 200);
      await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", `${base}.b64`, `--cert ${base}-cert.pem --key ${base}.key`), {
        status: 403,
        code: 1932,
        reason: /revoked or on hold/,
      });
    }
  });

  it("403/revoked between the certificate check and the issuance: the transaction rolls back", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const base = await enrollOne(e, tenant, "race");
    const zone = (await findZone(e.h.gh.db.sql, tenant.zoneId))!;
    const der = new Uint8Array(new X509Certificate(readFileSync(join(e.dir, `${base}-cert.pem`))).raw);
    const current = await authenticateClientCertificate(e.h.gh.ctx, zone, der);
    const del = await e.h.request({ method: "DELETE", url: `/client/v4/zones/${tenant.zoneId}/client_certificates/${current.id}?reason=keyCompromise`, token: tenant.editToken });
    assert.equal(del.statusCode, 200);
    const before = await e.h.counts();
    const csrDer = new Uint8Array(readFileSync(join(e.dir, `${base}.der`)));
    await assert.rejects(reenroll(e.h.gh.ctx, { zone, current, csrDer }, { actor: "test" }), (err: any) => err.code === 1932 && err.status === 403);
    assert.deepEqual(await e.h.counts(), before);
  });

  it("403/reenroll with another zone's certificate (same account) and another account's", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const otherAccount = await createTenant(e.h);
    // A second zone of the same account: same CA, so only the record tells them apart.
    const zone2 = await e.h.request({
      method: "POST",
      url: "/client/v4/zones",
      token: e.h.operatorToken,
      body: { name: `z2-${randomBytes(3).toString("hex")}.example.com`, account: { id: tenant.accountId } },
    });
    const sameAccount: Tenant = { ...tenant, zoneId: zone2.json.result.id };
    const base = await enrollOne(e, sameAccount, "z2dev");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", `${base}.b64`, `--cert ${base}-cert.pem --key ${base}.key`), {
      status: 403,
      code: 1931,
      reason: /not issued for this zone/,
    });
    const foreign = await enrollOne(e, otherAccount, "foreign");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", `${foreign}.b64`, `--cert ${foreign}-cert.pem --key ${foreign}.key`), {
      status: 403,
      code: 1931,
      reason: /not issued for this zone/,
    });
  });

  it("403/reenroll with a self-made certificate that copies a real one's names", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    await enrollOne(e, tenant, "real");
    await sh(e.dir, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout fake.key -out fake.pem -days 1 -subj /CN=real 2>/dev/null");
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", "real.b64", "--cert fake.pem --key fake.key"), {
      status: 403,
      code: 1931,
      reason: /not issued for this zone/,
    });
  });

  it("400/reenroll with another subject or other SANs", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const base = await enrollOne(e, tenant, "subj");
    await makeCsr(e.dir, "subj2", "/CN=someone-else", { key: `${base}.key` });
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", "subj2.b64", `--cert ${base}-cert.pem --key ${base}.key`), {
      status: 400,
      code: 1935,
      reason: /subject/,
    });
    await makeCsr(e.dir, "subj3", "/CN=subj", { key: `${base}.key`, addext: "subjectAltName=DNS:extra.example.com" });
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simplereenroll", "subj3.b64", `--cert ${base}-cert.pem --key ${base}.key`), {
      status: 400,
      code: 1936,
      reason: /subjectAltName/,
    });
  });

  it("404/unknown zone, 404/unknown operation, 405/wrong method, 413/too large", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    await makeCsr(e.dir, "z", "/CN=z");
    await expectRefused(e, tenant, () => estPost(e, randomBytes(16).toString("hex"), "simpleenroll", "z.b64", `-u x:${token.value}`), {
      status: 404,
      code: 1911,
      reason: /no such zone/,
    });
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "fullcmc", "z.b64", `-u x:${token.value}`), { status: 404, code: 1915, reason: /no such EST operation/ });
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "cacerts", "z.b64"), { status: 405, code: 1916, reason: /method not allowed/ });
    writeFileSync(join(e.dir, "big.b64"), "QUFB\n".repeat(5000));
    await expectRefused(e, tenant, () => estPost(e, tenant.zoneId, "simpleenroll", "big.b64", `-u x:${token.value}`), { status: 413, code: 1001, reason: /too large/ });
  });

  it("403/EST on the plain API port points at the TLS port and reads nothing", async () => {
    const e = get();
    const tenant = await createTenant(e.h);
    const token = await createEnrollmentToken(e.h, tenant);
    const before = await e.h.counts();
    for (const [method, op] of [["POST", "simpleenroll"], ["GET", "cacerts"], ["POST", "serverkeygen"], ["POST", "simplereenroll"], ["GET", "csrattrs"]]) {
      const res = await e.h.request({
        method,
        url: `/.well-known/est/${tenant.zoneId}/${op}`,
        payload: method === "POST" ? "MIIB" : undefined,
        headers: { "content-type": "application/pkcs10", authorization: `Bearer ${token.value}` },
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers["gatehouse-error-code"], "1910");
      assert.match(res.body, /only over TLS .*port \d+/);
    }
    assert.deepEqual(await e.h.counts(), before);
  });
});
