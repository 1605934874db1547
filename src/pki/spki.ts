/**
 * spki.ts applies the subject key policy (PROFILE.md "Keys and signatures") to a
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): RSA 2048/3072/4096 with e = 65537 (RFC 3279
 * §2.3.1, NULL parameters), ECDSA on the named curves P-256 and P-384 only (RFC 5480 §2.1.1),
 * Ed25519 (RFC 8410 §4, parameters absent).
 *
 *   SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { bitStringBytes, checkInteger, DerCursor, DerError, readOid, readWhole, type Tlv } from "./der-reader.js";
import { csrError } from "./errors.js";
import { Oid } from "./oids.js";

/** SubjectKeyType: the key types a client certificate may certify. */
export type SubjectKeyType = "RSA-2048" | "RSA-3072" | "RSA-4096" | "P-256" | "P-384" | "Ed25519";

/** SubjectKey: the policy verdict on an SPKI. */
export interface SubjectKey {
  keyType: SubjectKeyType;
  /** The subjectPublicKey BIT STRING's bytes (after the unused-bits octet): the SKI is their SHA-1. */
  publicKeyBits: Uint8Array;
  /** RSA only: the modulus (without sign octet) and public exponent content octets. */
  rsa?: { n: Uint8Array; e: Uint8Array };
}

const E_65537 = [0x01, 0x00, 0x01];

/** checkSubjectKey reads the SPKI TLV `t` in `buf` and applies the key policy; throws CsrErrors codes or DerError. */
export function checkSubjectKey(buf: Uint8Array, t: Tlv): SubjectKey {
  const spki = DerCursor.inside(buf, t);
  const alg = DerCursor.inside(buf, spki.expect(0x30));
  const algOid = readOid(alg);
  const params = alg.atEnd ? undefined : alg.next();
  alg.finish();
  const keyBits = bitStringBytes(buf, spki.expect(0x03));
  spki.finish();

  switch (algOid) {
    case Oid.rsaEncryption: {
      if (params === undefined || params.tag !== 0x05 || params.end !== params.valueStart) throw csrError("badPublicKey", "RSA parameters must be NULL");
      return { ...rsaKey(keyBits), publicKeyBits: keyBits };
    }
    case Oid.ecPublicKey: {
      if (params === undefined || params.tag === 0x30 || params.tag === 0x05) throw csrError("explicitEcParameters");
      if (params.tag !== 0x06) throw csrError("badPublicKey");
      const curve = new DerCursor(buf, params.start, params.end);
      const curveOid = readOid(curve);
      const keyType = curveOid === Oid.prime256v1 ? "P-256" : curveOid === Oid.secp384r1 ? "P-384" : undefined;
      if (keyType === undefined) throw csrError("unsupportedCurve");
      // Uncompressed point only (RFC 5480 §2.2 makes it the MUST-support form).
      const coord = keyType === "P-256" ? 32 : 48;
      if (keyBits.length !== 1 + 2 * coord || keyBits[0] !== 0x04) throw csrError("badPublicKey", "EC point must be uncompressed");
      return { keyType, publicKeyBits: keyBits };
    }
    case Oid.ed25519: {
      if (params !== undefined) throw csrError("badPublicKey", "Ed25519 parameters must be absent");
      if (keyBits.length !== 32) throw csrError("badPublicKey");
      return { keyType: "Ed25519", publicKeyBits: keyBits };
    }
    default:
      throw csrError("unsupportedKeyAlgorithm");
  }
}

/** rsaKeyType reads RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1). */
function rsaKey(keyBits: Uint8Array): { keyType: SubjectKeyType; rsa: { n: Uint8Array; e: Uint8Array } } {
  let modulus: Tlv, exponent: Tlv;
  try {
    const c = DerCursor.inside(keyBits, readWhole(keyBits, 0x30));
    modulus = c.expect(0x02);
    exponent = c.expect(0x02);
    c.finish();
    if (checkInteger(keyBits, modulus).negative || checkInteger(keyBits, exponent).negative) throw new DerError("negative");
  } catch (e) {
    if (e instanceof DerError) throw csrError("badPublicKey", "RSA key", e);
    throw e;
  }
  let start = modulus.valueStart;
  if (keyBits[start] === 0) start++;
  const bytes = modulus.end - start;
  const bits = bytes === 0 ? 0 : (bytes - 1) * 8 + (32 - Math.clz32(keyBits[start]));
  if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw csrError("rsaKeySize");
  const e = keyBits.subarray(exponent.valueStart, exponent.end);
  if (e.length !== 3 || e[0] !== E_65537[0] || e[1] !== E_65537[1] || e[2] !== E_65537[2]) throw csrError("rsaExponent");
  const keyType = bits === 2048 ? "RSA-2048" : bits === 3072 ? "RSA-3072" : "RSA-4096";
  return { keyType, rsa: { n: keyBits.subarray(start, modulus.end), e } };
}

const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64url");

/**
 * publicKeyObject makes a node:crypto KeyObject for a checked key by the cheapest route on
 * OpenSSL 3.0 (measured in bench/pki-issue-speed.ts): a DER SPKI goes through OpenSSL's decoder
 * framework (~100 µs), while a JWK import is ~3 µs for RSA and ~6 µs for Ed25519, and ~70 µs for
 * P-256 (it runs a full EC key check). For P-384 the JWK check costs more than the decoder, so
 * P-384 keys are imported from DER. Throws when OpenSSL refuses the key (e.g. point not on curve).
 */
export function publicKeyObject(spkiDer: Uint8Array, key: SubjectKey): KeyObject {
  const bits = key.publicKeyBits;
  switch (key.keyType) {
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return createPublicKey({ key: { kty: "RSA", n: b64u(key.rsa!.n), e: b64u(key.rsa!.e) }, format: "jwk" });
    case "Ed25519":
      return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64u(bits) }, format: "jwk" });
    case "P-256":
      return createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64u(bits.subarray(1, 33)), y: b64u(bits.subarray(33, 65)) }, format: "jwk" });
    case "P-384":
      return createPublicKey({ key: Buffer.from(spkiDer.buffer, spkiDer.byteOffset, spkiDer.byteLength), format: "der", type: "spki" });
  }
}
