import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import postgres from "postgres";
import { ClientCertificateErrors } from "../../src/services/client-certificates.js";
import { PkiErrors } from "../../src/services/pki-errors.js";
import { makeCsr } from "../helpers/csr.js";
import { createTenant, createTestDatabase, DATABASE_KINDS, startTestGatehouse, TEST_DATABASE_URL, type TestGatehouse } from "../helpers/gatehouse.js";
import { certUrl, crlSerials, fetchCrl, issue, opensslSerial, rawRequest, revoke, run, tempDir, waitForCrl } from "../helpers/revocation.js";

/** verifyWithCrl: certtool parses the CRL, then `openssl verify -crl_check` judges one leaf against the CA and that CRL. */
async function verifyWithCrl(dir: ReturnType<typeof tempDir>, caPem: string, crlDer: Buffer, leafPem: string) {
  const crlPem = dir.file(`crl-${randomBytes(4).toString("hex")}.pem`);
  const conv = await run("openssl", ["crl", "-inform", "DER", "-in", dir.file(`c-${randomBytes(4).toString("hex")}.der`, crlDer), "-out", crlPem]);
  assert.equal(conv.code, 0, conv.out);
  const info = await run("certtool", ["--crl-info", "--infile", crlPem]);
  assert.equal(info.code, 0, `certtool --crl-info: ${info.out}`);
  return run("openssl", ["verify", "-x509_strict", "-crl_check", "-CAfile", dir.file("ca.pem", caPem), "-CRLfile", crlPem, dir.file(`leaf-${randomBytes(4).toString("hex")}.pem`, leafPem)]);
}

