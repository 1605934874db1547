/**
 * certificate.ts issues client certificates (RFC 5280 §4.1) under PROFILE.md. The TBS is
 * hand-encoded DER: everything that depends only on the issuer (signature AlgorithmIdentifier,
 * issuer Name bytes, AKI, the constant extensions) is encoded once per issuer and cached, so one
 * issuance is a few concatenations, one SHA-1, a lint pass, and one signature.
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 */
import { hash } from "node:crypto";
import { readWhole } from "./der-reader.js";
import { concat, encode, node, time, tlv, type DerNode } from "./der.js";
import { csrError } from "./errors.js";
import {
  authorityInfoAccessExt,
  authorityKeyIdentifierExt,
  crlDistributionPointsExt,
  EKU_CLIENT_AUTH,
  keyIdentifier,
  KU_DIGITAL_SIGNATURE,
  KU_DIGITAL_SIGNATURE_KEY_ENCIPHERMENT,
  LEAF_BASIC_CONSTRAINTS,
  subjectAltNameExtNode,
  subjectKeyIdentifierExtNode,
} from "./extensions.js";
import type { ParsedCsr } from "./csr.js";
import { lintTbsCertificate } from "./lint.js";
import { derToPem } from "./pem.js";
import { generalNamesNode } from "./san.js";
import { serialToHex } from "./serial.js";
import type { Signer } from "./signer.js";
import { checkSubjectKey } from "./spki.js";
import { isEmptySubject, subjectNode } from "./subject.js";

/** IssuerInfo: the CA that signs, as stored. */
export interface IssuerInfo {
  certificateDer: Uint8Array;
  /** The CA certificate's subject DER, copied byte for byte into the leaf's issuer field. */
  subjectDer: Uint8Array;
  subjectKeyIdentifier: Uint8Array;
  notAfter: Date;
  signer: Signer;
}

/** DistributionUrls: CRL and AIA locations; present only when GATEHOUSE_PUBLIC_URL is configured. */
export interface DistributionUrls {
  crl: string;
  ocsp: string;
  caIssuers: string;
}

/** IssueParams: everything one issuance depends on (`now` included: no clock is read here). */
export interface IssueParams {
  csr: ParsedCsr;
  issuer: IssuerInfo;
  /** Serial content octets from newSerial(). */
  serial: Uint8Array;
  now: Date;
  validityDays: number;
  urls?: DistributionUrls;
}

/** IssuedCertificate: the signed certificate and the values the API shows. */
export interface IssuedCertificate {
  der: Uint8Array;
  pem: string;
  /** Lowercase hex, even length, no sign pad. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprintSha256: string;
  /** Subject key identifier, 40 lowercase hex. */
  skiHex: string;
  signatureName: string;
}

/** MIN_VALIDITY_DAYS / MAX_VALIDITY_DAYS: the accepted `validity_days` range. */
export const MIN_VALIDITY_DAYS = 1;
export const MAX_VALIDITY_DAYS = 3650;

const DAY_MS = 86_400_000;
const VERSION_V3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);

/**
 * leafValidity: notBefore = `now` truncated to the minute minus one minute (clock skew),
 * notAfter = notBefore + validityDays × 86 400 s (PROFILE.md "Time"). Throws validityDaysOutOfRange.
 */
export function leafValidity(now: Date, validityDays: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(validityDays) || validityDays < MIN_VALIDITY_DAYS || validityDays > MAX_VALIDITY_DAYS) {
    throw csrError("validityDaysOutOfRange");
  }
  const nb = Math.floor(now.getTime() / 60_000) * 60_000 - 60_000;
  if (!Number.isFinite(nb)) throw new RangeError("now must be a valid Date");
  return { notBefore: new Date(nb), notAfter: new Date(nb + validityDays * DAY_MS) };
}

/** PreparedIssuer: the issuer-dependent bytes of every TBS, encoded once. */
interface PreparedIssuer {
  subjectDer: Uint8Array;
  ski: Uint8Array;
  signer: Signer;
  /** signature AlgorithmIdentifier ‖ issuer Name. */
  algAndIssuer: Uint8Array;
  /** keyUsage ‖ extendedKeyUsage ‖ basicConstraints, for RSA and for other subject keys. */
  fixedRsa: Uint8Array;
  fixedOther: Uint8Array;
  aki: Uint8Array;
  urlExts: Map<string, Uint8Array>;
}

const prepared = new WeakMap<IssuerInfo, PreparedIssuer>();

