import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { createManagedCa } from "../../src/pki/ca.js";
import { buildCrl, CrlBuilder, encodeCrlEntry, type CrlParams, type CrlReason } from "../../src/pki/crl.js";
import { readTlv } from "../../src/pki/der-reader.js";
import { derToPem, pemToDer } from "../../src/pki/pem.js";
import { keyObjectSigner, type CaKeyType } from "../../src/pki/signer.js";
import { streamSignerFromKey, streamSignerFromSigner } from "../../src/pki/stream-signer.js";

pkijs.setEngine("node", new pkijs.CryptoEngine({ name: "node", crypto: webcrypto as unknown as Crypto }));

/** An openssl-made CA: key, certificate and its subject/SKI as our builder needs them. */
interface TestCa {
  dir: string;
  caPem: string;
  keyPem: string;
  keyType: CaKeyType;
  subjectDer: Uint8Array;
  ski: Uint8Array;
}

function opensslCa(dir: string, keyType: CaKeyType): TestCa {
  const keyOpts = keyType === "P-256" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : keyType === "P-384" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"] : ["-newkey", `rsa:${keyType.slice(4)}`];
  const cnf = join(dir, "ca.cnf");
  writeFileSync(cnf, "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n");
  execFileSync("openssl", ["req", "-x509", ...keyOpts, "-nodes", "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.pem"), "-days", "30", "-sha256", "-subj", "/O=Gatehouse Test/CN=CRL Test CA", "-config", cnf, "-extensions", "v3"], { stdio: "ignore" });
  const caPem = readFileSync(join(dir, "ca.pem"), "utf8");
  const cert = pkijs.Certificate.fromBER(pemToDer(caPem, "CERTIFICATE") as BufferSource);
  const skiExt = cert.extensions!.find((e) => e.extnID === "2.5.29.14")!;
  return {
    dir,
    caPem,
    keyPem: readFileSync(join(dir, "ca.key"), "utf8"),
    keyType,
    subjectDer: new Uint8Array(cert.subject.toSchema().toBER()),
    ski: new Uint8Array((skiExt.parsedValue as asn1js.OctetString).valueBlock.valueHexView),
  };
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

// thisUpdate a day back (certtool refuses CRLs from the future), with a fraction to be truncated
const T0 = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 86400_000 + 900);
const T1 = new Date(T0.getTime() - 900 + 30 * 86400_000);
/** opensslDate prints a date as `openssl crl -text` does: "Nov 23 10:00:00 2026 GMT". */
const opensslDate = (d: Date) => {
  const [, day, mon, year, hms] = /^\w+, (\d+) (\w+) (\d+) ([\d:]+)/.exec(d.toUTCString())!;
  return `${mon} ${String(Number(day)).padStart(2, " ")} ${hms} ${year} GMT`;
};

