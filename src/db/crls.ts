import { copyInBytea, copyOutFields, uuidLiteral } from "./copy.js";
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

/** findCrlMeta: the current CRL's fields without its bytes (undefined: none built yet). */
export async function findCrlMeta(sql: TxSql, caId: string): Promise<Omit<StoredCrl, "der"> | undefined> {
  const [row] = await sql<Omit<StoredCrl, "der">[]>`SELECT crl_number, this_update, next_update, entries, sha256
    FROM crls WHERE ca_id = ${caId} AND crl_number > 0`;
  return row;
}

/**
 * findCrl reads the current CRL with its bytes. The bytes come over binary COPY (a 1M-entry CRL is
 * 35 MB: as bytea hex text it would be a 70 MB string); the number in the COPY's WHERE ties them to
 * the fields read first, and a CRL replaced in between is simply read again.
 */
export async function findCrl(sql: TxSql, caId: string): Promise<StoredCrl | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const meta = await findCrlMeta(sql, caId);
    if (!meta) return undefined;
    let der: Buffer | undefined;
    await copyOutFields(sql, `SELECT der FROM crls WHERE ca_id = ${uuidLiteral(caId)} AND crl_number = ${BigInt(meta.crl_number)}`, (f) => {
      der = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    });
    if (der) return { ...meta, der };
  }
  return undefined;
}

/**
 * recordCrlChange bumps the CA's change counter in the caller's (revoking) transaction; the row
 * is created by the CA's first change. The row lock it takes is held only until that commit.
 */
export async function recordCrlChange(sql: TxSql, caId: string): Promise<void> {
  await sql`INSERT INTO crls (ca_id, changes) VALUES (${caId}, 1)
    ON CONFLICT (ca_id) DO UPDATE SET changes = crls.changes + 1`;
}

/** NewCrl: a built CRL to store; `der` as consecutive parts (their concatenation is the DER). */
export interface NewCrl {
  caId: string;
  builtThrough: string;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  builtOn: Date;
  entries: number;
  sha256: Buffer;
  der: Uint8Array[];
}

/**
 * storeCrl records a new CRL; `builtThrough` is the change counter the build read. With `copyIn`
 * (a PostgreSQL server) the bytes stream in over binary COPY into a temporary table and are moved
 * into place inside the server; otherwise (PGlite's socket has no COPY FROM) they go as one
 * parameter.
 */
export async function storeCrl(sql: TxSql, crl: NewCrl, opts: { copyIn: boolean }): Promise<void> {
  let der: Buffer | undefined;
  if (opts.copyIn) {
    await sql`CREATE TEMP TABLE IF NOT EXISTS crl_upload (der bytea) ON COMMIT DELETE ROWS`;
    await copyInBytea(sql, "crl_upload", crl.der);
  } else {
    der = Buffer.concat(crl.der);
  }
  const value = der ? sql`${der}::bytea` : sql`(SELECT der FROM crl_upload)`;
  await sql`INSERT INTO crls (ca_id, changes, built_through, crl_number, this_update, next_update, built_on, entries, sha256, der)
    VALUES (${crl.caId}, ${crl.builtThrough}, ${crl.builtThrough}, ${crl.crlNumber.toString()}, ${crl.thisUpdate}, ${crl.nextUpdate},
      ${crl.builtOn}, ${crl.entries}, ${crl.sha256}, ${value})
    ON CONFLICT (ca_id) DO UPDATE SET built_through = EXCLUDED.built_through, crl_number = EXCLUDED.crl_number,
      this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update, built_on = EXCLUDED.built_on,
      entries = EXCLUDED.entries, sha256 = EXCLUDED.sha256, der = EXCLUDED.der`;
  if (opts.copyIn) await sql`DELETE FROM crl_upload`;
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
