/**
 * enrollment.ts holds the EST use cases (RFC 7030): the CA certificates of a zone, enrollment
 * with a token (simpleenroll, serverkeygen) and re-enrollment with the current certificate
 * (simplereenroll). Each enrollment goes through the one issuance pipeline of
 * client-certificates.ts and becomes an ordinary client certificate; the token use or the
 * superseded_by link is written in the same transaction as the certificate.
 */
import { createHash, generateKeyPair, X509Certificate, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { insertAuditEvent, type Actor } from "../db/audit.js";
import type { ClientCertificateRow } from "../db/client-certificates.js";
import { consumeEnrollmentTokenUse, findEnrollmentToken, type EnrollmentTokenRow } from "../db/enrollment-tokens.js";
import { findCertificateByCaSerial, managedCasOfAccount, markSuperseded } from "../db/renewals.js";
import type { TxSql } from "../db/sql.js";
import { findZone, type ZoneRow } from "../db/zones.js";
import { certificateParts, sameBytes, sameSans } from "../pki/certificate-parts.js";
import { DerError } from "../pki/der-reader.js";
import { parseCsrDer, type ParsedCsr } from "../pki/csr.js";
import { pemToDer } from "../pki/pem.js";
import { serialFromHex } from "../pki/serial.js";
import { encodeSubject } from "../pki/subject.js";
import { issue } from "./client-certificates.js";
import type { ServiceContext } from "./context.js";
import { estError } from "./enrollment-errors.js";
import { globToRegExp, refusalOf } from "./enrollment-tokens.js";
import { HEX_ID } from "./ids.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** Enrolled: the new certificate's row and DER. */
export interface Enrolled {
  row: ClientCertificateRow;
  der: Uint8Array;
}

/** estZone resolves the zone named in an EST path; EST is per zone, across accounts, so no account check. */
export async function estZone(ctx: ServiceContext, zoneId: string): Promise<ZoneRow> {
  const zone = HEX_ID.test(zoneId) ? await findZone(ctx.sql, zoneId) : undefined;
  if (!zone) throw estError("zoneNotFound");
  return zone;
}

/** estCaCertificates: the zone account's managed CAs still within their validity, the active one first (RFC 7030 §4.1). */
export async function estCaCertificates(ctx: ServiceContext, zone: ZoneRow): Promise<Uint8Array[]> {
  const now = ctx.now().getTime();
  const cas = (await managedCasOfAccount(ctx.sql, zone.account_id)).filter((ca) => ca.not_after.getTime() > now);
  if (cas.length === 0) throw estError("noCa");
  return cas.map((ca) => new Uint8Array(ca.certificate_der));
}

async function issueEnrolled(
  ctx: ServiceContext,
  zone: ZoneRow,
  csr: ParsedCsr,
  validityDays: number,
  inTransaction: (tx: TxSql, row: ClientCertificateRow) => Promise<void>,
  actor: Actor,
): Promise<Enrolled> {
  const outcome = await issue(ctx, { zone, csrPem: csr.pem, parsedCsr: csr, validityDays, inTransaction }, actor);
  if (outcome.kind !== "issued") throw new Error("EST issuance never replays");
  return { row: outcome.row, der: pemToDer(outcome.row.certificate_pem, "CERTIFICATE") };
}

function checkCommonName(token: EnrollmentTokenRow, csr: ParsedCsr): void {
  if (token.common_name_pattern === null) return;
  const cn = csr.subject.commonName;
  if (cn === undefined || !globToRegExp(token.common_name_pattern).test(cn)) throw estError("commonNameOutsidePattern");
}

/**
 * tokenEnrollment checks the CSR against the (already authenticated) token, then issues; the
 * token's use is counted by a conditional UPDATE in the issuing transaction, so a token raced past
 * its max_uses (or expired or revoked meanwhile) rolls the certificate back and answers why.
 */
async function tokenEnrollment(
  ctx: ServiceContext,
  input: { zone: ZoneRow; token: EnrollmentTokenRow; csrDer: Uint8Array },
  actor: Actor,
  replaceKey?: (csr: ParsedCsr) => Promise<ParsedCsr>,
): Promise<Enrolled> {
  const { zone, token } = input;
  let csr = parseCsrDer(input.csrDer);
  checkCommonName(token, csr);
  if (replaceKey) csr = await replaceKey(csr);
  return issueEnrolled(
    ctx,
    zone,
    csr,
    token.validity_days,
    async (tx) => {
      if (await consumeEnrollmentTokenUse(tx, token.id)) return;
      const now = await findEnrollmentToken(tx, zone.id, token.id);
      throw (now && refusalOf(now, ctx.now())) ?? estError("tokenUsedUp");
    },
    { ...actor, actor: `enrollment_token:${token.id}` },
  );
}

/**
 * enrollWithToken is simpleenroll (RFC 7030 §4.2.1): the device's CSR, authorised by an enrollment
 * token that authenticateEnrollmentToken resolved first.
 */
export function enrollWithToken(
  ctx: ServiceContext,
  input: { zone: ZoneRow; token: EnrollmentTokenRow; csrDer: Uint8Array },
  actor: Actor,
): Promise<Enrolled> {
  return tokenEnrollment(ctx, input, actor);
}

async function generateLike(keyType: ParsedCsr["keyType"]): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (keyType) {
    case "P-256":
    case "P-384":
      return generateKeyPairAsync("ec", { namedCurve: keyType });
    case "Ed25519":
      return generateKeyPairAsync("ed25519");
    default:
      return generateKeyPairAsync("rsa", { modulusLength: Number(keyType.slice(4)), publicExponent: 65537 });
  }
}

