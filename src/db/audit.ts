import type { TxSql } from "./sql.js";

/**
 * AuditEvent is one row of the append-only trail: written in the same transaction as the change
 * it records. It never holds a key, a token value or a CSR body.
 */
export interface AuditEvent {
  accountId: string | null;
  actor: string;
  requestId?: string;
  sourceIp?: string;
  action: string;
  objectType: string;
  objectId?: string;
  caId?: string;
  serial?: string;
  oldStatus?: string;
  newStatus?: string;
  reason?: string;
}

/** Actor is who asked for a change, as the HTTP layer knows it: written into every audit event. */
export interface Actor {
  actor: string;
  requestId?: string;
  sourceIp?: string;
}

export async function insertAuditEvent(sql: TxSql, e: AuditEvent): Promise<void> {
  await sql`INSERT INTO audit_events
    (account_id, actor, request_id, source_ip, action, object_type, object_id, ca_id, serial, old_status, new_status, reason)
    VALUES (${e.accountId}, ${e.actor}, ${e.requestId ?? null}, ${e.sourceIp ?? null}, ${e.action}, ${e.objectType},
      ${e.objectId ?? null}, ${e.caId ?? null}, ${e.serial ?? null}, ${e.oldStatus ?? null}, ${e.newStatus ?? null},
      ${e.reason ?? null})`;
}
