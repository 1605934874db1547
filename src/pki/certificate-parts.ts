/**
 * certificate-parts.ts reads the parts of an X.509 certificate (RFC 5280 §4.1) that EST
 * re-enrollment compares with the new request (RFC 7030 §4.2.2): the subject Name bytes, the
 * SubjectPublicKeyInfo bytes, the subjectAltName entries. Strict DER through the pki reader.
 *
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT, serialNumber, signature, issuer, validity,
 *     subject, subjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT OPTIONAL,
 *     subjectUniqueID [2] IMPLICIT OPTIONAL, extensions [3] EXPLICIT OPTIONAL }
 */
import { DerCursor, oidToString, readBoolean, readWhole } from "./der-reader.js";
import { Oid } from "./oids.js";
import { parseSanExtension, type SubjectAltName } from "./san.js";

/** CertificateParts: byte views into the certificate's DER (not copies). */
export interface CertificateParts {
  subjectDer: Uint8Array;
  spkiDer: Uint8Array;
  /** The subjectAltName entries; empty when the certificate has none. */
  sans: SubjectAltName[];
}

/** certificateParts decodes `der`; throws DerError (or a CsrErrors GatehouseError for a malformed SAN). */
export function certificateParts(der: Uint8Array): CertificateParts {
  const cert = DerCursor.inside(der, readWhole(der, 0x30));
  const tbs = DerCursor.inside(der, cert.expect(0x30));
  tbs.optional(0xa0);
  tbs.expect(0x02);
  tbs.expect(0x30);
  tbs.expect(0x30);
  tbs.expect(0x30);
  const subject = tbs.expect(0x30);
  const spki = tbs.expect(0x30);
  tbs.optional(0x81);
  tbs.optional(0x82);
  const exts = tbs.optional(0xa3);
  tbs.finish();
  let sans: SubjectAltName[] = [];
  if (exts) {
    const outer = DerCursor.inside(der, exts);
    const list = DerCursor.inside(der, outer.expect(0x30));
    outer.finish();
    while (!list.atEnd) {
      const ext = DerCursor.inside(der, list.expect(0x30));
      const id = ext.expect(0x06);
      if (ext.peekTag() === 0x01) readBoolean(ext);
      const value = ext.expect(0x04);
      ext.finish();
      if (oidToString(der, id.valueStart, id.end) === Oid.subjectAltName) sans = parseSanExtension(der.subarray(value.valueStart, value.end));
    }
  }
  return { subjectDer: der.subarray(subject.start, subject.end), spkiDer: der.subarray(spki.start, spki.end), sans };
}

/** sameBytes compares two byte arrays. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** sameSans: the same entries in the same order (RFC 7030 §4.2.2 asks for identical SubjectAltName). */
export function sameSans(a: readonly SubjectAltName[], b: readonly SubjectAltName[]): boolean {
  return a.length === b.length && a.every((s, i) => s.type === b[i].type && s.value === b[i].value);
}
