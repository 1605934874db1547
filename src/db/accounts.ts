import type { TxSql } from "./sql.js";

export interface AccountRow {
  id: string;
  name: string;
  created_on: Date;
}

export async function insertAccount(sql: TxSql, row: { id: string; name: string }): Promise<AccountRow> {
  const [account] = await sql<AccountRow[]>`INSERT INTO accounts (id, name) VALUES (${row.id}, ${row.name})
    RETURNING id, name, created_on`;
  return account;
}

export async function findAccount(sql: TxSql, id: string): Promise<AccountRow | undefined> {
  const [account] = await sql<AccountRow[]>`SELECT id, name, created_on FROM accounts WHERE id = ${id}`;
  return account;
}
