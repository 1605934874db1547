import { insertAuditEvent, type Actor } from "../db/audit.js";
import {
  deleteLease,
  deleteLeasesOf,
  insertLease,
  listLeases,
  purgeExpiredLeases,
  renewLease,
  type BindingLeaseRow,
} from "../db/binding-leases.js";
import type { TxSql } from "../db/sql.js";
import { GatehouseError } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { newUuid } from "./ids.js";
import { assertClientCertificate, findKeyHolder } from "./key-material.js";

/**
 * Binding leases: each running binding (createBindings) registers itself as an association of its
 * certificate and renews the lease while its process runs. An active lease lists the certificate
 * as used by service `binding` and blocks its DELETE unless `?force=true`. Codes 1810–1819.
 */
export const BindingLeaseErrors = {
  /** DELETE of a certificate that an active binding uses. */
  inUseByBinding: 1810,
  /** The lease is gone (released, or lapsed and purged): register again. */
  leaseNotFound: 1811,
  badBindingName: 1812,
  badHolder: 1813,
  badTtl: 1814,
  /** DELETE ?force= other than true or false. */
  badForce: 1815,
} as const;

export const LEASE_TTL_DEFAULT = 60;
export const LEASE_TTL_MIN = 10;
export const LEASE_TTL_MAX = 3600;

const BINDING_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
const HOLDER = /^[\x20-\x7e]{1,200}$/;

/** LeaseInput is a registration as the API or a direct-access binding sends it. */
export interface LeaseInput {
  accountId: string | undefined;
  certificateId: string;
  binding: unknown;
  holder: unknown;
  ttlSeconds?: unknown;
}

export function ttlOf(raw: unknown): number {
  if (raw === undefined || raw === null) return LEASE_TTL_DEFAULT;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < LEASE_TTL_MIN || raw > LEASE_TTL_MAX) {
    throw new GatehouseError(BindingLeaseErrors.badTtl, 400, `ttl_seconds must be a whole number from ${LEASE_TTL_MIN} to ${LEASE_TTL_MAX}`);
  }
  return raw;
}

const leaseNotFound = () =>
  new GatehouseError(BindingLeaseErrors.leaseNotFound, 404, "binding lease not found (released, or it lapsed): register the binding again");

/** registerLease records a running binding of a `ca: false` certificate (404 outside the account, 400 for a CA upload). */
export async function registerLease(ctx: Pick<ServiceContext, "sql">, input: LeaseInput, actor: Actor): Promise<BindingLeaseRow> {
  if (typeof input.binding !== "string" || !BINDING_NAME.test(input.binding)) {
    throw new GatehouseError(BindingLeaseErrors.badBindingName, 400, "binding must be a JavaScript identifier of at most 64 characters (like MY_CERT)");
  }
  if (typeof input.holder !== "string" || !HOLDER.test(input.holder)) {
    throw new GatehouseError(BindingLeaseErrors.badHolder, 400, "holder must be 1 to 200 printable ASCII characters (host:pid)");
  }
  const ttlSeconds = ttlOf(input.ttlSeconds);
  const binding = input.binding;
  const holderName = input.holder;
  return (await ctx.sql.begin(async (tx) => {
    // FOR KEY SHARE: a concurrent DELETE of the certificate waits for this registration (and then
    // sees the lease), or this one waits for the DELETE and finds no certificate.
    const holder = await findKeyHolder(tx, input.accountId, input.certificateId);
    await tx`SELECT 1 FROM mtls_certificates WHERE id = ${holder.id} FOR KEY SHARE`;
    assertClientCertificate(holder);
    await purgeExpiredLeases(tx, holder.id);
    const lease = await insertLease(tx, {
      id: newUuid(),
      accountId: holder.account_id,
      certificateId: holder.id,
      binding,
      holder: holderName,
      actor: actor.actor,
      ttlSeconds,
    });
    await insertAuditEvent(tx, {
      accountId: holder.account_id,
      ...actor,
      action: "binding_lease.register",
      objectType: "mtls_certificate",
      objectId: holder.id,
      newStatus: "active",
      reason: `binding ${binding}`,
    });
    return lease;
  })) as BindingLeaseRow;
}

