import type { Actor } from "../db/audit.js";
import { insertAuditEvent } from "../db/audit.js";
import {
  findClientCertificate,
  insertIssuedCertificate,
  listClientCertificates,
  updateRevocation,
  type ClientCertificateRow,
  type RevocationReason,
  type StatusFilter,
} from "../db/client-certificates.js";
import { findIdempotentResponse, storeIdempotentResponse } from "../db/idempotency.js";
import { isUniqueViolation, type TxSql } from "../db/sql.js";
import type { ZoneRow } from "../db/zones.js";
import { GatehouseError, notFound, RequestErrors } from "../errors.js";
import { issueClientCertificate as signClientCertificate, type DistributionUrls } from "../pki/certificate.js";
import { parseCsr, type ParsedCsr } from "../pki/csr.js";
import { newSerial } from "../pki/serial.js";
import type { ServiceContext } from "./context.js";
import { recordStatusChange } from "./crl.js";
import { newUuid } from "./ids.js";

export const ClientCertificateErrors = {
  revocationIsFinal: 1200,
  badReason: 1201,
  badStatusFilter: 1202,
  badPerPage: 1203,
  badPage: 1204,
  noManagedCa: 1205,
} as const;

/** Reasons a DELETE may give (RFC 5280 §5.3.1). None means a hold: reversible by PATCH. */
export const REVOCATION_REASONS: readonly RevocationReason[] = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
];

export interface Idempotency {
  key: string;
  requestHash: Buffer;
  /** render turns the new row into the exact response body stored for replay. */
  render: (row: ClientCertificateRow, messages: string[]) => unknown;
}

export type IssueOutcome =
  | { kind: "issued"; row: ClientCertificateRow; messages: string[] }
  | { kind: "replayed"; statusCode: number; body: unknown };

/** distributionUrls are baked into certificates only when a public URL is configured (PROFILE.md). */
export function distributionUrls(publicUrl: string | undefined, caId: string): DistributionUrls | undefined {
  if (!publicUrl) return undefined;
  return {
    crl: `${publicUrl}/pki/${caId}/crl`,
    ocsp: `${publicUrl}/pki/${caId}/ocsp`,
    caIssuers: `${publicUrl}/pki/${caId}/ca.der`,
  };
}

async function replayIfStored(ctx: ServiceContext, accountId: string, idem: Idempotency): Promise<IssueOutcome | undefined> {
  const stored = await findIdempotentResponse(ctx.sql, accountId, idem.key);
  if (!stored) return undefined;
  if (!stored.request_hash.equals(idem.requestHash)) {
    throw new GatehouseError(
      RequestErrors.idempotencyKeyReused,
      422,
      "this Idempotency-Key was used with a different request body; use a new key for a new request",
    );
  }
  return { kind: "replayed", statusCode: stored.status_code, body: stored.response };
}

/**
 * issue runs the issuance pipeline: parse and check the CSR → apply the profile and lint → sign
 * with the zone account's active managed CA → record certificate and audit event atomically.
 * A serial collision (astronomically rare with 127 random bits) draws a new serial and re-signs.
 */
export async function issue(
  ctx: ServiceContext,
  input: {
    zone: ZoneRow;
    csrPem: string;
    validityDays: number;
    idempotency?: Idempotency;
    /** parsedCsr: a CSR the caller already parsed and checked (EST sends DER); csrPem is then not read. */
    parsedCsr?: ParsedCsr;
    /**
     * inTransaction runs inside the transaction that records the certificate, after its insert; a
     * throw rolls everything back (EST counts token uses and records superseded_by here).
     */
    inTransaction?: (tx: TxSql, row: ClientCertificateRow) => Promise<void>;
  },
  actor: Actor,
): Promise<IssueOutcome> {
  const { zone, idempotency } = input;
  if (idempotency) {
    const replay = await replayIfStored(ctx, zone.account_id, idempotency);
    if (replay) return replay;
  }
  const csr = input.parsedCsr ?? parseCsr(input.csrPem);
  const issuer = await ctx.issuers.activeIssuer(zone.account_id);
  if (!issuer) throw new GatehouseError(ClientCertificateErrors.noManagedCa, 409, "the account has no active managed CA");
  const messages = csr.droppedExtensions.map((name) => `requested extension ${name} was not copied into the certificate`);
  for (let attempt = 0; ; attempt++) {
    const cert = await signClientCertificate({
      csr,
      issuer: issuer.info,
      serial: newSerial(),
      now: ctx.now(),
      validityDays: input.validityDays,
      urls: distributionUrls(ctx.publicUrl, issuer.ca.id),
    });
    const row: ClientCertificateRow = {
      id: newUuid(),
      seq: "0",
      zone_id: zone.id,
      ca_id: issuer.ca.id,
      serial: Buffer.from(cert.serialHex, "hex"),
      status: "active",
      revocation_reason: null,
      revoked_on: null,
      certificate_pem: cert.pem,
      csr_pem: csr.pem,
      common_name: csr.subject.commonName ?? null,
      country: csr.subject.country ?? null,
      state: csr.subject.state ?? null,
      location: csr.subject.locality ?? null,
      organization: csr.subject.organization ?? null,
      organizational_unit: csr.subject.organizationalUnit ?? null,
      fingerprint_sha256: cert.fingerprintSha256,
      ski: cert.skiHex,
      signature: cert.signatureName,
      validity_days: input.validityDays,
      issued_on: cert.notBefore,
      expires_on: cert.notAfter,
      ca_name: issuer.ca.name,
    };
    const audit = { accountId: zone.account_id, ...actor };
    try {
      if (!idempotency && !input.inTransaction) {
        await insertIssuedCertificate(ctx.sql, row, audit);
      } else {
        await ctx.sql.begin(async (tx) => {
          await insertIssuedCertificate(tx, row, audit);
          if (input.inTransaction) await input.inTransaction(tx, row);
          if (idempotency) await storeIdempotentResponse(tx, {
            accountId: zone.account_id,
            key: idempotency.key,
            requestHash: idempotency.requestHash,
            statusCode: 200,
            response: idempotency.render(row, messages),
          });
        });
      }
      return { kind: "issued", row, messages };
    } catch (err) {
      if (idempotency && isUniqueViolation(err, "idempotency_keys_pkey")) {
        // A racing request with the same key committed first: answer as it did.
        const replay = await replayIfStored(ctx, zone.account_id, idempotency);
        if (replay) return replay;
      }
      if (!isUniqueViolation(err, "client_certificates_ca_serial_key") || attempt >= 2) throw err;
    }
  }
}