for (const kind of DATABASE_KINDS) {
  describe(`CRL: openssl and certtool as relying parties [${kind}]`, () => {
    let h: TestGatehouse & { stop: () => Promise<void> };
    let offsetMs = 0;
    let dir: ReturnType<typeof tempDir>;
    const csr = makeCsr({ subject: "/CN=crl-interop" });
    before(async () => {
      h = await startTestGatehouse(kind, { crlDebounceSeconds: 1, pkiRateLimit: 0 } as never, { now: () => new Date(Date.now() + offsetMs) });
    });
    after(async () => h?.stop());
    beforeEach(async () => {
      offsetMs = 0;
      await h.truncate();
      h.gh.ctx.pki!.clear();
      dir = tempDir("gh-crl-it-");
    });
    afterEach(() => dir.remove());

    it("verify -crl_check: good accepted, hold rejected, reactivated accepted under a higher CRL number, keyCompromise rejected for good", async () => {
      const t = await createTenant(h);
      const [good, held, compromised, unspecified] = [await issue(h, t, csr.csrPem), await issue(h, t, csr.csrPem), await issue(h, t, csr.csrPem), await issue(h, t, csr.csrPem)];
      const first = await fetchCrl(h, t.caId);
      const v = await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("first.der", first.der), "-CAfile", dir.file("ca.pem", t.caPem), "-noout"]);
      assert.match(v.out, /verify OK/);
      assert.equal((await run("certtool", ["--crl-info", "--inder", "--infile", dir.file("first.der")])).code, 0);
      assert.deepEqual(await crlSerials(dir, first.der), []);
      assert.match((await verifyWithCrl(dir, t.caPem, first.der, good.pem)).out, /: OK/);

      // DELETE with no body: a hold
      await revoke(h, t, held.id);
      const onHold = await waitForCrl(h, t.caId, (c) => c.number > first.number);
      assert.deepEqual(await crlSerials(dir, onHold.der), [opensslSerial(held.serial)]);
      const heldVerdict = await verifyWithCrl(dir, t.caPem, onHold.der, held.pem);
      assert.notEqual(heldVerdict.code, 0);
      assert.match(heldVerdict.out, /certificate revoked/);
      assert.match((await verifyWithCrl(dir, t.caPem, onHold.der, good.pem)).out, /: OK/);
      const text = (await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("hold.der", onHold.der), "-noout", "-text"])).out;
      assert.match(text, /Certificate Hold/);

      // PATCH releases the hold; the next CRL has a higher number and no entry
      const patched = await h.request({ method: "PATCH", url: certUrl(t, held.id), token: t.editToken });
      assert.equal(patched.statusCode, 200);
      assert.equal(patched.json.result.status, "active");
      const released = await waitForCrl(h, t.caId, (c) => c.number > onHold.number);
      assert.deepEqual(await crlSerials(dir, released.der), []);
      assert.match((await verifyWithCrl(dir, t.caPem, released.der, held.pem)).out, /: OK/);

      // keyCompromise is final: listed with its reason, and PATCH answers 409 without writing anything
      await revoke(h, t, compromised.id, "keyCompromise");
      const final = await waitForCrl(h, t.caId, (c) => c.number > released.number);
      const finalVerdict = await verifyWithCrl(dir, t.caPem, final.der, compromised.pem);
      assert.match(finalVerdict.out, /certificate revoked/);
      const before = await h.counts();
      const refused = await h.request({ method: "PATCH", url: certUrl(t, compromised.id), token: t.editToken });
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json.errors[0].code, ClientCertificateErrors.revocationIsFinal);
      assert.deepEqual(await h.counts(), before);
      const [state] = await h.gh.db.sql`SELECT changes, built_through FROM crls WHERE ca_id = ${t.caId}`;
      assert.equal(state.changes, state.built_through, "the refused PATCH recorded no change");

      // reason in a JSON body; unspecified is listed without a reasonCode
      const del = await h.request({ method: "DELETE", url: certUrl(t, unspecified.id), token: t.editToken, body: { reason: "unspecified" } });
      assert.equal(del.statusCode, 200);
      const last = await waitForCrl(h, t.caId, (c) => c.number > final.number);
      const lastText = (await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("last.der", last.der), "-CAfile", dir.file("ca.pem"), "-noout", "-text"])).out;
      assert.match(lastText, /verify OK/);
      assert.equal((lastText.match(/Serial Number:/g) ?? []).length, 2);
      assert.equal((lastText.match(/X509v3 CRL Reason Code:/g) ?? []).length, 1);
      assert.match(lastText, /Key Compromise/);
      const info = await run("certtool", ["--crl-info", "--inder", "--infile", dir.file("last.der")]);
      assert.equal(info.code, 0, info.out);
      assert.match(info.out, /Revoked certificates \(2\)/);
      const cv = await run("certtool", ["--verify-crl", "--load-ca-certificate", dir.file("ca.pem"), "--infile", dir.file("last.pem", (await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl.pem` })).body)]);
      assert.match(cv.out, /Verified/, cv.out);
    });

    it("a repeated DELETE answers the current state and changes nothing the CRL depends on", async () => {
      const t = await createTenant(h);
      const c = await issue(h, t, csr.csrPem);
      await revoke(h, t, c.id, "superseded");
      const crl = await waitForCrl(h, t.caId, (x) => x.number >= 1n);
      const [before] = await h.gh.db.sql`SELECT changes FROM crls WHERE ca_id = ${t.caId}`;
      const again = await h.request({ method: "DELETE", url: certUrl(t, c.id), token: t.editToken });
      assert.equal(again.json.result.revocation_reason, "superseded");
      const [after] = await h.gh.db.sql`SELECT changes FROM crls WHERE ca_id = ${t.caId}`;
      assert.equal(after.changes, before.changes);
      assert.match((await verifyWithCrl(dir, t.caPem, (await fetchCrl(h, t.caId)).der, c.pem)).out, /certificate revoked/);
      assert.ok(crl.number >= 1n);
    });

    it("PEM by path and by Accept; caching headers; 304 on a matching ETag; CA certificate as PEM and DER", async () => {
      const t = await createTenant(h);
      const der = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl` });
      assert.equal(der.headers["content-type"], "application/pkix-crl");
      assert.match(String(der.headers["cache-control"]), /^public, max-age=1, stale-if-error=\d+, no-transform$/);
      assert.ok(der.headers["last-modified"]);
      const pem = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl.pem` });
      assert.match(pem.body.toString(), /^-----BEGIN X509 CRL-----\n/);
      assert.equal(pem.headers["content-type"], "application/x-pem-file");
      const accept = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl`, headers: { accept: "application/x-pem-file" } });
      assert.equal(accept.body.toString(), pem.body.toString());
      const back = await run("openssl", ["crl", "-in", dir.file("c.pem", pem.body), "-outform", "DER", "-out", dir.file("c.der")]);
      assert.equal(back.code, 0);
      const same = await run("cmp", [dir.file("c.der"), dir.file("d.der", der.body)]);
      assert.equal(same.code, 0, "PEM and DER are the same CRL");
      const cached = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl`, headers: { "if-none-match": String(der.headers.etag) } });
      assert.equal(cached.statusCode, 304);
      assert.equal(cached.body.length, 0);

      const caPem = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/ca.pem` });
      assert.equal(caPem.body.toString(), t.caPem);
      const caDer = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/ca.der` });
      assert.equal(caDer.headers["content-type"], "application/pkix-cert");
      const x = await run("openssl", ["x509", "-inform", "DER", "-in", dir.file("ca.der", caDer.body), "-noout", "-ext", "keyUsage"]);
      assert.match(x.out, /Digital Signature, Certificate Sign, CRL Sign/);
    });

    const notPublished: Array<[string, (t: Awaited<ReturnType<typeof createTenant>>) => Promise<string>]> = [
      ["404/unknown CA id", async () => "0b5b9b0e-5a43-4f2a-9d59-3c1c2f6c8f10"],
      ["404/not a UUID", async () => "not-a-ca"],
      [
        "404/BYOCA CA (Gatehouse holds no key, publishes nothing)",
        async (t) => {
          const d = tempDir("gh-byoca-");
          try {
            await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d.file("k.pem"), "-out", d.file("c.pem"), "-days", "30", "-subj", "/CN=Uploaded CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
            const { readFileSync } = await import("node:fs");
            const up = await h.request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/mtls_certificates`, token: t.editToken, body: { ca: true, certificates: readFileSync(d.file("c.pem"), "utf8"), name: "byoca" } });
            assert.equal(up.statusCode, 200, up.body);
            return up.json.result.id as string;
          } finally {
            d.remove();
          }
        },
      ],
    ];
    for (const [name, caIdOf] of notPublished) {
      it(name, async () => {
        const t = await createTenant(h);
        const caId = await caIdOf(t);
        const before = await h.counts();
        for (const path of ["crl", "crl.pem", "ca.pem", "ca.der"]) {
          const res = await h.request({ method: "GET", url: `/pki/${caId}/${path}` });
          assert.equal(res.statusCode, 404, path);
          assert.equal(res.json.errors[0].code, PkiErrors.noManagedCa);
          assert.match(res.json.errors[0].message, /BYOCA/);
        }
        assert.deepEqual(await h.counts(), before);
      });
    }

    it("an entry stays until one CRL after its certificate's notAfter, then leaves", async () => {
      const t = await createTenant(h);
      const c = await issue(h, t, csr.csrPem, 1);
      await revoke(h, t, c.id, "cessationOfOperation");
      const publisher = h.gh.ctx.pki!.publisher;
      offsetMs = 86_400_000 + 3600_000; // an hour past notAfter: the next CRL still lists it
      assert.equal((await publisher.run(t.caId, { force: true })).kind, "built");
      assert.deepEqual(await crlSerials(dir, (await fetchCrl(h, t.caId)).der), [opensslSerial(c.serial)]);
      offsetMs = 2 * 86_400_000 + 3600_000; // a full CRL validity later it is gone
      assert.equal((await publisher.run(t.caId, { force: true })).kind, "built");
      assert.deepEqual(await crlSerials(dir, (await fetchCrl(h, t.caId)).der), []);
    });

    it("a revoked row without a stored entry (revoked before migration 0020) is encoded by the next build", async () => {
      const t = await createTenant(h);
      const c = await issue(h, t, csr.csrPem);
      await revoke(h, t, c.id, "affiliationChanged");
      await h.gh.db.sql`UPDATE client_certificates SET crl_entry_der = NULL WHERE id = ${c.id}`;
      assert.equal((await h.gh.ctx.pki!.publisher.run(t.caId, { force: true })).kind, "built");
      const crl = await fetchCrl(h, t.caId);
      assert.deepEqual(await crlSerials(dir, crl.der), [opensslSerial(c.serial)]);
      const [row] = await h.gh.db.sql`SELECT crl_entry_der FROM client_certificates WHERE id = ${c.id}`;
      assert.ok(row.crl_entry_der.length > 30);
    });

    it("5 000 revoked rows made by SQL: the build streams them (binary COPY), the stored CRL reads back whole", async () => {
      const t = await createTenant(h);
      await h.gh.db.sql.unsafe(
        `INSERT INTO client_certificates (id, zone_id, ca_id, serial, status, revocation_reason, revoked_on, certificate_pem, csr_pem,
           fingerprint_sha256, ski, signature, validity_days, issued_on, expires_on, crl_entry_der)
         SELECT gen_random_uuid(), $1, $2::uuid, s.serial, 'revoked', 'keyCompromise', s.revoked_on, 'x', 'x', 'x', 'x', 'ECDSAWithSHA256', 30,
           now() - interval '1 day', now() + interval '29 days',
           '\\x302f0210'::bytea || s.serial || '\\x170d'::bytea || convert_to(to_char(s.revoked_on AT TIME ZONE 'UTC', 'YYMMDDHH24MISS') || 'Z', 'SQL_ASCII')
             || '\\x300c300a0603551d1504030a0101'::bytea
         FROM (SELECT set_byte(b, 0, (get_byte(b, 0) & 63) | 64) AS serial, date_trunc('second', now() - interval '1 hour') AS revoked_on
               FROM (SELECT uuid_send(gen_random_uuid()) AS b FROM generate_series(1, 5000)) r) s`,
        [t.zoneId, t.caId],
      );
      assert.equal((await h.gh.ctx.pki!.publisher.run(t.caId, { force: true })).kind, "built");
      h.gh.ctx.pki!.clear(); // the next GET reads the stored CRL back from the database
      const crl = await fetchCrl(h, t.caId);
      assert.ok(crl.der.length > 5000 * 49);
      const v = await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("big.der", crl.der), "-CAfile", dir.file("ca.pem", t.caPem), "-noout", "-text"]);
      assert.match(v.out, /verify OK/);
      assert.equal((v.out.match(/Serial Number:/g) ?? []).length, 5000);
      assert.equal((v.out.match(/Key Compromise/g) ?? []).length, 5000);
    });

    it("a burst of revocations becomes few CRLs (debounce), each with a higher number, the last listing all", async () => {
      const t = await createTenant(h);
      const certs = [];
      for (let i = 0; i < 6; i++) certs.push(await issue(h, t, csr.csrPem));
      const start = await fetchCrl(h, t.caId);
      await Promise.all(certs.map((c, i) => revoke(h, t, c.id, i % 2 ? "keyCompromise" : undefined)));
      const end = await waitForCrl(h, t.caId, async (c) => (await crlSerials(dir, c.der)).length === 6);
      assert.ok(end.number > start.number);
      const [state] = await h.gh.db.sql`SELECT crl_number, changes FROM crls WHERE ca_id = ${t.caId}`;
      assert.equal(state.changes, "6");
      assert.ok(Number(state.crl_number) - Number(start.number) < 6, "fewer CRLs than revocations");
    });
  });
}

