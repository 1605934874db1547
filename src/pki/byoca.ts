/**
 * byoca.ts validates what a user uploads as an mTLS certificate (Cloudflare's
 * `mtls_certificates`): a CA (`ca: true`, Bring Your Own CA) or a leaf with its private key
 * (`ca: false`, for the outbound binding).
 *
 * - `certificates` is one or more PEM CERTIFICATE blocks, leaf (or CA) first. Line endings,
 *   line lengths and surrounding whitespace are normalised by re-encoding each DER (RFC 7468
 *   strict form), so what is stored and returned is byte-stable. A private key, a CSR or a public
 *   key in that field is refused with a message saying what to send instead.
 * - each certificate's signature verifies with the public key of the one after it, and that one
 *   is a CA (RFC 5280 §6.1 read pairwise; no path to a root is required).
 * - `ca: true`: the first certificate is a CA (basicConstraints cA TRUE, RFC 5280 §4.2.1.9;
 *   keyCertSign when keyUsage is present, §4.2.1.3), unexpired, with an accepted key. Only it
 *   becomes a trust anchor; the rest of the chain is kept for display.
 * - `ca: false`: the private key (PKCS#8, SEC1 or PKCS#1; never encrypted) matches the first
 *   certificate's public key and comes back as PKCS#8 DER for sealing.
 *
 * Pure: no I/O and no clock (`now` is passed in). Certificates are read with node:crypto's
 * X509Certificate (OpenSSL) for signatures and keys, and with the strict DER reader for the
 * fields Gatehouse stores byte for byte (issuer and subject Names, extensions, validity).
 * Messages never echo the uploaded text: they name the field, the certificate's position and
 * what to fix.
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { GatehouseError } from "../errors.js";
import { DerCursor, DerError, rawOf, readBoolean, readOid, readTlv, readWhole, timeToDate, type Tlv } from "./der-reader.js";
import { Tag } from "./der.js";
import { formatDnRfc4514 } from "./names.js";
import { Oid } from "./oids.js";
import { derToPem, PemError, pemBlocks } from "./pem.js";
import { serialToDecimal } from "./serial.js";

/**
 * ByocaErrors: codes for an upload's content (1400–1449). The request-level codes of the family
 * (quota 1489, delete conflicts, filters) are in services/mtls-certificates.ts.
 */
export const ByocaErrors = {
  notPem: 1400,
  derNotPem: 1401,
  badCertificate: 1402,
  combinedPem: 1403,
  notACertificate: 1404,
  tooManyCertificates: 1405,
  chainOutOfOrder: 1406,
  chainBroken: 1407,
  notACa: 1408,
  noKeyCertSign: 1409,
  expired: 1410,
  unsupportedKey: 1411,
  rsaKeySize: 1412,
  unsupportedSignatureAlgorithm: 1413,
  privateKeyNotAllowed: 1414,
  privateKeyRequired: 1415,
  privateKeyNotPem: 1416,
  privateKeyEncrypted: 1417,
  keyMismatch: 1418,
  badPrivateKey: 1419,
} as const;

export type ByocaErrorName = keyof typeof ByocaErrors;

