/**
 * stream-signer.ts signs a structure that is fed in pieces, so a CRL of a million entries is never
 * copied into one buffer just to be signed. Software keys hash as the bytes arrive
 * (`crypto.createSign().update()` per chunk; ECDSA and RSA PKCS#1 v1.5 both sign the digest, so this
 * is exactly `crypto.sign` over the concatenation). A Signer that only signs whole buffers (an
 * HSM behind `Signer`) is adapted by collecting the pieces.
 */
import { createSign, type KeyObject } from "node:crypto";
import { concat } from "./der.js";
import { caKeyTypeOf, signatureScheme, type CaKeyType, type Signer } from "./signer.js";

/** SignStream: one signature in progress. */
export interface SignStream {
  /** update feeds the next piece of the data to be signed. */
  update(chunk: Uint8Array): void;
  /** final returns the raw signatureValue bytes (DER ECDSA-Sig-Value for EC keys). */
  final(): Promise<Uint8Array>;
}

/** StreamSigner is a CA key that can sign data given in pieces. */
export interface StreamSigner {
  readonly keyType: CaKeyType;
  /** DER AlgorithmIdentifier of the signature (also the TBS `signature` field). */
  readonly algorithmIdentifierDer: Uint8Array;
  begin(): SignStream;
}

/** streamSignerFromKey signs incrementally with a private KeyObject of `keyType` (PROFILE.md algorithms). */
export function streamSignerFromKey(privateKey: KeyObject, keyType: CaKeyType): StreamSigner {
  if (privateKey.type !== "private" || caKeyTypeOf(privateKey) !== keyType) throw new TypeError(`private key is not a ${keyType} key`);
  const scheme = signatureScheme(keyType);
  return {
    keyType,
    algorithmIdentifierDer: scheme.algorithmIdentifierDer,
    begin() {
      const s = createSign(scheme.hash);
      return {
        update: (chunk) => void s.update(chunk),
        final: async () => new Uint8Array(s.sign(privateKey)),
      };
    },
  };
}

/** streamSignerFromSigner adapts a whole-buffer Signer: pieces are collected, then signed at once. */
export function streamSignerFromSigner(signer: Signer): StreamSigner {
  return {
    keyType: signer.keyType,
    algorithmIdentifierDer: signer.algorithmIdentifierDer,
    begin() {
      const parts: Uint8Array[] = [];
      return {
        update: (chunk) => void parts.push(chunk),
        final: () => signer.sign(concat(...parts)),
      };
    },
  };
}
