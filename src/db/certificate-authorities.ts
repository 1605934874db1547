import type { TxSql } from "./sql.js";

export interface CertificateAuthorityRow {
  id: string;
  account_id: string;
  kind: "managed" | "byoca";
  name: string;
  certificate_pem: string;
  certificate_der: Buffer;
  subject_der: Buffer;
  ski: Buffer;
  key_type: string | null;
  sealed_key: Buffer | null;
  not_before: Date;
  not_after: Date;
  active: boolean;
  created_on: Date;
}

export type NewCertificateAuthority = Omit<CertificateAuthorityRow, "created_on" | "active"> & { active?: boolean };

export async function insertCertificateAuthority(sql: TxSql, ca: NewCertificateAuthority): Promise<CertificateAuthorityRow> {
  const [row] = await sql<CertificateAuthorityRow[]>`INSERT INTO certificate_authorities
    (id, account_id, kind, name, certificate_pem, certificate_der, subject_der, ski, key_type, sealed_key, not_before, not_after, active)
    VALUES (${ca.id}, ${ca.account_id}, ${ca.kind}, ${ca.name}, ${ca.certificate_pem}, ${ca.certificate_der},
      ${ca.subject_der}, ${ca.ski}, ${ca.key_type}, ${ca.sealed_key}, ${ca.not_before}, ${ca.not_after}, ${ca.active ?? true})
    RETURNING *`;
  return row;
}

/** findActiveManagedCa returns the account's managed CA that issues new certificates. */
export async function findActiveManagedCa(sql: TxSql, accountId: string): Promise<CertificateAuthorityRow | undefined> {
  const [row] = await sql<CertificateAuthorityRow[]>`SELECT * FROM certificate_authorities
    WHERE account_id = ${accountId} AND kind = 'managed' AND active`;
  return row;
}

export async function findCertificateAuthority(sql: TxSql, id: string): Promise<CertificateAuthorityRow | undefined> {
  const [row] = await sql<CertificateAuthorityRow[]>`SELECT * FROM certificate_authorities WHERE id = ${id}`;
  return row;
}
