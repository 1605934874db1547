import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { GatehouseError } from "../../src/errors.js";
import { createSoftwareSigner } from "../../src/keys/software-signer.js";
import { createManagedCa, type CreatedCa } from "../../src/pki/ca.js";
import { buildLeafTbs, issueClientCertificate, leafValidity, type IssuerInfo } from "../../src/pki/certificate.js";
import { parseCsr, type ParsedCsr } from "../../src/pki/csr.js";
import { DerCursor, rawOf, readWhole } from "../../src/pki/der-reader.js";
import { boolean, generalizedTime, NULL, oid, octetString, printableString, sequence, set, time, tlv, utcTime, utf8String } from "../../src/pki/der.js";
import { CsrErrors } from "../../src/pki/errors.js";
import { lintTbsCertificate, type LintExpectations } from "../../src/pki/lint.js";
import { newSerial } from "../../src/pki/serial.js";
import { opensslCsr } from "../helpers/openssl.js";

/** Parts of a TBSCertificate, as whole TLVs, to be swapped one at a time. */
interface Parts {
  version: Uint8Array;
  serial: Uint8Array;
  sigAlg: Uint8Array;
  issuer: Uint8Array;
  validity: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  exts: Uint8Array[];
}

function split(tbs: Uint8Array): Parts {
  const c = DerCursor.inside(tbs, readWhole(tbs, 0x30));
  const take = (): Uint8Array => rawOf(tbs, c.next()).slice();
  const p = { version: take(), serial: take(), sigAlg: take(), issuer: take(), validity: take(), subject: take(), spki: take(), exts: [] as Uint8Array[] };
  const outer = c.next();
  const inner = new DerCursor(tbs, outer.valueStart, outer.end);
  const seq = DerCursor.inside(tbs, inner.expect(0x30));
  while (!seq.atEnd) p.exts.push(rawOf(tbs, seq.next()).slice());
  return p;
}

function join(p: Parts, extra: Uint8Array[] = []): Uint8Array {
  return sequence(p.version, p.serial, p.sigAlg, p.issuer, p.validity, p.subject, p.spki, ...extra, tlv(0xa3, sequence(...p.exts)));
}

const EXT = { ku: "2.5.29.15", eku: "2.5.29.37", bc: "2.5.29.19", ski: "2.5.29.14", aki: "2.5.29.35", san: "2.5.29.17" };
const ext = (id: string, critical: boolean | "explicit-false", value: Uint8Array): Uint8Array =>
  critical === "explicit-false" ? sequence(oid(id), boolean(false), octetString(value)) : critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
const extIndex = (p: Parts, id: string): number => p.exts.findIndex((e) => Buffer.from(e).includes(Buffer.from(oid(id))));