/** BYOCA_ERROR_INFO: the message each code carries and when it is returned (docs/error-codes.md). */
export const BYOCA_ERROR_INFO: Readonly<Record<ByocaErrorName, { message: string; when: string }>> = {
  notPem: {
    message: "certificates must be PEM: one or more -----BEGIN CERTIFICATE----- blocks, leaf (or CA) first",
    when: "no PEM block, a damaged block (bad base64, mismatched BEGIN/END), or stray PEM markers",
  },
  derNotPem: {
    message: "certificates holds DER (binary or bare base64), not PEM; convert it with `openssl x509 -inform DER -in cert.der -outform PEM`",
    when: "the text is a DER certificate, raw or base64 without the BEGIN/END lines",
  },
  badCertificate: {
    message: "a certificate does not parse as DER X.509",
    when: "a CERTIFICATE block whose bytes are not a valid certificate",
  },
  combinedPem: {
    message:
      "certificates holds a private key as well: send only the CERTIFICATE blocks in certificates and the key, alone, in private_key (ca: false only); split a combined file with `openssl x509 -in combined.pem` and `openssl pkey -in combined.pem`",
    when: "a PRIVATE KEY block inside certificates, or a CERTIFICATE block inside private_key",
  },
  notACertificate: {
    message: "certificates may only hold CERTIFICATE blocks; do not include certificate requests or public keys",
    when: "a CERTIFICATE REQUEST, PUBLIC KEY or other non-certificate block",
  },
  tooManyCertificates: {
    message: "certificates may hold at most 10 certificates",
    when: "a chain longer than 10",
  },
  chainOutOfOrder: {
    message: "certificates are out of order: put the leaf (or CA) first, then each certificate's issuer right after it",
    when: "the certificates chain in another order (e.g. root first)",
  },
  chainBroken: {
    message: "each certificate must be signed by the next one, which must be a CA; remove certificates that do not belong to the chain",
    when: "a certificate is not signed by the one after it, or the one after it is not a CA",
  },
  notACa: {
    message: "the first certificate is not a CA (basicConstraints CA:TRUE is missing); upload a leaf with ca: false and its private_key, or upload the CA that issued it",
    when: "ca: true with a first certificate whose basicConstraints is absent or cA FALSE",
  },
  noKeyCertSign: {
    message: "the first certificate has a keyUsage extension without keyCertSign, so it may not sign certificates",
    when: "ca: true with keyUsage present but keyCertSign not set",
  },
  expired: {
    message: "the first certificate has expired",
    when: "the first certificate's notAfter is in the past",
  },
  unsupportedKey: {
    message: "the first certificate's key is not supported; use RSA (2048 to 8192 bits), ECDSA P-256 or P-384, or Ed25519",
    when: "DSA, RSA-PSS, Ed448, X25519, EC curves other than P-256/P-384 (P-521 included), explicit EC parameters",
  },
  rsaKeySize: {
    message: "the first certificate's RSA key must be 2048 to 8192 bits",
    when: "an RSA key below 2048 bits (1024-bit keys included) or above 8192",
  },
  unsupportedSignatureAlgorithm: {
    message:
      "a certificate's signature algorithm is not supported; use SHA-1/256/384/512 with RSA (PKCS#1 v1.5) or ECDSA, or Ed25519",
    when: "MD5, MD2, RSA-PSS, DSA or an unknown signature algorithm",
  },
  privateKeyNotAllowed: {
    message: "private_key must be absent when ca is true: Gatehouse never holds the key of an uploaded CA",
    when: "ca: true with a private_key",
  },
  privateKeyRequired: {
    message: "private_key is required when ca is false: send the PEM private key of the first certificate",
    when: "ca: false without a private_key",
  },
  privateKeyNotPem: {
    message:
      "private_key must be one PEM private key: PRIVATE KEY (PKCS#8), EC PRIVATE KEY (SEC1) or RSA PRIVATE KEY (PKCS#1); convert others with `openssl pkey -in key.pem`",
    when: "no PEM block, several keys, or another kind of block (OpenSSH keys, public keys)",
  },
  privateKeyEncrypted: {
    message: "private_key is encrypted; send it unencrypted (decrypt it with `openssl pkey -in key.pem -out plain.pem`)",
    when: "ENCRYPTED PRIVATE KEY blocks or legacy Proc-Type: 4,ENCRYPTED keys",
  },
  keyMismatch: {
    message: "private_key does not match the first certificate's public key",
    when: "the key is valid but belongs to another certificate",
  },
  badPrivateKey: {
    message: "private_key does not parse as the key type its PEM label names",
    when: "a PRIVATE KEY block whose bytes are not a valid key",
  },
};

