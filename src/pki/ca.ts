/**
 * ca.ts creates a managed CA: a self-signed root (RFC 5280 §4.1) with exactly the CA row of
 * PROFILE.md's extension table — basicConstraints (critical, cA TRUE, pathLen 0), keyUsage
 * (critical, keyCertSign + cRLSign + digitalSignature), subjectKeyIdentifier; no AKI, no EKU.
 */
import { generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { readWhole } from "./der-reader.js";
import { sequence, time, tlv } from "./der.js";
import { CA_BASIC_CONSTRAINTS, keyIdentifier, KU_CA, subjectKeyIdentifierExt } from "./extensions.js";
import { lintTbsCertificate } from "./lint.js";
import { derToPem } from "./pem.js";
import { newSerial, serialToHex } from "./serial.js";
import { keyObjectSigner, type CaKeyType, type Signer } from "./signer.js";
import { checkSubjectKey } from "./spki.js";
import { encodeSubject } from "./subject.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** CreatedCa: a new managed CA with its private key (to be sealed by `keys/` at once). */
export interface CreatedCa {
  certificateDer: Uint8Array;
  pem: string;
  privateKeyPkcs8Der: Uint8Array;
  subjectDer: Uint8Array;
  subjectKeyIdentifier: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  keyType: CaKeyType;
  serialHex: string;
}

/** CaCertificateParams: inputs of a self-signed CA certificate over an existing key (software or HSM). */
export interface CaCertificateParams {
  spkiDer: Uint8Array;
  signer: Signer;
  commonName: string;
  organization?: string;
  now: Date;
  /** Calendar years from notBefore, 1–50. */
  validityYears: number;
  /** Serial content octets; newSerial() when absent. */
  serial?: Uint8Array;
}

/** BuiltCaCertificate: the signed CA certificate and its stored fields. */
export interface BuiltCaCertificate {
  certificateDer: Uint8Array;
  pem: string;
  subjectDer: Uint8Array;
  subjectKeyIdentifier: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  serialHex: string;
}

/**
 * caValidity: notBefore = `now` truncated to the minute minus one minute; notAfter = notBefore
 * plus `years` calendar years (UTC).
 */
export function caValidity(now: Date, years: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(years) || years < 1 || years > 50) throw new RangeError("validityYears must be an integer from 1 to 50");
  const nb = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60_000);
  const na = new Date(nb.getTime());
  na.setUTCFullYear(nb.getUTCFullYear() + years);
  return { notBefore: nb, notAfter: na };
}

/**
 * buildCaCertificate makes and signs the self-signed CA certificate for `spkiDer` with `signer`
 * (subject O (optional) then CN, both UTF8String; issuer = subject). Lints before signing.
 */
export async function buildCaCertificate(p: CaCertificateParams): Promise<BuiltCaCertificate> {
  const key = checkSubjectKey(p.spkiDer, readWhole(p.spkiDer, 0x30));
  if (key.keyType !== p.signer.keyType) throw new TypeError("the CA public key does not match the signer's key type");
  const ski = keyIdentifier(key.publicKeyBits);
  const subjectDer = encodeSubject({ organization: p.organization, commonName: p.commonName });
  const { notBefore, notAfter } = caValidity(p.now, p.validityYears);
  const serial = p.serial ?? newSerial();
  const alg = p.signer.algorithmIdentifierDer;
  const tbs = tlv(
    0x30,
    Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02),
    tlv(0x02, serial),
    alg,
    subjectDer,
    sequence(time(notBefore), time(notAfter)),
    subjectDer,
    p.spkiDer,
    tlv(0xa3, sequence(CA_BASIC_CONSTRAINTS, KU_CA, subjectKeyIdentifierExt(ski))),
  );
  lintTbsCertificate(tbs, { profile: "ca", signatureAlgorithmDer: alg, issuerSubjectDer: subjectDer, issuerSki: ski });
  const signature = await p.signer.sign(tbs);
  const der = tlv(0x30, tbs, alg, tlv(0x03, Uint8Array.of(0), signature));
  return { certificateDer: der, pem: derToPem(der, "CERTIFICATE"), subjectDer, subjectKeyIdentifier: ski, notBefore, notAfter, serialHex: serialToHex(serial) };
}

/** generateCaKey makes a fresh CA key pair of `keyType` (RSA with e = 65537). */
export async function generateCaKey(keyType: CaKeyType): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (keyType) {
    case "P-256":
    case "P-384":
      return generateKeyPairAsync("ec", { namedCurve: keyType });
    case "RSA-2048":
    case "RSA-3072":
    case "RSA-4096":
      return generateKeyPairAsync("rsa", { modulusLength: Number(keyType.slice(4)), publicExponent: 65537 });
  }
}

/** createManagedCa generates a CA key and its self-signed certificate (validityYears: 20 by policy). */
export async function createManagedCa(p: {
  keyType: CaKeyType;
  commonName: string;
  organization?: string;
  now: Date;
  validityYears: number;
}): Promise<CreatedCa> {
  const { privateKey, publicKey } = await generateCaKey(p.keyType);
  const spkiDer = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
  const built = await buildCaCertificate({ ...p, spkiDer, signer: keyObjectSigner(privateKey, p.keyType) });
  return {
    ...built,
    privateKeyPkcs8Der: new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" })),
    keyType: p.keyType,
  };
}
