/**
 * provision-keys.ts makes a device's key pair and its PKCS#10 request (RFC 2986) on the factory
 * machine: the private key never leaves it. The request is built with the pki DER writer and the
 * subject encoder (one CN), signed with node:crypto.
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER 0, subject Name, subjectPKInfo, attributes [0] IMPLICIT SET OF (empty) }
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { bitString, integer, sequence, tlv } from "../pki/der.js";
import { derToPem } from "../pki/pem.js";
import { signatureScheme } from "../pki/signer.js";
import { encodeSubject } from "../pki/subject.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** DeviceKeyType: what `--key-type` accepts. */
export type DeviceKeyType = "p256" | "rsa2048";
export const DEVICE_KEY_TYPES: readonly DeviceKeyType[] = ["p256", "rsa2048"];

/** generateDeviceKey makes a key pair in libuv's thread pool (RSA generation does not block the loop). */
export async function generateDeviceKey(keyType: DeviceKeyType): Promise<KeyObject> {
  const pair =
    keyType === "p256"
      ? await generateKeyPairAsync("ec", { namedCurve: "P-256" })
      : await generateKeyPairAsync("rsa", { modulusLength: 2048, publicExponent: 65537 });
  return pair.privateKey;
}

/** keyTypeOf tells the device key type of a private key read back from key.pem (undefined: not one we make). */
export function keyTypeOf(key: KeyObject): DeviceKeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec" && d?.namedCurve === "prime256v1") return "p256";
  if (key.asymmetricKeyType === "rsa" && d?.modulusLength === 2048) return "rsa2048";
  return undefined;
}

export const privateKeyPem = (key: KeyObject): string => key.export({ type: "pkcs8", format: "pem" }) as string;
export const readPrivateKey = (pem: string): KeyObject => createPrivateKey(pem);

/** spkiDerOf returns the SubjectPublicKeyInfo DER of a private (or public) key. */
export function spkiDerOf(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: "spki", format: "der" });
}

/** buildCsrPem makes a CSR for `commonName`, signed with `key` (ecdsa-with-SHA256 or sha256WithRSAEncryption). */
export function buildCsrPem(key: KeyObject, commonName: string): string {
  const keyType = keyTypeOf(key);
  if (!keyType) throw new Error("device keys are P-256 or RSA-2048");
  const scheme = signatureScheme(keyType === "p256" ? "P-256" : "RSA-2048");
  const info = sequence(integer(0), encodeSubject({ commonName }), new Uint8Array(spkiDerOf(key)), tlv(0xa0));
  const signature = sign(scheme.hash, info, key);
  return derToPem(sequence(info, scheme.algorithmIdentifierDer, bitString(signature)), "CERTIFICATE REQUEST");
}

/**
 * idempotencyKeyOf derives the issuance's Idempotency-Key from the device name and its public
 * key: a rerun after a crash sends the same key (and, with the saved csr.pem, the same body), so
 * the API replays the certificate it already issued instead of issuing a second one.
 */
export function idempotencyKeyOf(deviceName: string, spkiDer: Buffer): string {
  const digest = createHash("sha256").update(deviceName, "utf8").update(Buffer.of(0)).update(spkiDer).digest("base64url");
  return `provision-${digest}`;
}
