/**
 * csr.ts parses and checks a PKCS#10 certification request (RFC 2986) for client-certificate
 * issuance: strict DER, version 0, the self-signature verified with node:crypto (Ed25519 too),
 * the key policy, the subject and SAN rules of PROFILE.md. Every other requested extension is
 * dropped and named in `droppedExtensions`; attributes other than extensionRequest are ignored.
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
 *     subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 */
import { verify, type KeyObject } from "node:crypto";
import { bitStringBytes, DerCursor, DerError, oidToString, rawOf, readBoolean, readOid, readWhole, type Tlv } from "./der-reader.js";
import { csrError } from "./errors.js";
import { extensionName, Oid } from "./oids.js";
import { derToPem, PemError, pemToDer } from "./pem.js";
import { parseSanExtension, type SubjectAltName } from "./san.js";
import { checkSubjectKey, publicKeyObject, type SubjectKey, type SubjectKeyType } from "./spki.js";
import { isEmptySubject, parseCsrSubject, type SubjectFields } from "./subject.js";

export type { SubjectAltName } from "./san.js";
export type { SubjectKeyType } from "./spki.js";
export type { SubjectFields } from "./subject.js";

/** ParsedCsr: a CSR that passed every check, reduced to what issuance uses. */
export interface ParsedCsr {
  der: Uint8Array;
  /** The CSR re-encoded as strict PEM (label CERTIFICATE REQUEST, 64-column lines). */
  pem: string;
  subject: SubjectFields;
  sans: SubjectAltName[];
  /** The SubjectPublicKeyInfo DER, copied into the certificate byte for byte. */
  spkiDer: Uint8Array;
  keyType: SubjectKeyType;
  /** Names of requested extensions that are never copied (e.g. basicConstraints), for `messages[]`. */
  droppedExtensions: string[];
}

const CSR_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"] as const;

type KeyFamily = "rsa" | "ec" | "ed25519";
interface CsrSignatureAlgorithm {
  family: KeyFamily;
  hash: "sha256" | "sha384" | "sha512" | null;
}

const SIGNATURE_ALGORITHMS: Readonly<Record<string, CsrSignatureAlgorithm>> = {
  [Oid.sha256WithRSA]: { family: "rsa", hash: "sha256" },
  [Oid.sha384WithRSA]: { family: "rsa", hash: "sha384" },
  [Oid.sha512WithRSA]: { family: "rsa", hash: "sha512" },
  [Oid.ecdsaWithSHA256]: { family: "ec", hash: "sha256" },
  [Oid.ecdsaWithSHA384]: { family: "ec", hash: "sha384" },
  [Oid.ecdsaWithSHA512]: { family: "ec", hash: "sha512" },
  [Oid.ed25519]: { family: "ed25519", hash: null },
};

function familyOf(keyType: SubjectKeyType): KeyFamily {
  return keyType === "Ed25519" ? "ed25519" : keyType.startsWith("RSA") ? "rsa" : "ec";
}

/** parseCsr decodes a PEM CSR and applies every check; throws GatehouseError with a CsrErrors code. */
export function parseCsr(pem: string): ParsedCsr {
  let der: Uint8Array;
  try {
    der = pemToDer(pem, CSR_LABELS);
  } catch (e) {
    if (e instanceof PemError) throw csrError("notPem", undefined, e);
    throw e;
  }
  return parseCsrDer(der);
}

/** parseCsrDer applies every check to a DER CSR (EST sends DER); throws GatehouseError with a CsrErrors code. */
export function parseCsrDer(der: Uint8Array): ParsedCsr {
  try {
    return parseChecked(der);
  } catch (e) {
    if (e instanceof DerError) throw csrError("notDer", undefined, e);
    throw e;
  }
}