/** byocaError builds the GatehouseError (400) for `name`; `detail` may name a position or field, never input. */
export function byocaError(name: ByocaErrorName, detail?: string, cause?: unknown): GatehouseError {
  const info = BYOCA_ERROR_INFO[name];
  const message = detail === undefined ? info.message : `${info.message} (${detail})`;
  return new GatehouseError(ByocaErrors[name], 400, message, cause === undefined ? undefined : { cause });
}

/** MAX_CHAIN_LENGTH bounds how many certificates one upload may hold. */
export const MAX_CHAIN_LENGTH = 10;
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 8192;

/**
 * SIGNATURE_NAMES: accepted certificate signature algorithms, by Go's x509.SignatureAlgorithm
 * constant names (PROFILE.md; Cloudflare's BYOCA list plus Ed25519). RSA and ECDSA identifiers
 * must carry the parameters RFC 4055 / RFC 5758 give them (NULL, or absent).
 */
const SIGNATURE_NAMES: Readonly<Record<string, { name: string; nullParams: boolean }>> = {
  [Oid.sha1WithRSA]: { name: "SHA1WithRSA", nullParams: true },
  [Oid.sha256WithRSA]: { name: "SHA256WithRSA", nullParams: true },
  [Oid.sha384WithRSA]: { name: "SHA384WithRSA", nullParams: true },
  [Oid.sha512WithRSA]: { name: "SHA512WithRSA", nullParams: true },
  [Oid.ecdsaWithSHA1]: { name: "ECDSAWithSHA1", nullParams: false },
  [Oid.ecdsaWithSHA256]: { name: "ECDSAWithSHA256", nullParams: false },
  [Oid.ecdsaWithSHA384]: { name: "ECDSAWithSHA384", nullParams: false },
  [Oid.ecdsaWithSHA512]: { name: "ECDSAWithSHA512", nullParams: false },
  [Oid.ed25519]: { name: "PureEd25519", nullParams: false },
};

/** SIGNATURE_ALGORITHM_NAMES lists every `signature` value an upload can have (for the API contract). */
export const SIGNATURE_ALGORITHM_NAMES: readonly string[] = Object.values(SIGNATURE_NAMES).map((s) => s.name);

/** UploadedCertificate: one certificate of an upload, with the fields Gatehouse stores or checks. */
export interface UploadedCertificate {
  der: Buffer;
  x509: X509Certificate;
  /** The issuer and subject Name TLVs, byte for byte. */
  issuerDer: Buffer;
  subjectDer: Buffer;
  /** Serial number content octets, as encoded. */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** Go-constant name of the signature algorithm (SHA256WithRSA, ECDSAWithSHA384, PureEd25519, …). */
  signatureName: string;
  /** basicConstraints cA. */
  isCa: boolean;
  /** keyUsage bits (bit 0 = digitalSignature … bit 8 = decipherOnly), undefined when the extension is absent. */
  keyUsage: number | undefined;
  /** subjectKeyIdentifier, or SHA-1 of the subjectPublicKey bits when the extension is absent (RFC 5280 §4.2.1.2 method 1). */
  ski: Buffer;
}

/** ValidatedUpload: an upload that passed every check, reduced to what is stored and shown. */
export interface ValidatedUpload {
  ca: boolean;
  /** The chain re-encoded: strict PEM blocks, LF line ends, each ending in a newline. */
  pem: string;
  certificates: UploadedCertificate[];
  /** The first certificate: the trust anchor of a CA upload, the presented leaf otherwise. */
  first: UploadedCertificate;
  /** RFC 4514 issuer DN of the first certificate (most specific RDN first). */
  issuer: string;
  /** RFC 4514 subject DN of the first certificate. */
  subject: string;
  /** The first certificate's serial in decimal, as Cloudflare shows it. */
  serialDecimal: string;
  signatureName: string;
  notBefore: Date;
  notAfter: Date;
  /** ca: false only: the private key as unencrypted PKCS#8 DER, for sealing. Callers zero it after use. */
  privateKeyPkcs8?: Buffer;
}

const KEY_CERT_SIGN_BIT = 5;

