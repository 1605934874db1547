import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { GatehouseError } from "../../src/errors.js";
import { ByocaErrors, parseCertificateChain, parsePrivateKey, validateUpload } from "../../src/pki/byoca.js";
import { HostnameAssociationErrors } from "../../src/services/hostname-associations.js";
import { MtlsCertificateErrors } from "../../src/services/mtls-certificates.js";
import { TestPki, type Issued } from "../fixtures/byoca/pki.js";

const NOW = new Date();

function refuses(fn: () => unknown, code: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GatehouseError, `expected a GatehouseError, got ${String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    assert.equal(e.status, 400);
    return true;
  });
}

describe("pki/byoca", () => {
  const pki = new TestPki();
  let rsaRoot: Issued, ecRoot: Issued, ecInt: Issued, ecInt2: Issued, leaf: Issued, rsaLeaf: Issued, edRoot: Issued, p384Root: Issued;
  let weakRoot: Issued, p521Root: Issued, expired: Issued;

  before(() => {
    rsaRoot = pki.root("rsa-root", "rsa2048");
    ecRoot = pki.root("ec-root", "p256");
    p384Root = pki.root("p384-root", "p384");
    edRoot = pki.root("ed-root", "ed25519");
    ecInt = pki.issue("ec-int", ecRoot, { ca: true });
    ecInt2 = pki.issue("ec-int2", ecInt, { ca: true, spec: "p384" });
    leaf = pki.issue("leaf", ecInt, { ca: false });
    rsaLeaf = pki.issue("rsa-leaf", rsaRoot, { ca: false, spec: "rsa2048" });
    weakRoot = pki.root("weak-root", "rsa1024");
    p521Root = pki.root("p521-root", "p521");
    expired = pki.expiredRoot("expired-root");
  });
  after(() => pki.cleanup());

  test("200/RSA, EC P-256, P-384 and Ed25519 roots are accepted CAs", () => {
    for (const root of [rsaRoot, ecRoot, p384Root, edRoot]) {
      const v = validateUpload({ ca: true, certificates: root.certPem }, NOW);
      assert.equal(v.certificates.length, 1);
      assert.equal(v.serialDecimal, pki.serialDecimal(root.certPath));
      assert.equal(v.issuer, pki.issuerRfc2253(root.certPath));
      assert.ok(v.first.der.equals(pki.der(root.certPath)));
    }
    assert.equal(validateUpload({ ca: true, certificates: rsaRoot.certPem }, NOW).signatureName, "SHA256WithRSA");
    assert.equal(validateUpload({ ca: true, certificates: ecRoot.certPem }, NOW).signatureName, "ECDSAWithSHA256");
    assert.equal(validateUpload({ ca: true, certificates: edRoot.certPem }, NOW).signatureName, "PureEd25519");
  });

  test("200/chains of 2 and 3 verify pairwise; an intermediate alone is a CA upload", () => {
    const two = validateUpload({ ca: true, certificates: ecInt.certPem + ecRoot.certPem }, NOW);
    assert.equal(two.certificates.length, 2);
    assert.equal(two.issuer, pki.issuerRfc2253(ecInt.certPath));
    const three = validateUpload({ ca: true, certificates: ecInt2.certPem + ecInt.certPem + ecRoot.certPem }, NOW);
    assert.equal(three.certificates.length, 3);
    assert.equal(three.signatureName, "ECDSAWithSHA256", "ec-int2 is signed by the P-256 ec-int");
    const alone = validateUpload({ ca: true, certificates: ecInt.certPem }, NOW);
    assert.ok(alone.first.der.equals(pki.der(ecInt.certPath)));
  });

  test("200/PEM is normalised to a byte-stable form whatever the line endings and wrapping", () => {
    const canonical = validateUpload({ ca: true, certificates: ecInt.certPem + ecRoot.certPem }, NOW).pem;
    const crlf = (ecInt.certPem + "\n\n" + ecRoot.certPem).replace(/\n/g, "\r\n");
    const oneLine = (pem: string) =>
      pem.replace(/-----\n([\s\S]*?)\n-----END/, (_m, body: string) => `-----\n${body.replace(/\n/g, "")}\n-----END`);
    const unwrapped = [ecInt, ecRoot].map((c) => oneLine(c.certPem)).join("   \n");
    const escaped = (ecInt.certPem + ecRoot.certPem).replace(/\n/g, "\\n");
    const withText = "subject=CN = ec-int\n" + ecInt.certPem + "Bag Attributes: none\n" + ecRoot.certPem;
    for (const input of [crlf, "  \n" + unwrapped + "\n\n", escaped, withText]) {
      assert.equal(validateUpload({ ca: true, certificates: input }, NOW).pem, canonical);
    }
    assert.match(canonical, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n/);
    assert.equal(canonical.includes("\r"), false);
  });

  test("200/ca:false with PKCS#8, SEC1 and PKCS#1 keys returns the key as PKCS#8", () => {
    const pkcs8 = validateUpload({ ca: false, certificates: leaf.certPem + ecInt.certPem, privateKey: leaf.keyPem }, NOW);
    assert.ok(pkcs8.privateKeyPkcs8!.equals(pki.keyDer(leaf.keyPath)));
    const sec1Pem = pki.sec1(leaf.keyPath);
    assert.match(sec1Pem, /BEGIN EC PRIVATE KEY/);
    const fromSec1 = validateUpload({ ca: false, certificates: leaf.certPem, privateKey: sec1Pem }, NOW).privateKeyPkcs8!;
    const same = createPrivateKey({ key: fromSec1, format: "der", type: "pkcs8" });
    assert.ok(createPublicKey(same).equals(createPublicKey(leaf.keyPem)), "the SEC1 key comes back as the same key in PKCS#8");
    const pkcs1Pem = pki.pkcs1(rsaLeaf.keyPath);
    assert.match(pkcs1Pem, /BEGIN RSA PRIVATE KEY/);
    const v = validateUpload({ ca: false, certificates: rsaLeaf.certPem, privateKey: pkcs1Pem }, NOW);
    assert.ok(v.privateKeyPkcs8!.equals(pki.keyDer(rsaLeaf.keyPath)));
    assert.equal(v.signatureName, "SHA256WithRSA");
    // openssl ecparam -genkey writes EC PARAMETERS before the key: tolerated.
    const withParams = pki.openssl(["ecparam", "-name", "prime256v1"]) + sec1Pem;
    assert.ok(validateUpload({ ca: false, certificates: leaf.certPem, privateKey: withParams }, NOW).privateKeyPkcs8);
  });

  test("400/garbage, DER and damaged PEM", () => {
    refuses(() => parseCertificateChain("hello world"), ByocaErrors.notPem);
    refuses(() => parseCertificateChain(""), ByocaErrors.notPem);
    refuses(() => parseCertificateChain("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"), ByocaErrors.notPem);
    refuses(() => parseCertificateChain(ecRoot.certPem.replace("END CERTIFICATE", "END CERTIFICAT")), ByocaErrors.notPem);
    const der = pki.der(ecRoot.certPath);
    refuses(() => parseCertificateChain(der.toString("base64")), ByocaErrors.derNotPem);
    refuses(() => parseCertificateChain(der.toString("latin1")), ByocaErrors.derNotPem);
    const junk = "-----BEGIN CERTIFICATE-----\n" + Buffer.from("0123456789abcdef0123").toString("base64") + "\n-----END CERTIFICATE-----\n";
    refuses(() => parseCertificateChain(junk), ByocaErrors.badCertificate);
  });

  test("400/combined PEM, CSR and public key in certificates", () => {
    refuses(() => parseCertificateChain(leaf.certPem + leaf.keyPem), ByocaErrors.combinedPem);
    refuses(() => validateUpload({ ca: false, certificates: leaf.certPem, privateKey: leaf.keyPem + leaf.certPem }, NOW), ByocaErrors.combinedPem);
    refuses(() => parseCertificateChain(pki.read("leaf.csr")), ByocaErrors.notACertificate);
    refuses(() => parseCertificateChain(pki.openssl(["pkey", "-in", leaf.keyPath, "-pubout"])), ByocaErrors.notACertificate);
  });

  test("400/chain out of order or broken", () => {
    refuses(() => parseCertificateChain(ecRoot.certPem + ecInt.certPem), ByocaErrors.chainOutOfOrder);
    refuses(() => parseCertificateChain(ecInt2.certPem + ecRoot.certPem + ecInt.certPem), ByocaErrors.chainOutOfOrder);
    refuses(() => parseCertificateChain(ecInt.certPem + rsaRoot.certPem), ByocaErrors.chainBroken);
    refuses(() => parseCertificateChain(ecInt2.certPem + ecRoot.certPem), ByocaErrors.chainBroken);
  });

  test("400/CA rules: leaf as CA, expired, 1024-bit RSA, P-521", () => {
    refuses(() => validateUpload({ ca: true, certificates: leaf.certPem }, NOW), ByocaErrors.notACa);
    refuses(() => validateUpload({ ca: true, certificates: expired.certPem }, NOW), ByocaErrors.expired);
    refuses(() => validateUpload({ ca: true, certificates: weakRoot.certPem }, NOW), ByocaErrors.rsaKeySize);
    refuses(() => validateUpload({ ca: true, certificates: p521Root.certPem }, NOW), ByocaErrors.unsupportedKey);
    const far = new Date(Date.now() + 4000 * 86400_000);
    refuses(() => validateUpload({ ca: true, certificates: ecRoot.certPem }, far), ByocaErrors.expired);
  });

  test("400/keyUsage without keyCertSign on a CA", () => {
    const noSign = pki.issue("no-sign", ecRoot, {
      ca: true,
      ext: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign\n",
    });
    refuses(() => validateUpload({ ca: true, certificates: noSign.certPem }, NOW), ByocaErrors.noKeyCertSign);
  });

  test("400/key rules: absent, present with ca:true, encrypted, mismatched, not PEM", () => {
    refuses(() => validateUpload({ ca: false, certificates: leaf.certPem }, NOW), ByocaErrors.privateKeyRequired);
    refuses(() => validateUpload({ ca: true, certificates: ecRoot.certPem, privateKey: ecRoot.keyPem }, NOW), ByocaErrors.privateKeyNotAllowed);
    refuses(() => parsePrivateKey(pki.encryptedPkcs8(leaf.keyPath)), ByocaErrors.privateKeyEncrypted);
    refuses(() => parsePrivateKey(pki.encryptedLegacy(rsaLeaf.keyPath)), ByocaErrors.privateKeyEncrypted);
    refuses(() => validateUpload({ ca: false, certificates: leaf.certPem, privateKey: ecInt.keyPem }, NOW), ByocaErrors.keyMismatch);
    refuses(() => validateUpload({ ca: false, certificates: leaf.certPem, privateKey: rsaLeaf.keyPem }, NOW), ByocaErrors.keyMismatch);
    refuses(() => parsePrivateKey("not a key"), ByocaErrors.privateKeyNotPem);
    refuses(() => parsePrivateKey(leaf.keyPem + ecInt.keyPem), ByocaErrors.privateKeyNotPem);
    refuses(() => parsePrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"), ByocaErrors.privateKeyNotPem);
    const bogus = "-----BEGIN PRIVATE KEY-----\n" + Buffer.from("0123456789abcdef").toString("base64") + "\n-----END PRIVATE KEY-----\n";
    refuses(() => parsePrivateKey(bogus), ByocaErrors.badPrivateKey);
  });

  test("400/messages never echo the input", () => {
    const secret = leaf.keyPem.split("\n")[1];
    for (const fn of [
      () => parseCertificateChain(leaf.certPem + leaf.keyPem),
      () => parsePrivateKey(leaf.keyPem.replace("BEGIN PRIVATE KEY", "BEGIN PRIVATE KEYS")),
      () => validateUpload({ ca: false, certificates: leaf.certPem, privateKey: ecInt.keyPem }, NOW),
    ]) {
      try {
        fn();
        assert.fail("expected a refusal");
      } catch (e) {
        assert.ok(e instanceof GatehouseError);
        assert.equal(e.message.includes(secret.slice(0, 20)), false);
      }
    }
  });

  test("docs/error-codes.md has a row for every code of the mTLS and association families", () => {
    const doc = readFileSync(new URL("../../docs/error-codes.md", import.meta.url), "utf8");
    for (const code of [...Object.values(ByocaErrors), ...Object.values(MtlsCertificateErrors), ...Object.values(HostnameAssociationErrors)]) {
      assert.match(doc, new RegExp(`^\\| ${code} \\|`, "m"), `code ${code} is documented`);
    }
  });
});
