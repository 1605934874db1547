import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as pkijs from "pkijs";
import { integer, octetString, oid, sequence, tlv } from "../../src/pki/der.js";
import {
  buildOcspResponse,
  MAX_REQUESTS_PER_OCSP_REQUEST,
  ocspErrorResponse,
  ocspIssuer,
  OcspRequestError,
  OcspResponseStatus,
  ocspResponseStatus,
  OCSP_OIDS,
  parseOcspRequest,
  type CertStatus,
} from "../../src/pki/ocsp.js";
import { pemToDer } from "../../src/pki/pem.js";
import { keyObjectSigner, type CaKeyType } from "../../src/pki/signer.js";

pkijs.setEngine("node", new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto }));

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** makeCa: an openssl CA whose keyUsage allows signing OCSP responses itself, and one leaf. */
function makeCa(dir: string, keyType: CaKeyType) {
  const keyOpts = keyType.startsWith("P-") ? ["-newkey", "ec", "-pkeyopt", `ec_paramgen_curve:${keyType}`] : ["-newkey", `rsa:${keyType.slice(4)}`];
  writeFileSync(join(dir, "ca.cnf"), "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  execFileSync("openssl", ["req", "-x509", ...keyOpts, "-nodes", "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.pem"), "-days", "30", "-sha256", "-subj", "/O=Gatehouse Test/CN=OCSP Test CA", "-config", join(dir, "ca.cnf"), "-extensions", "v3"], { stdio: "ignore" });
  execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "leaf.key"), "-out", join(dir, "leaf.csr"), "-subj", "/CN=leaf"], { stdio: "ignore" });
  execFileSync("openssl", ["x509", "-req", "-in", join(dir, "leaf.csr"), "-CA", join(dir, "ca.pem"), "-CAkey", join(dir, "ca.key"), "-set_serial", "0x7a11ce", "-days", "10", "-extfile", join(dir, "ca.cnf"), "-extensions", "leaf", "-out", join(dir, "leaf.pem")], { stdio: "ignore" });
  const caDer = pemToDer(readFileSync(join(dir, "ca.pem"), "utf8"), "CERTIFICATE");
  return { dir, caDer, issuer: ocspIssuer(caDer), signer: keyObjectSigner(createPrivateKey(readFileSync(join(dir, "ca.key"))), keyType) };
}

function opensslRequest(dir: string, name: string, args: string[]): Uint8Array {
  const out = join(dir, `${name}.req`);
  execFileSync("openssl", ["ocsp", "-issuer", join(dir, "ca.pem"), ...args, "-reqout", out], { stdio: "ignore" });
  return new Uint8Array(readFileSync(out));
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : undefined);

