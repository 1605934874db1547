/**
 * lint.ts re-reads a TBSCertificate's DER before it is signed and checks it against PROFILE.md
 * ("Checks before anything is signed"). It shares no encoder with the builders: expected
 * extension values are written out here as literal bytes, so a builder bug cannot agree with itself.
 * A failure means a Gatehouse bug (code lintFailed, 500) except a notAfter past the CA's
 * (notAfterPastCa, 400), which depends on the request.
 *
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT INTEGER (v3 = 2), serialNumber INTEGER,
 *     signature AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore, notAfter },
 *     subject Name, subjectPublicKeyInfo, extensions [3] EXPLICIT SEQUENCE OF Extension }
 */
import { hash } from "node:crypto";
import { checkInteger, DerCursor, DerError, oidToString, rawOf, readBoolean, readWhole, timeToDate, type Tlv } from "./der-reader.js";
import { GatehouseError } from "../errors.js";
import { csrError, CsrErrors } from "./errors.js";
import { parseNameAt } from "./names.js";
import { Oid } from "./oids.js";
import { parseSanExtension } from "./san.js";
import { isValidSerial } from "./serial.js";
import { checkSubjectKey } from "./spki.js";

/** LintExpectations: what the TBS must agree with. */
export interface LintExpectations {
  profile: "leaf" | "ca";
  /** The signer's AlgorithmIdentifier DER (the TBS `signature` field must equal it). */
  signatureAlgorithmDer: Uint8Array;
  /** Issuer Name DER (for a self-signed CA: its own subject). */
  issuerSubjectDer: Uint8Array;
  /** Issuer SKI: the leaf's AKI keyIdentifier (for a CA: its own SKI, if AKI is present). */
  issuerSki: Uint8Array;
  /** The issuer's notAfter (leaf only). */
  issuerNotAfter?: Date;
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/ /g, ""), "hex"));
const V3 = hex("a0 03 02 01 02");
const LEAF_BC = hex("30 00");
const CA_BC = hex("30 06 01 01 ff 02 01 00");
const KU_RSA = hex("03 02 05 a0");
const KU_EC = hex("03 02 07 80");
const KU_CA = hex("03 02 01 86");
const EKU_CLIENT = hex("30 0a 06 08 2b 06 01 05 05 07 03 02");

// Leaf subject attribute order: C, ST, L, O, OU, CN (index = position).
const LEAF_SUBJECT_ORDER = [Oid.countryName, Oid.stateOrProvinceName, Oid.localityName, Oid.organizationName, Oid.organizationalUnitName, Oid.commonName];

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class LintError extends Error {}
function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new LintError(what);
}

interface Ext {
  critical: boolean;
  value: Uint8Array;
}

/** lintTbsCertificate throws GatehouseError (lintFailed or notAfterPastCa) unless `tbs` satisfies the profile. */
export function lintTbsCertificate(tbs: Uint8Array, x: LintExpectations): void {
  try {
    lint(tbs, x);
  } catch (e) {
    if (e instanceof LintError) throw csrError("lintFailed", e.message);
    if (e instanceof DerError) throw csrError("lintFailed", `DER: ${e.message}`, e);
    if (e instanceof GatehouseError && e.code === CsrErrors.notAfterPastCa) throw e;
    if (e instanceof GatehouseError) throw csrError("lintFailed", e.message, e);
    throw e;
  }
}

function lint(tbs: Uint8Array, x: LintExpectations): void {
  const c = DerCursor.inside(tbs, readWhole(tbs, 0x30));
  check(equal(rawOf(tbs, c.expect(0xa0)), V3), "version must be v3");

  const serial = c.expect(0x02);
  checkInteger(tbs, serial);
  check(isValidSerial(tbs.subarray(serial.valueStart, serial.end)), "serial must be 1–20 octets, positive, minimal");

  check(equal(rawOf(tbs, c.expect(0x30)), x.signatureAlgorithmDer), "TBS signature must equal the signer's algorithm");
  const issuer = c.expect(0x30);
  check(equal(rawOf(tbs, issuer), x.issuerSubjectDer), "issuer must be the CA subject, byte for byte");
  check(parseNameAt(tbs, issuer).length > 0, "issuer must not be empty");

  lintValidity(tbs, c.expect(0x30), x);

  const subjectTlv = c.expect(0x30);
  const subjectRdns = parseNameAt(tbs, subjectTlv);
  const spkiTlv = c.expect(0x30);
  const key = checkSubjectKey(tbs, spkiTlv);
  check(c.peekTag() === 0xa3, "extensions must follow the key (no unique identifiers)");
  const extsOuter = DerCursor.inside(tbs, c.expect(0xa3));
  const exts = readExtensions(tbs, extsOuter.expect(0x30));
  extsOuter.finish();
  c.finish();

  const ski = exts.get(Oid.subjectKeyIdentifier);
  const expectedSki = hash("sha1", key.publicKeyBits, "buffer");
  check(ski !== undefined && !ski.critical, "SKI must be present, non-critical");
  check(wraps(ski.value, 0x04, expectedSki), "SKI must be SHA-1 of the subjectPublicKey");

  if (x.profile === "ca") {
    check(key.keyType !== "Ed25519", "CA key type");
    check(equal(rawOf(tbs, subjectTlv), x.issuerSubjectDer), "self-signed CA: subject must equal issuer");
    check(subjectRdns.length > 0, "CA subject must not be empty");
    expectExt(exts, Oid.basicConstraints, true, CA_BC, "basicConstraints");
    expectExt(exts, Oid.keyUsage, true, KU_CA, "keyUsage");
    const aki = exts.get(Oid.authorityKeyIdentifier);
    if (aki !== undefined) check(!aki.critical && wraps(aki.value, 0x30, x.issuerSki, 0x80), "CA authorityKeyIdentifier must be its own SKI");
    check(equal(expectedSki, x.issuerSki), "CA SKI must be the one recorded");
    for (const id of exts.keys()) check(CA_EXTENSIONS.has(id), "CA: unexpected extension");
    return;
  }

  lintLeafSubject(subjectRdns);
  expectExt(exts, Oid.basicConstraints, true, LEAF_BC, "basicConstraints");
  expectExt(exts, Oid.keyUsage, true, key.keyType.startsWith("RSA") ? KU_RSA : KU_EC, "keyUsage");
  expectExt(exts, Oid.extKeyUsage, false, EKU_CLIENT, "extendedKeyUsage");
  check(x.issuerSki.length > 0 && x.issuerSki.length < 126, "issuer SKI must be known");
  const aki = exts.get(Oid.authorityKeyIdentifier);
  check(aki !== undefined && !aki.critical, "authorityKeyIdentifier must be present, non-critical");
  check(wraps(aki.value, 0x30, x.issuerSki, 0x80), "authorityKeyIdentifier value must be keyIdentifier = the CA SKI");
  const san = exts.get(Oid.subjectAltName);
  if (subjectRdns.length === 0) check(san !== undefined && san.critical, "empty subject needs a critical SAN");
  else check(san === undefined || !san.critical, "SAN must be non-critical when the subject is set");
  if (san !== undefined) parseSanExtension(san.value);
  for (const id of [Oid.cRLDistributionPoints, Oid.authorityInfoAccess]) {
    const e = exts.get(id);
    check(e === undefined || !e.critical, "CRL DP and AIA must be non-critical");
  }
  for (const id of exts.keys()) check(LEAF_EXTENSIONS.has(id), "leaf: unexpected extension");
}

