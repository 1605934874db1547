/**
 * ocsp.ts reads OCSP requests and writes OCSP responses (RFC 6960, nonce per RFC 8954), both as
 * hand-encoded DER. Requests are parsed strictly: anything that is not the DER of an OCSPRequest
 * is OcspRequestError, which the responder answers with `malformedRequest`.
 *
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 *   TBSRequest  ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
 *                              requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 *   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 *   CertID      ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                              issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 *
 *   OCSPResponse      ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   ResponseBytes     ::= SEQUENCE { responseType OID (id-pkix-ocsp-basic), response OCTET STRING }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *                                    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData      ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID ResponderID (byKey [2]),
 *                                    producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *                                    responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   SingleResponse    ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *                                    nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, ... }
 *   CertStatus        ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 *   RevokedInfo       ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { bitStringBytes, bytesOf, checkInteger, DerCursor, DerError, rawOf, readOid, readWhole, type Tlv } from "./der-reader.js";
import { generalizedTime, oid, octetString, sequence, tlv, wholeSeconds } from "./der.js";
import { CRL_REASON_CODES, type CrlReason } from "./crl.js";
import type { Signer } from "./signer.js";

/** OCSP_OIDS: the identifiers an OCSP exchange uses. */
export const OCSP_OIDS = {
  basic: "1.3.6.1.5.5.7.48.1.1",
  nonce: "1.3.6.1.5.5.7.48.1.2",
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
} as const;

/** CertIdHash: the CertID hash algorithms Gatehouse recognises. */
export type CertIdHash = "sha1" | "sha256" | "sha384" | "sha512";
const HASH_BY_OID: Readonly<Record<string, CertIdHash>> = {
  [OCSP_OIDS.sha1]: "sha1",
  [OCSP_OIDS.sha256]: "sha256",
  [OCSP_OIDS.sha384]: "sha384",
  [OCSP_OIDS.sha512]: "sha512",
};
const HASH_LENGTH: Readonly<Record<CertIdHash, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** OcspResponseStatus: OCSPResponseStatus values (RFC 6960 §4.2.1). */
export const OcspResponseStatus = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;

/** MAX_REQUESTS_PER_OCSP_REQUEST bounds the requestList (each entry may cost a lookup and a signature). */
export const MAX_REQUESTS_PER_OCSP_REQUEST = 16;
/** Nonce length bounds, RFC 8954 §2.1: a responder MUST reject 0 or more than 32 octets. */
export const NONCE_MIN = 1;
export const NONCE_MAX = 32;

/** OcspRequestError: the bytes are not an acceptable OCSPRequest; answer malformedRequest. */
export class OcspRequestError extends Error {
  override name = "OcspRequestError";
}

/** OcspCertId: one CertID of a request. */
export interface OcspCertId {
  /** The CertID's DER exactly as received: echoed in the SingleResponse. */
  raw: Uint8Array;
  /** The hash algorithm, or undefined when it is not one we recognise (never matches an issuer). */
  hash: CertIdHash | undefined;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** The unsigned big-endian serial without leading zeros; undefined for zero or negative serials. */
  serial: Uint8Array | undefined;
}

/** ParsedOcspRequest: the CertIDs and the nonce (the 1–32 octets, without their OCTET STRING header). */
export interface ParsedOcspRequest {
  certIds: OcspCertId[];
  nonce?: Uint8Array;
}

function fail(message: string): never {
  throw new OcspRequestError(message);
}

/** parseOcspRequest reads a DER OCSPRequest; throws OcspRequestError for anything else. */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  try {
    return parseStrict(der);
  } catch (err) {
    if (err instanceof DerError) throw new OcspRequestError(`not a DER OCSPRequest: ${err.message}`);
    throw err;
  }
}

