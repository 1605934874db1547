import type { TxSql } from "./sql.js";

/** EdgePolicy: what the edge does with a request whose client certificate did not verify. */
export type EdgePolicy = "block" | "forward";

/** EdgeSettingsRow is a zone's edge settings (migration 0030); a zone without a row has the defaults. */
export interface EdgeSettingsRow {
  zone_id: string;
  /** The origin URL (http or https, no path), or null while none is set. */
  origin: string | null;
  policy: EdgePolicy;
  /** Null for a zone that never had its settings changed. */
  modified_on: Date | null;
}

/** DEFAULT_POLICY: a certificate that does not verify is refused unless the zone says otherwise. */
export const DEFAULT_POLICY: EdgePolicy = "block";

/** findEdgeSettings returns a zone's settings, the defaults when it has no row. */
export async function findEdgeSettings(sql: TxSql, zoneId: string, opts: { forUpdate?: boolean } = {}): Promise<EdgeSettingsRow> {
  const lock = opts.forUpdate ? sql`FOR UPDATE` : sql``;
  const [row] = await sql<EdgeSettingsRow[]>`SELECT zone_id, origin, policy, modified_on FROM edge_settings
    WHERE zone_id = ${zoneId} ${lock}`;
  return row ?? { zone_id: zoneId, origin: null, policy: DEFAULT_POLICY, modified_on: null };
}

/** upsertEdgeSettings writes a zone's settings whole and returns the stored row (modified_on from the database clock). */
export async function upsertEdgeSettings(
  sql: TxSql,
  zoneId: string,
  settings: { origin: string | null; policy: EdgePolicy },
): Promise<EdgeSettingsRow> {
  const [row] = await sql<EdgeSettingsRow[]>`INSERT INTO edge_settings (zone_id, origin, policy, modified_on)
    VALUES (${zoneId}, ${settings.origin}, ${settings.policy}, date_trunc('second', now()))
    ON CONFLICT (zone_id) DO UPDATE SET origin = EXCLUDED.origin, policy = EXCLUDED.policy, modified_on = EXCLUDED.modified_on
    RETURNING zone_id, origin, policy, modified_on`;
  return row;
}

/** RevocationRow: the status of one managed-CA certificate as the edge checks it. */
export interface RevocationRow {
  id: string;
  status: "active" | "revoked";
  revocation_reason: string | null;
}

/** findRevocation looks a certificate up by (CA, serial), the key the edge knows from the handshake. */
export async function findRevocation(sql: TxSql, caId: string, serial: Buffer): Promise<RevocationRow | undefined> {
  const [row] = await sql<RevocationRow[]>`SELECT id, status, revocation_reason FROM client_certificates
    WHERE ca_id = ${caId} AND serial = ${serial}`;
  return row;
}
