/**
 * signer.ts defines the Signer every CA key sits behind (software or PKCS#11) and the signature
 * algorithm each CA key type uses (PROFILE.md "Keys and signatures"): RSA → sha256WithRSAEncryption
 * with NULL parameters (PKCS#1 v1.5, never PSS); P-256 → ecdsa-with-SHA256; P-384 →
 * ecdsa-with-SHA384, parameters absent (RFC 5758 §3.2).
 */
import { sign as nodeSign, type KeyObject } from "node:crypto";
import { NULL, oid, sequence } from "./der.js";
import { Oid } from "./oids.js";

/** CaKeyType: the key types a managed CA may have. */
export type CaKeyType = "P-256" | "P-384" | "RSA-2048" | "RSA-3072" | "RSA-4096";

/** CA_KEY_TYPES lists every CaKeyType (for validation and test tables). */
export const CA_KEY_TYPES: readonly CaKeyType[] = ["P-256", "P-384", "RSA-2048", "RSA-3072", "RSA-4096"];

/** Signer signs TBS structures with one CA key. */
export interface Signer {
  readonly keyType: CaKeyType;
  /** DER AlgorithmIdentifier of the signature this signer makes (also the TBS `signature` field). */
  readonly algorithmIdentifierDer: Uint8Array;
  /** Go-constant name for the API's `signature` field: SHA256WithRSA, ECDSAWithSHA256, ECDSAWithSHA384. */
  readonly signatureName: string;
  /** sign signs `data` (a TBS DER) and returns the raw signatureValue bytes (DER ECDSA-Sig-Value for EC). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** SignatureScheme: how a CA key type signs. */
export interface SignatureScheme {
  /** node:crypto digest name. */
  hash: "sha256" | "sha384";
  algorithmIdentifierDer: Uint8Array;
  signatureName: string;
}

const RSA_SHA256: SignatureScheme = {
  hash: "sha256",
  algorithmIdentifierDer: sequence(oid(Oid.sha256WithRSA), NULL),
  signatureName: "SHA256WithRSA",
};
const ECDSA_SHA256: SignatureScheme = {
  hash: "sha256",
  algorithmIdentifierDer: sequence(oid(Oid.ecdsaWithSHA256)),
  signatureName: "ECDSAWithSHA256",
};
const ECDSA_SHA384: SignatureScheme = {
  hash: "sha384",
  algorithmIdentifierDer: sequence(oid(Oid.ecdsaWithSHA384)),
  signatureName: "ECDSAWithSHA384",
};

/** signatureScheme returns the one signature algorithm Gatehouse uses for a CA key type. */
export function signatureScheme(keyType: CaKeyType): SignatureScheme {
  switch (keyType) {
    case "P-256":
      return ECDSA_SHA256;
    case "P-384":
      return ECDSA_SHA384;
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return RSA_SHA256;
  }
}

/** caKeyTypeOf names the CaKeyType of a node:crypto key, or undefined if it is not one. */
export function caKeyTypeOf(key: KeyObject): CaKeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec") {
    if (d?.namedCurve === "prime256v1") return "P-256";
    if (d?.namedCurve === "secp384r1") return "P-384";
  } else if (key.asymmetricKeyType === "rsa" && d?.publicExponent === 65537n) {
    if (d.modulusLength === 2048) return "RSA-2048";
    if (d.modulusLength === 3072) return "RSA-3072";
    if (d.modulusLength === 4096) return "RSA-4096";
  }
  return undefined;
}

/**
 * keyObjectSigner wraps a private KeyObject as a Signer. P-256 signs on the event loop; slower
 * keys sign asynchronously on the libuv threadpool (`crypto.sign` with a callback).
 */
export function keyObjectSigner(privateKey: KeyObject, keyType: CaKeyType): Signer {
  if (privateKey.type !== "private") throw new TypeError("keyObjectSigner needs a private key");
  const actual = caKeyTypeOf(privateKey);
  if (actual !== keyType) throw new TypeError(`private key is not a ${keyType} key`);
  const scheme = signatureScheme(keyType);
  return {
    keyType,
    algorithmIdentifierDer: scheme.algorithmIdentifierDer,
    signatureName: scheme.signatureName,
    sign(data: Uint8Array): Promise<Uint8Array> {
      // A P-256 signature costs ~20 µs: on the event loop it is cheaper than a threadpool round
      // trip, whose job set-up contends with the loop's own crypto on OpenSSL 3.0's locks
      // (measured: 4.8% vs 13.6% of a worker's time under load). Slow keys (RSA, P-384: 0.3–0.6 ms)
      // sign on the threadpool so the loop never stalls.
      if (keyType === "P-256") {
        try {
          return Promise.resolve(nodeSign(scheme.hash, data, privateKey));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return new Promise((resolve, reject) => {
        nodeSign(scheme.hash, data, privateKey, (err, sig) => (err ? reject(err) : resolve(sig)));
      });
    },
  };
}
