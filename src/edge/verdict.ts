/**
 * verdict.ts turns what the TLS handshake established into the edge's verdict on a connection's
 * client certificate. OpenSSL already verified the chain during the handshake against exactly the
 * SNI hostname's CAs (the TLS context's trust store, with X509_V_FLAG_PARTIAL_CHAIN when an
 * anchor is an intermediate uploaded alone), checking signatures, validity periods, basic
 * constraints and pathLen, and the sslclient purpose (an EKU, when present, must allow clientAuth).
 * Its result is read here once per connection; revocation and expiry are re-checked per request.
 */
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { DerCursor, readTlv } from "../pki/der-reader.js";
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
export function connectionVerdict(socket: TLSSocket, cas: readonly TrustedCa[], cache?: { verdicts: VerdictCache; caKey: string }): ConnectionVerdict {
  if (cas.length === 0) return NOT_MTLS;
  const leafDer = peerLeafDer(socket);
  if (!leafDer) return NONE_PRESENTED;
  const verified = socket.authorized;
  // A client usually reconnects with the same certificate: a verified leaf issued directly by one
  // of the CAs has the same verdict every time (revocation and expiry are checked per request).
  const cacheKey = verified && cache ? `${cache.caKey}|${leafDer.toString("latin1")}` : undefined;
  const cached = cacheKey === undefined ? undefined : cache!.verdicts.get(cacheKey);
  if (cached) return cached;
  const leaf = readCertificateFields(leafDer);
  let issuerCa = cas.find((ca) => issuedBy(leaf, ca.fields));
  let issuer: CertificateFields | undefined = issuerCa?.fields;
  let chain: Buffer[] = [];
  let refusal: Refusal | undefined;
  if (!issuerCa || !verified) {
    // Through an intermediate, or refused: read the certificates the client sent after its leaf,
    // in the order sent (Node links them as issuerCertificate, consuming the peer chain: once).
    const peer = socket.getPeerX509Certificate()!;
    const sent: X509Certificate[] = [];
    for (let c = peer.issuerCertificate; c && sent.length < MAX_CHAIN; c = c.issuerCertificate) sent.push(c);
    chain = sent.map((c) => c.raw);
    // A managed CA whose name is encoded differently in the leaf still matches (canonical compare).
    if (!issuerCa && verified) issuerCa = cas.find((ca) => ca.kind === "managed" && peer.checkIssued(ca.x509()));
    issuer = issuerCa?.fields;
    if (!issuer) {
      const sentIssuer = sent.find((c) => peer.checkIssued(c));
      if (sentIssuer) issuer = readCertificateFields(sentIssuer.raw);
    }
    // OpenSSL reports the last error it met; a chain that reaches none of the hostname's CAs is
    // "unknown CA" whatever else is wrong with it (a self-signed CA certificate also fails the
    // sslclient purpose, for one).
    if (!verified) refusal = reachesTrust([peer, ...sent], cas) ? (REFUSALS[String(socket.authorizationError)] ?? "invalid") : "unknown_ca";
  }
  const verdict: ConnectionVerdict = {
    presented: true,
    verified,
    refusal,
    leaf,
    managedCaId: verified && issuerCa?.kind === "managed" ? issuerCa.caId : undefined,
    serialHex: leaf.serial.toString("hex").toUpperCase(),
    headers: connectionHeaders({ leaf, issuer, chain }),
  };
  if (cacheKey !== undefined && chain.length === 0) cache!.verdicts.set(cacheKey, verdict);
  return verdict;
}

/**
 * VerdictCache keeps the verdicts of recent certificates (per CA set), bounded; entries are
 * immutable (only the revocation key is filled in once), so connections may share them.
 */
export class VerdictCache {
  private readonly map = new Map<string, ConnectionVerdict>();
  constructor(private readonly max = 10_000) {}
  get(key: string): ConnectionVerdict | undefined {
    return this.map.get(key);
  }
  set(key: string, verdict: ConnectionVerdict): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, verdict);
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * peerLeafDer returns the client certificate's DER. Building Node's certificate objects is the
 * costly part of a connection's first request (an X509Certificate takes ~0.1 ms on Node 20, the
 * abbreviated getPeerCertificate ~40 µs), while the TLS session, serialised by OpenSSL
 * (SSL_SESSION_ASN1: SEQUENCE { version, ssl_version, cipher, session_id, master_key, [0], [1]
 * time, [2] timeout, [3] EXPLICIT peer Certificate, … }), holds the same certificate and takes
 * ~10 µs; should that encoding ever differ, the abbreviated object is used instead.
 */
export function peerLeafDer(socket: TLSSocket): Buffer | undefined {
  const session = socket.getSession();
  if (session) {
    try {
      const seq = readTlv(session, 0, session.length);
      const c = DerCursor.inside(session, seq);
      while (!c.atEnd) {
        const t = c.next();
        if (t.tag === 0xa3) {
          const cert = readTlv(session, t.valueStart, t.end);
          if (cert.tag === 0x30 && cert.end === t.end) return Buffer.from(session.subarray(cert.start, cert.end));
          break;
        }
      }
    } catch {
      // fall through to Node's object
    }
  }
  return socket.getPeerCertificate(false)?.raw ?? undefined;
}

/** reachesTrust: some certificate of the presented chain is, or is named as issued by, one of the CAs. */
function reachesTrust(presented: X509Certificate[], cas: readonly TrustedCa[]): boolean {
  return presented.some((c) => cas.some((ca) => ca.fields.der.equals(c.raw) || c.checkIssued(ca.x509())));
}
