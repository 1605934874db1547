/**
 * certificate-fields.ts reads from a client certificate's DER the few fields the edge reports
 * to the origin (RFC 5280 §4.1): serial, issuer and subject Names, validity, and the subject and
 * authority key identifiers. The certificate was already accepted by OpenSSL during the handshake,
 * so this reader is lenient where OpenSSL is (a negative or padded serial is reported as its
 * content octets) and never throws: what it cannot read stays undefined.
 *
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber INTEGER, signature,
 *     issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 *     subjectPublicKeyInfo, issuerUniqueID [1] OPTIONAL, subjectUniqueID [2] OPTIONAL,
 *     extensions [3] EXPLICIT SEQUENCE OF Extension OPTIONAL }
 */
import { DerCursor, oidToString, readTlv, timeToDate, type Tlv } from "../pki/der-reader.js";
import { Oid } from "../pki/oids.js";

/** CertificateFields: what the edge needs of one certificate. Buffers are views into `der`. */
export interface CertificateFields {
  der: Buffer;
  /** Serial content octets with any sign padding removed (the value the database stores). */
  serial: Buffer;
  issuerDer?: Buffer;
  subjectDer?: Buffer;
  notBefore?: Date;
  notAfter?: Date;
  /** subjectKeyIdentifier keyIdentifier octets. */
  ski?: Buffer;
  /** authorityKeyIdentifier keyIdentifier octets. */
  aki?: Buffer;
}

const view = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.valueStart, t.end);
const whole = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);

/** readCertificateFields parses `der`; on malformed input it returns what it read before the fault. */
export function readCertificateFields(der: Buffer): CertificateFields {
  const out: CertificateFields = { der, serial: Buffer.alloc(0) };
  try {
    const cert = readTlv(der, 0, der.length);
    const tbs = DerCursor.inside(der, cert).next();
    const c = DerCursor.inside(der, tbs);
    c.optional(0xa0);
    const serial = view(der, c.expect(0x02));
    let i = 0;
    while (i < serial.length - 1 && serial[i] === 0) i++;
    out.serial = serial.subarray(i);
    c.next(); // signature AlgorithmIdentifier
    out.issuerDer = whole(der, c.expect(0x30));
    const validity = DerCursor.inside(der, c.expect(0x30));
    try {
      out.notBefore = timeToDate(der, validity.next());
      out.notAfter = timeToDate(der, validity.next());
    } catch {
      // leave the dates unset; OpenSSL has already checked them
    }
    out.subjectDer = whole(der, c.expect(0x30));
    c.next(); // subjectPublicKeyInfo
    c.optional(0x81);
    c.optional(0x82);
    const exts = c.optional(0xa3);
    if (exts) readExtensions(der, DerCursor.inside(der, DerCursor.inside(der, exts).expect(0x30)), out);
  } catch {
    // keep what was read
  }
  return out;
}

function readExtensions(der: Buffer, list: DerCursor, out: CertificateFields): void {
  while (!list.atEnd) {
    const ext = DerCursor.inside(der, list.expect(0x30));
    const idT = ext.expect(0x06);
    const id = oidToString(der, idT.valueStart, idT.end);
    ext.optional(0x01);
    const value = ext.expect(0x04);
    if (id === Oid.subjectKeyIdentifier) {
      const inner = readTlv(der, value.valueStart, value.end);
      if (inner.tag === 0x04) out.ski = view(der, inner);
    } else if (id === Oid.authorityKeyIdentifier) {
      const seq = readTlv(der, value.valueStart, value.end);
      const c = DerCursor.inside(der, seq);
      const keyId = c.optional(0x80);
      if (keyId) out.aki = view(der, keyId);
    }
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n: number): string => (n < 10 ? "0" : "") + n;

/** formatOpenSslTime writes a time as OpenSSL's ASN1_TIME_print does: `Mar  1 13:35:00 2022 GMT`. */
export function formatOpenSslTime(d: Date | undefined): string {
  if (!d) return "";
  const day = d.getUTCDate();
  return (
    `${MONTHS[d.getUTCMonth()]} ${day < 10 ? " " : ""}${day} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`
  );
}

/** upperHex: uppercase hex of some bytes ("" for none), as the edge headers print serials and SKIs. */
export const upperHex = (b: Buffer | undefined): string => (b && b.length ? b.toString("hex").toUpperCase() : "");

/** issuedBy: whether `issuer` is the issuer named by `leaf` (subject bytes, and key identifiers when both have one). */
export function issuedBy(leaf: CertificateFields, issuer: { subjectDer?: Buffer; ski?: Buffer }): boolean {
  if (!leaf.issuerDer || !issuer.subjectDer || !leaf.issuerDer.equals(issuer.subjectDer)) return false;
  return !(leaf.aki && issuer.ski) || leaf.aki.equals(issuer.ski);
}