function prepareIssuer(issuer: IssuerInfo): PreparedIssuer {
  const hit = prepared.get(issuer);
  if (hit && hit.subjectDer === issuer.subjectDer && hit.ski === issuer.subjectKeyIdentifier && hit.signer === issuer.signer) return hit;
  const p: PreparedIssuer = {
    subjectDer: issuer.subjectDer,
    ski: issuer.subjectKeyIdentifier,
    signer: issuer.signer,
    algAndIssuer: concat(issuer.signer.algorithmIdentifierDer, issuer.subjectDer),
    fixedRsa: concat(KU_DIGITAL_SIGNATURE_KEY_ENCIPHERMENT, EKU_CLIENT_AUTH, LEAF_BASIC_CONSTRAINTS),
    fixedOther: concat(KU_DIGITAL_SIGNATURE, EKU_CLIENT_AUTH, LEAF_BASIC_CONSTRAINTS),
    aki: authorityKeyIdentifierExt(issuer.subjectKeyIdentifier),
    urlExts: new Map(),
  };
  prepared.set(issuer, p);
  return p;
}

function urlExtensions(p: PreparedIssuer, urls: DistributionUrls): Uint8Array {
  const key = `${urls.crl}\n${urls.ocsp}\n${urls.caIssuers}`;
  let bytes = p.urlExts.get(key);
  if (bytes === undefined) {
    bytes = concat(crlDistributionPointsExt(urls.crl), authorityInfoAccessExt(urls.ocsp, urls.caIssuers));
    if (p.urlExts.size > 16) p.urlExts.clear();
    p.urlExts.set(key, bytes);
  }
  return bytes;
}

/** LeafTbs: a built, not yet linted or signed, TBSCertificate. */
export interface LeafTbs {
  tbs: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  ski: Uint8Array;
}

/**
 * buildLeafTbs applies the profile to a parsed CSR and returns the TBSCertificate DER
 * (extensions: keyUsage, extendedKeyUsage, basicConstraints, SKI, AKI, [SAN], [CRL DP, AIA]).
 * Throws validityDaysOutOfRange, notAfterPastCa, emptySubjectNoSan.
 */
export function buildLeafTbs(p: IssueParams): LeafTbs {
  const { notBefore, notAfter } = leafValidity(p.now, p.validityDays);
  if (notAfter.getTime() > p.issuer.notAfter.getTime()) throw csrError("notAfterPastCa");
  const prep = prepareIssuer(p.issuer);
  const csr = p.csr;
  const key = checkSubjectKey(csr.spkiDer, readWhole(csr.spkiDer, 0x30));
  const ski = keyIdentifier(key.publicKeyBits);
  const subject = subjectNode(csr.subject);
  const emptySubject = isEmptySubject(csr.subject);
  if (emptySubject && csr.sans.length === 0) throw csrError("emptySubjectNoSan");

  const exts: DerNode[] = [key.keyType.startsWith("RSA") ? prep.fixedRsa : prep.fixedOther, subjectKeyIdentifierExtNode(ski), prep.aki];
  if (csr.sans.length > 0) exts.push(subjectAltNameExtNode(generalNamesNode(csr.sans), emptySubject));
  if (p.urls) exts.push(urlExtensions(prep, p.urls));

  // One pass, one allocation: the nodes only record lengths until `encode` writes them.
  const tbs = encode(
    node(0x30, [
      VERSION_V3,
      node(0x02, [p.serial]), // content octets as given: lint checks they are minimal and positive
      prep.algAndIssuer,
      node(0x30, [time(notBefore), time(notAfter)]),
      subject,
      csr.spkiDer,
      node(0xa3, [node(0x30, exts)]),
    ]),
  );
  return { tbs, notBefore, notAfter, ski };
}

/**
 * issueClientCertificate builds the TBS from the CSR under PROFILE.md, lints it, signs it with
 * the issuer's Signer and returns the certificate with the values the API shows.
 */
export async function issueClientCertificate(p: IssueParams): Promise<IssuedCertificate> {
  const { tbs, notBefore, notAfter, ski } = buildLeafTbs(p);
  const signer = p.issuer.signer;
  lintTbsCertificate(tbs, {
    profile: "leaf",
    signatureAlgorithmDer: signer.algorithmIdentifierDer,
    issuerSubjectDer: p.issuer.subjectDer,
    issuerSki: p.issuer.subjectKeyIdentifier,
    issuerNotAfter: p.issuer.notAfter,
  });
  const signature = await signer.sign(tbs);
  const der = tlv(0x30, tbs, signer.algorithmIdentifierDer, tlv(0x03, Uint8Array.of(0), signature));
  return {
    der,
    pem: derToPem(der, "CERTIFICATE"),
    serialHex: serialToHex(p.serial),
    notBefore,
    notAfter,
    fingerprintSha256: hash("sha256", der, "hex"),
    skiHex: Buffer.from(ski).toString("hex"),
    signatureName: signer.signatureName,
  };
}
