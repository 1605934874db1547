import type { Actor } from "./audit.js";
import type { Sql, TxSql } from "./sql.js";

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

type AuditRow = Actor & { accountId: string };

const CERT_COLUMNS = [
  "id", "zone_id", "ca_id", "serial", "status", "certificate_pem", "csr_pem", "common_name", "country", "state",
  "location", "organization", "organizational_unit", "fingerprint_sha256", "ski", "signature", "validity_days",
  "issued_on", "expires_on",
] as const;
const AUDIT_COLUMNS = ["account_id", "actor", "request_id", "source_ip", "action", "object_type", "object_id", "ca_id", "serial", "new_status"] as const;

const certValues = (c: NewClientCertificate) => ({ ...c, status: "active" });
const auditValues = (c: NewClientCertificate, a: AuditRow) => ({
  account_id: a.accountId,
  actor: a.actor,
  request_id: a.requestId ?? null,
  source_ip: a.sourceIp ?? null,
  action: "client_certificate.issue",
  object_type: "client_certificate",
  object_id: c.id,
  ca_id: c.ca_id,
  serial: c.serial.toString("hex"),
  new_status: "active",
});

/**
 * insertRows records certificates and their audit events in ONE statement (two data-modifying
 * CTEs): one round trip, atomic on its own or inside a caller's transaction.
 */
async function insertRows(sql: TxSql, items: Array<{ cert: NewClientCertificate; audit: AuditRow }>): Promise<void> {
  const certs = items.map((i) => certValues(i.cert));
  const audits = items.map((i) => auditValues(i.cert, i.audit));
  await sql`WITH c AS (INSERT INTO client_certificates ${sql(certs as never, CERT_COLUMNS as never)} RETURNING 1),
    a AS (INSERT INTO audit_events ${sql(audits as never, AUDIT_COLUMNS as never)} RETURNING 1)
    SELECT (SELECT count(*) FROM c) AS certificates, (SELECT count(*) FROM a) AS events`;
}

/**
 * IssueBatcher is group commit for issuance on the pool: while a commit is in flight, new
 * certificates queue and go together in the next statement, so under load one commit (one WAL
 * flush) carries many certificates; alone, a certificate commits at once. Every caller still
 * resolves only after its own row is durable. A failed batch is retried row by row, so one bad
 * row (say, a serial collision) fails only its own request.
 */
class IssueBatcher {
  private queue: Array<{ cert: NewClientCertificate; audit: AuditRow; resolve: () => void; reject: (e: unknown) => void }> = [];
  private inFlight = 0;
  private static readonly MAX_IN_FLIGHT = 2;
  private static readonly MAX_BATCH = 200;

  constructor(private readonly sql: Sql) {}

  insert(cert: NewClientCertificate, audit: AuditRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ cert, audit, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < IssueBatcher.MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, IssueBatcher.MAX_BATCH);
      this.inFlight++;
      this.write(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async write(batch: IssueBatcher["queue"]): Promise<void> {
    try {
      await insertRows(this.sql, batch);
      for (const item of batch) item.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      await Promise.all(batch.map((item) => insertRows(this.sql, [item]).then(item.resolve, item.reject)));
    }
  }
}

const batchers = new WeakMap<object, IssueBatcher>();

/**
 * insertIssuedCertificate records a new certificate and its audit event atomically. On the pool
 * it joins the group commit; inside a caller's transaction it is one statement of that
 * transaction. A serial conflict surfaces as a unique violation on
 * client_certificates_ca_serial_key, and the caller draws again.
 */
export async function insertIssuedCertificate(sql: TxSql, c: NewClientCertificate, audit: AuditRow): Promise<void> {
  const isTransaction = typeof (sql as { savepoint?: unknown }).savepoint === "function";
  if (isTransaction) return insertRows(sql, [{ cert: c, audit }]);
  let batcher = batchers.get(sql);
  if (!batcher) batchers.set(sql, (batcher = new IssueBatcher(sql as Sql)));
  return batcher.insert(c, audit);
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
