import type { TxSql } from "./sql.js";

/**
 * BindingLeaseRow: one running binding's claim on a `ca: false` mTLS certificate. A lease whose
 * expires_on has passed counts as gone: its process stopped renewing it.
 */
export interface BindingLeaseRow {
  id: string;
  account_id: string;
  mtls_certificate_id: string;
  binding: string;
  holder: string;
  actor: string;
  created_on: Date;
  renewed_on: Date;
  expires_on: Date;
  /** Computed by the database clock when read: expires_on > now(). */
  active: boolean;
}

const COLUMNS = "id, account_id, mtls_certificate_id, binding, holder, actor, created_on, renewed_on, expires_on, expires_on > now() AS active";

export async function insertLease(
  sql: TxSql,
  row: { id: string; accountId: string; certificateId: string; binding: string; holder: string; actor: string; ttlSeconds: number },
): Promise<BindingLeaseRow> {
  const [lease] = await sql.unsafe<BindingLeaseRow[]>(
    `INSERT INTO binding_leases (id, account_id, mtls_certificate_id, binding, holder, actor, expires_on)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)) RETURNING ${COLUMNS}`,
    [row.id, row.accountId, row.certificateId, row.binding, row.holder, row.actor, row.ttlSeconds],
  );
  return lease;
}

/** renewLease pushes expires_on to now + ttl; undefined when the lease is gone (released, or its certificate deleted). */
export async function renewLease(sql: TxSql, certificateId: string, leaseId: string, ttlSeconds: number): Promise<BindingLeaseRow | undefined> {
  const [lease] = await sql.unsafe<BindingLeaseRow[]>(
    `UPDATE binding_leases SET renewed_on = now(), expires_on = now() + make_interval(secs => $3)
     WHERE id = $1 AND mtls_certificate_id = $2 RETURNING ${COLUMNS}`,
    [leaseId, certificateId, ttlSeconds],
  );
  return lease;
}

export async function deleteLease(sql: TxSql, certificateId: string, leaseId: string): Promise<BindingLeaseRow | undefined> {
  const [lease] = await sql.unsafe<BindingLeaseRow[]>(
    `DELETE FROM binding_leases WHERE id = $1 AND mtls_certificate_id = $2 RETURNING ${COLUMNS}`,
    [leaseId, certificateId],
  );
  return lease;
}

/** listLeases returns a certificate's leases, active ones first, newest renewal first. */
export async function listLeases(sql: TxSql, certificateId: string, onlyActive = false): Promise<BindingLeaseRow[]> {
  return sql.unsafe<BindingLeaseRow[]>(
    `SELECT ${COLUMNS} FROM binding_leases WHERE mtls_certificate_id = $1 ${onlyActive ? "AND expires_on > now()" : ""}
     ORDER BY (expires_on > now()) DESC, renewed_on DESC, id`,
    [certificateId],
  );
}

/** deleteLeasesOf removes every lease of a certificate (a forced delete), returning how many there were. */
export async function deleteLeasesOf(sql: TxSql, certificateId: string): Promise<number> {
  const rows = await sql`DELETE FROM binding_leases WHERE mtls_certificate_id = ${certificateId} RETURNING id`;
  return rows.length;
}

/** purgeExpiredLeases drops leases that lapsed more than a day ago: they only mattered while active. */
export async function purgeExpiredLeases(sql: TxSql, certificateId: string): Promise<void> {
  await sql`DELETE FROM binding_leases WHERE mtls_certificate_id = ${certificateId} AND expires_on < now() - interval '1 day'`;
}
