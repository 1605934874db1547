import assert from "node:assert/strict";
import { createHash, verify, X509Certificate } from "node:crypto";
import { before, describe, test } from "node:test";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { GatehouseError } from "../../src/errors.js";
import { createSoftwareSigner } from "../../src/keys/software-signer.js";
import { createManagedCa, type CreatedCa } from "../../src/pki/ca.js";
import { issueClientCertificate, leafValidity, type IssuerInfo } from "../../src/pki/certificate.js";
import { parseCsr, type SubjectKeyType } from "../../src/pki/csr.js";
import { CsrErrors } from "../../src/pki/errors.js";
import { newSerial, serialToHex } from "../../src/pki/serial.js";
import type { CaKeyType } from "../../src/pki/signer.js";
import { opensslCsr } from "../helpers/openssl.js";

const OID = {
  keyUsage: "2.5.29.15", extKeyUsage: "2.5.29.37", basicConstraints: "2.5.29.19", ski: "2.5.29.14", aki: "2.5.29.35",
  san: "2.5.29.17", crlDp: "2.5.29.31", aia: "1.3.6.1.5.5.7.1.1", clientAuth: "1.3.6.1.5.5.7.3.2",
};
const SUBJECT = "/C=US/ST=California/L=San Francisco/O=Example Inc./OU=Devices/CN=device-001";
const SAN = "subjectAltName=DNS:device-001.example.com,email:ops@example.com,URI:spiffe://example.org/device,IP:192.0.2.7,IP:2001:db8::1";

function issuerOf(ca: CreatedCa): IssuerInfo {
  return {
    certificateDer: ca.certificateDer,
    subjectDer: ca.subjectDer,
    subjectKeyIdentifier: ca.subjectKeyIdentifier,
    notAfter: ca.notAfter,
    signer: createSoftwareSigner(ca.privateKeyPkcs8Der, ca.keyType),
  };
}

const hex = (b: ArrayBuffer | Uint8Array): string => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString("hex");

function extensionsOf(cert: pkijs.Certificate): Array<{ id: string; critical: boolean; value: string; parsed: unknown }> {
  return (cert.extensions ?? []).map((e) => ({ id: e.extnID, critical: e.critical, value: hex(e.extnValue.valueBlock.valueHexView), parsed: e.parsedValue }));
}

/** assertSignedBy checks the signature with node:crypto against the CA certificate's key. */
function assertSignedBy(der: Uint8Array, ca: CreatedCa): void {
  const cert = pkijs.Certificate.fromBER(new Uint8Array(der));
  const caKey = new X509Certificate(Buffer.from(ca.certificateDer)).publicKey;
  assert.ok(new X509Certificate(Buffer.from(der)).verify(caKey), "signature verifies with the CA key");
  const hash = ca.keyType === "P-384" ? "sha384" : "sha256";
  assert.ok(verify(hash, cert.tbsView, caKey, Buffer.from(cert.signatureValue.valueBlock.valueHexView)));
}