// ── PEM ──────────────────────────────────────────────────────────────────────────────────────

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END ([A-Z0-9 ]+)-----/g;
const KEY_LABEL = /PRIVATE KEY$/;

interface RawBlock {
  label: string;
  text: string;
}

/**
 * rawBlocks finds the PEM blocks of `text`. Explanatory text between blocks (as `openssl x509
 * -text` or pkcs12 exports print) is ignored, as RFC 7468 §2 allows; stray PEM markers outside
 * a complete block are not.
 */
function rawBlocks(text: string): RawBlock[] | undefined {
  const blocks: RawBlock[] = [];
  let outside = "";
  let last = 0;
  BLOCK.lastIndex = 0;
  for (let m = BLOCK.exec(text); m !== null; m = BLOCK.exec(text)) {
    outside += text.slice(last, m.index);
    blocks.push({ label: m[1], text: m[0] });
    last = m.index + m[0].length;
  }
  outside += text.slice(last);
  if (/-----(BEGIN|END)/.test(outside)) return undefined;
  return blocks;
}

/** unescapeNewlines turns a PEM pasted with literal `\n` sequences (one long line) back into lines. */
function unescapeNewlines(text: string): string {
  return !/[\r\n]/.test(text.trim()) && text.includes("\\n") ? text.replace(/\\r\\n|\\n/g, "\n") : text;
}

/** decodeBlock decodes one complete block with the strict PEM reader; undefined when it is damaged. */
function decodeBlock(block: RawBlock): Uint8Array | undefined {
  try {
    const [decoded] = pemBlocks(block.text);
    return decoded.label === block.label ? decoded.der : undefined;
  } catch (e) {
    if (e instanceof PemError) return undefined;
    throw e;
  }
}

