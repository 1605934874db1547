import type { TxSql } from "./sql.js";

/**
 * MtlsCertificateRow is one uploaded mTLS certificate (migration 0010). The sealed private key is
 * deliberately not part of it: no query here reads that column, so no API view can carry it.
 */
export interface MtlsCertificateRow {
  id: string;
  seq: string;
  account_id: string;
  ca: boolean;
  name: string;
  /** The normalised PEM chain, returned byte for byte. */
  certificates: string;
  issuer: string;
  /** Decimal, as Cloudflare shows it. */
  serial_number: string;
  signature: string;
  expires_on: Date;
  uploaded_on: Date;
  updated_at: Date;
}

export type NewMtlsCertificate = Omit<MtlsCertificateRow, "seq" | "uploaded_on" | "updated_at"> & {
  /** ca = false only: the PKCS#8 key sealed under the master key (AAD mtls_certificates ‖ id). */
  sealed_private_key: Buffer | null;
  uploaded_on: Date;
};

const COLUMNS = "id, seq, account_id, ca, name, certificates, issuer, serial_number, signature, expires_on, uploaded_on, updated_at";

export async function insertMtlsCertificate(sql: TxSql, c: NewMtlsCertificate): Promise<MtlsCertificateRow> {
  const [row] = await sql<MtlsCertificateRow[]>`INSERT INTO mtls_certificates
    (id, account_id, ca, name, certificates, sealed_private_key, issuer, serial_number, signature, expires_on, uploaded_on, updated_at)
    VALUES (${c.id}, ${c.account_id}, ${c.ca}, ${c.name}, ${c.certificates}, ${c.sealed_private_key}, ${c.issuer},
      ${c.serial_number}, ${c.signature}, ${c.expires_on}, ${c.uploaded_on}, ${c.uploaded_on})
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** findMtlsCertificate finds a certificate of an account (another account's id is simply absent); FOR UPDATE before a delete. */
export async function findMtlsCertificate(
  sql: TxSql,
  accountId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<MtlsCertificateRow | undefined> {
  const lock = opts.forUpdate ? sql`FOR UPDATE` : sql``;
  const [row] = await sql<MtlsCertificateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM mtls_certificates
    WHERE account_id = ${accountId} AND id = ${id} ${lock}`;
  return row;
}

export interface MtlsCertificateFilter {
  ca?: boolean;
  name?: string;
  limit: number;
  offset: number;
}

/** listMtlsCertificates pages an account's certificates in upload order, with the total for result_info. */
export async function listMtlsCertificates(sql: TxSql, accountId: string, f: MtlsCertificateFilter): Promise<{ rows: MtlsCertificateRow[]; total: number }> {
  const where = sql`account_id = ${accountId}
    ${f.ca === undefined ? sql`` : sql`AND ca = ${f.ca}`}
    ${f.name === undefined ? sql`` : sql`AND name = ${f.name}`}`;
  const [rows, [count]] = await Promise.all([
    sql<MtlsCertificateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM mtls_certificates WHERE ${where}
      ORDER BY uploaded_on, seq LIMIT ${f.limit} OFFSET ${f.offset}`,
    sql<{ total: number }[]>`SELECT count(*)::int AS total FROM mtls_certificates WHERE ${where}`,
  ]);
  return { rows, total: count.total };
}

/**
 * lockAccountUploads serialises CA uploads of one account, so two racing uploads cannot both pass
 * the quota check. FOR NO KEY UPDATE conflicts with itself but not with the key-share locks that
 * inserts referencing the account take, so nothing else of the account waits on it.
 */
export async function lockAccountUploads(sql: TxSql, accountId: string): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM accounts WHERE id = ${accountId} FOR NO KEY UPDATE`;
  return rows.length === 1;
}

/** countCaUploads counts an account's BYOCA uploads (the quota counts ca = true only). */
export async function countCaUploads(sql: TxSql, accountId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM mtls_certificates WHERE account_id = ${accountId} AND ca`;
  return row.n;
}

export async function deleteMtlsCertificate(sql: TxSql, id: string): Promise<void> {
  await sql`DELETE FROM mtls_certificates WHERE id = ${id}`;
}

/**
 * lockByocaAuthority takes the delete lock on a BYOCA's certificate_authorities row before the
 * association check: an association PUT holding the row waits for it or makes it wait.
 */
export async function lockByocaAuthority(sql: TxSql, id: string): Promise<void> {
  await sql`SELECT 1 FROM certificate_authorities WHERE id = ${id} AND kind = 'byoca' FOR UPDATE`;
}

/** deleteByocaAuthority removes the certificate_authorities twin of a ca = true upload (never a managed CA). */
export async function deleteByocaAuthority(sql: TxSql, id: string): Promise<void> {
  await sql`DELETE FROM certificate_authorities WHERE id = ${id} AND kind = 'byoca'`;
}
