import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import * as pkijs from "pkijs";
import { createSoftwareSigner } from "../../src/keys/software-signer.js";
import { caValidity, createManagedCa, type CreatedCa } from "../../src/pki/ca.js";
import { formatDnRfc4514 } from "../../src/pki/names.js";
import { isValidSerial, serialFromHex } from "../../src/pki/serial.js";
import { CA_KEY_TYPES, type CaKeyType } from "../../src/pki/signer.js";
import { hasCerttool, openssl, run, tempDir, type TempDir } from "../helpers/openssl.js";

const hex = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString("hex");

const SIG: Record<CaKeyType, [string, string]> = {
  "P-256": ["1.2.840.10045.4.3.2", "300a06082a8648ce3d040302"],
  "P-384": ["1.2.840.10045.4.3.3", "300a06082a8648ce3d040303"],
  "RSA-2048": ["1.2.840.113549.1.1.11", "300d06092a864886f70d01010b0500"],
  "RSA-3072": ["1.2.840.113549.1.1.11", "300d06092a864886f70d01010b0500"],
  "RSA-4096": ["1.2.840.113549.1.1.11", "300d06092a864886f70d01010b0500"],
};

describe("managed CA: exactly the CA row of the profile's extension table", () => {
  const now = new Date("2026-11-23T07:30:45.678Z");
  const cas = new Map<CaKeyType, CreatedCa>();
  let dir: TempDir;
  before(async () => {
    dir = tempDir();
    // One CA per key type, generated once (RSA-4096 included) and shared by the tests below.
    const made = await Promise.all(CA_KEY_TYPES.map((keyType) => createManagedCa({ keyType, commonName: "Gatehouse Managed CA for account 0123", organization: "Gatehouse", now, validityYears: 20 })));
    for (const ca of made) cas.set(ca.keyType, ca);
  });
  after(() => dir.remove());

  for (const keyType of CA_KEY_TYPES) {
    test(`${keyType}: structure, extensions, key, validity`, () => {
      const ca = cas.get(keyType)!;
      const cert = pkijs.Certificate.fromBER(new Uint8Array(ca.certificateDer));
      assert.equal(cert.version, 2);
      assert.ok(isValidSerial(serialFromHex(ca.serialHex)));
      assert.equal(hex(cert.serialNumber.valueBlock.valueHexView), hex(serialFromHex(ca.serialHex)));
      assert.equal(cert.signatureAlgorithm.algorithmId, SIG[keyType][0]);
      assert.equal(hex(cert.signatureAlgorithm.toSchema().toBER()), SIG[keyType][1]);
      assert.equal(hex(cert.signature.toSchema().toBER()), SIG[keyType][1]);
      assert.equal(hex(cert.issuer.toSchema().toBER()), hex(ca.subjectDer));
      assert.equal(hex(cert.subject.toSchema().toBER()), hex(ca.subjectDer));
      assert.equal(formatDnRfc4514(ca.subjectDer), "CN=Gatehouse Managed CA for account 0123,O=Gatehouse");

      const exts = (cert.extensions ?? []).map((e) => [e.extnID, e.critical, hex(e.extnValue.valueBlock.valueHexView)]);
      const spk = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
      const ski = createHash("sha1").update(spk).digest("hex");
      assert.deepEqual(exts, [
        ["2.5.29.19", true, "30060101ff020100"], // cA TRUE, pathLenConstraint 0
        ["2.5.29.15", true, "03020186"], // digitalSignature, keyCertSign, cRLSign
        ["2.5.29.14", false, "0414" + ski],
      ]);
      const bc = cert.extensions![0].parsedValue as pkijs.BasicConstraints;
      assert.equal(bc.cA, true);
      assert.equal(bc.pathLenConstraint, 0);
      assert.equal(hex(ca.subjectKeyIdentifier), ski);

      // Validity: minute-truncated, backdated one minute, 20 calendar years; UTCTime (before 2050).
      assert.equal(ca.notBefore.toISOString(), "2026-11-23T07:29:00.000Z");
      assert.equal(ca.notAfter.toISOString(), "2046-11-23T07:29:00.000Z");
      assert.deepEqual([cert.notBefore.value, cert.notAfter.value], [ca.notBefore, ca.notAfter]);
      assert.deepEqual([cert.notBefore.type, cert.notAfter.type], [0, 0]);

      // The PKCS#8 key is the certificate's key and works as a Signer.
      const pub = createPublicKey(createPrivateKey({ key: Buffer.from(ca.privateKeyPkcs8Der), format: "der", type: "pkcs8" }));
      assert.ok(pub.equals(new X509Certificate(Buffer.from(ca.certificateDer)).publicKey));
      assert.equal(createSoftwareSigner(ca.privateKeyPkcs8Der, keyType).keyType, keyType);
      assert.ok(new X509Certificate(Buffer.from(ca.certificateDer)).verify(pub), "self-signature");
      assert.ok(new X509Certificate(Buffer.from(ca.certificateDer)).ca);
    });

    test(`${keyType}: openssl verify -x509_strict against itself; certtool -i parses it`, () => {
      const ca = cas.get(keyType)!;
      const file = dir.file(`ca-${keyType}.pem`, ca.pem);
      assert.match(openssl(["verify", "-x509_strict", "-check_ss_sig", "-CAfile", file, file]), /: OK/);
      const text = openssl(["x509", "-in", file, "-noout", "-text"]);
      assert.match(text, /CA:TRUE, pathlen:0/);
      assert.match(text, /Digital Signature, Certificate Sign, CRL Sign/);
      assert.doesNotMatch(text, /Authority Key Identifier|Extended Key Usage|Alternative Name/);
      if (hasCerttool()) {
        const r = run("certtool", ["-i", "--infile", file]);
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stdout + r.stderr, /warning|error/i);
        const v = run("certtool", ["--verify", "--load-ca-certificate", file, "--infile", file]);
        assert.equal(v.status, 0, v.stdout + v.stderr);
        assert.match(v.stdout, /Verified/);
      }
    });
  }

  test("certtool (gnutls-bin) is installed: interop checks are not skipped", () => {
    assert.ok(hasCerttool(), "apt-get install -y gnutls-bin");
  });

  test("caValidity: calendar years, leap day", () => {
    const v = caValidity(new Date("2028-02-29T00:00:59Z"), 1);
    assert.equal(v.notBefore.toISOString(), "2028-02-28T23:59:00.000Z");
    assert.equal(v.notAfter.toISOString(), "2029-02-28T23:59:00.000Z");
    const far = caValidity(new Date("2040-01-01T00:00:00Z"), 20);
    assert.equal(far.notAfter.toISOString(), "2059-12-31T23:59:00.000Z");
    assert.throws(() => caValidity(new Date(), 0), RangeError);
  });

  test("a CA valid past 2049 writes notAfter as GeneralizedTime and still verifies", async () => {
    const ca = await createManagedCa({ keyType: "P-256", commonName: "Long CA", now: new Date("2040-06-01T00:00:00Z"), validityYears: 20 });
    const cert = pkijs.Certificate.fromBER(new Uint8Array(ca.certificateDer));
    assert.deepEqual([cert.notBefore.type, cert.notAfter.type], [0, 1]);
    const file = dir.file("long.pem", ca.pem);
    const at = String(Date.UTC(2041, 0, 1) / 1000);
    assert.match(openssl(["verify", "-x509_strict", "-attime", at, "-CAfile", file, file]), /: OK/);
  });
});