/**
 * serverKeygen (RFC 7030 §4.4): the server makes a key of the CSR's key type and certifies it
 * with the CSR's names. The key is returned once (PKCS#8 DER) and never stored or logged.
 */
export async function serverKeygen(
  ctx: ServiceContext,
  input: { zone: ZoneRow; token: EnrollmentTokenRow; csrDer: Uint8Array },
  actor: Actor,
): Promise<Enrolled & { privateKeyPkcs8: Buffer }> {
  let privateKey: KeyObject | undefined;
  const enrolled = await tokenEnrollment(ctx, input, actor, async (csr) => {
    const pair = await generateLike(csr.keyType);
    privateKey = pair.privateKey;
    return { ...csr, spkiDer: new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" })) };
  });
  return { ...enrolled, privateKeyPkcs8: privateKey!.export({ type: "pkcs8", format: "der" }) };
}

/** CurrentCertificate: a TLS client certificate that authenticated a re-enrollment. */
export interface CurrentCertificate {
  id: string;
  caId: string;
  serialHex: string;
  validityDays: number;
  der: Uint8Array;
}

/**
 * authenticateClientCertificate checks the TLS client certificate of simplereenroll: it must
 * chain to a managed CA of the zone's own account (never a merged list of every tenant's CAs), be
 * a certificate Gatehouse issued for this zone (same serial and fingerprint), active (not revoked
 * or held) and within its validity.
 */
export async function authenticateClientCertificate(
  ctx: ServiceContext,
  zone: ZoneRow,
  der: Uint8Array | undefined,
): Promise<CurrentCertificate> {
  if (!der || der.length === 0) throw estError("certificateMissing");
  let presented: X509Certificate;
  try {
    presented = new X509Certificate(der);
  } catch {
    throw estError("certificateUnknown");
  }
  const ca = (await managedCasOfAccount(ctx.sql, zone.account_id)).find((candidate) => {
    const caCert = new X509Certificate(candidate.certificate_der);
    return presented.checkIssued(caCert) && presented.verify(caCert.publicKey);
  });
  if (!ca) throw estError("certificateNotOfZone");
  const serial = Buffer.from(serialFromHex(presented.serialNumber));
  const old = await findCertificateByCaSerial(ctx.sql, ca.id, serial);
  if (!old || old.fingerprint_sha256 !== createHash("sha256").update(der).digest("hex")) throw estError("certificateUnknown");
  if (old.zone_id !== zone.id) throw estError("certificateNotOfZone");
  if (old.status !== "active") throw estError("certificateRevoked");
  const now = ctx.now().getTime();
  if (now < old.issued_on.getTime() || now >= old.expires_on.getTime()) throw estError("certificateExpired");
  return { id: old.id, caId: old.ca_id, serialHex: serial.toString("hex"), validityDays: old.validity_days, der };
}

/**
 * reenroll is simplereenroll (RFC 7030 §4.2.2) for a certificate authenticateClientCertificate
 * accepted: the CSR must carry the same subject and subjectAltName, with the same key (renew) or
 * a new one (rekey). The old certificate stays valid and records superseded_by in the issuing
 * transaction, which a revocation committed meanwhile rolls back.
 */
export async function reenroll(
  ctx: ServiceContext,
  input: { zone: ZoneRow; current: CurrentCertificate; csrDer: Uint8Array },
  actor: Actor,
): Promise<Enrolled & { mode: "renew" | "rekey" }> {
  const { zone, current } = input;
  const csr = parseCsrDer(input.csrDer);
  let parts;
  try {
    parts = certificateParts(current.der);
  } catch (e) {
    if (e instanceof DerError) throw estError("certificateUnknown");
    throw e;
  }
  if (!sameBytes(encodeSubject(csr.subject), parts.subjectDer)) throw estError("subjectMismatch");
  if (!sameSans(csr.sans, parts.sans)) throw estError("sanMismatch");
  const mode = sameBytes(csr.spkiDer, parts.spkiDer) ? "renew" : "rekey";
  const by = `client_certificate:${current.id}`;
  const enrolled = await issueEnrolled(
    ctx,
    zone,
    csr,
    current.validityDays,
    async (tx, row) => {
      if (!(await markSuperseded(tx, current.id, row.id))) throw estError("certificateRevoked");
      await insertAuditEvent(tx, {
        accountId: zone.account_id,
        ...actor,
        actor: by,
        action: "client_certificate.supersede",
        objectType: "client_certificate",
        objectId: current.id,
        caId: current.caId,
        serial: current.serialHex,
        oldStatus: "active",
        newStatus: "active",
        reason: `${mode}:${row.id}`,
      });
    },
    { ...actor, actor: by },
  );
  return { ...enrolled, mode };
}