export async function getCertificate(ctx: ServiceContext, zone: ZoneRow, id: string): Promise<ClientCertificateRow> {
  const row = await findClientCertificate(ctx.sql, zone.id, id);
  if (!row) throw notFound("client certificate");
  return row;
}

export async function list(
  ctx: ServiceContext,
  zone: ZoneRow,
  query: { status: StatusFilter; limit: number; offset: number },
): Promise<{ rows: ClientCertificateRow[]; total: number }> {
  return listClientCertificates(ctx.sql, zone.id, query.status, query.limit, query.offset);
}

export function parseReason(raw: unknown): RevocationReason | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string" || !(REVOCATION_REASONS as readonly string[]).includes(raw)) {
    throw new GatehouseError(
      ClientCertificateErrors.badReason,
      400,
      `reason must be one of ${REVOCATION_REASONS.join(", ")}; omit it to put the certificate on hold`,
    );
  }
  return raw as RevocationReason;
}

type Transition = { row: ClientCertificateRow; next?: { status: "active" | "revoked"; reason: RevocationReason | null } };

/**
 * changeStatus locks the row, lets `decide` pick the next state, and writes it with its audit event
 * and a change notice (so edges and OCSP caches drop the old status) in one transaction.
 */
async function changeStatus(
  ctx: ServiceContext,
  zone: ZoneRow,
  id: string,
  action: string,
  actor: Actor,
  decide: (row: ClientCertificateRow) => Transition["next"],
): Promise<ClientCertificateRow> {
  return (await ctx.sql.begin(async (tx) => {
    const row = await findClientCertificate(tx, zone.id, id, { forUpdate: true });
    if (!row) throw notFound("client certificate");
    const next = decide(row);
    if (!next) return row;
    const revokedOn = next.status === "revoked" ? new Date(Math.floor(ctx.now().getTime() / 1000) * 1000) : null;
    await updateRevocation(tx, row.id, { status: next.status, reason: next.reason, revokedOn });
    await insertAuditEvent(tx, {
      accountId: zone.account_id,
      ...actor,
      action,
      objectType: "client_certificate",
      objectId: row.id,
      caId: row.ca_id,
      serial: row.serial.toString("hex"),
      oldStatus: row.revocation_reason ? `${row.status}:${row.revocation_reason}` : row.status,
      newStatus: next.reason ? `${next.status}:${next.reason}` : next.status,
      reason: next.reason ?? undefined,
    });
    // CRL entry, CRL change counter and the (CA, serial) notice for OCSP caches (services/crl.ts).
    await recordStatusChange(ctx, tx, row, { status: next.status, reason: next.reason, revokedOn });
    await ctx.bus.publish(tx, { topic: "certificate", id: row.id });
    return { ...row, status: next.status, revocation_reason: next.reason, revoked_on: revokedOn };
  })) as ClientCertificateRow;
}

/**
 * revoke: no reason puts an active certificate on hold (certificateHold); a reason is final. A later
 * DELETE may escalate a hold to a final reason; anything else repeats and answers the current state.
 */
export function revoke(ctx: ServiceContext, zone: ZoneRow, id: string, reason: RevocationReason | undefined, actor: Actor) {
  const wanted = reason ?? "certificateHold";
  return changeStatus(ctx, zone, id, "client_certificate.revoke", actor, (row) => {
    if (row.status === "active") return { status: "revoked", reason: wanted };
    if (row.revocation_reason === "certificateHold" && wanted !== "certificateHold") return { status: "revoked", reason: wanted };
    return undefined;
  });
}

/** reactivate releases a hold; a final revocation answers 409; an active certificate answers as it is. */
export function reactivate(ctx: ServiceContext, zone: ZoneRow, id: string, actor: Actor) {
  return changeStatus(ctx, zone, id, "client_certificate.reactivate", actor, (row) => {
    if (row.status === "active") return undefined;
    if (row.revocation_reason !== "certificateHold") {
      throw new GatehouseError(
        ClientCertificateErrors.revocationIsFinal,
        409,
        "this certificate was revoked with a final reason and cannot be reactivated; only held certificates (revoked without a reason) can",
      );
    }
    return { status: "active", reason: null };
  });
}
