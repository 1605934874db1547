import type { TxSql } from "./sql.js";

export interface ApiTokenRow {
  id: string;
  account_id: string;
  name: string;
  scopes: string[];
  created_on: Date;
  revoked_on: Date | null;
}

export async function insertToken(
  sql: TxSql,
  row: { id: string; accountId: string; name: string; digest: Buffer; scopes: string[] },
): Promise<ApiTokenRow> {
  const [token] = await sql<ApiTokenRow[]>`INSERT INTO api_tokens (id, account_id, name, digest, scopes)
    VALUES (${row.id}, ${row.accountId}, ${row.name}, ${row.digest}, ${row.scopes})
    RETURNING id, account_id, name, scopes, created_on, revoked_on`;
  return token;
}

/** findActiveTokenByDigest is the authentication look-up: revoked tokens are not found. */
export async function findActiveTokenByDigest(sql: TxSql, digest: Buffer): Promise<ApiTokenRow | undefined> {
  const [token] = await sql<ApiTokenRow[]>`SELECT id, account_id, name, scopes, created_on, revoked_on
    FROM api_tokens WHERE digest = ${digest} AND revoked_on IS NULL`;
  return token;
}

export async function listTokens(sql: TxSql, accountId: string): Promise<ApiTokenRow[]> {
  return sql<ApiTokenRow[]>`SELECT id, account_id, name, scopes, created_on, revoked_on
    FROM api_tokens WHERE account_id = ${accountId} ORDER BY created_on, id`;
}

export async function findToken(sql: TxSql, accountId: string, id: string): Promise<ApiTokenRow | undefined> {
  const [token] = await sql<ApiTokenRow[]>`SELECT id, account_id, name, scopes, created_on, revoked_on
    FROM api_tokens WHERE account_id = ${accountId} AND id = ${id}`;
  return token;
}

export async function revokeToken(sql: TxSql, accountId: string, id: string): Promise<ApiTokenRow | undefined> {
  const [token] = await sql<ApiTokenRow[]>`UPDATE api_tokens SET revoked_on = COALESCE(revoked_on, now())
    WHERE account_id = ${accountId} AND id = ${id}
    RETURNING id, account_id, name, scopes, created_on, revoked_on`;
  return token;
}