/** looksLikeDer tells a DER certificate sent raw, or as base64 without armour. */
function looksLikeDer(text: string): boolean {
  if (text.charCodeAt(0) === 0x30 && text.length > 1 && text.charCodeAt(1) >= 0x80) return true;
  const b64 = text.replace(/\s+/g, "");
  if (b64.length < 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Buffer.from(b64, "base64");
  return bytes[0] === 0x30 && bytes[1] >= 0x81 && bytes[1] <= 0x84;
}

// ── certificates ─────────────────────────────────────────────────────────────────────────────

/**
 * parseCertificateChain decodes `certificates` (PEM text) into its certificates in order and
 * verifies each one against the next. It does not apply the CA or leaf rules: see validateUpload.
 */
export function parseCertificateChain(text: string): { pem: string; certificates: UploadedCertificate[] } {
  const normalised = unescapeNewlines(text);
  const blocks = rawBlocks(normalised);
  if (blocks === undefined) throw byocaError("notPem");
  if (blocks.length === 0) {
    throw looksLikeDer(normalised.trim()) ? byocaError("derNotPem") : byocaError("notPem");
  }
  if (blocks.some((b) => KEY_LABEL.test(b.label))) throw byocaError("combinedPem");
  const certs: UploadedCertificate[] = [];
  for (const [i, block] of blocks.entries()) {
    if (block.label !== "CERTIFICATE") throw byocaError("notACertificate", `block ${i + 1} is not a certificate`);
    const der = decodeBlock(block);
    if (der === undefined) throw byocaError("notPem", `block ${i + 1} is damaged`);
    if (certs.length === MAX_CHAIN_LENGTH) throw byocaError("tooManyCertificates");
    certs.push(readCertificate(Buffer.from(der), i, blocks.length));
  }
  verifyChainOrder(certs);
  return { pem: certs.map((c) => derToPem(c.der, "CERTIFICATE")).join(""), certificates: certs };
}

const position = (i: number, n: number): string => (n === 1 ? "the certificate" : `certificate ${i + 1} of ${n}`);

/**
 * readCertificate parses one certificate (RFC 5280 §4.1):
 *
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber INTEGER,
 *     signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
 *     subjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT OPTIONAL, subjectUniqueID [2] IMPLICIT
 *     OPTIONAL, extensions [3] EXPLICIT Extensions OPTIONAL }
 */
function readCertificate(der: Buffer, index: number, count: number): UploadedCertificate {
  const where = position(index, count);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (e) {
    throw byocaError("badCertificate", where, e);
  }
  try {
    const cert = DerCursor.inside(der, readWhole(der, Tag.sequence));
    const tbsTlv = cert.expect(Tag.sequence);
    const sigAlg = readAlgorithm(der, cert.expect(Tag.sequence));
    cert.expect(Tag.bitString);
    cert.finish();

    const tbs = DerCursor.inside(der, tbsTlv);
    tbs.optional(0xa0);
    const serialTlv = tbs.expect(Tag.integer);
    const tbsSigAlg = readAlgorithm(der, tbs.expect(Tag.sequence));
    const issuerTlv = tbs.expect(Tag.sequence);
    const validity = DerCursor.inside(der, tbs.expect(Tag.sequence));
    const notBefore = timeToDate(der, validity.next());
    const notAfter = timeToDate(der, validity.next());
    validity.finish();
    const subjectTlv = tbs.expect(Tag.sequence);
    const spkiTlv = tbs.expect(Tag.sequence);
    tbs.optional(0x81);
    tbs.optional(0x82);
    const extensionsTlv = tbs.optional(0xa3);
    tbs.finish();

    if (sigAlg.oid !== tbsSigAlg.oid) throw byocaError("badCertificate", `${where}: the two signature algorithm fields differ`);
    const known = SIGNATURE_NAMES[sigAlg.oid];
    if (!known || (known.nullParams ? !sigAlg.nullParams : sigAlg.params !== undefined)) {
      throw byocaError("unsupportedSignatureAlgorithm", where);
    }
    const ext = readExtensions(der, extensionsTlv);
    return {
      der,
      x509,
      issuerDer: Buffer.from(rawOf(der, issuerTlv)),
      subjectDer: Buffer.from(rawOf(der, subjectTlv)),
      serial: Buffer.from(der.subarray(serialTlv.valueStart, serialTlv.end)),
      notBefore,
      notAfter,
      signatureName: known.name,
      isCa: ext.isCa,
      keyUsage: ext.keyUsage,
      ski: ext.ski ?? spkiKeyHash(der, spkiTlv),
    };
  } catch (e) {
    if (e instanceof DerError) throw byocaError("badCertificate", where, e);
    throw e;
  }
}

interface Algorithm {
  oid: string;
  params: Tlv | undefined;
  nullParams: boolean;
}

function readAlgorithm(buf: Uint8Array, t: Tlv): Algorithm {
  const c = DerCursor.inside(buf, t);
  const oid = readOid(c);
  const params = c.atEnd ? undefined : c.next();
  c.finish();
  return { oid, params, nullParams: params !== undefined && params.tag === Tag.null && params.end === params.valueStart };
}

/** spkiKeyHash: SHA-1 of the subjectPublicKey BIT STRING contents (after the unused-bits octet). */
function spkiKeyHash(buf: Uint8Array, spki: Tlv): Buffer {
  const c = DerCursor.inside(buf, spki);
  c.expect(Tag.sequence);
  const bits = c.expect(Tag.bitString);
  return createHash("sha1").update(buf.subarray(bits.valueStart + 1, bits.end)).digest();
}

/**
 * readExtensions reads basicConstraints (SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER
 * OPTIONAL }), keyUsage (named BIT STRING) and subjectKeyIdentifier (OCTET STRING); a repeated
 * extension makes the certificate invalid (RFC 5280 §4.2).
 */
function readExtensions(buf: Uint8Array, t: Tlv | undefined): { isCa: boolean; keyUsage?: number; ski?: Buffer } {
  const out: { isCa: boolean; keyUsage?: number; ski?: Buffer } = { isCa: false };
  if (!t) return out;
  const seen = new Set<string>();
  const outer = DerCursor.inside(buf, t);
  const list = DerCursor.inside(buf, outer.expect(Tag.sequence));
  outer.finish();
  while (!list.atEnd) {
    const e = DerCursor.inside(buf, list.expect(Tag.sequence));
    const id = readOid(e);
    if (e.peekTag() === Tag.boolean) readBoolean(e);
    const value = e.expect(Tag.octetString);
    e.finish();
    if (seen.has(id)) throw new DerError("repeated extension");
    seen.add(id);
    if (id === Oid.basicConstraints) {
      const bcTlv = readTlv(buf, value.valueStart, value.end);
      if (bcTlv.tag !== Tag.sequence || bcTlv.end !== value.end) throw new DerError("bad basicConstraints");
      const bc = DerCursor.inside(buf, bcTlv);
      out.isCa = bc.peekTag() === Tag.boolean ? readBoolean(bc) : false;
    } else if (id === Oid.keyUsage) {
      const ku = readTlv(buf, value.valueStart, value.end);
      if (ku.tag !== Tag.bitString || ku.end !== value.end || ku.end - ku.valueStart < 1) throw new DerError("bad keyUsage");
      // Named bit k sits in content byte k >> 3 (after the unused-bits octet), mask 0x80 >> (k & 7).
      let flags = 0;
      for (let k = 0; k < 9; k++) {
        const at = ku.valueStart + 1 + (k >> 3);
        if (at < ku.end && (buf[at] & (0x80 >> (k & 7))) !== 0) flags |= 1 << k;
      }
      out.keyUsage = flags;
    } else if (id === Oid.subjectKeyIdentifier) {
      const ski = readTlv(buf, value.valueStart, value.end);
      if (ski.tag !== Tag.octetString || ski.end !== value.end || ski.end === ski.valueStart) throw new DerError("bad subjectKeyIdentifier");
      out.ski = Buffer.from(buf.subarray(ski.valueStart, ski.end));
    }
  }
  return out;
}

/** signedBy: `issuer` is a CA, names it as issuer (and AKI/SKI agree) and its key verifies the signature. */
function signedBy(cert: UploadedCertificate, issuer: UploadedCertificate): boolean {
  return issuer.isCa && cert.x509.checkIssued(issuer.x509) && cert.x509.verify(issuer.x509.publicKey);
}

/**
 * verifyChainOrder requires certificate i to be signed by certificate i+1. When a pair fails but
 * the certificates would chain in another order, the error says so (users often paste root first).
 */
function verifyChainOrder(certs: UploadedCertificate[]): void {
  for (let i = 0; i + 1 < certs.length; i++) {
    if (signedBy(certs[i], certs[i + 1])) continue;
    const where = `certificate ${i + 1} is not signed by certificate ${i + 2}`;
    const reorderable = certs.some((other, j) => j !== i && j !== i + 1 && signedBy(certs[i], other)) || signedBy(certs[i + 1], certs[i]);
    throw byocaError(reorderable ? "chainOutOfOrder" : "chainBroken", where);
  }
}

// ── keys ─────────────────────────────────────────────────────────────────────────────────────

/** checkKeyPolicy applies the upload key policy to the first certificate's public key. */
function checkKeyPolicy(key: KeyObject): void {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa": {
      const bits = d.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw byocaError("rsaKeySize");
      return;
    }
    case "ec":
      if (d.namedCurve === "prime256v1" || d.namedCurve === "secp384r1") return;
      throw byocaError("unsupportedKey");
    case "ed25519":
      return;
    default:
      throw byocaError("unsupportedKey");
  }
}

