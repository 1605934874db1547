/**
 * headers.ts builds the verdict headers the edge adds to every request it forwards, with the names
 * and formats of Cloudflare's "Add TLS client auth headers" managed transform, its client
 * certificate forwarding and RFC 9440 (reference §6.2–6.3):
 *
 *   cf-cert-presented / -verified / -revoked           true | false
 *   cf-cert-issuer-dn, cf-cert-subject-dn (+ -rfc2253)  RFC 4514, non-ASCII and controls as \XX
 *   cf-cert-issuer-dn-legacy, cf-cert-subject-dn-legacy /C=US/ST=…/CN=… (OpenSSL one-line)
 *   cf-cert-serial, cf-cert-issuer-serial               uppercase hex
 *   cf-cert-sha256, cf-cert-sha1                        lowercase hex of the DER
 *   cf-cert-not-before, cf-cert-not-after               OpenSSL's "Mar 21 13:35:00 2022 GMT"
 *   cf-cert-ski, cf-cert-issuer-ski                     uppercase hex
 *   Cf-Client-Cert-Der-Base64, Cf-Client-Cert-Sha256    first request of a connection only
 *   Client-Cert, Client-Cert-Chain (RFC 9440)           verified, not revoked, within 10/16 KiB
 *
 * Every value is printable ASCII by construction, so no certificate can inject a header line.
 * Headers of these names arriving from the client are dropped (isVerdictHeader).
 */
import { createHash } from "node:crypto";
import { formatDnLegacy, formatDnRfc4514 } from "../pki/names.js";
import { formatOpenSslTime, upperHex, type CertificateFields } from "./certificate-fields.js";

/** RFC 9440 size limits, as Cloudflare applies them to the encoded header values. */
export const CLIENT_CERT_LIMIT = 10 * 1024;
export const CLIENT_CERT_CHAIN_LIMIT = 16 * 1024;

/**
 * isVerdictHeader tells whether an incoming header name is one the edge owns: compared in lower
 * case with `_` read as `-` (some servers map both to the same CGI variable).
 */
export function isVerdictHeader(name: string): boolean {
  const c = name.charCodeAt(0) | 0x20;
  if (c !== 0x63) return false; // every one starts with "c": most headers leave here
  let n = name.toLowerCase();
  if (n.includes("_")) n = n.replace(/_/g, "-");
  return n.startsWith("cf-cert-") || n.startsWith("cf-client-cert-") || n === "client-cert" || n === "client-cert-chain";
}

/** Header is a name and a value, as the raw header arrays Node's http module accepts. */
export type Header = [string, string];

/** dnOrEmpty formats a Name, or gives "" for a name it cannot parse (never throws). */
function dn(nameDer: Buffer | undefined, format: (der: Uint8Array) => string): string {
  if (!nameDer) return "";
  try {
    return format(nameDer);
  } catch {
    return "";
  }
}

/** sf binary item (RFC 8941 §3.3.5): `:base64:`. */
const sfBinary = (der: Buffer): string => `:${der.toString("base64")}:`;

export interface CertificateHeaderInput {
  leaf: CertificateFields;
  /** The direct issuer, when known (a CA of the hostname or an intermediate the client sent). */
  issuer?: CertificateFields;
  /** Intermediates the client sent after its leaf, in the order sent. */
  chain: Buffer[];
}

/**
 * ConnectionHeaders are computed once per connection; only cf-cert-revoked (and with it the RFC 9440
 * pair) changes per request.
 */
export interface ConnectionHeaders {
  /** cf-cert-* except -verified and -revoked. */
  fields: Header[];
  /** Cf-Client-Cert-Der-Base64 and -Sha256, for the first request. */
  firstRequest: Header[];
  /** RFC 9440 values ("" when absent or too large). */
  clientCert: string;
  clientCertChain: string;
}

/** EMPTY_FIELDS: the cf-cert-* values when no certificate was presented (Cloudflare's defaults). */
const EMPTY_FIELDS: Header[] = [
  ["cf-cert-issuer-dn", ""],
  ["cf-cert-subject-dn", ""],
  ["cf-cert-issuer-dn-rfc2253", ""],
  ["cf-cert-subject-dn-rfc2253", ""],
  ["cf-cert-issuer-dn-legacy", ""],
  ["cf-cert-subject-dn-legacy", ""],
  ["cf-cert-serial", ""],
  ["cf-cert-issuer-serial", ""],
  ["cf-cert-sha256", ""],
  ["cf-cert-sha1", ""],
  ["cf-cert-not-before", ""],
  ["cf-cert-not-after", ""],
  ["cf-cert-ski", ""],
  ["cf-cert-issuer-ski", ""],
];

export const NO_CERTIFICATE: ConnectionHeaders = { fields: EMPTY_FIELDS, firstRequest: [], clientCert: "", clientCertChain: "" };

/** connectionHeaders formats a presented certificate's fields (used whether or not it verified). */
export function connectionHeaders(input: CertificateHeaderInput): ConnectionHeaders {
  const { leaf, issuer, chain } = input;
  const issuerDn = dn(leaf.issuerDer, formatDnRfc4514);
  const subjectDn = dn(leaf.subjectDer, formatDnRfc4514);
  const sha256 = createHash("sha256").update(leaf.der).digest("hex");
  const clientCert = sfBinary(leaf.der);
  const chainValue = chain.map(sfBinary).join(", ");
  return {
    fields: [
      ["cf-cert-issuer-dn", issuerDn],
      ["cf-cert-subject-dn", subjectDn],
      ["cf-cert-issuer-dn-rfc2253", issuerDn],
      ["cf-cert-subject-dn-rfc2253", subjectDn],
      ["cf-cert-issuer-dn-legacy", dn(leaf.issuerDer, formatDnLegacy)],
      ["cf-cert-subject-dn-legacy", dn(leaf.subjectDer, formatDnLegacy)],
      ["cf-cert-serial", upperHex(leaf.serial)],
      ["cf-cert-issuer-serial", upperHex(issuer?.serial)],
      ["cf-cert-sha256", sha256],
      ["cf-cert-sha1", createHash("sha1").update(leaf.der).digest("hex")],
      ["cf-cert-not-before", formatOpenSslTime(leaf.notBefore)],
      ["cf-cert-not-after", formatOpenSslTime(leaf.notAfter)],
      ["cf-cert-ski", upperHex(leaf.ski)],
      ["cf-cert-issuer-ski", upperHex(issuer?.ski)],
    ],
    firstRequest: [
      ["Cf-Client-Cert-Der-Base64", leaf.der.toString("base64")],
      ["Cf-Client-Cert-Sha256", sha256],
    ],
    clientCert: clientCert.length <= CLIENT_CERT_LIMIT ? clientCert : "",
    clientCertChain: chainValue.length <= CLIENT_CERT_CHAIN_LIMIT ? chainValue : "",
  };
}