describe("issued leaf: every extension, its criticality and encoding, per subject key type (parsed back with pkijs)", () => {
  let ca: CreatedCa;
  let issuer: IssuerInfo;
  before(async () => {
    ca = await createManagedCa({ keyType: "P-256", commonName: "Gatehouse Managed CA for account t1", organization: "Gatehouse", now: new Date(), validityYears: 20 });
    issuer = issuerOf(ca);
  });

  const table: Array<{ key: SubjectKeyType; ku: string; kuBits: string[] }> = [
    { key: "RSA-2048", ku: "030205a0", kuBits: ["digitalSignature", "keyEncipherment"] },
    { key: "RSA-3072", ku: "030205a0", kuBits: ["digitalSignature", "keyEncipherment"] },
    { key: "RSA-4096", ku: "030205a0", kuBits: ["digitalSignature", "keyEncipherment"] },
    { key: "P-256", ku: "03020780", kuBits: ["digitalSignature"] },
    { key: "P-384", ku: "03020780", kuBits: ["digitalSignature"] },
    { key: "Ed25519", ku: "03020780", kuBits: ["digitalSignature"] },
  ];

  for (const row of table) {
    test(`${row.key}: KU ${row.kuBits.join("+")}, EKU clientAuth, BC cA FALSE, SKI, AKI, SAN`, async () => {
      const csr = parseCsr(opensslCsr({ key: row.key, subj: SUBJECT, addext: [SAN] }));
      const serial = newSerial();
      const now = new Date();
      const issued = await issueClientCertificate({ csr, issuer, serial, now, validityDays: 365 });
      const cert = pkijs.Certificate.fromBER(new Uint8Array(issued.der));

      assert.equal(cert.version, 2, "v3");
      assert.equal(hex(cert.serialNumber.valueBlock.valueHexView), hex(serial));
      assert.equal(issued.serialHex, serialToHex(serial));
      assert.equal(cert.signature.algorithmId, "1.2.840.10045.4.3.2");
      assert.equal(cert.signature.algorithmParams, undefined, "ECDSA parameters absent");
      assert.equal(hex(cert.signature.toSchema().toBER()), hex(cert.signatureAlgorithm.toSchema().toBER()), "TBS signature = outer");
      assert.equal(hex(cert.issuer.toSchema().toBER()), hex(ca.subjectDer), "issuer = CA subject, byte for byte");
      assert.equal(hex(cert.subjectPublicKeyInfo.toSchema().toBER()), hex(csr.spkiDer), "SPKI copied from the CSR");

      // Subject: C, ST, L, O, OU, CN in that order; C PrintableString, the rest UTF8String.
      const rdns = cert.subject.typesAndValues.map((t) => [t.type, t.value.constructor.name, t.value.valueBlock.value]);
      assert.deepEqual(rdns, [
        ["2.5.4.6", "PrintableString", "US"],
        ["2.5.4.8", "Utf8String", "California"],
        ["2.5.4.7", "Utf8String", "San Francisco"],
        ["2.5.4.10", "Utf8String", "Example Inc."],
        ["2.5.4.11", "Utf8String", "Devices"],
        ["2.5.4.3", "Utf8String", "device-001"],
      ]);

      // Times: whole minutes, backdated one minute, exactly validityDays apart, UTCTime before 2050.
      const { notBefore } = leafValidity(now, 365);
      assert.equal(cert.notBefore.value.getTime(), notBefore.getTime());
      assert.equal(cert.notAfter.value.getTime() - cert.notBefore.value.getTime(), 365 * 86400_000);
      assert.equal(cert.notBefore.type, 0);
      assert.deepEqual([issued.notBefore, issued.notAfter], [cert.notBefore.value, cert.notAfter.value]);

      const exts = extensionsOf(cert);
      assert.deepEqual(exts.map((e) => [e.id, e.critical]), [
        [OID.keyUsage, true],
        [OID.extKeyUsage, false],
        [OID.basicConstraints, true],
        [OID.ski, false],
        [OID.aki, false],
        [OID.san, false],
      ]);
      const byId = new Map(exts.map((e) => [e.id, e]));
      assert.equal(byId.get(OID.keyUsage)!.value, row.ku);
      assert.equal(byId.get(OID.extKeyUsage)!.value, "300a06082b06010505070302");
      assert.deepEqual((byId.get(OID.extKeyUsage)!.parsed as pkijs.ExtKeyUsage).keyPurposes, [OID.clientAuth]);
      assert.equal(byId.get(OID.basicConstraints)!.value, "3000", "cA FALSE is the empty SEQUENCE");
      const bc = byId.get(OID.basicConstraints)!.parsed as pkijs.BasicConstraints;
      assert.equal(bc.cA, false);
      assert.equal(bc.pathLenConstraint, undefined);

      const spk = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
      const ski = createHash("sha1").update(spk).digest("hex");
      assert.equal(byId.get(OID.ski)!.value, "0414" + ski);
      assert.equal(issued.skiHex, ski);
      assert.match(issued.skiHex, /^[0-9a-f]{40}$/);
      const aki = byId.get(OID.aki)!.parsed as pkijs.AuthorityKeyIdentifier;
      assert.equal(hex(aki.keyIdentifier!.valueBlock.valueHexView), hex(ca.subjectKeyIdentifier));
      assert.equal(aki.authorityCertIssuer, undefined);
      assert.equal(aki.authorityCertSerialNumber, undefined);
      assert.equal(byId.get(OID.aki)!.value, "30168014" + hex(ca.subjectKeyIdentifier));

      const san = (byId.get(OID.san)!.parsed as pkijs.AltName).altNames.map((n) => [n.type, n.type === 7 ? hex((n.value as asn1js.OctetString).valueBlock.valueHexView) : n.value]);
      assert.deepEqual(san, [[2, "device-001.example.com"], [1, "ops@example.com"], [6, "spiffe://example.org/device"], [7, "c0000207"], [7, "20010db8000000000000000000000001"]]);

      assert.equal(issued.fingerprintSha256, createHash("sha256").update(issued.der).digest("hex"));
      assert.equal(issued.signatureName, "ECDSAWithSHA256");
      assert.equal(issued.pem, new X509Certificate(Buffer.from(issued.der)).toString());
      assertSignedBy(issued.der, ca);
    });
  }

  test("CA:TRUE / keyCertSign requested in the CSR never reach the certificate", async () => {
    const csr = parseCsr(opensslCsr({ key: "P-256", addext: ["basicConstraints=critical,CA:TRUE,pathlen:3", "keyUsage=critical,keyCertSign,cRLSign"] }));
    const issued = await issueClientCertificate({ csr, issuer, serial: newSerial(), now: new Date(), validityDays: 30 });
    const byId = new Map(extensionsOf(pkijs.Certificate.fromBER(new Uint8Array(issued.der))).map((e) => [e.id, e]));
    assert.equal(byId.get(OID.basicConstraints)!.value, "3000");
    assert.equal(byId.get(OID.keyUsage)!.value, "03020780");
    assert.deepEqual(csr.droppedExtensions, ["basicConstraints", "keyUsage"]);
  });

  test("empty subject: the SAN is critical", async () => {
    const csr = parseCsr(opensslCsr({ key: "P-256", subj: "/", addext: ["subjectAltName=URI:spiffe://example.org/w"] }));
    const issued = await issueClientCertificate({ csr, issuer, serial: newSerial(), now: new Date(), validityDays: 30 });
    const cert = pkijs.Certificate.fromBER(new Uint8Array(issued.der));
    assert.equal(cert.subject.typesAndValues.length, 0);
    const san = extensionsOf(cert).find((e) => e.id === OID.san)!;
    assert.equal(san.critical, true);
  });

  test("no SAN requested: no SAN extension", async () => {
    const csr = parseCsr(opensslCsr({ key: "P-256", subj: "/CN=only-cn" }));
    const issued = await issueClientCertificate({ csr, issuer, serial: newSerial(), now: new Date(), validityDays: 30 });
    assert.ok(!extensionsOf(pkijs.Certificate.fromBER(new Uint8Array(issued.der))).some((e) => e.id === OID.san));
  });

  test("distribution URLs: CRL DP and AIA (OCSP, caIssuers), both non-critical, only when configured", async () => {
    const csr = parseCsr(opensslCsr({ key: "P-256" }));
    const urls = { crl: "https://pki.example.com/crl/ca1.crl", ocsp: "https://pki.example.com/ocsp", caIssuers: "https://pki.example.com/ca/ca1.crt" };
    const issued = await issueClientCertificate({ csr, issuer, serial: newSerial(), now: new Date(), validityDays: 30, urls });
    const exts = extensionsOf(pkijs.Certificate.fromBER(new Uint8Array(issued.der)));
    const crl = exts.find((e) => e.id === OID.crlDp)!;
    const aia = exts.find((e) => e.id === OID.aia)!;
    assert.equal(crl.critical, false);
    assert.equal(aia.critical, false);
    const dp = (crl.parsed as pkijs.CRLDistributionPoints).distributionPoints[0].distributionPoint as pkijs.GeneralName[];
    assert.deepEqual(dp.map((g) => [g.type, g.value]), [[6, urls.crl]]);
    const ads = (aia.parsed as pkijs.InfoAccess).accessDescriptions.map((a) => [a.accessMethod, a.accessLocation.type, a.accessLocation.value]);
    assert.deepEqual(ads, [["1.3.6.1.5.5.7.48.1", 6, urls.ocsp], ["1.3.6.1.5.5.7.48.2", 6, urls.caIssuers]]);
  });

  test("validity_days outside 1..3650 or not an integer → validityDaysOutOfRange", async () => {
    const csr = parseCsr(opensslCsr({ key: "P-256" }));
    for (const days of [0, -1, 3651, 1.5, Number.NaN]) {
      await assert.rejects(issueClientCertificate({ csr, issuer, serial: newSerial(), now: new Date(), validityDays: days }), (e: unknown) => e instanceof GatehouseError && e.code === CsrErrors.validityDaysOutOfRange && e.status === 400);
    }
    for (const days of [1, 3650]) {
      const farCa = { ...issuer, notAfter: new Date(Date.UTC(2100, 0, 1)) };
      await issueClientCertificate({ csr, issuer: farCa, serial: newSerial(), now: new Date(), validityDays: days });
    }
  });

  test("a leaf that would outlive its CA → notAfterPastCa, never clamped", async () => {
    const csr = parseCsr(opensslCsr({ key: "P-256" }));
    const now = new Date(Date.UTC(2030, 0, 1, 12, 0, 30));
    const { notAfter } = leafValidity(now, 100);
    const shortCa = { ...issuer, notAfter: new Date(notAfter.getTime() - 1000) };
    await assert.rejects(issueClientCertificate({ csr, issuer: shortCa, serial: newSerial(), now, validityDays: 100 }), (e: unknown) => e instanceof GatehouseError && e.code === CsrErrors.notAfterPastCa && e.status === 400);
    // Exactly at the CA's notAfter is allowed.
    const equalCa = { ...issuer, notAfter };
    const ok = await issueClientCertificate({ csr, issuer: equalCa, serial: newSerial(), now, validityDays: 100 });
    assert.equal(ok.notAfter.getTime(), notAfter.getTime());
  });
});

