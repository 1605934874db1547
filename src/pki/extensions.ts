/**
 * extensions.ts encodes the certificate extensions of PROFILE.md's table (RFC 5280 §4.2).
 * The constant ones are encoded once at load time; the hot path only concatenates them.
 *
 *   Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 */
import { hash } from "node:crypto";
import { asciiBytes, bitString, boolean, integer, node, octetString, oid, sequence, tlv, type DerNode, type DerTree } from "./der.js";
import { Oid } from "./oids.js";
import { isValidUriSan } from "./san.js";
import type { SubjectKeyType } from "./spki.js";

/** extension: one Extension TLV; `critical` FALSE is omitted (DER default). */
export function extension(id: string | Uint8Array, critical: boolean, extnValue: Uint8Array): Uint8Array {
  const idDer = typeof id === "string" ? oid(id) : id;
  return critical ? sequence(idDer, boolean(true), octetString(extnValue)) : sequence(idDer, octetString(extnValue));
}

/** LEAF_BASIC_CONSTRAINTS: critical, cA FALSE — the empty SEQUENCE (RFC 5280 §4.2.1.9). */
export const LEAF_BASIC_CONSTRAINTS = extension(Oid.basicConstraints, true, sequence());

/** CA_BASIC_CONSTRAINTS: critical, cA TRUE, pathLenConstraint 0. */
export const CA_BASIC_CONSTRAINTS = extension(Oid.basicConstraints, true, sequence(boolean(true), integer(0)));

// KeyUsage is a named BIT STRING: DER drops trailing zero bits (X.690 §11.2.2).
// digitalSignature(0) → 07 80; digitalSignature(0)+keyEncipherment(2) → 05 A0;
// digitalSignature(0)+keyCertSign(5)+cRLSign(6) → 01 86.

/** KU_DIGITAL_SIGNATURE: critical keyUsage digitalSignature (EC and Ed25519 leaves). */
export const KU_DIGITAL_SIGNATURE = extension(Oid.keyUsage, true, bitString(Uint8Array.of(0x80), 7));

/** KU_DIGITAL_SIGNATURE_KEY_ENCIPHERMENT: critical keyUsage digitalSignature + keyEncipherment (RSA leaves). */
export const KU_DIGITAL_SIGNATURE_KEY_ENCIPHERMENT = extension(Oid.keyUsage, true, bitString(Uint8Array.of(0xa0), 5));

/** KU_CA: critical keyUsage keyCertSign + cRLSign + digitalSignature (the CA signs OCSP responses). */
export const KU_CA = extension(Oid.keyUsage, true, bitString(Uint8Array.of(0x86), 1));

/** EKU_CLIENT_AUTH: non-critical extendedKeyUsage id-kp-clientAuth (RFC 5280 §4.2.1.12). */
export const EKU_CLIENT_AUTH = extension(Oid.extKeyUsage, false, sequence(oid(Oid.clientAuth)));

/** leafKeyUsage picks the leaf keyUsage extension for a subject key type. */
export function leafKeyUsage(keyType: SubjectKeyType): Uint8Array {
  return keyType.startsWith("RSA") ? KU_DIGITAL_SIGNATURE_KEY_ENCIPHERMENT : KU_DIGITAL_SIGNATURE;
}

/** keyIdentifier: SHA-1 of the subjectPublicKey BIT STRING's bytes (RFC 5280 §4.2.1.2, method 1). */
export function keyIdentifier(publicKeyBits: Uint8Array): Uint8Array {
  return hash("sha1", publicKeyBits, "buffer");
}

const SKI_PREFIX = extension(Oid.subjectKeyIdentifier, false, octetString(new Uint8Array(20))).subarray(0, -20);

/** subjectKeyIdentifierExt: non-critical SKI, extnValue = OCTET STRING (the 20-byte key id). */
export function subjectKeyIdentifierExt(ski: Uint8Array): Uint8Array {
  if (ski.length === 20) {
    const out = new Uint8Array(SKI_PREFIX.length + 20);
    out.set(SKI_PREFIX);
    out.set(ski, SKI_PREFIX.length);
    return out;
  }
  return extension(Oid.subjectKeyIdentifier, false, octetString(ski));
}

/** authorityKeyIdentifierExt: non-critical AKI with keyIdentifier [0] only (RFC 5280 §4.2.1.1). */
export function authorityKeyIdentifierExt(caSki: Uint8Array): Uint8Array {
  return extension(Oid.authorityKeyIdentifier, false, sequence(tlv(0x80, caSki)));
}

/** subjectAltNameExt: SAN from GeneralNames DER; critical exactly when the subject is empty (§4.2.1.6). */
export function subjectAltNameExt(generalNames: Uint8Array, critical: boolean): Uint8Array {
  return extension(SAN_OID, critical, generalNames);
}

const SAN_OID = oid(Oid.subjectAltName);
const TRUE = boolean(true);

/** subjectAltNameExtNode is subjectAltNameExt over a GeneralNames DerNode. */
export function subjectAltNameExtNode(generalNames: DerNode, critical: boolean): DerTree {
  const value = node(0x04, [generalNames]);
  return node(0x30, critical ? [SAN_OID, TRUE, value] : [SAN_OID, value]);
}

/** subjectKeyIdentifierExtNode is subjectKeyIdentifierExt as a DerNode (20-byte key ids). */
export function subjectKeyIdentifierExtNode(ski: Uint8Array): DerNode {
  return ski.length === 20 ? node(-1, [SKI_PREFIX, ski]) : subjectKeyIdentifierExt(ski);
}

function checkedUri(url: string): Uint8Array {
  if (!isValidUriSan(url)) throw new TypeError("distribution URL must be an absolute ASCII URI");
  return tlv(0x86, asciiBytes(url));
}

/** crlDistributionPointsExt: non-critical, one DistributionPoint with a fullName URI (RFC 5280 §4.2.1.13). */
export function crlDistributionPointsExt(crlUrl: string): Uint8Array {
  // DistributionPoint ::= SEQUENCE { distributionPoint [0] { fullName [0] GeneralNames } }
  return extension(Oid.cRLDistributionPoints, false, sequence(sequence(tlv(0xa0, tlv(0xa0, checkedUri(crlUrl))))));
}

/** authorityInfoAccessExt: non-critical AIA with id-ad-ocsp and id-ad-caIssuers URIs (RFC 5280 §4.2.2.1). */
export function authorityInfoAccessExt(ocspUrl: string, caIssuersUrl: string): Uint8Array {
  return extension(
    Oid.authorityInfoAccess,
    false,
    sequence(sequence(oid(Oid.ocsp), checkedUri(ocspUrl)), sequence(oid(Oid.caIssuers), checkedUri(caIssuersUrl))),
  );
}