/** renewLease extends a lease; a lease that is gone answers 1811, a certificate that is gone 404. */
export async function renewBindingLease(
  ctx: Pick<ServiceContext, "sql">,
  accountId: string | undefined,
  certificateId: string,
  leaseId: string,
  ttlRaw: unknown,
): Promise<BindingLeaseRow> {
  const ttlSeconds = ttlOf(ttlRaw);
  const holder = await findKeyHolder(ctx.sql, accountId, certificateId);
  const lease = await renewLease(ctx.sql, holder.id, leaseId, ttlSeconds);
  if (!lease) throw leaseNotFound();
  return lease;
}

/** releaseLease ends a lease (a binding's close()). */
export async function releaseLease(
  ctx: Pick<ServiceContext, "sql">,
  accountId: string | undefined,
  certificateId: string,
  leaseId: string,
  actor: Actor,
): Promise<BindingLeaseRow> {
  return (await ctx.sql.begin(async (tx) => {
    const holder = await findKeyHolder(tx, accountId, certificateId);
    const lease = await deleteLease(tx, holder.id, leaseId);
    if (!lease) throw leaseNotFound();
    await insertAuditEvent(tx, {
      accountId: holder.account_id,
      ...actor,
      action: "binding_lease.release",
      objectType: "mtls_certificate",
      objectId: holder.id,
      oldStatus: "active",
      reason: `binding ${lease.binding}`,
    });
    return lease;
  })) as BindingLeaseRow;
}

/** listBindingLeases lists a certificate's leases (active and lapsed), for GET …/bindings. */
export async function listBindingLeases(ctx: Pick<ServiceContext, "sql">, accountId: string | undefined, certificateId: string): Promise<BindingLeaseRow[]> {
  const holder = await findKeyHolder(ctx.sql, accountId, certificateId);
  return listLeases(ctx.sql, holder.id);
}

// ── For the mTLS-certificate service (issue 3): associations and the DELETE check ─────────────

/**
 * bindingAssociations is the `binding` part of GET …/mtls_certificates/{id}/associations: one
 * `{service: "binding", status: "active"}` per active lease.
 */
export async function bindingAssociations(sql: TxSql, certificateId: string): Promise<Array<{ service: "binding"; status: "active" }>> {
  const leases = await listLeases(sql, certificateId, true);
  return leases.map(() => ({ service: "binding" as const, status: "active" as const }));
}

/** bindingLeaseSource is the AssociationSource of services/mtls-certificates.ts for running bindings. */
export const bindingLeaseSource = (sql: TxSql, certificate: { id: string }) => bindingAssociations(sql, certificate.id);

/** forceOf reads DELETE's `?force=` (absent or false: running bindings block the delete). */
export function forceOf(raw: unknown): boolean {
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new GatehouseError(BindingLeaseErrors.badForce, 400, "force must be true or false");
}

/**
 * checkBindingLeasesBeforeDelete runs inside the DELETE transaction of an mTLS certificate, after
 * the row was locked FOR UPDATE. With active leases it refuses (409, code 1810, naming the
 * binding and its holder) unless `force`; with `force` it removes the leases (the foreign key
 * would cascade them too; deleting here returns how many were cut off, for the audit event).
 */
export async function checkBindingLeasesBeforeDelete(tx: TxSql, certificateId: string, force: boolean): Promise<number> {
  const active = await listLeases(tx, certificateId, true);
  if (active.length > 0 && !force) {
    const first = active[0];
    const others = active.length > 1 ? ` and ${active.length - 1} more` : "";
    throw new GatehouseError(
      BindingLeaseErrors.inUseByBinding,
      409,
      `mTLS certificate is in use by binding ${first.binding} (held by ${first.holder})${others}: stop that process, or delete with ?force=true`,
    );
  }
  await deleteLeasesOf(tx, certificateId);
  return active.length;
}