describe("signature algorithm per CA key type", () => {
  const rows: Array<[CaKeyType, string, string, string | null]> = [
    ["P-256", "1.2.840.10045.4.3.2", "ECDSAWithSHA256", null],
    ["P-384", "1.2.840.10045.4.3.3", "ECDSAWithSHA384", null],
    ["RSA-2048", "1.2.840.113549.1.1.11", "SHA256WithRSA", "0500"],
  ];
  for (const [keyType, oid, name, params] of rows) {
    test(`${keyType} CA signs with ${name}`, async () => {
      const ca = await createManagedCa({ keyType, commonName: `CA ${keyType}`, now: new Date(), validityYears: 20 });
      const csr = parseCsr(opensslCsr({ key: "P-256" }));
      const issued = await issueClientCertificate({ csr, issuer: issuerOf(ca), serial: newSerial(), now: new Date(), validityDays: 30 });
      const cert = pkijs.Certificate.fromBER(new Uint8Array(issued.der));
      assert.equal(cert.signatureAlgorithm.algorithmId, oid);
      assert.equal(cert.signatureAlgorithm.algorithmParams ? hex(cert.signatureAlgorithm.algorithmParams.toBER()) : null, params);
      assert.equal(hex(cert.signature.toSchema().toBER()), hex(cert.signatureAlgorithm.toSchema().toBER()));
      assert.equal(issued.signatureName, name);
      assertSignedBy(issued.der, ca);
    });
  }
});
