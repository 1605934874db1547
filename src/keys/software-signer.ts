/**
 * software-signer.ts: the Signer for CA keys held in memory (decrypted from the database by
 * `keys/secrets.ts`). The PKCS#8 bytes are parsed once into a node:crypto KeyObject; the caller
 * may wipe its buffer right after this returns.
 */
import { createPrivateKey } from "node:crypto";
import { keyObjectSigner, type CaKeyType, type Signer } from "../pki/signer.js";

/**
 * createSoftwareSigner returns a Signer over a PKCS#8 DER private key of type `keyType`.
 * Throws TypeError when the key does not parse or is not of that type.
 */
export function createSoftwareSigner(privateKeyPkcs8Der: Uint8Array, keyType: CaKeyType): Signer {
  const key = createPrivateKey({
    key: Buffer.from(privateKeyPkcs8Der.buffer, privateKeyPkcs8Der.byteOffset, privateKeyPkcs8Der.byteLength),
    format: "der",
    type: "pkcs8",
  });
  return keyObjectSigner(key, keyType);
}
