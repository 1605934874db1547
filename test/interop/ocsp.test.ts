import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { OcspResponseStatus, ocspResponseStatus } from "../../src/pki/ocsp.js";
import { PkiErrors } from "../../src/services/pki-errors.js";
import { makeCsr } from "../helpers/csr.js";
import { createTenant, DATABASE_KINDS, startTestGatehouse, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";
import { certUrl, issue, rawRequest, revoke, run, tempDir, type IssuedCert } from "../helpers/revocation.js";

for (const kind of DATABASE_KINDS) {
  describe(`OCSP: openssl ocsp -url against the responder [${kind}]`, () => {
    let h: TestGatehouse & { stop: () => Promise<void> };
    let base: string;
    let dir: ReturnType<typeof tempDir>;
    const csr = makeCsr({ subject: "/CN=ocsp-interop" });
    before(async () => {
      // a nonce budget of 3 per minute, so the test reaches its end
      h = await startTestGatehouse(kind, { pkiRateLimit: 0, ocspNoncePerMinute: 3 } as never);
      base = await h.gh.app.listen({ host: "127.0.0.1", port: 0 });
    });
    after(async () => h?.stop());
    beforeEach(async () => {
      await h.truncate();
      h.gh.ctx.pki!.clear();
      dir = tempDir("gh-ocsp-it-");
    });
    afterEach(() => dir.remove());

    /** ask runs `openssl ocsp -url` for one certificate, verifying the response against the CA. */
    const ask = (t: Tenant, cert: IssuedCert, extra: string[] = [], digest: string[] = []) =>
      run("openssl", ["ocsp", ...digest, "-issuer", dir.file("ca.pem", t.caPem), "-cert", dir.file(`${cert.id}.pem`, cert.pem), "-url", `${base}/pki/${t.caId}/ocsp`, "-CAfile", dir.file("ca.pem"), ...extra]);

    it("good, then revoked after a DELETE, good again after PATCH; verified, with and without -no_nonce", async () => {
      const t = await createTenant(h);
      const c = await issue(h, t, csr.csrPem);
      // without GATEHOUSE_PUBLIC_URL the certificate names no responder: the URL comes from the operator
      assert.equal((await run("openssl", ["x509", "-in", dir.file("plain.pem", c.pem), "-noout", "-ocsp_uri"])).out.trim(), "");
      for (const nonce of [[], ["-no_nonce"]]) {
        const r = await ask(t, c, nonce);
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /Response verify OK/);
        assert.match(r.out, /: good\n\s+This Update: .*\n\s+Next Update: /);
      }
      await revoke(h, t, c.id);
      for (const nonce of [["-no_nonce"], []]) {
        const r = await ask(t, c, nonce);
        assert.match(r.out, /Response verify OK/);
        assert.match(r.out, /: revoked\n[\s\S]*Reason: certificateHold\n\s+Revocation Time: /);
        assert.doesNotMatch(r.out, /WARNING: no nonce/);
      }
      const patched = await h.request({ method: "PATCH", url: certUrl(t, c.id), token: t.editToken });
      assert.equal(patched.statusCode, 200);
      const back = await ask(t, c, ["-no_nonce"]);
      assert.match(back.out, /: good/);
      await revoke(h, t, c.id, "keyCompromise");
      const final = await ask(t, c, ["-no_nonce"]);
      assert.match(final.out, /: revoked\n[\s\S]*Reason: keyCompromise/);
      assert.match(final.out, /Response verify OK/);
    });

    it("an unknown serial is unknown; -sha256 CertIDs work; the response names the CA by key and carries its certificate", async () => {
      const t = await createTenant(h);
      const r = await run("openssl", ["ocsp", "-issuer", dir.file("ca.pem", t.caPem), "-serial", "0x7f00112233445566", "-url", `${base}/pki/${t.caId}/ocsp`, "-CAfile", dir.file("ca.pem"), "-no_nonce", "-resp_text"]);
      assert.match(r.out, /0x7f00112233445566: unknown/);
      assert.match(r.out, /Response verify OK/);
      assert.match(r.out, /Responder Id: [0-9A-F]{40}/);
      assert.match(r.out, /Certificate:\n/);
      const c = await issue(h, t, csr.csrPem);
      const s = await ask(t, c, ["-no_nonce", "-resp_text"], ["-sha256"]);
      assert.match(s.out, /Hash Algorithm: sha256/);
      assert.match(s.out, /: good/);
    });

    it("a nonce is echoed while the client's budget lasts; past it the cached response comes without one", async () => {
      const t = await createTenant(h);
      const c = await issue(h, t, csr.csrPem);
      const outs = [];
      for (let i = 0; i < 5; i++) outs.push((await ask(t, c)).out);
      const echoed = outs.filter((o) => !/WARNING: no nonce in response/.test(o));
      assert.ok(echoed.length >= 1 && echoed.length <= 4, `${echoed.length} of 5 echoed`);
      assert.ok(outs.some((o) => /WARNING: no nonce in response/.test(o)));
      for (const o of outs) assert.match(o, /Response verify OK/);
    });

    it("GET form (RFC 6960 A.1) with caching headers; ocsptool reads the answer", async () => {
      const t = await createTenant(h);
      const c = await issue(h, t, csr.csrPem);
      const mk = await run("openssl", ["ocsp", "-issuer", dir.file("ca.pem", t.caPem), "-cert", dir.file("leaf.pem", c.pem), "-no_nonce", "-reqout", dir.file("req.der")]);
      assert.equal(mk.code, 0, mk.out);
      const { readFileSync } = await import("node:fs");
      const b64 = readFileSync(dir.file("req.der")).toString("base64");
      const res = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/ocsp/${encodeURIComponent(b64)}` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["content-type"], "application/ocsp-response");
      assert.match(String(res.headers["cache-control"]), /^public, max-age=\d+, no-transform, must-revalidate$/);
      assert.ok(Number(/max-age=(\d+)/.exec(String(res.headers["cache-control"]))![1]) > 3600);
      assert.ok(res.headers.etag && res.headers["last-modified"] && res.headers.expires);
      const check = await run("openssl", ["ocsp", "-respin", dir.file("resp.der", res.body), "-issuer", dir.file("ca.pem"), "-cert", dir.file("leaf.pem"), "-CAfile", dir.file("ca.pem"), "-no_nonce"]);
      assert.match(check.out, /Response verify OK/);
      assert.match(check.out, /: good/);
      const g = await run("ocsptool", ["--verify-response", "--infile", dir.file("resp.der"), "--load-trust", dir.file("ca.pem")]);
      assert.match(g.out, /Verifying OCSP Response: Success/);
      // the same request again is the same cached response
      const again = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/ocsp/${encodeURIComponent(b64)}` });
      assert.ok(again.body.equals(res.body));
    });

    it("malformedRequest for a garbage POST body and a bad GET path, without a crash", async () => {
      const t = await createTenant(h);
      const before = await h.counts();
      const garbage = await run("curl", ["-s", "-o", dir.file("g.der"), "-w", "%{http_code} %{content_type}", "--data-binary", "this is not DER", "-H", "content-type: application/ocsp-request", `${base}/pki/${t.caId}/ocsp`]);
      assert.equal(garbage.out, "200 application/ocsp-response");
      const text = await run("openssl", ["ocsp", "-respin", dir.file("g.der"), "-resp_text", "-noverify"]);
      assert.match(text.out, /Responder Error: malformedrequest \(1\)/);
      for (const payload of [Buffer.alloc(0), Buffer.from([0x30, 0x80, 0, 0]), Buffer.from([0x30, 0x03, 0x02, 0x01])]) {
        const res = await rawRequest(h, { method: "POST", url: `/pki/${t.caId}/ocsp`, headers: { "content-type": "application/ocsp-request" }, payload });
        assert.equal(ocspResponseStatus(res.body), OcspResponseStatus.malformedRequest);
      }
      for (const path of ["not*base64", "AAAA", "%2F%2F%2F%2F"]) {
        const res = await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/ocsp/${path}` });
        assert.equal(res.statusCode, 200);
        assert.equal(ocspResponseStatus(res.body), OcspResponseStatus.malformedRequest, path);
      }
      assert.deepEqual(await h.counts(), before);
      const still = await ask(t, await issue(h, t, csr.csrPem), ["-no_nonce"]);
      assert.match(still.out, /: good/);
    });

    it("unauthorized for a CA we hold no key for, and for a certificate of another CA", async () => {
      const t = await createTenant(h);
      const other = await createTenant(h);
      const c = await issue(h, t, csr.csrPem);
      const unknownCa = await run("openssl", ["ocsp", "-issuer", dir.file("ca.pem", t.caPem), "-cert", dir.file("l.pem", c.pem), "-url", `${base}/pki/0b5b9b0e-5a43-4f2a-9d59-3c1c2f6c8f10/ocsp`, "-no_nonce"]);
      assert.match(unknownCa.out, /Responder Error: unauthorized \(6\)/);
      const wrongCa = await run("openssl", ["ocsp", "-issuer", dir.file("ca.pem"), "-cert", dir.file("l.pem"), "-url", `${base}/pki/${other.caId}/ocsp`, "-no_nonce"]);
      assert.match(wrongCa.out, /Responder Error: unauthorized \(6\)/);
    });

    it("415/not application/ocsp-request, 413/over 8 KiB: envelopes, nothing written", async () => {
      const t = await createTenant(h);
      const before = await h.counts();
      const wrongType = await h.request({ method: "POST", url: `/pki/${t.caId}/ocsp`, headers: { "content-type": "text/plain" }, payload: "x" });
      assert.equal(wrongType.statusCode, 415);
      assert.equal(wrongType.json.errors[0].code, PkiErrors.ocspMediaType);
      const big = await h.request({ method: "POST", url: `/pki/${t.caId}/ocsp`, headers: { "content-type": "application/ocsp-request" }, payload: Buffer.alloc(8 * 1024 + 1, 0x30) });
      assert.equal(big.statusCode, 413);
      assert.equal(big.json.success, false);
      assert.deepEqual(await h.counts(), before);
    });
  });
}

describe("GATEHOUSE_PUBLIC_URL: the CRL, OCSP and caIssuers pointers baked into certificates answer", () => {
  let h: TestGatehouse & { stop: () => Promise<void> };
  let base: string;
  const dir = tempDir("gh-aia-");
  before(async () => {
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    base = `http://127.0.0.1:${port}`;
    h = await startTestGatehouse(DATABASE_KINDS[0], { publicUrl: base, pkiRateLimit: 0 } as never);
    await h.gh.app.listen({ host: "127.0.0.1", port });
  });
  after(async () => {
    await h?.stop();
    dir.remove();
  });

  it("openssl follows the certificate's own URLs", async () => {
    const t = await createTenant(h);
    const c = await issue(h, t, makeCsr({ subject: "/CN=pointers" }).csrPem);
    const leaf = dir.file("leaf.pem", c.pem);
    const ocspUri = (await run("openssl", ["x509", "-in", leaf, "-noout", "-ocsp_uri"])).out.trim();
    assert.equal(ocspUri, `${base}/pki/${t.caId}/ocsp`);
    const text = (await run("openssl", ["x509", "-in", leaf, "-noout", "-text"])).out;
    const crlUri = /X509v3 CRL Distribution Points:[\s\S]*?URI:(\S+)/.exec(text)![1];
    const caIssuers = /CA Issuers - URI:(\S+)/.exec(text)![1];
    assert.equal(crlUri, `${base}/pki/${t.caId}/crl`);
    assert.equal(caIssuers, `${base}/pki/${t.caId}/ca.der`);
    const ca = await run("curl", ["-sf", "-o", dir.file("ca.der"), caIssuers]);
    assert.equal(ca.code, 0);
    assert.equal((await run("openssl", ["x509", "-inform", "DER", "-in", dir.file("ca.der"), "-out", dir.file("ca.pem")])).code, 0);
    const crl = await run("curl", ["-sf", "-o", dir.file("crl.der"), crlUri]);
    assert.equal(crl.code, 0);
    assert.match((await run("openssl", ["crl", "-inform", "DER", "-in", dir.file("crl.der"), "-CAfile", dir.file("ca.pem"), "-noout"])).out, /verify OK/);
    const o = await run("openssl", ["ocsp", "-issuer", dir.file("ca.pem"), "-cert", leaf, "-url", ocspUri, "-CAfile", dir.file("ca.pem")]);
    assert.match(o.out, /Response verify OK/);
    assert.match(o.out, /: good/);
  });
});