function params(ca: TestCa, over: Partial<CrlParams> = {}): CrlParams {
  return {
    issuerSubjectDer: ca.subjectDer,
    authorityKeyIdentifier: ca.ski,
    signer: streamSignerFromKey(createPrivateKey(ca.keyPem), ca.keyType),
    crlNumber: 7n,
    thisUpdate: T0,
    nextUpdate: T1,
    ...over,
  };
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

describe("pki/crl: hand-encoded DER CRLs", () => {
  const dirs: string[] = [];
  const cas = new Map<CaKeyType, TestCa>();
  before(() => {
    for (const kt of ["P-256", "P-384", "RSA-2048"] as CaKeyType[]) {
      const dir = mkdtempSync(join(tmpdir(), "gh-crl-"));
      dirs.push(dir);
      cas.set(kt, opensslCa(dir, kt));
    }
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("encodes entries: minimal positive serials, whole seconds, reasonCode only when not unspecified", () => {
    const d = new Date("2026-01-02T03:04:05.999Z");
    assert.equal(Buffer.from(encodeCrlEntry(hex("01"), d, "unspecified")).toString("hex"), "3012020101170d3236303130323033303430355a");
    // a top-bit serial gets one 0x00; certificateHold is ENUMERATED 6 in a non-critical reasonCode
    assert.equal(
      Buffer.from(encodeCrlEntry(hex("80ff"), d, "certificateHold")).toString("hex"),
      "30220203" + "0080ff" + "170d3236303130323033303430355a" + "300c300a0603551d1504030a0106",
    );
    // 2050 and later: GeneralizedTime (RFC 5280 §5.1.2.6)
    const g = Buffer.from(encodeCrlEntry(hex("05"), new Date("2050-01-01T00:00:00Z"), "keyCompromise")).toString("hex");
    assert.ok(g.includes("180f32303530303130313030303030305a"), g);
    assert.throws(() => encodeCrlEntry(new Uint8Array(21), d, "keyCompromise"), RangeError);
    assert.throws(() => encodeCrlEntry(hex("01"), d, "bogus" as CrlReason), RangeError);
  });

  for (const kt of ["P-256", "P-384", "RSA-2048"] as CaKeyType[]) {
    it(`${kt}: openssl, certtool and pkijs accept the CRL and read every field`, async () => {
      const ca = cas.get(kt)!;
      const reasons: CrlReason[] = ["certificateHold", "keyCompromise", "unspecified", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation"];
      const entries = reasons.map((r, i) => encodeCrlEntry(hex((0x70 + i).toString(16) + "a1b2c3d4e5f60718293a4b5c6d7e8f"), new Date(T0.getTime() - i * 3600_000), r));
      entries.push(encodeCrlEntry(hex("ff00112233445566778899aabbccddee"), T0, "keyCompromise"));
      const { der, entries: n } = await buildCrl(params(ca, { crlNumber: 0x1234567890n }), entries);
      assert.equal(n, 8);
      const derPath = join(ca.dir, `crl-${kt}.der`);
      writeFileSync(derPath, der);
      writeFileSync(join(ca.dir, `crl-${kt}.pem`), derToPem(der, "X509 CRL"));

      const v = run("openssl", ["crl", "-inform", "DER", "-in", derPath, "-CAfile", join(ca.dir, "ca.pem"), "-noout"]);
      assert.equal(v.status, 0, v.out);
      assert.match(v.out, /verify OK/);
      const text = run("openssl", ["crl", "-inform", "DER", "-in", derPath, "-noout", "-text"]).out;
      assert.match(text, /Version 2 \(0x1\)/);
      assert.match(text, /X509v3 CRL Number: \n\s+78187493520/);
      assert.match(text, /X509v3 Authority Key Identifier: \n\s+([0-9A-F]{2}:){19}[0-9A-F]{2}/);
      assert.ok(text.includes(`Last Update: ${opensslDate(new Date(T0.getTime() - 900))}`), text);
      assert.ok(text.includes(`Next Update: ${opensslDate(T1)}`), text);
      assert.equal((text.match(/Serial Number:/g) ?? []).length, 8);
      assert.equal((text.match(/X509v3 CRL Reason Code:/g) ?? []).length, 7, "unspecified has no reasonCode");
      for (const r of ["Certificate Hold", "Key Compromise", "CA Compromise", "Affiliation Changed", "Superseded", "Cessation Of Operation"]) {
        assert.match(text, new RegExp(`\\n\\s+${r}\\n`), r);
      }
      assert.match(text, /Serial Number: FF00112233445566778899AABBCCDDEE/);

      const info = run("certtool", ["--crl-info", "--inder", "--infile", derPath]);
      assert.equal(info.status, 0, info.out);
      assert.match(info.out, /Revoked certificates \(8\)/);
      const cv = run("certtool", ["--verify-crl", "--load-ca-certificate", join(ca.dir, "ca.pem"), "--infile", join(ca.dir, `crl-${kt}.pem`)]);
      assert.equal(cv.status, 0, cv.out);
      assert.match(cv.out, /Verified/);

      const crl = pkijs.CertificateRevocationList.fromBER(der as BufferSource);
      assert.equal(crl.version, 1);
      const caCert = pkijs.Certificate.fromBER(pemToDer(ca.caPem, "CERTIFICATE") as BufferSource);
      assert.equal(await crl.verify({ issuerCertificate: caCert }), true);
      assert.equal(crl.revokedCertificates!.length, 8);
      assert.equal(crl.thisUpdate.value.getTime(), T0.getTime() - 900);
      const num = crl.crlExtensions!.extensions.find((e) => e.extnID === "2.5.29.20")!;
      assert.equal(Buffer.from((num.parsedValue as asn1js.Integer).valueBlock.valueHexView).toString("hex"), "1234567890");
      const unspecified = crl.revokedCertificates![2];
      assert.equal(unspecified.crlEntryExtensions, undefined);
      const hold = crl.revokedCertificates![0].crlEntryExtensions!.extensions[0];
      assert.equal(hold.extnID, "2.5.29.21");
      assert.equal(hold.critical, false);
      assert.equal((hold.parsedValue as asn1js.Enumerated).valueBlock.valueDec, 6);
    });
  }

  it("an empty CRL has no revokedCertificates field and still verifies", async () => {
    const ca = cas.get("P-256")!;
    const { der, entries } = await buildCrl(params(ca, { crlNumber: 0n }), []);
    assert.equal(entries, 0);
    const crl = pkijs.CertificateRevocationList.fromBER(der as BufferSource);
    assert.equal(crl.revokedCertificates, undefined);
    const path = join(ca.dir, "empty.der");
    writeFileSync(path, der);
    const v = run("openssl", ["crl", "-inform", "DER", "-in", path, "-CAfile", join(ca.dir, "ca.pem"), "-noout", "-text"]);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, /No Revoked Certificates/);
    assert.match(v.out, /verify OK/);
  });

  it("50 000 entries cross the 1 MiB block boundary; the whole-buffer Signer adapter signs the same bytes", async () => {
    const ca = cas.get("P-256")!;
    const entries: Uint8Array[] = [];
    for (let i = 0; i < 50_000; i++) entries.push(encodeCrlEntry(hex((0x10000000 + i).toString(16) + "00112233445566778899aabb"), T0, i % 2 ? "keyCompromise" : "unspecified"));
    const streamed = await buildCrl(params(ca), entries);
    const adapted = await buildCrl(params(ca, { signer: streamSignerFromSigner(keyObjectSigner(createPrivateKey(ca.keyPem), "P-256")) }), entries);
    assert.ok(streamed.der.length > 1 << 20);
    // ECDSA signatures differ run to run; the signed TBSCertList is identical
    // (asn1js caps a parse at 10 000 nodes, so pkijs cannot read a CRL this big; openssl can)
    const tbsOf = (der: Buffer) => {
      const outer = readTlv(der, 0, der.length);
      const tbs = readTlv(der, outer.valueStart, outer.end);
      return der.subarray(tbs.start, tbs.end);
    };
    assert.ok(tbsOf(streamed.der).equals(tbsOf(adapted.der)));
    for (const [name, der] of [["streamed", streamed.der], ["adapted", adapted.der]] as const) {
      const path = join(ca.dir, `big-${name}.der`);
      writeFileSync(path, der);
      const v = run("openssl", ["crl", "-inform", "DER", "-in", path, "-CAfile", join(ca.dir, "ca.pem"), "-noout"]);
      assert.match(v.out, /verify OK/, name);
    }
    const text = run("openssl", ["crl", "-inform", "DER", "-in", join(ca.dir, "big-streamed.der"), "-noout", "-text"]).out;
    assert.equal((text.match(/Serial Number:/g) ?? []).length, 50_000);
    assert.equal((text.match(/Key Compromise/g) ?? []).length, 25_000);
  });

  it("a CRL signed by a Gatehouse-made managed CA verifies against it", async () => {
    const created = await createManagedCa({ keyType: "P-256", commonName: "Gatehouse CRL test", now: T0, validityYears: 2 });
    const key = createPrivateKey({ key: Buffer.from(created.privateKeyPkcs8Der), format: "der", type: "pkcs8" });
    const b = new CrlBuilder({
      issuerSubjectDer: created.subjectDer,
      authorityKeyIdentifier: created.subjectKeyIdentifier,
      signer: streamSignerFromKey(key, "P-256"),
      crlNumber: 1n,
      thisUpdate: T0,
      nextUpdate: T1,
    });
    b.add(encodeCrlEntry(hex("0102"), T0, "superseded"));
    const { der } = await b.finish();
    const dir = dirs[0];
    writeFileSync(join(dir, "managed.pem"), created.pem);
    writeFileSync(join(dir, "managed-crl.der"), der);
    const v = run("openssl", ["crl", "-inform", "DER", "-in", join(dir, "managed-crl.der"), "-CAfile", join(dir, "managed.pem"), "-noout"]);
    assert.match(v.out, /verify OK/);
  });

  it("refuses nonsense parameters before signing anything", () => {
    const ca = cas.get("P-256")!;
    assert.throws(() => new CrlBuilder(params(ca, { nextUpdate: T0 })), RangeError);
    assert.throws(() => new CrlBuilder(params(ca, { crlNumber: -1n })), RangeError);
    assert.throws(() => new CrlBuilder(params(ca, { crlNumber: 1n << 160n })), RangeError);
    assert.throws(() => new CrlBuilder(params(ca)).add(Uint8Array.of(0x02, 0x01, 0x01)), RangeError);
    assert.throws(() => streamSignerFromKey(createPrivateKey(ca.keyPem), "RSA-2048"), TypeError);
  });
});
