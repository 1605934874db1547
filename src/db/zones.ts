import type { TxSql } from "./sql.js";

export interface ZoneRow {
  id: string;
  account_id: string;
  name: string;
  created_on: Date;
}

export async function insertZone(sql: TxSql, row: { id: string; accountId: string; name: string }): Promise<ZoneRow> {
  const [zone] = await sql<ZoneRow[]>`INSERT INTO zones (id, account_id, name)
    VALUES (${row.id}, ${row.accountId}, ${row.name}) RETURNING id, account_id, name, created_on`;
  return zone;
}

export async function findZone(sql: TxSql, id: string): Promise<ZoneRow | undefined> {
  const [zone] = await sql<ZoneRow[]>`SELECT id, account_id, name, created_on FROM zones WHERE id = ${id}`;
  return zone;
}