describe("CRL validity and rate limiting follow the configuration", () => {
  let h: TestGatehouse & { stop: () => Promise<void> };
  before(async () => {
    h = await startTestGatehouse(DATABASE_KINDS[0], { crlValidityHours: 2, pkiRateLimit: 3 } as never);
  });
  after(async () => h?.stop());

  it("GATEHOUSE_CRL_VALIDITY_HOURS sets nextUpdate; 429/past the per-address budget", async () => {
    const t = await createTenant(h);
    const dir = tempDir("gh-crl-cfg-");
    try {
      const res = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl` });
      assert.equal(res.statusCode, 200);
      const text = (await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("c.der", res.body), "-noout", "-lastupdate", "-nextupdate"])).out;
      const last = Date.parse(/lastUpdate=(.*)/.exec(text)![1]);
      const next = Date.parse(/nextUpdate=(.*)/.exec(text)![1]);
      assert.equal(next - last, 2 * 3600_000);
      let limited;
      for (let i = 0; i < 20 && !limited; i++) {
        const r = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/ca.pem` });
        if (r.statusCode === 429) limited = r;
      }
      assert.ok(limited, "a burst past twice the rate is refused");
      assert.equal(limited.json.errors[0].code, PkiErrors.rateLimited);
      assert.ok(Number(limited.headers["retry-after"]) >= 1);
    } finally {
      dir.remove();
    }
  });
});

