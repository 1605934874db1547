import { insertAuditEvent, type Actor } from "../db/audit.js";
import { findEdgeSettings, upsertEdgeSettings, type EdgePolicy, type EdgeSettingsRow } from "../db/edge-settings.js";
import type { ZoneRow } from "../db/zones.js";
import { GatehouseError } from "../errors.js";
import type { ServiceContext } from "./context.js";

/**
 * EdgeSettingsErrors (1700–1799): 1700–1709 the settings API; 1710–1739 the answers of the edge
 * itself (docs/error-codes.md lists both).
 */
export const EdgeSettingsErrors = {
  badOrigin: 1700,
  badPolicy: 1701,
  unknownField: 1702,
} as const;

export const EDGE_POLICIES: readonly EdgePolicy[] = ["block", "forward"];
const ORIGIN_MAX_LENGTH = 2048;

/**
 * normaliseOrigin checks an origin URL: http or https, a host, an optional port, no credentials,
 * path, query or fragment. It returns `scheme://host[:port]`.
 */
export function normaliseOrigin(raw: string): string {
  const bad = () =>
    new GatehouseError(
      EdgeSettingsErrors.badOrigin,
      400,
      "origin must be an http:// or https:// URL with a host and optional port, and no credentials, path, query or fragment",
    );
  if (raw.length > ORIGIN_MAX_LENGTH) throw bad();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad();
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) throw bad();
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) throw bad();
  if (/[?#]$/.test(raw)) throw bad();
  return `${url.protocol}//${url.host}`;
}

export interface EdgeSettingsPatch {
  origin?: string | null;
  policy?: EdgePolicy;
}

/** getEdgeSettings returns a zone's edge settings (the defaults when never set). */
export function getEdgeSettings(ctx: ServiceContext, zone: ZoneRow): Promise<EdgeSettingsRow> {
  return findEdgeSettings(ctx.sql, zone.id);
}

/**
 * updateEdgeSettings applies a partial change. A change that alters nothing writes nothing; any
 * other writes the row, an audit event and an `edge_settings` change (every edge drops the zone's
 * cached settings) in one transaction. The zone row is locked so two PATCHes serialise.
 */
export async function updateEdgeSettings(ctx: ServiceContext, zone: ZoneRow, patch: EdgeSettingsPatch, actor: Actor): Promise<EdgeSettingsRow> {
  const origin = patch.origin === undefined || patch.origin === null ? patch.origin : normaliseOrigin(patch.origin);
  return (await ctx.sql.begin(async (tx) => {
    await tx`SELECT id FROM zones WHERE id = ${zone.id} FOR NO KEY UPDATE`;
    const current = await findEdgeSettings(tx, zone.id);
    const next = {
      origin: origin === undefined ? current.origin : origin,
      policy: patch.policy ?? current.policy,
    };
    if (next.origin === current.origin && next.policy === current.policy) return current;
    const row = await upsertEdgeSettings(tx, zone.id, next);
    await insertAuditEvent(tx, {
      accountId: zone.account_id,
      ...actor,
      action: "edge_settings.update",
      objectType: "zone",
      objectId: zone.id,
      oldStatus: `policy:${current.policy}`,
      newStatus: `policy:${next.policy}`,
      reason: next.origin === current.origin ? undefined : "origin changed",
    });
    await ctx.bus.publish(tx, { topic: "edge_settings", id: zone.id });
    return row;
  })) as EdgeSettingsRow;
}
