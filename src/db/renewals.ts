import type { CertificateAuthorityRow } from "./certificate-authorities.js";
import type { TxSql } from "./sql.js";

/**
 * renewals.ts holds the reads and writes EST needs beyond the certificate repository: the managed
 * CAs of ONE account (never a merged list of every tenant's CAs), a certificate found by its
 * issuer and serial, and the superseded_by link a re-enrollment records.
 */

/** managedCasOfAccount lists an account's managed CAs, the active one first, then newest first. */
export async function managedCasOfAccount(sql: TxSql, accountId: string): Promise<CertificateAuthorityRow[]> {
  return sql<CertificateAuthorityRow[]>`SELECT * FROM certificate_authorities
    WHERE account_id = ${accountId} AND kind = 'managed' ORDER BY active DESC, created_on DESC, id`;
}

/** IssuedCertificateRef is what re-enrollment checks of a presented certificate. */
export interface IssuedCertificateRef {
  id: string;
  zone_id: string;
  ca_id: string;
  status: "active" | "revoked";
  revocation_reason: string | null;
  fingerprint_sha256: string;
  validity_days: number;
  issued_on: Date;
  expires_on: Date;
  superseded_by: string | null;
}

export async function findCertificateByCaSerial(sql: TxSql, caId: string, serial: Buffer): Promise<IssuedCertificateRef | undefined> {
  const [row] = await sql<IssuedCertificateRef[]>`SELECT id, zone_id, ca_id, status, revocation_reason, fingerprint_sha256,
      validity_days, issued_on, expires_on, superseded_by
    FROM client_certificates WHERE ca_id = ${caId} AND serial = ${serial}`;
  return row;
}

/**
 * markSuperseded points an active certificate at its successor. The status condition makes a
 * revocation that committed after the caller's checks win: no row comes back and the caller rolls
 * the re-enrollment back.
 */
export async function markSuperseded(sql: TxSql, oldId: string, newId: string): Promise<boolean> {
  const rows = await sql`UPDATE client_certificates SET superseded_by = ${newId}
    WHERE id = ${oldId} AND status = 'active' RETURNING id`;
  return rows.length === 1;
}