/**
 * Two real server processes on one PostgreSQL database: 200 revocations race through both; the
 * CRL both serve in the end has the highest number and lists all 200.
 */
describe("CRL: 200 revocations racing from 2 processes on the real server", { skip: TEST_DATABASE_URL ? false : "TEST_DATABASE_URL is not set" }, () => {
  const ROOT = fileURLToPath(new URL("../../", import.meta.url));
  const children: ChildProcess[] = [];
  let drop: (() => Promise<void>) | undefined;
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
    await drop?.();
  });

  const spawnServer = (env: Record<string, string>) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
        cwd: ROOT,
        env: { ...process.env, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let out = "";
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
      const onData = (chunk: Buffer) => {
        if (out.length < 100_000) out += chunk.toString();
        const m = /Gatehouse API listening on (http:\/\/[\d.]+:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    });

  it("ends with one CRL whose number is the highest and which lists all 200", async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    const operator = "gh_op_" + randomBytes(24).toString("base64url");
    const env = {
      DATABASE_URL: db.url,
      GATEHOUSE_MASTER_KEY: randomBytes(32).toString("base64"),
      GATEHOUSE_OPERATOR_TOKEN: operator,
      GATEHOUSE_CRL_DEBOUNCE_SECONDS: "1",
      GATEHOUSE_PKI_RATE_LIMIT: "0",
    };
    const a = await spawnServer(env);
    const b = await spawnServer(env);
    const call = async (base: string, method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const json = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(json));
      return json.result;
    };
    const account = await call(a, "POST", "/client/v4/accounts", operator, { name: "race" });
    const zone = await call(a, "POST", "/client/v4/zones", operator, { name: `race-${randomBytes(3).toString("hex")}.example.com`, account: { id: account.id } });
    const token = (await call(a, "POST", `/client/v4/accounts/${account.id}/tokens`, operator, { name: "edit", scopes: ["ssl_certificates:edit"] })).value;
    const csr = makeCsr({ subject: "/CN=race" }).csrPem;
    const certs: Array<{ id: string; serial_number: string }> = [];
    for (let i = 0; i < 200; i += 20) {
      certs.push(...(await Promise.all(Array.from({ length: 20 }, (_, k) => call(k % 2 ? b : a, "POST", `/client/v4/zones/${zone.id}/client_certificates`, token, { csr, validity_days: 30 })))));
    }
    const caId = account.managed_ca.id as string;
    // take a first CRL, then race: even certificates through A, odd through B, 16 in flight each
    const first = await fetch(`${a}/pki/${caId}/crl`);
    assert.equal(first.status, 200);
    const lanes = [a, b].map(async (base, lane) => {
      const mine = certs.filter((_, i) => i % 2 === lane);
      for (let i = 0; i < mine.length; i += 16) {
        await Promise.all(mine.slice(i, i + 16).map((c, k) => call(base, "DELETE", `/client/v4/zones/${zone.id}/client_certificates/${c.id}${k % 2 ? "?reason=keyCompromise" : ""}`, token)));
      }
    });
    await Promise.all(lanes);

    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    const dir = tempDir("gh-race-");
    try {
      let state: any;
      const deadline = Date.now() + 30_000;
      for (;;) {
        [state] = await sql`SELECT crl_number, changes, built_through FROM crls WHERE ca_id = ${caId}`;
        if (state.changes === state.built_through) break;
        assert.ok(Date.now() < deadline, `CRL still behind: ${JSON.stringify(state)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(state.changes, "200");
      assert.ok(Number(state.crl_number) < 200, "debounced: far fewer CRLs than revocations");
      // every process serves that CRL (each re-checks the stored number within seconds)
      const served: Buffer[] = [];
      for (const base of [a, b]) {
        const until = Date.now() + 20_000;
        for (;;) {
          const res = await fetch(`${base}/pki/${caId}/crl`);
          const der = Buffer.from(await res.arrayBuffer());
          if (String(res.headers.get("etag")).startsWith(`"${state.crl_number}-`)) {
            served.push(der);
            break;
          }
          assert.ok(Date.now() < until, `${base} still serves an older CRL`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      assert.ok(served[0].equals(served[1]));
      const caPem = (await fetch(`${a}/pki/${caId}/ca.pem`).then((r) => r.text())) as string;
      const v = await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("race.der", served[0]), "-CAfile", dir.file("ca.pem", caPem), "-noout", "-crlnumber"]);
      assert.match(v.out, /verify OK/);
      assert.equal(BigInt("0x" + /crlNumber=0x([0-9A-F]+)/.exec(v.out)![1]), BigInt(state.crl_number));
      const listed = new Set(await crlSerials(dir, served[0]));
      assert.equal(listed.size, 200);
      for (const c of certs) assert.ok(listed.has(opensslSerial(c.serial_number)), c.serial_number);
    } finally {
      dir.remove();
      await sql.end();
    }
  });
});