function parseStrict(der: Uint8Array): ParsedOcspRequest {
  if (der.length === 0) fail("empty request");
  const top = DerCursor.inside(der, readWhole(der, 0x30));
  const tbs = DerCursor.inside(der, top.expect(0x30));
  const sig = top.optional(0xa0);
  if (sig) DerCursor.inside(der, sig).expect(0x30); // a signature is accepted and not required; it is not checked
  top.finish();

  const version = tbs.optional(0xa0);
  if (version) {
    const v = DerCursor.inside(der, version);
    const t = v.expect(0x02);
    v.finish();
    if (t.end - t.valueStart !== 1 || der[t.valueStart] !== 0) fail("unsupported OCSPRequest version");
  }
  const requestor = tbs.optional(0xa1);
  if (requestor) DerCursor.inside(der, requestor).next();

  const list = DerCursor.inside(der, tbs.expect(0x30));
  const certIds: OcspCertId[] = [];
  while (!list.atEnd) {
    if (certIds.length === MAX_REQUESTS_PER_OCSP_REQUEST) fail("too many requests in one OCSPRequest");
    const req = DerCursor.inside(der, list.expect(0x30));
    certIds.push(parseCertId(der, req.expect(0x30)));
    const single = req.optional(0xa0);
    if (single) parseExtensions(der, single);
    req.finish();
  }
  if (certIds.length === 0) fail("empty requestList");

  let nonce: Uint8Array | undefined;
  const exts = tbs.optional(0xa2);
  if (exts) {
    for (const e of parseExtensions(der, exts)) {
      if (e.oid === OCSP_OIDS.nonce) {
        // RFC 8954: extnValue is the DER of Nonce ::= OCTET STRING (SIZE(1..32)).
        const n = readWhole(e.value, 0x04);
        const len = n.end - n.valueStart;
        if (len < NONCE_MIN || len > NONCE_MAX) fail("nonce must be 1 to 32 octets");
        nonce = e.value.subarray(n.valueStart, n.end);
      } else if (e.critical) {
        fail("unsupported critical request extension");
      }
    }
  }
  tbs.finish();
  return { certIds, nonce };
}

function parseCertId(der: Uint8Array, t: Tlv): OcspCertId {
  const c = DerCursor.inside(der, t);
  const alg = DerCursor.inside(der, c.expect(0x30));
  const algOid = readOid(alg);
  if (!alg.atEnd) {
    const param = alg.expect(0x05);
    if (param.end !== param.valueStart) fail("hash algorithm parameters must be NULL or absent");
  }
  alg.finish();
  const hash = HASH_BY_OID[algOid];
  const nameHash = bytesOf(der, c.expect(0x04));
  const keyHash = bytesOf(der, c.expect(0x04));
  if (hash && (nameHash.length !== HASH_LENGTH[hash] || keyHash.length !== HASH_LENGTH[hash])) fail("CertID hash length does not match its algorithm");
  const serialTlv = c.expect(0x02);
  const { negative } = checkInteger(der, serialTlv);
  c.finish();
  let s = bytesOf(der, serialTlv);
  if (s.length > 21) fail("serial number longer than 20 octets");
  let serial: Uint8Array | undefined;
  if (!negative) {
    let i = 0;
    while (i < s.length - 1 && s[i] === 0) i++;
    s = s.subarray(i);
    serial = s.length === 1 && s[0] === 0 ? undefined : s;
  }
  // views into the request's bytes: a response copies what it keeps
  return { raw: rawOf(der, t), hash, issuerNameHash: nameHash, issuerKeyHash: keyHash, serial };
}

interface ParsedExtension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

/** parseExtensions reads `[n] EXPLICIT Extensions` strictly: DER BOOLEAN, no duplicate OIDs. */
function parseExtensions(der: Uint8Array, wrapper: Tlv): ParsedExtension[] {
  const w = DerCursor.inside(der, wrapper);
  const seq = DerCursor.inside(der, w.expect(0x30));
  w.finish();
  const out: ParsedExtension[] = [];
  while (!seq.atEnd) {
    const e = DerCursor.inside(der, seq.expect(0x30));
    const id = readOid(e);
    let critical = false;
    const b = e.optional(0x01);
    if (b) {
      if (b.end - b.valueStart !== 1 || der[b.valueStart] !== 0xff) fail("extension criticality must be absent or TRUE (DER)");
      critical = true;
    }
    const value = bytesOf(der, e.expect(0x04));
    e.finish();
    if (out.some((x) => x.oid === id)) fail("duplicate extension");
    out.push({ oid: id, critical, value });
  }
  if (out.length === 0) fail("empty Extensions");
  return out;
}

/** OcspIssuer: what a responder needs to know about the CA whose certificates it answers for. */
export interface OcspIssuer {
  /** The CA certificate's DER, sent in `certs` so clients find the signer without extra files. */
  certificateDer: Uint8Array;
  subjectDer: Uint8Array;
  /** The subjectPublicKey BIT STRING bytes (after the unused-bits octet). */
  publicKeyBits: Uint8Array;
  /** SHA-1 of publicKeyBits: the ResponderID byKey (RFC 6960 §4.2.1). */
  keyHash: Uint8Array;
  /** matches tells whether a CertID names this CA as its issuer (name and key hash). */
  matches(certId: OcspCertId): boolean;
}