const KEY_TYPES: Readonly<Record<string, "pkcs8" | "sec1" | "pkcs1">> = {
  "PRIVATE KEY": "pkcs8",
  "EC PRIVATE KEY": "sec1",
  "RSA PRIVATE KEY": "pkcs1",
};

/**
 * parsePrivateKey reads `private_key`: exactly one unencrypted PKCS#8, SEC1 or PKCS#1 PEM key (an
 * `EC PARAMETERS` block beside a SEC1 key, as `openssl ecparam -genkey` writes, is ignored).
 */
export function parsePrivateKey(text: string): KeyObject {
  const blocks = rawBlocks(unescapeNewlines(text));
  if (blocks === undefined || blocks.length === 0) throw byocaError("privateKeyNotPem");
  const relevant = blocks.filter((b) => b.label !== "EC PARAMETERS");
  if (relevant.some((b) => b.label === "ENCRYPTED PRIVATE KEY" || /Proc-Type:\s*4,\s*ENCRYPTED/i.test(b.text))) {
    throw byocaError("privateKeyEncrypted");
  }
  if (relevant.some((b) => b.label === "CERTIFICATE")) throw byocaError("combinedPem", "private_key holds a certificate");
  if (relevant.length !== 1 || KEY_TYPES[relevant[0].label] === undefined) throw byocaError("privateKeyNotPem");
  const der = decodeBlock(relevant[0]);
  if (der === undefined) throw byocaError("privateKeyNotPem", "the block is damaged");
  const derBuf = Buffer.from(der);
  try {
    return createPrivateKey({ key: derBuf, format: "der", type: KEY_TYPES[relevant[0].label] });
  } catch (e) {
    // An EncryptedPrivateKeyInfo under a plain PRIVATE KEY label still needs a passphrase.
    if ((e as { code?: string }).code === "ERR_MISSING_PASSPHRASE") throw byocaError("privateKeyEncrypted");
    throw byocaError("badPrivateKey");
  } finally {
    derBuf.fill(0);
  }
}