describe("lint: the pre-signing check of the TBS", () => {
  let ca: CreatedCa;
  let issuer: IssuerInfo;
  let csr: ParsedCsr;
  let rsaCsr: ParsedCsr;
  let emptySubjectCsr: ParsedCsr;
  let x: LintExpectations;
  const now = new Date("2030-03-01T10:00:00Z");

  before(async () => {
    ca = await createManagedCa({ keyType: "P-256", commonName: "Lint CA", now: new Date("2030-01-01T00:00:00Z"), validityYears: 20 });
    issuer = { certificateDer: ca.certificateDer, subjectDer: ca.subjectDer, subjectKeyIdentifier: ca.subjectKeyIdentifier, notAfter: ca.notAfter, signer: createSoftwareSigner(ca.privateKeyPkcs8Der, "P-256") };
    csr = parseCsr(opensslCsr({ key: "P-256", subj: "/C=US/O=Acme/CN=lint", addext: ["subjectAltName=DNS:lint.example.com"] }));
    rsaCsr = parseCsr(opensslCsr({ key: "RSA-2048", subj: "/CN=rsa" }));
    emptySubjectCsr = parseCsr(opensslCsr({ key: "P-256", subj: "/", addext: ["subjectAltName=DNS:e.example.com"] }));
    x = { profile: "leaf", signatureAlgorithmDer: issuer.signer.algorithmIdentifierDer, issuerSubjectDer: ca.subjectDer, issuerSki: ca.subjectKeyIdentifier, issuerNotAfter: ca.notAfter };
  });

  const good = (c = csr): Parts => split(buildLeafTbs({ csr: c, issuer, serial: newSerial(), now, validityDays: 365 }).tbs);
  const lintFails = (tbs: Uint8Array, what: RegExp): void => {
    assert.throws(() => lintTbsCertificate(tbs, x), (e: unknown) => {
      assert.ok(e instanceof GatehouseError);
      assert.equal(e.code, CsrErrors.lintFailed, e.message);
      assert.equal(e.status, 500);
      assert.match(e.message, what);
      return true;
    });
  };

  test("a built TBS passes, for EC, RSA and empty-subject CSRs", () => {
    for (const c of [csr, rsaCsr, emptySubjectCsr]) lintTbsCertificate(join(good(c)), x);
  });

  const cases: Array<[string, (p: Parts) => Uint8Array, RegExp]> = [
    ["v1 (no version field)", (p) => sequence(p.serial, p.sigAlg, p.issuer, p.validity, p.subject, p.spki, tlv(0xa3, sequence(...p.exts))), /DER|version/],
    ["version v2", (p) => join({ ...p, version: Uint8Array.from([0xa0, 3, 2, 1, 1]) }), /version/],
    ["negative serial", (p) => join({ ...p, serial: tlv(0x02, Uint8Array.of(0x80, 1, 2)) }), /serial/],
    ["non-minimal serial", (p) => join({ ...p, serial: tlv(0x02, Uint8Array.of(0x00, 0x01, 0x02)) }), /INTEGER|serial/],
    ["21-octet serial", (p) => join({ ...p, serial: tlv(0x02, new Uint8Array(21).fill(0x11)) }), /serial/],
    ["zero serial", (p) => join({ ...p, serial: tlv(0x02, Uint8Array.of(0)) }), /serial/],
    ["signature algorithm not the signer's", (p) => join({ ...p, sigAlg: sequence(oid("1.2.840.113549.1.1.11"), NULL) }), /signature/],
    ["issuer re-encoded (PrintableString CN)", (p) => join({ ...p, issuer: sequence(set(sequence(oid("2.5.4.3"), printableString("Lint CA")))) }), /issuer/],
    ["UTCTime \"50…\" reads as 1950, not 2050", (p) => join({ ...p, validity: sequence(utcTime(new Date("2049-01-01T00:00:00Z")), tlv(0x17, Buffer.from("500101000000Z"))) }), /notBefore/],
    ["GeneralizedTime for 2049", (p) => join({ ...p, validity: sequence(generalizedTime(new Date("2049-01-01T00:00:00Z")), generalizedTime(new Date("2049-06-01T00:00:00Z"))) }), /UTCTime/],
    ["fractional seconds", (p) => join({ ...p, validity: sequence(utcTime(new Date("2040-01-01T00:00:00Z")), tlv(0x18, Buffer.from("20500101000000.5Z"))) }), /time/],
    ["time without Z", (p) => join({ ...p, validity: sequence(tlv(0x17, Buffer.from("4001010000000")), utcTime(new Date("2041-01-01T00:00:00Z"))) }), /time|UTC/],
    ["notBefore after notAfter", (p) => join({ ...p, validity: sequence(utcTime(new Date("2041-01-01T00:00:00Z")), utcTime(new Date("2040-01-01T00:00:00Z"))) }), /notBefore/],
    ["multi-valued subject RDN", (p) => join({ ...p, subject: sequence(set(sequence(oid("2.5.4.3"), utf8String("a")), sequence(oid("2.5.4.10"), utf8String("b")))) }), /single-valued/],
    ["subject out of order (CN before C)", (p) => join({ ...p, subject: sequence(set(sequence(oid("2.5.4.3"), utf8String("a"))), set(sequence(oid("2.5.4.6"), printableString("US")))) }), /order/],
    ["C as UTF8String", (p) => join({ ...p, subject: sequence(set(sequence(oid("2.5.4.6"), utf8String("US")))) }), /PrintableString/],
    ["SKI missing", (p) => join({ ...p, exts: p.exts.filter((_, i) => i !== extIndex(p, EXT.ski)) }), /SKI/],
    ["SKI of another key", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.ski) ? ext(EXT.ski, false, octetString(new Uint8Array(20))) : e)) }), /SKI/],
    ["AKI missing", (p) => join({ ...p, exts: p.exts.filter((_, i) => i !== extIndex(p, EXT.aki)) }), /authorityKeyIdentifier/],
    ["AKI of another CA", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.aki) ? ext(EXT.aki, false, sequence(tlv(0x80, new Uint8Array(20)))) : e)) }), /authorityKeyIdentifier/],
    ["basicConstraints not critical", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.bc) ? ext(EXT.bc, false, sequence()) : e)) }), /basicConstraints/],
    ["basicConstraints cA TRUE", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.bc) ? ext(EXT.bc, true, sequence(boolean(true))) : e)) }), /basicConstraints/],
    ["keyUsage with keyCertSign", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.ku) ? ext(EXT.ku, true, Uint8Array.of(3, 2, 1, 0x86)) : e)) }), /keyUsage/],
    ["keyUsage not critical", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.ku) ? ext(EXT.ku, false, Uint8Array.of(3, 2, 7, 0x80)) : e)) }), /keyUsage/],
    ["EKU missing", (p) => join({ ...p, exts: p.exts.filter((_, i) => i !== extIndex(p, EXT.eku)) }), /extendedKeyUsage/],
    ["EKU critical", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.eku) ? ext(EXT.eku, true, sequence(oid("1.3.6.1.5.5.7.3.2"))) : e)) }), /extendedKeyUsage/],
    ["duplicate extension", (p) => join({ ...p, exts: [...p.exts, p.exts[0]] }), /duplicate/],
    ["unexpected extension (certificatePolicies)", (p) => join({ ...p, exts: [...p.exts, ext("2.5.29.32", false, sequence(sequence(oid("2.5.29.32.0"))))] }), /unexpected/],
    ["critical FALSE written out", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.eku) ? ext(EXT.eku, "explicit-false", sequence(oid("1.3.6.1.5.5.7.3.2"))) : e)) }), /critical FALSE/],
    ["SAN critical with a subject", (p) => join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.san) ? ext(EXT.san, true, sequence(tlv(0x82, Buffer.from("a.example.com")))) : e)) }), /SAN/],
    ["issuerUniqueID present", (p) => join(p, [tlv(0x81, Uint8Array.of(0, 1))]), /unique identifiers/],
    ["trailing bytes after the TBS", (p) => Uint8Array.from([...join(p), 0]), /DER/],
  ];
  for (const [name, mutate, what] of cases) test(`500/lintFailed: ${name}`, () => lintFails(mutate(good()), what));

  test("500/lintFailed: RSA key with the EC keyUsage", () => {
    const p = good(rsaCsr);
    lintFails(join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.ku) ? ext(EXT.ku, true, Uint8Array.of(3, 2, 7, 0x80)) : e)) }), /keyUsage/);
  });

  test("500/lintFailed: empty subject with a non-critical SAN, and with no SAN", () => {
    const p = good(emptySubjectCsr);
    lintFails(join({ ...p, exts: p.exts.map((e, i) => (i === extIndex(p, EXT.san) ? ext(EXT.san, false, sequence(tlv(0x82, Buffer.from("e.example.com")))) : e)) }), /critical SAN/);
    lintFails(join({ ...p, exts: p.exts.filter((_, i) => i !== extIndex(p, EXT.san)) }), /critical SAN/);
  });

  test("400/notAfterPastCa: lint refuses a notAfter past the CA's (its own code, not lintFailed)", () => {
    const p = good();
    const tbs = join({ ...p, validity: sequence(utcTime(new Date("2030-01-01T00:00:00Z")), time(new Date(ca.notAfter.getTime() + 1000))) });
    assert.throws(() => lintTbsCertificate(tbs, x), (e: unknown) => e instanceof GatehouseError && e.code === CsrErrors.notAfterPastCa && e.status === 400);
  });

  test("400/notAfterPastCa: issuing a leaf that would outlive the CA is refused, not clamped", async () => {
    const late = new Date(ca.notAfter.getTime() - 10 * 86400_000);
    await assert.rejects(issueClientCertificate({ csr, issuer, serial: newSerial(), now: late, validityDays: 30 }), (e: unknown) => e instanceof GatehouseError && e.code === CsrErrors.notAfterPastCa);
    const ok = await issueClientCertificate({ csr, issuer, serial: newSerial(), now: late, validityDays: 5 });
    assert.equal(ok.notAfter.getTime(), leafValidity(late, 5).notAfter.getTime());
  });

  test("a bad serial from the caller never reaches the signer", async () => {
    let signed = 0;
    const counting: IssuerInfo = { ...issuer, signer: { ...issuer.signer, sign: (d) => (signed++, issuer.signer.sign(d)) } };
    await assert.rejects(issueClientCertificate({ csr, issuer: counting, serial: Uint8Array.of(0x80, 1), now, validityDays: 30 }), (e: unknown) => e instanceof GatehouseError && e.code === CsrErrors.lintFailed);
    assert.equal(signed, 0);
  });
});