const CA_EXTENSIONS = new Set<string>([Oid.basicConstraints, Oid.keyUsage, Oid.subjectKeyIdentifier, Oid.authorityKeyIdentifier]);
const LEAF_EXTENSIONS = new Set<string>([Oid.basicConstraints, Oid.keyUsage, Oid.extKeyUsage, Oid.subjectKeyIdentifier, Oid.authorityKeyIdentifier, Oid.subjectAltName, Oid.cRLDistributionPoints, Oid.authorityInfoAccess]);

/** wraps: `v` is tag ‖ len ‖ [innerTag ‖ len ‖] `inner` exactly (short-form lengths). */
function wraps(v: Uint8Array, tag: number, inner: Uint8Array, innerTag?: number): boolean {
  const n = inner.length;
  if (innerTag === undefined) return v.length === n + 2 && v[0] === tag && v[1] === n && equal(v.subarray(2), inner);
  return v.length === n + 4 && v[0] === tag && v[1] === n + 2 && v[2] === innerTag && v[3] === n && equal(v.subarray(4), inner);
}

function lintValidity(tbs: Uint8Array, t: Tlv, x: LintExpectations): void {
  const v = DerCursor.inside(tbs, t);
  const nbTlv = v.next();
  const naTlv = v.next();
  v.finish();
  const notBefore = timeToDate(tbs, nbTlv);
  const notAfter = timeToDate(tbs, naTlv);
  check(nbTlv.tag === timeTag(notBefore) && naTlv.tag === timeTag(notAfter), "UTCTime through 2049, GeneralizedTime from 2050");
  check(notBefore.getTime() < notAfter.getTime(), "notBefore must precede notAfter");
  if (x.profile === "leaf") {
    check(x.issuerNotAfter !== undefined, "issuer notAfter must be known");
    if (notAfter.getTime() > x.issuerNotAfter.getTime()) throw csrError("notAfterPastCa");
  }
}

function timeTag(d: Date): number {
  const y = d.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? 0x17 : 0x18;
}

function lintLeafSubject(rdns: ReturnType<typeof parseNameAt>): void {
  let last = -1;
  for (const rdn of rdns) {
    check(rdn.length === 1, "subject RDNs must be single-valued");
    const idx = LEAF_SUBJECT_ORDER.indexOf(rdn[0].oid as never);
    check(idx > last, "subject attributes must be C, ST, L, O, OU, CN in order, once each");
    check(rdn[0].tag === (idx === 0 ? 0x13 : 0x0c), "C must be PrintableString, others UTF8String");
    last = idx;
  }
}

function readExtensions(tbs: Uint8Array, t: Tlv): Map<string, Ext> {
  const out = new Map<string, Ext>();
  const c = DerCursor.inside(tbs, t);
  check(!c.atEnd, "extensions must not be empty");
  while (!c.atEnd) {
    const e = DerCursor.inside(tbs, c.expect(0x30));
    const id = e.expect(0x06);
    const oid = oidToString(tbs, id.valueStart, id.end);
    let critical = false;
    if (e.peekTag() === 0x01) {
      critical = readBoolean(e);
      check(critical, "critical FALSE must be omitted (DER default)");
    }
    const value = e.expect(0x04);
    e.finish();
    check(!out.has(oid), "duplicate extension");
    out.set(oid, { critical, value: tbs.subarray(value.valueStart, value.end) });
  }
  return out;
}

function expectExt(exts: Map<string, Ext>, id: string, critical: boolean, value: Uint8Array, name: string): void {
  const e = exts.get(id);
  check(e !== undefined, `${name} must be present`);
  check(e.critical === critical, `${name} criticality`);
  check(equal(e.value, value), `${name} value`);
}
