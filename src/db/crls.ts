import type { TxSql } from "./sql.js";

/**
 * CrlState: a CA's CRL bookkeeping without the CRL bytes. bigint columns come back as strings
 * (postgres.js default). crl_number "0": no CRL built yet (the time fields are then null).
 */
export interface CrlState {
  ca_id: string;
  changes: string;
  built_through: string;
  crl_number: string;
  this_update: Date | null;
  next_update: Date | null;
  built_on: Date | null;
  entries: number | null;
  sha256: Buffer | null;
}

/** StoredCrl: a built CRL as served. */
export interface StoredCrl {
  crl_number: string;
  this_update: Date;
  next_update: Date;
  entries: number;
  sha256: Buffer;
  der: Buffer;
}

const STATE = "ca_id, changes, built_through, crl_number, this_update, next_update, built_on, entries, sha256";

/**
 * lockCaForCrl takes the CA row's lock for a CRL build (FOR NO KEY UPDATE: issuance's foreign-key
 * checks take KEY SHARE and do not wait). SKIP LOCKED: "busy" when another process is building.
 */
export async function lockCaForCrl(sql: TxSql, caId: string): Promise<"locked" | "busy" | "missing"> {
  const [row] = await sql<{ id: string }[]>`SELECT id FROM certificate_authorities
    WHERE id = ${caId} FOR NO KEY UPDATE SKIP LOCKED`;
  if (row) return "locked";
  const [exists] = await sql<{ id: string }[]>`SELECT id FROM certificate_authorities WHERE id = ${caId}`;
  return exists ? "busy" : "missing";
}

export async function findCrlState(sql: TxSql, caId: string): Promise<CrlState | undefined> {
  const [row] = await sql<CrlState[]>`SELECT ${sql.unsafe(STATE)} FROM crls WHERE ca_id = ${caId}`;
  return row;
}

/** findCrlNumber: the current CRL number ("0" or undefined: none). */
export async function findCrlNumber(sql: TxSql, caId: string): Promise<string | undefined> {
  const [row] = await sql<{ crl_number: string }[]>`SELECT crl_number FROM crls WHERE ca_id = ${caId}`;
  return row?.crl_number;
}

export async function findCrl(sql: TxSql, caId: string): Promise<StoredCrl | undefined> {
  const [row] = await sql<StoredCrl[]>`SELECT crl_number, this_update, next_update, entries, sha256, der
    FROM crls WHERE ca_id = ${caId} AND crl_number > 0`;
  return row;
}

/**
 * recordCrlChange bumps the CA's change counter in the caller's (revoking) transaction; the row
 * is created by the CA's first change. The row lock it takes is held only until that commit.
 */
export async function recordCrlChange(sql: TxSql, caId: string): Promise<void> {
  await sql`INSERT INTO crls (ca_id, changes) VALUES (${caId}, 1)
    ON CONFLICT (ca_id) DO UPDATE SET changes = crls.changes + 1`;
}

/** storeCrl records a new CRL; `builtThrough` is the change counter the build read. */
export async function storeCrl(
  sql: TxSql,
  crl: { caId: string; builtThrough: string; crlNumber: bigint; thisUpdate: Date; nextUpdate: Date; builtOn: Date; entries: number; sha256: Buffer; der: Buffer },
): Promise<void> {
  await sql`INSERT INTO crls (ca_id, changes, built_through, crl_number, this_update, next_update, built_on, entries, sha256, der)
    VALUES (${crl.caId}, ${crl.builtThrough}, ${crl.builtThrough}, ${crl.crlNumber.toString()}, ${crl.thisUpdate}, ${crl.nextUpdate},
      ${crl.builtOn}, ${crl.entries}, ${crl.sha256}, ${crl.der})
    ON CONFLICT (ca_id) DO UPDATE SET built_through = EXCLUDED.built_through, crl_number = EXCLUDED.crl_number,
      this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update, built_on = EXCLUDED.built_on,
      entries = EXCLUDED.entries, sha256 = EXCLUDED.sha256, der = EXCLUDED.der`;
}

/**
 * casNeedingCrl is the sweep's work list: CAs whose CRL was built before `refreshBefore`, or whose
 * changes are not all in their CRL (the process that was told may have stopped).
 */
export async function casNeedingCrl(sql: TxSql, refreshBefore: Date): Promise<string[]> {
  const rows = await sql<{ ca_id: string }[]>`SELECT ca_id FROM crls
    WHERE (crl_number > 0 AND this_update < ${refreshBefore}) OR changes > built_through`;
  return rows.map((r) => r.ca_id);
}
