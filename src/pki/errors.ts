/**
 * errors.ts declares the CSR and issuance failure codes (1100–1199). Every distinct bad input
 * has its own code and a message that says what to fix; messages never echo the input value.
 * docs/error-codes.md ("CSR and issuance") is the table made from CSR_ERROR_INFO.
 */
import { GatehouseError } from "../errors.js";

/** CsrErrors: stable codes for CSR and issuance failures. */
export const CsrErrors = {
  notPem: 1100,
  notDer: 1101,
  badVersion: 1102,
  badSignature: 1103,
  unsupportedSignatureAlgorithm: 1104,
  signatureKeyMismatch: 1105,
  unsupportedKeyAlgorithm: 1106,
  rsaKeySize: 1107,
  rsaExponent: 1108,
  explicitEcParameters: 1109,
  unsupportedCurve: 1110,
  badPublicKey: 1111,
  subjectControlCharacters: 1112,
  subjectMultiValuedRdn: 1113,
  subjectTooLong: 1114,
  subjectRepeatedAttribute: 1115,
  subjectBadCountry: 1116,
  subjectUnsupportedAttribute: 1117,
  subjectBadString: 1118,
  subjectEmptyValue: 1119,
  sanOtherName: 1120,
  sanDirectoryName: 1121,
  sanRegisteredId: 1122,
  sanUnsupportedType: 1123,
  sanInvalidDns: 1124,
  sanInvalidEmail: 1125,
  sanInvalidUri: 1126,
  sanInvalidIp: 1127,
  sanTooMany: 1128,
  sanEmpty: 1129,
  emptySubjectNoSan: 1130,
  badExtensionRequest: 1131,
  duplicateExtension: 1132,
  validityDaysOutOfRange: 1133,
  notAfterPastCa: 1134,
  lintFailed: 1199,
} as const;

export type CsrErrorName = keyof typeof CsrErrors;

