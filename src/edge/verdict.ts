/**
 * verdict.ts turns what the TLS handshake established into the edge's verdict on a connection's
 * client certificate. OpenSSL already verified the chain during the handshake against exactly the
 * SNI hostname's CAs (the TLS context's trust store, with X509_V_FLAG_PARTIAL_CHAIN so an
 * intermediate uploaded alone is an anchor), checking signatures, validity periods, basic
 * constraints and pathLen, and the sslclient purpose (an EKU, when present, must allow clientAuth).
 * Its result is read here once per connection; revocation and expiry are re-checked per request.
 */
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { issuedBy, readCertificateFields, type CertificateFields } from "./certificate-fields.js";
import type { TrustedCa } from "./directory.js";
import { connectionHeaders, NO_CERTIFICATE, type ConnectionHeaders } from "./headers.js";

/** Why a certificate is not accepted. */
export type Refusal =
  | "no_certificate"
  | "unknown_ca"
  | "expired"
  | "not_yet_valid"
  | "wrong_eku"
  | "path_length"
  | "invalid"
  | "revoked"
  | "held";

/** ConnectionVerdict: the per-connection part of the verdict. */
export interface ConnectionVerdict {
  presented: boolean;
  /** The chain verified to one of the hostname's CAs (revocation aside). */
  verified: boolean;
  refusal?: Refusal;
  leaf?: CertificateFields;
  /** The managed CA that issued the leaf: its revocation status applies. */
  managedCaId?: string;
  /** The revocation cache key, computed on first use. */
  revocationKey?: string;
  /** Uppercase hex serial, for the request log ("" when none). */
  serialHex: string;
  headers: ConnectionHeaders;
}

/** OpenSSL verify error → refusal. Errors not listed are "invalid". */
const REFUSALS: Record<string, Refusal> = {
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not_yet_valid",
  INVALID_PURPOSE: "wrong_eku",
  PATH_LENGTH_EXCEEDED: "path_length",
  UNABLE_TO_GET_ISSUER_CERT: "unknown_ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown_ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown_ca",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown_ca",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown_ca",
  CERT_UNTRUSTED: "unknown_ca",
  CERT_REJECTED: "unknown_ca",
};

/** REFUSAL_TEXT: what a 403 says, per refusal. */
export const REFUSAL_TEXT: Record<Refusal, string> = {
  no_certificate: "no client certificate was presented",
  unknown_ca: "the client certificate was not issued by a CA this hostname trusts",
  expired: "the client certificate (or a certificate in its chain) has expired",
  not_yet_valid: "the client certificate (or a certificate in its chain) is not yet valid",
  wrong_eku: "the client certificate's extended key usage does not allow client authentication",
  path_length: "the client certificate's chain exceeds a CA's path length constraint",
  invalid: "the client certificate could not be verified",
  revoked: "the client certificate has been revoked",
  held: "the client certificate is on hold (revoked without a reason)",
};

/** MAX_CHAIN bounds how many sent certificates are read (OpenSSL's default verify depth is 100). */
const MAX_CHAIN = 10;

export const NOT_MTLS: ConnectionVerdict = { presented: false, verified: false, serialHex: "", headers: NO_CERTIFICATE };
const NONE_PRESENTED: ConnectionVerdict = { ...NOT_MTLS, refusal: "no_certificate" };

/**
 * connectionVerdict reads the verdict of a TLS connection whose SNI hostname trusts `cas` (empty:
 * no certificate was requested).
 */
export function connectionVerdict(socket: TLSSocket, cas: readonly TrustedCa[]): ConnectionVerdict {
  if (cas.length === 0) return NOT_MTLS;
  const peer = socket.getPeerX509Certificate();
  if (!peer) return NONE_PRESENTED;
  const leaf = readCertificateFields(peer.raw);
  const verified = socket.authorized;

  // The certificates the client sent after its leaf, in the order sent (Node links them as
  // issuerCertificate; this reads the peer chain once, so it is done once per connection).
  const chain: Buffer[] = [];
  const sent: X509Certificate[] = [];
  for (let c = peer.issuerCertificate; c && sent.length < MAX_CHAIN; c = c.issuerCertificate) {
    sent.push(c);
    chain.push(c.raw);
  }
  // OpenSSL reports the last error it met; a chain that reaches none of the hostname's CAs is
  // "unknown CA" whatever else is wrong with it (a self-signed CA certificate also fails the
  // sslclient purpose, for one).
  const refusal = verified
    ? undefined
    : !reachesTrust([peer, ...sent], cas)
      ? "unknown_ca"
      : (REFUSALS[String(socket.authorizationError)] ?? "invalid");
  // The direct issuer: one of the hostname's CAs (always so for a managed CA, whose pathLen is
  // 0), else the sent intermediate that issued the leaf.
  let issuerCa = cas.find((ca) => issuedBy(leaf, ca.fields));
  if (!issuerCa && verified) issuerCa = cas.find((ca) => ca.kind === "managed" && peer.checkIssued(ca.x509()));
  let issuer: CertificateFields | undefined = issuerCa?.fields;
  if (!issuer) {
    const sentIssuer = sent.find((c) => peer.checkIssued(c));
    if (sentIssuer) issuer = readCertificateFields(sentIssuer.raw);
  }
  return {
    presented: true,
    verified,
    refusal,
    leaf,
    managedCaId: verified && issuerCa?.kind === "managed" ? issuerCa.caId : undefined,
    serialHex: leaf.serial.toString("hex").toUpperCase(),
    headers: connectionHeaders({ leaf, issuer, chain }),
  };
}

/** reachesTrust: some certificate of the presented chain is, or is named as issued by, one of the CAs. */
function reachesTrust(presented: X509Certificate[], cas: readonly TrustedCa[]): boolean {
  return presented.some((c) => cas.some((ca) => ca.fields.der.equals(c.raw) || c.checkIssued(ca.x509())));
}
