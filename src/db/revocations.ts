import { copyOutFields, timestampLiteral, uuidLiteral } from "./copy.js";
import type { TxSql } from "./sql.js";

/** RevokedWithoutEntry: a revoked row that has no stored CRL entry yet (revoked before migration 0020). */
export interface RevokedWithoutEntry {
  id: string;
  serial: Buffer;
  revoked_on: Date;
  revocation_reason: string;
}

/** setCrlEntry stores (or, with null, clears) a certificate's encoded CRL entry. */
export async function setCrlEntry(sql: TxSql, certificateId: string, entryDer: Uint8Array | null): Promise<void> {
  await sql`UPDATE client_certificates SET crl_entry_der = ${entryDer ? Buffer.from(entryDer.buffer, entryDer.byteOffset, entryDer.byteLength) : null}
    WHERE id = ${certificateId}`;
}

export async function revokedWithoutEntry(sql: TxSql, caId: string): Promise<RevokedWithoutEntry[]> {
  return sql<RevokedWithoutEntry[]>`SELECT id, serial, revoked_on, revocation_reason FROM client_certificates
    WHERE ca_id = ${caId} AND status = 'revoked' AND crl_entry_der IS NULL`;
}

/**
 * streamCrlEntries feeds `onEntry` the stored entries of a CA's revoked certificates that expire
 * after `cutoff`, in one statement (one snapshot) over binary COPY; returns how many rows it read.
 * The index client_certificates_crl_idx makes this an index-only scan on a vacuumed table.
 */
export function streamCrlEntries(sql: TxSql, caId: string, cutoff: Date, onEntry: (entry: Uint8Array) => void): Promise<number> {
  return copyOutFields(
    sql,
    `SELECT crl_entry_der FROM client_certificates WHERE ca_id = ${uuidLiteral(caId)} AND status = 'revoked' AND expires_on > ${timestampLiteral(cutoff)}`,
    onEntry,
  );
}

/** CertificateStatusRow: what an OCSP answer needs about one certificate. */
export interface CertificateStatusRow {
  id: string;
  status: "active" | "revoked";
  revocation_reason: string | null;
  revoked_on: Date | null;
}

/** findStatusBySerial finds a certificate by (CA, unsigned serial bytes) for OCSP. */
export async function findStatusBySerial(sql: TxSql, caId: string, serial: Uint8Array): Promise<CertificateStatusRow | undefined> {
  const [row] = await sql<CertificateStatusRow[]>`SELECT id, status, revocation_reason, revoked_on FROM client_certificates
    WHERE ca_id = ${caId} AND serial = ${Buffer.from(serial.buffer, serial.byteOffset, serial.byteLength)}`;
  return row;
}
