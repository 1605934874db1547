/**
 * pkcs7.ts writes the degenerate "certs-only" SignedData that EST answers with (RFC 7030 §4.1.3,
 * §4.2.3; RFC 5652 §5): no content, no signers, only certificates. EST sends it base64-encoded
 * (RFC 8951 §3.2), which `certsOnlyBase64` produces in 64-column lines.
 *
 *   ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
 *   SignedData ::= SEQUENCE { version CMSVersion (1), digestAlgorithms SET OF (empty),
 *     encapContentInfo SEQUENCE { eContentType id-data }, certificates [0] IMPLICIT SET OF
 *     Certificate, signerInfos SET OF (empty) }
 */
import { DerCursor, readOid, readWhole } from "./der-reader.js";
import { explicit, integer, oid, sequence, set, tlv } from "./der.js";

const ID_SIGNED_DATA = oid("1.2.840.113549.1.7.2");
const ID_DATA = oid("1.2.840.113549.1.7.1");
const VERSION_1 = integer(1);
const EMPTY_SET = set();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * certsOnlyDer wraps certificate DERs in a certs-only ContentInfo. The certificates field is a
 * DER SET OF, so its members are sorted by their encodings (X.690 §11.6); callers must not rely
 * on order (RFC 7030 answers carry one certificate, or the CA set for /cacerts).
 */
export function certsOnlyDer(certificates: readonly Uint8Array[]): Uint8Array {
  if (certificates.length === 0) throw new RangeError("certs-only PKCS#7 needs at least one certificate");
  for (const c of certificates) readWhole(c, 0x30);
  const sorted = [...certificates].sort(compareBytes);
  const signedData = sequence(VERSION_1, EMPTY_SET, sequence(ID_DATA), tlv(0xa0, ...sorted), EMPTY_SET);
  return sequence(ID_SIGNED_DATA, explicit(0, signedData));
}

/** base64Lines encodes bytes as base64 in 64-character lines ending in LF (RFC 8951 transfer form). */
export function base64Lines(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  let out = "";
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + "\n";
  return out;
}

/** certsOnlyBase64 is certsOnlyDer in the base64 form EST puts in an application/pkcs7-mime body. */
export const certsOnlyBase64 = (certificates: readonly Uint8Array[]): string => base64Lines(certsOnlyDer(certificates));

/**
 * readCertsOnly returns the certificates of a certs-only ContentInfo (DER), in encoded order.
 * Throws DerError when the bytes are not one. Used by tests and clients, not on the server's path.
 */
export function readCertsOnly(der: Uint8Array): Uint8Array[] {
  const ci = DerCursor.inside(der, readWhole(der, 0x30));
  if (readOid(ci) !== "1.2.840.113549.1.7.2") throw new RangeError("not a SignedData ContentInfo");
  const wrapper = DerCursor.inside(der, ci.expect(0xa0));
  ci.finish();
  const sd = DerCursor.inside(der, wrapper.expect(0x30));
  wrapper.finish();
  sd.expect(0x02);
  sd.expect(0x31);
  sd.expect(0x30);
  const certs = sd.optional(0xa0);
  const out: Uint8Array[] = [];
  if (certs) {
    const c = DerCursor.inside(der, certs);
    while (!c.atEnd) {
      const t = c.expect(0x30);
      out.push(der.slice(t.start, t.end));
    }
  }
  return out;
}