/** allowsCertSign: keyUsage is absent, or has keyCertSign (RFC 5280 §4.2.1.3). */
const allowsCertSign = (c: UploadedCertificate): boolean => c.keyUsage === undefined || (c.keyUsage & (1 << KEY_CERT_SIGN_BIT)) !== 0;

/**
 * validateUpload applies every rule of an mTLS certificate upload. Checks run in this order so
 * the first error is the most useful: PEM and chain (a key pasted into certificates is named as
 * such) → key presence → first certificate (CA or leaf rules, expiry, key policy) → private key
 * (parse, match).
 */
export function validateUpload(input: { ca: boolean; certificates: string; privateKey?: string }, now: Date): ValidatedUpload {
  const chain = parseCertificateChain(input.certificates);
  if (input.ca && input.privateKey !== undefined) throw byocaError("privateKeyNotAllowed");
  if (!input.ca && input.privateKey === undefined) throw byocaError("privateKeyRequired");
  const first = chain.certificates[0];
  if (input.ca) {
    if (!first.isCa) throw byocaError("notACa");
    if (!allowsCertSign(first)) throw byocaError("noKeyCertSign");
  }
  if (first.notAfter.getTime() <= now.getTime()) throw byocaError("expired");
  checkKeyPolicy(first.x509.publicKey);

  let privateKeyPkcs8: Buffer | undefined;
  if (!input.ca) {
    const key = parsePrivateKey(input.privateKey!);
    if (!createPublicKey(key).equals(first.x509.publicKey)) throw byocaError("keyMismatch");
    privateKeyPkcs8 = key.export({ format: "der", type: "pkcs8" });
  }
  return {
    ca: input.ca,
    pem: chain.pem,
    certificates: chain.certificates,
    first,
    issuer: formatDnRfc4514(first.issuerDer),
    subject: formatDnRfc4514(first.subjectDer),
    serialDecimal: serialDecimal(first.serial),
    signatureName: first.signatureName,
    notBefore: first.notBefore,
    notAfter: first.notAfter,
    privateKeyPkcs8,
  };
}

/** serialDecimal: the serial in decimal; a (non-conforming) negative serial keeps its sign. */
function serialDecimal(serial: Buffer): string {
  if ((serial[0] & 0x80) === 0) return serialToDecimal(serial);
  const magnitude = (1n << BigInt(serial.length * 8)) - BigInt("0x" + serial.toString("hex"));
  return "-" + magnitude.toString(10);
}

