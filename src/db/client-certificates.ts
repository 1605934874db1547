import type { Actor } from "./audit.js";
import type { TxSql } from "./sql.js";

export type RevocationReason =
  | "certificateHold"
  | "unspecified"
  | "keyCompromise"
  | "cACompromise"
  | "affiliationChanged"
  | "superseded"
  | "cessationOfOperation";

export interface ClientCertificateRow {
  id: string;
  seq: string;
  zone_id: string;
  ca_id: string;
  serial: Buffer;
  status: "active" | "revoked";
  revocation_reason: RevocationReason | null;
  revoked_on: Date | null;
  certificate_pem: string;
  csr_pem: string;
  common_name: string | null;
  country: string | null;
  state: string | null;
  location: string | null;
  organization: string | null;
  organizational_unit: string | null;
  fingerprint_sha256: string;
  ski: string;
  signature: string;
  validity_days: number;
  issued_on: Date;
  expires_on: Date;
  /** Joined from certificate_authorities for the API's certificate_authority object. */
  ca_name: string;
}

export type NewClientCertificate = Omit<ClientCertificateRow, "seq" | "status" | "revocation_reason" | "revoked_on" | "ca_name">;

const COLUMNS = "c.id, c.seq, c.zone_id, c.ca_id, c.serial, c.status, c.revocation_reason, c.revoked_on, c.certificate_pem, c.csr_pem, c.common_name, c.country, c.state, c.location, c.organization, c.organizational_unit, c.fingerprint_sha256, c.ski, c.signature, c.validity_days, c.issued_on, c.expires_on, ca.name AS ca_name";

/**
 * insertIssuedCertificate records a new certificate and its audit event in ONE statement (so one
 * round trip, atomic on its own or inside a transaction). A serial conflict surfaces as a unique
 * violation on client_certificates_ca_serial_key, and the caller draws again.
 */
export async function insertIssuedCertificate(
  sql: TxSql,
  c: NewClientCertificate,
  audit: Actor & { accountId: string },
): Promise<void> {
  await sql`WITH inserted AS (
      INSERT INTO client_certificates (id, zone_id, ca_id, serial, status, certificate_pem, csr_pem, common_name, country,
        state, location, organization, organizational_unit, fingerprint_sha256, ski, signature, validity_days, issued_on, expires_on)
      VALUES (${c.id}, ${c.zone_id}, ${c.ca_id}, ${c.serial}, 'active', ${c.certificate_pem}, ${c.csr_pem}, ${c.common_name},
        ${c.country}, ${c.state}, ${c.location}, ${c.organization}, ${c.organizational_unit}, ${c.fingerprint_sha256}, ${c.ski},
        ${c.signature}, ${c.validity_days}, ${c.issued_on}, ${c.expires_on})
      RETURNING id, ca_id)
    INSERT INTO audit_events (account_id, actor, request_id, source_ip, action, object_type, object_id, ca_id, serial, new_status)
    SELECT ${audit.accountId}, ${audit.actor}, ${audit.requestId ?? null}, ${audit.sourceIp ?? null}, 'client_certificate.issue',
      'client_certificate', inserted.id::text, inserted.ca_id, ${c.serial.toString("hex")}, 'active' FROM inserted`;
}

/** findClientCertificate finds a certificate of a zone; FOR UPDATE when a state change follows. */
export async function findClientCertificate(
  sql: TxSql,
  zoneId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ClientCertificateRow | undefined> {
  const lock = opts.forUpdate ? sql`FOR UPDATE OF c` : sql``;
  const [row] = await sql<ClientCertificateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM client_certificates c
    JOIN certificate_authorities ca ON ca.id = c.ca_id WHERE c.zone_id = ${zoneId} AND c.id = ${id} ${lock}`;
  return row;
}

export type StatusFilter = "all" | "active" | "pending_reactivation" | "pending_revocation" | "revoked";

/**
 * listClientCertificates pages a zone's certificates newest first (issued_on, then seq), with the
 * total for result_info. Transitions are synchronous here, so the pending_* filters match nothing.
 */
export async function listClientCertificates(
  sql: TxSql,
  zoneId: string,
  status: StatusFilter,
  limit: number,
  offset: number,
): Promise<{ rows: ClientCertificateRow[]; total: number }> {
  const where =
    status === "all"
      ? sql`c.zone_id = ${zoneId}`
      : status === "active" || status === "revoked"
        ? sql`c.zone_id = ${zoneId} AND c.status = ${status}`
        : sql`false`;
  const [rows, [count]] = await Promise.all([
    sql<ClientCertificateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM client_certificates c
      JOIN certificate_authorities ca ON ca.id = c.ca_id
      WHERE ${where} ORDER BY c.issued_on DESC, c.seq DESC LIMIT ${limit} OFFSET ${offset}`,
    sql<{ total: string }[]>`SELECT count(*) AS total FROM client_certificates c WHERE ${where}`,
  ]);
  return { rows, total: Number(count.total) };
}

/** updateRevocation sets a certificate's status and reason (null reason: reactivated). */
export async function updateRevocation(
  sql: TxSql,
  id: string,
  change: { status: "active" | "revoked"; reason: RevocationReason | null; revokedOn: Date | null },
): Promise<void> {
  await sql`UPDATE client_certificates SET status = ${change.status}, revocation_reason = ${change.reason},
    revoked_on = ${change.revokedOn} WHERE id = ${id}`;
}