/** ocspIssuer reads subject and public key from a CA certificate's DER. */
export function ocspIssuer(certificateDer: Uint8Array): OcspIssuer {
  const cert = DerCursor.inside(certificateDer, readWhole(certificateDer, 0x30));
  const tbs = DerCursor.inside(certificateDer, cert.expect(0x30));
  tbs.optional(0xa0);
  tbs.expect(0x02);
  tbs.expect(0x30);
  tbs.expect(0x30);
  tbs.expect(0x30);
  const subjectDer = rawOf(certificateDer, tbs.expect(0x30)).slice();
  const spki = DerCursor.inside(certificateDer, tbs.expect(0x30));
  spki.expect(0x30);
  const publicKeyBits = bitStringBytes(certificateDer, spki.expect(0x03)).slice();
  const hashes = new Map<CertIdHash, { name: Buffer; key: Buffer }>();
  const hashesFor = (h: CertIdHash) => {
    let v = hashes.get(h);
    if (!v) {
      v = { name: createHash(h).update(subjectDer).digest(), key: createHash(h).update(publicKeyBits).digest() };
      hashes.set(h, v);
    }
    return v;
  };
  return {
    certificateDer,
    subjectDer,
    publicKeyBits,
    keyHash: hashesFor("sha1").key,
    matches(certId) {
      if (!certId.hash) return false;
      const h = hashesFor(certId.hash);
      return timingSafeEqual(h.name, certId.issuerNameHash) && timingSafeEqual(h.key, certId.issuerKeyHash);
    },
  };
}

/** CertStatus: what a SingleResponse says about one certificate. */
export type CertStatus = { kind: "good" } | { kind: "revoked"; revokedAt: Date; reason: CrlReason } | { kind: "unknown" };

/** OcspSingle: one SingleResponse to write. */
export interface OcspSingle {
  certIdRaw: Uint8Array;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date;
}

const BASIC_OID = oid(OCSP_OIDS.basic);
const NONCE_OID = oid(OCSP_OIDS.nonce);
const GOOD = Uint8Array.of(0x80, 0x00);
const UNKNOWN = Uint8Array.of(0x82, 0x00);

function certStatusDer(s: CertStatus): Uint8Array {
  if (s.kind === "good") return GOOD;
  if (s.kind === "unknown") return UNKNOWN;
  const revokedAt = generalizedTime(wholeSeconds(s.revokedAt));
  // unspecified is left out, as on the CRL (RFC 5280 §5.3.1).
  return s.reason === "unspecified"
    ? tlv(0xa1, revokedAt)
    : tlv(0xa1, revokedAt, tlv(0xa0, Uint8Array.of(0x0a, 0x01, CRL_REASON_CODES[s.reason])));
}

/** singleResponseDer encodes one SingleResponse (GeneralizedTime throughout, whole seconds). */
export function singleResponseDer(s: OcspSingle): Uint8Array {
  return sequence(
    s.certIdRaw,
    certStatusDer(s.status),
    generalizedTime(wholeSeconds(s.thisUpdate)),
    tlv(0xa0, generalizedTime(wholeSeconds(s.nextUpdate))),
  );
}

/**
 * buildOcspResponse signs a successful OCSPResponse: responderID byKey, the CA certificate in
 * `certs`, and the request's nonce echoed in responseExtensions when one is given.
 */
export async function buildOcspResponse(p: {
  issuer: OcspIssuer;
  signer: Signer;
  producedAt: Date;
  responses: OcspSingle[];
  nonce?: Uint8Array;
}): Promise<Uint8Array> {
  if (p.responses.length === 0) throw new RangeError("an OCSP response needs at least one SingleResponse");
  const parts = [
    tlv(0xa2, octetString(p.issuer.keyHash)),
    generalizedTime(wholeSeconds(p.producedAt)),
    sequence(...p.responses.map(singleResponseDer)),
  ];
  if (p.nonce) parts.push(tlv(0xa1, sequence(sequence(NONCE_OID, octetString(octetString(p.nonce))))));
  const tbs = sequence(...parts);
  const signature = await p.signer.sign(tbs);
  const basic = sequence(tbs, p.signer.algorithmIdentifierDer, tlv(0x03, Uint8Array.of(0), signature), tlv(0xa0, sequence(p.issuer.certificateDer)));
  return sequence(Uint8Array.of(0x0a, 0x01, OcspResponseStatus.successful), tlv(0xa0, sequence(BASIC_OID, octetString(basic))));
}

/** ocspErrorResponse: an OCSPResponse with an error status and no responseBytes (unsigned, by RFC 6960). */
export function ocspErrorResponse(status: Exclude<(typeof OcspResponseStatus)[keyof typeof OcspResponseStatus], 0>): Uint8Array {
  return Uint8Array.of(0x30, 0x03, 0x0a, 0x01, status);
}

/** ocspResponseStatus reads the responseStatus of an OCSPResponse DER (for tests and benchmarks). */
export function ocspResponseStatus(der: Uint8Array): number {
  const top = DerCursor.inside(der, readWhole(der, 0x30));
  const st = top.expect(0x0a);
  return der[st.valueStart];
}