describe("pki/ocsp: strict requests, signed responses", () => {
  const dirs: string[] = [];
  let ca: ReturnType<typeof makeCa>;
  before(() => {
    const dir = mkdtempSync(join(tmpdir(), "gh-ocsp-"));
    dirs.push(dir);
    ca = makeCa(dir, "P-256");
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("reads openssl's requests: SHA-1 and SHA-256 CertIDs, several serials, a 16-octet nonce", () => {
    const plain = parseOcspRequest(opensslRequest(ca.dir, "plain", ["-cert", join(ca.dir, "leaf.pem"), "-no_nonce"]));
    assert.equal(plain.certIds.length, 1);
    assert.equal(plain.certIds[0].hash, "sha1");
    assert.equal(hex(plain.certIds[0].serial), "7a11ce");
    assert.equal(plain.nonce, undefined);
    assert.ok(ca.issuer.matches(plain.certIds[0]));

    const multi = parseOcspRequest(opensslRequest(ca.dir, "multi", ["-sha256", "-serial", "0x01", "-serial", "0x80ff", "-serial", "0xff00112233445566778899aabbccddee"]));
    assert.deepEqual(multi.certIds.map((c) => [c.hash, hex(c.serial)]), [["sha256", "01"], ["sha256", "80ff"], ["sha256", "ff00112233445566778899aabbccddee"]]);
    assert.ok(multi.certIds.every((c) => ca.issuer.matches(c)));
    assert.equal(multi.nonce?.length, 16);

    const other = makeCa(mkdtempSync(join(tmpdir(), "gh-ocsp-")), "P-256");
    dirs.push(other.dir);
    assert.equal(other.issuer.matches(plain.certIds[0]), false, "another CA's CertID does not match");
    assert.equal(ca.issuer.keyHash.length, 20);
  });

  /** A valid request built by hand, with knobs to break it one rule at a time. */
  const certId = (serial: Uint8Array = integer(5), alg = sequence(oid(OCSP_OIDS.sha1), Uint8Array.of(5, 0)), nameLen = 20) =>
    sequence(alg, octetString(new Uint8Array(nameLen)), octetString(new Uint8Array(20)), serial);
  const nonceExt = (n: Uint8Array) => sequence(oid(OCSP_OIDS.nonce), octetString(octetString(n)));
  const request = (opts: { list?: Uint8Array[]; exts?: Uint8Array[]; version?: Uint8Array; trailing?: boolean } = {}) => {
    const tbs = sequence(...(opts.version ? [opts.version] : []), sequence(...(opts.list ?? [sequence(certId())])), ...(opts.exts ? [tlv(0xa2, sequence(...opts.exts))] : []));
    const der = sequence(tbs);
    return opts.trailing ? Uint8Array.from([...der, 0]) : der;
  };

  it("accepts the hand-made baseline, an explicit v1, a 1- and a 32-octet nonce, a non-critical unknown extension", () => {
    assert.equal(parseOcspRequest(request()).certIds.length, 1);
    assert.equal(parseOcspRequest(request({ version: tlv(0xa0, integer(0)) })).certIds.length, 1);
    assert.equal(parseOcspRequest(request({ exts: [nonceExt(Uint8Array.of(7))] })).nonce?.length, 1);
    assert.equal(parseOcspRequest(request({ exts: [nonceExt(new Uint8Array(32))] })).nonce?.length, 32);
    assert.equal(parseOcspRequest(request({ exts: [sequence(oid("1.2.3.4"), octetString(Uint8Array.of(5, 0)))] })).nonce, undefined);
    // unknown hash algorithm: parsed, but it can never match an issuer
    const md5 = parseOcspRequest(request({ list: [sequence(certId(integer(5), sequence(oid("1.2.840.113549.2.5"), Uint8Array.of(5, 0)), 16))] }));
    assert.equal(md5.certIds[0].hash, undefined);
    assert.equal(ca.issuer.matches(md5.certIds[0]), false);
    // zero and negative serials are read as "no such certificate"
    assert.equal(parseOcspRequest(request({ list: [sequence(certId(Uint8Array.of(2, 1, 0)))] })).certIds[0].serial, undefined);
    assert.equal(parseOcspRequest(request({ list: [sequence(certId(Uint8Array.of(2, 1, 0x80)))] })).certIds[0].serial, undefined);
  });

  const malformed: Array<[string, Uint8Array]> = [
    ["empty body", new Uint8Array(0)],
    ["garbage", Uint8Array.from(Buffer.from("hello, responder"))],
    ["trailing byte", request({ trailing: true })],
    ["BER indefinite length", Uint8Array.of(0x30, 0x80, ...request().subarray(2), 0, 0)],
    ["truncated", request().subarray(0, 20)],
    ["version 2", request({ version: tlv(0xa0, integer(1)) })],
    ["empty requestList", request({ list: [] })],
    ["too many requests", request({ list: Array.from({ length: MAX_REQUESTS_PER_OCSP_REQUEST + 1 }, () => sequence(certId())) })],
    ["0-octet nonce", request({ exts: [nonceExt(new Uint8Array(0))] })],
    ["33-octet nonce", request({ exts: [nonceExt(new Uint8Array(33))] })],
    ["nonce not an OCTET STRING", request({ exts: [sequence(oid(OCSP_OIDS.nonce), octetString(integer(5)))] })],
    ["duplicate nonce", request({ exts: [nonceExt(Uint8Array.of(1)), nonceExt(Uint8Array.of(2))] })],
    ["unknown critical extension", request({ exts: [sequence(oid("1.2.3.4"), Uint8Array.of(1, 1, 0xff), octetString(Uint8Array.of(5, 0)))] })],
    ["BOOLEAN FALSE written out (not DER)", request({ exts: [sequence(oid("1.2.3.4"), Uint8Array.of(1, 1, 0), octetString(Uint8Array.of(5, 0)))] })],
    ["hash length does not match SHA-1", request({ list: [sequence(certId(integer(5), undefined, 32))] })],
    ["non-minimal serial", request({ list: [sequence(certId(Uint8Array.of(2, 2, 0, 5)))] })],
    ["serial longer than 20 octets", request({ list: [sequence(certId(tlv(2, Uint8Array.of(0x7f), new Uint8Array(21))))] })],
    ["hash parameters not NULL", request({ list: [sequence(certId(integer(5), sequence(oid(OCSP_OIDS.sha1), integer(0))))] })],
  ];
  for (const [name, der] of malformed) {
    it(`malformedRequest/${name}`, () => {
      assert.throws(() => parseOcspRequest(der), OcspRequestError);
    });
  }

  it("error responses are the bare 5-octet OCSPResponse openssl reads", () => {
    for (const [name, status] of [["malformedrequest", 1], ["internalerror", 2], ["trylater", 3], ["unauthorized", 6]] as const) {
      const der = ocspErrorResponse(status);
      assert.equal(ocspResponseStatus(der), status);
      const path = join(ca.dir, `err-${status}.der`);
      writeFileSync(path, der);
      const r = run("openssl", ["ocsp", "-respin", path, "-resp_text", "-noverify"]);
      assert.match(r.out.toLowerCase(), new RegExp(`responder error: ${name}`));
    }
  });

  const statuses: Array<[string, CertStatus, RegExp]> = [
    ["good", { kind: "good" }, /: good/],
    ["unknown", { kind: "unknown" }, /: unknown/],
    ["held", { kind: "revoked", revokedAt: new Date("2026-03-04T05:06:07.890Z"), reason: "certificateHold" }, /: revoked\n[\s\S]*Reason: certificateHold\n\s+Revocation Time: Mar  4 05:06:07 2026 GMT/],
    ["keyCompromise", { kind: "revoked", revokedAt: new Date("2026-03-04T05:06:07Z"), reason: "keyCompromise" }, /Reason: keyCompromise/],
    ["unspecified (no reason field)", { kind: "revoked", revokedAt: new Date("2026-03-04T05:06:07Z"), reason: "unspecified" }, /: revoked\n\s+This Update/],
  ];
  for (const [name, status, expected] of statuses) {
    it(`signs a ${name} response that openssl, ocsptool and pkijs verify`, async () => {
      const reqDer = opensslRequest(ca.dir, `q-${name}`, ["-cert", join(ca.dir, "leaf.pem")]);
      const req = parseOcspRequest(reqDer);
      const now = new Date(Date.now() - 60_000);
      const der = await buildOcspResponse({
        issuer: ca.issuer,
        signer: ca.signer,
        producedAt: now,
        responses: [{ certIdRaw: req.certIds[0].raw, status, thisUpdate: now, nextUpdate: new Date(now.getTime() + 3600_000) }],
        nonce: req.nonce,
      });
      assert.equal(ocspResponseStatus(der), OcspResponseStatus.successful);
      const respPath = join(ca.dir, `r-${name}.der`);
      writeFileSync(respPath, der);
      // with the request: signature and nonce checked
      const n = run("openssl", ["ocsp", "-respin", respPath, "-reqin", join(ca.dir, `q-${name}.req`), "-CAfile", join(ca.dir, "ca.pem")]);
      assert.equal(n.status, 0, n.out);
      assert.match(n.out, /Response verify OK/);
      assert.doesNotMatch(n.out, /WARNING|Nonce Verify error/);
      // with the certificate: its status
      const o = run("openssl", ["ocsp", "-respin", respPath, "-issuer", join(ca.dir, "ca.pem"), "-cert", join(ca.dir, "leaf.pem"), "-CAfile", join(ca.dir, "ca.pem"), "-no_nonce", "-resp_text"]);
      assert.equal(o.status, 0, o.out);
      assert.match(o.out, /Response verify OK/);
      assert.match(o.out, expected);
      assert.match(o.out, /Responder Id: [0-9A-F]{40}/);
      assert.match(o.out, /OCSP Nonce: \n\s+0410/);

      const g = run("ocsptool", ["--verify-response", "--infile", respPath, "--load-trust", join(ca.dir, "ca.pem")]);
      assert.match(g.out, /Verifying OCSP Response: Success/, g.out);

      const resp = pkijs.OCSPResponse.fromBER(der as BufferSource);
      const basic = pkijs.BasicOCSPResponse.fromBER(resp.responseBytes!.response.valueBlock.valueHexView as BufferSource);
      const caCert = pkijs.Certificate.fromBER(ca.caDer as BufferSource);
      assert.equal(await basic.verify({ trustedCerts: [caCert] }), true);
      assert.equal(basic.tbsResponseData.responses.length, 1);
    });
  }

  it("answers several CertIDs in one response, echoing each as sent (SHA-256)", async () => {
    const reqDer = opensslRequest(ca.dir, "many", ["-sha256", "-serial", "0x01", "-serial", "0x7a11ce", "-no_nonce"]);
    const req = parseOcspRequest(reqDer);
    const now = new Date(Date.now() - 60_000);
    const der = await buildOcspResponse({
      issuer: ca.issuer,
      signer: ca.signer,
      producedAt: now,
      responses: req.certIds.map((c, i) => ({ certIdRaw: c.raw, status: i === 0 ? { kind: "unknown" } : { kind: "good" }, thisUpdate: now, nextUpdate: new Date(now.getTime() + 60_000) })),
    });
    writeFileSync(join(ca.dir, "many.der"), der);
    const o = run("openssl", ["ocsp", "-respin", join(ca.dir, "many.der"), "-sha256", "-issuer", join(ca.dir, "ca.pem"), "-serial", "0x01", "-serial", "0x7a11ce", "-CAfile", join(ca.dir, "ca.pem"), "-no_nonce"]);
    assert.match(o.out, /Response verify OK/);
    assert.match(o.out, /0x01: unknown/);
    assert.match(o.out, /0x7a11ce: good/);
  });
});