function parseChecked(der: Uint8Array): ParsedCsr {
  // Structure: every element in place, nothing after the outer SEQUENCE.
  const outer = DerCursor.inside(der, readWhole(der, 0x30));
  const cri = outer.expect(0x30);
  const sigAlgTlv = outer.expect(0x30);
  const sigTlv = outer.expect(0x03);
  outer.finish();
  const info = DerCursor.inside(der, cri);
  const version = info.expect(0x02);
  const subjectTlv = info.expect(0x30);
  const spkiTlv = info.expect(0x30);
  const attributes = info.expect(0xa0);
  info.finish();

  // Version: v1(0) only.
  if (version.end - version.valueStart !== 1 || der[version.valueStart] !== 0) throw csrError("badVersion");

  // Key policy before the signature, so a weak key is reported as such.
  const key = checkSubjectKey(der, spkiTlv);
  const alg = readSignatureAlgorithm(der, sigAlgTlv);
  if (familyOf(key.keyType) !== alg.family) throw csrError("signatureKeyMismatch");

  // Proof of possession: the CSR's own signature over the CertificationRequestInfo bytes.
  const spkiDer = der.slice(spkiTlv.start, spkiTlv.end);
  verifySelfSignature(rawOf(der, cri), bitStringBytes(der, sigTlv), spkiDer, key, alg);

  const subject = parseCsrSubject(der, subjectTlv);
  const { sans, droppedExtensions } = readAttributes(der, attributes);
  if (sans.length === 0 && isEmptySubject(subject)) throw csrError("emptySubjectNoSan");

  const copy = der.slice();
  return { der: copy, pem: derToPem(copy, "CERTIFICATE REQUEST"), subject, sans, spkiDer, keyType: key.keyType, droppedExtensions };
}

function readSignatureAlgorithm(der: Uint8Array, t: Tlv): CsrSignatureAlgorithm {
  const c = DerCursor.inside(der, t);
  const oid = readOid(c);
  const params = c.atEnd ? undefined : c.next();
  c.finish();
  const alg = SIGNATURE_ALGORITHMS[oid];
  if (alg === undefined) throw csrError("unsupportedSignatureAlgorithm");
  // RSA: NULL parameters (or absent, as RFC 4055 §5 tolerates); ECDSA and Ed25519: absent.
  if (params !== undefined && !(alg.family === "rsa" && params.tag === 0x05 && params.end === params.valueStart)) {
    throw csrError("unsupportedSignatureAlgorithm", "unexpected parameters");
  }
  return alg;
}

function verifySelfSignature(cri: Uint8Array, signature: Uint8Array, spkiDer: Uint8Array, subjectKey: SubjectKey, alg: CsrSignatureAlgorithm): void {
  let key: KeyObject;
  try {
    key = publicKeyObject(spkiDer, subjectKey);
  } catch (e) {
    throw csrError("badPublicKey", undefined, e);
  }
  let ok = false;
  try {
    ok = verify(alg.hash, cri, key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw csrError("badSignature");
}

/** readAttributes walks the CSR attributes; only extensionRequest (PKCS#9 §5.4.2) is read. */
function readAttributes(der: Uint8Array, attributes: Tlv): { sans: SubjectAltName[]; droppedExtensions: string[] } {
  const c = DerCursor.inside(der, attributes);
  let sans: SubjectAltName[] = [];
  const droppedExtensions: string[] = [];
  let sawExtensionRequest = false;
  while (!c.atEnd) {
    const attr = DerCursor.inside(der, c.expect(0x30));
    const type = readOid(attr);
    const values = attr.expect(0x31);
    attr.finish();
    if (type !== Oid.extensionRequest) continue;
    if (sawExtensionRequest) throw csrError("duplicateExtension", "extensionRequest");
    sawExtensionRequest = true;
    try {
      sans = readExtensionRequest(der, values, droppedExtensions);
    } catch (e) {
      if (e instanceof DerError) throw csrError("badExtensionRequest", undefined, e);
      throw e;
    }
  }
  return { sans, droppedExtensions };
}

function readExtensionRequest(der: Uint8Array, values: Tlv, dropped: string[]): SubjectAltName[] {
  const set = DerCursor.inside(der, values);
  const extensions = DerCursor.inside(der, set.expect(0x30));
  set.finish();
  const seen = new Set<string>();
  let sans: SubjectAltName[] = [];
  while (!extensions.atEnd) {
    const ext = DerCursor.inside(der, extensions.expect(0x30));
    const idTlv = ext.expect(0x06);
    const id = oidToString(der, idTlv.valueStart, idTlv.end);
    if (ext.peekTag() === 0x01) readBoolean(ext);
    const value = ext.expect(0x04);
    ext.finish();
    if (seen.has(id)) throw csrError("duplicateExtension", extensionName(id));
    seen.add(id);
    if (id === Oid.subjectAltName) sans = parseSanExtension(der.subarray(value.valueStart, value.end));
    else dropped.push(extensionName(id));
  }
  return sans;
}
