/**
 * enrollment-errors.ts declares the EST and enrollment-token codes (1900–1999). EST answers them
 * as text/plain (RFC 7030 §4.2.3) with the code in a `gatehouse-error-code` header; the token API
 * answers them in the JSON envelope. Messages say what to fix and never echo the input. A CSR
 * that fails the issuance checks keeps its own CsrErrors code (1100–1199).
 */
import { GatehouseError } from "../errors.js";

export const EnrollmentErrors = {
  badTokenName: 1900,
  badMaxUses: 1901,
  badExpiresOn: 1902,
  badCommonNamePattern: 1903,
  badValidityDays: 1904,
  tlsOnly: 1910,
  zoneNotFound: 1911,
  unsupportedMediaType: 1912,
  badBase64: 1913,
  bodyTooLarge: 1914,
  noRoute: 1915,
  methodNotAllowed: 1916,
  rateLimited: 1917,
  noCa: 1918,
  tokenMissing: 1920,
  tokenInvalid: 1921,
  tokenExpired: 1922,
  tokenUsedUp: 1923,
  commonNameOutsidePattern: 1924,
  certificateMissing: 1930,
  certificateNotOfZone: 1931,
  certificateRevoked: 1932,
  certificateExpired: 1933,
  certificateUnknown: 1934,
  subjectMismatch: 1935,
  sanMismatch: 1936,
} as const;

export type EnrollmentErrorName = keyof typeof EnrollmentErrors;

/** EST_ERROR_INFO: status and message of every EST refusal (the token API's 400s carry their own text). */
export const EST_ERROR_INFO: Readonly<Partial<Record<EnrollmentErrorName, { status: number; message: string }>>> = {
  tlsOnly: { status: 403, message: "EST is served only over TLS (RFC 7030 §3.3): use the EST port" },
  zoneNotFound: { status: 404, message: "no such zone: the path is /.well-known/est/<zone id>/<operation>" },
  unsupportedMediaType: { status: 415, message: "send the CSR as base64 DER with Content-Type: application/pkcs10" },
  badBase64: { status: 400, message: "the body is not valid base64 (RFC 8951: base64 of the DER CSR, line breaks allowed)" },
  bodyTooLarge: { status: 413, message: "the request body is too large (EST requests are at most 16 KiB)" },
  noRoute: { status: 404, message: "no such EST operation: use cacerts, simpleenroll, simplereenroll, csrattrs or serverkeygen" },
  methodNotAllowed: { status: 405, message: "method not allowed for this EST operation" },
  rateLimited: { status: 429, message: "too many EST requests from this address; retry later" },
  noCa: { status: 409, message: "the zone's account has no managed CA that can issue" },
  tokenMissing: { status: 401, message: "send an enrollment token as the HTTP Basic password or as Authorization: Bearer <token>" },
  tokenInvalid: { status: 401, message: "the enrollment token is not valid for this zone" },
  tokenExpired: { status: 403, message: "the enrollment token has expired; ask for a new one" },
  tokenUsedUp: { status: 403, message: "the enrollment token has no uses left; ask for a new one" },
  commonNameOutsidePattern: { status: 403, message: "the CSR's common name is outside the enrollment token's common_name_pattern" },
  certificateMissing: { status: 401, message: "simplereenroll needs the current certificate as the TLS client certificate" },
  certificateNotOfZone: { status: 403, message: "the client certificate was not issued for this zone" },
  certificateRevoked: { status: 403, message: "the client certificate is revoked or on hold; enroll again with a token" },
  certificateExpired: { status: 403, message: "the client certificate is expired or not yet valid; enroll again with a token" },
  certificateUnknown: { status: 403, message: "the client certificate is not one this zone's CA issued" },
  subjectMismatch: { status: 400, message: "the CSR's subject must equal the current certificate's (RFC 7030 §4.2.2)" },
  sanMismatch: { status: 400, message: "the CSR's subjectAltName must equal the current certificate's (RFC 7030 §4.2.2)" },
};

/** estError builds the GatehouseError for an EST refusal. */
export function estError(name: EnrollmentErrorName): GatehouseError {
  const info = EST_ERROR_INFO[name];
  if (!info) throw new TypeError(`no EST error info for ${name}`);
  return new GatehouseError(EnrollmentErrors[name], info.status, info.message);
}
