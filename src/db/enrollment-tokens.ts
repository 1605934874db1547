import type { TxSql } from "./sql.js";

/** EnrollmentTokenRow is one EST enrollment token; its value exists only as `digest` (SHA-256). */
export interface EnrollmentTokenRow {
  id: string;
  account_id: string;
  zone_id: string;
  name: string;
  max_uses: number | null;
  uses: number;
  expires_on: Date | null;
  common_name_pattern: string | null;
  validity_days: number;
  created_on: Date;
  revoked_on: Date | null;
}

const COLUMNS = "id, account_id, zone_id, name, max_uses, uses, expires_on, common_name_pattern, validity_days, created_on, revoked_on";

export async function insertEnrollmentToken(
  sql: TxSql,
  t: Omit<EnrollmentTokenRow, "uses" | "created_on" | "revoked_on"> & { digest: Buffer },
): Promise<EnrollmentTokenRow> {
  const [row] = await sql<EnrollmentTokenRow[]>`INSERT INTO enrollment_tokens
      (id, account_id, zone_id, name, digest, max_uses, expires_on, common_name_pattern, validity_days)
    VALUES (${t.id}, ${t.account_id}, ${t.zone_id}, ${t.name}, ${t.digest}, ${t.max_uses}, ${t.expires_on},
      ${t.common_name_pattern}, ${t.validity_days})
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** listEnrollmentTokens lists a zone's tokens, oldest first, revoked ones included. */
export async function listEnrollmentTokens(sql: TxSql, zoneId: string): Promise<EnrollmentTokenRow[]> {
  return sql<EnrollmentTokenRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM enrollment_tokens
    WHERE zone_id = ${zoneId} ORDER BY created_on, id`;
}

/** findEnrollmentTokenByDigest is the EST authentication look-up (revoked tokens included: the caller decides). */
export async function findEnrollmentTokenByDigest(sql: TxSql, digest: Buffer): Promise<EnrollmentTokenRow | undefined> {
  const [row] = await sql<EnrollmentTokenRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM enrollment_tokens WHERE digest = ${digest}`;
  return row;
}

export async function findEnrollmentToken(sql: TxSql, zoneId: string, id: string): Promise<EnrollmentTokenRow | undefined> {
  const [row] = await sql<EnrollmentTokenRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM enrollment_tokens
    WHERE zone_id = ${zoneId} AND id = ${id}`;
  return row;
}

/** revokeEnrollmentToken stops a token from enrolling anything more (the first revocation time is kept). */
export async function revokeEnrollmentToken(sql: TxSql, zoneId: string, id: string): Promise<EnrollmentTokenRow | undefined> {
  const [row] = await sql<EnrollmentTokenRow[]>`UPDATE enrollment_tokens SET revoked_on = COALESCE(revoked_on, now())
    WHERE zone_id = ${zoneId} AND id = ${id} RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/**
 * consumeEnrollmentTokenUse counts one use, only while the token is live: not revoked, not expired
 * (database clock), uses below max_uses. Run inside the issuing transaction: concurrent callers
 * queue on the row lock and re-check the condition after the one before them commits, so at most
 * max_uses of them ever succeed. Undefined when the token may not be used.
 */
export async function consumeEnrollmentTokenUse(sql: TxSql, id: string): Promise<EnrollmentTokenRow | undefined> {
  const [row] = await sql<EnrollmentTokenRow[]>`UPDATE enrollment_tokens SET uses = uses + 1
    WHERE id = ${id} AND revoked_on IS NULL
      AND (max_uses IS NULL OR uses < max_uses)
      AND (expires_on IS NULL OR expires_on > now())
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}