/** CSR_ERROR_INFO: HTTP status, the message clients see, and when the code is returned (for the docs). */
export const CSR_ERROR_INFO: Readonly<Record<CsrErrorName, { status: number; message: string; when: string }>> = {
  notPem: { status: 400, message: "csr must be one PEM block labelled CERTIFICATE REQUEST with valid base64", when: "no PEM block, several blocks, another label, text outside the block, or bad base64" },
  notDer: { status: 400, message: "csr is not a DER-encoded PKCS#10 certificate request", when: "the decoded bytes are not a strict DER CertificationRequest (wrong tags, bad lengths, trailing bytes)" },
  badVersion: { status: 400, message: "csr version must be 0 (v1)", when: "the CertificationRequestInfo version is not 0" },
  badSignature: { status: 400, message: "csr signature does not verify with its public key; sign the request with the key it contains", when: "the self-signature fails to verify" },
  unsupportedSignatureAlgorithm: { status: 400, message: "csr signature algorithm is not supported; sign with SHA-256/384/512 (RSA PKCS#1 v1.5 or ECDSA) or Ed25519", when: "SHA-1, MD5, RSA-PSS or an unknown signature algorithm, or parameters where none are allowed" },
  signatureKeyMismatch: { status: 400, message: "csr signature algorithm does not match its key type", when: "e.g. an ECDSA signature on a CSR holding an RSA key" },
  unsupportedKeyAlgorithm: { status: 400, message: "csr key algorithm is not supported; use RSA (2048, 3072, 4096), ECDSA P-256/P-384 or Ed25519", when: "DSA, Ed448, X25519, RSA-PSS keys or an unknown algorithm" },
  rsaKeySize: { status: 400, message: "RSA key size must be 2048, 3072 or 4096 bits", when: "RSA modulus of another size (1024-bit keys included)" },
  rsaExponent: { status: 400, message: "RSA public exponent must be 65537", when: "RSA key with e ≠ 65537" },
  explicitEcParameters: { status: 400, message: "EC key must use a named curve, not explicit parameters", when: "ecPublicKey with specifiedCurve (openssl -param_enc explicit) or implicitCurve parameters" },
  unsupportedCurve: { status: 400, message: "EC curve is not supported; use P-256 or P-384", when: "a named curve other than P-256/P-384 (e.g. P-521, secp256k1)" },
  badPublicKey: { status: 400, message: "csr public key is malformed", when: "the key bytes do not decode (wrong point length or format, point not on the curve, bad RSA structure)" },
  subjectControlCharacters: { status: 400, message: "subject attributes must not contain control characters", when: "C0, DEL or C1 control characters in a subject value" },
  subjectMultiValuedRdn: { status: 400, message: "subject must not contain multi-valued RDNs (a+b); give one attribute per RDN", when: "an RDN with more than one attribute" },
  subjectTooLong: { status: 400, message: "a subject attribute exceeds its RFC 5280 upper bound (CN, O, OU 64 characters; L, ST 128)", when: "CN, O or OU over 64, L or ST over 128 characters" },
  subjectRepeatedAttribute: { status: 400, message: "each subject attribute may appear only once", when: "e.g. two CN or two OU attributes" },
  subjectBadCountry: { status: 400, message: "subject C must be a two-letter ISO 3166 country code", when: "C is not exactly two ASCII letters" },
  subjectUnsupportedAttribute: { status: 400, message: "subject may only contain C, ST, L, O, OU and CN; put e-mail addresses in the subjectAltName", when: "emailAddress, serialNumber, DC or any other attribute type" },
  subjectBadString: { status: 400, message: "subject values must be UTF8String, PrintableString, IA5String or BMPString with valid contents", when: "an unsupported string type or invalid characters/encoding for the declared type" },
  subjectEmptyValue: { status: 400, message: "subject attributes must not be empty", when: "a subject attribute with an empty value" },
  sanOtherName: { status: 400, message: "subjectAltName otherName entries are not allowed", when: "a SAN of type otherName (e.g. a UPN)" },
  sanDirectoryName: { status: 400, message: "subjectAltName directoryName entries are not allowed", when: "a SAN of type directoryName" },
  sanRegisteredId: { status: 400, message: "subjectAltName registeredID entries are not allowed", when: "a SAN of type registeredID" },
  sanUnsupportedType: { status: 400, message: "subjectAltName may only contain DNS names, e-mail addresses, URIs and IP addresses", when: "x400Address or ediPartyName SAN entries" },
  sanInvalidDns: { status: 400, message: "a subjectAltName DNS name is invalid; use ASCII letters, digits and hyphens in labels of 1–63 characters, optionally starting with *.", when: "a dNSName that is not an LDH name (IDNs must be in A-label form)" },
  sanInvalidEmail: { status: 400, message: "a subjectAltName e-mail address is invalid; use local-part@domain in ASCII", when: "an rfc822Name that is not an ASCII mailbox with a valid domain" },
  sanInvalidUri: { status: 400, message: "a subjectAltName URI is invalid; use an absolute ASCII URI with a scheme (e.g. spiffe://trust.domain/path)", when: "a URI without a scheme, with spaces or non-ASCII characters, or with an empty host" },
  sanInvalidIp: { status: 400, message: "a subjectAltName IP address must be 4 (IPv4) or 16 (IPv6) bytes", when: "an iPAddress of another length" },
  sanTooMany: { status: 400, message: "subjectAltName may hold at most 100 entries", when: "more than 100 SAN entries" },
  sanEmpty: { status: 400, message: "subjectAltName extension must hold at least one entry", when: "an empty subjectAltName extension" },
  emptySubjectNoSan: { status: 400, message: "csr needs a subject or a subjectAltName", when: "empty subject and no SAN" },
  badExtensionRequest: { status: 400, message: "csr extensionRequest attribute is malformed", when: "an extensionRequest attribute or a requested subjectAltName that does not decode" },
  duplicateExtension: { status: 400, message: "csr requests the same extension more than once", when: "two extensions with one OID, or two extensionRequest attributes" },
  validityDaysOutOfRange: { status: 400, message: "validity_days must be an integer from 1 to 3650", when: "validity_days outside 1..3650 or not an integer" },
  notAfterPastCa: { status: 400, message: "the certificate would expire after its CA; request fewer validity_days", when: "notBefore + validity_days would pass the CA's notAfter (never clamped)" },
  lintFailed: { status: 500, message: "internal error: the certificate failed pre-issuance checks", when: "the pre-signing lint found a profile violation (a Gatehouse bug, never user input); nothing was signed" },
};

/** csrError builds the GatehouseError for `name`; `detail` may name a field or a check, never an input value. */
export function csrError(name: CsrErrorName, detail?: string, cause?: unknown): GatehouseError {
  const info = CSR_ERROR_INFO[name];
  const message = detail === undefined ? info.message : `${info.message} (${detail})`;
  return new GatehouseError(CsrErrors[name], info.status, message, cause === undefined ? undefined : { cause });
}
