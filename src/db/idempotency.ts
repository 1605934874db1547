import type { TxSql } from "./sql.js";

export interface StoredResponse {
  request_hash: Buffer;
  status_code: number;
  response: unknown;
}

/** REPLAY_WINDOW is how long a stored response answers a repeated Idempotency-Key. */
export const REPLAY_WINDOW_HOURS = 24;

export async function findIdempotentResponse(sql: TxSql, accountId: string, key: string): Promise<StoredResponse | undefined> {
  const [row] = await sql<StoredResponse[]>`SELECT request_hash, status_code, response FROM idempotency_keys
    WHERE account_id = ${accountId} AND key = ${key}
      AND created_on > now() - make_interval(hours => ${REPLAY_WINDOW_HOURS})`;
  return row;
}

/**
 * storeIdempotentResponse records a response under its key in the caller's transaction. An expired
 * row for the same key is replaced; a live one raises a unique violation (a racing twin won).
 */
export async function storeIdempotentResponse(
  sql: TxSql,
  row: { accountId: string; key: string; requestHash: Buffer; statusCode: number; response: unknown },
): Promise<void> {
  await sql`DELETE FROM idempotency_keys WHERE account_id = ${row.accountId} AND key = ${row.key}
    AND created_on <= now() - make_interval(hours => ${REPLAY_WINDOW_HOURS})`;
  await sql`INSERT INTO idempotency_keys (account_id, key, request_hash, status_code, response)
    VALUES (${row.accountId}, ${row.key}, ${row.requestHash}, ${row.statusCode}, ${sql.json(row.response as never)})`;
}
