import { insertAuditEvent, type Actor } from "../db/audit.js";
import { isUniqueViolation } from "../db/sql.js";
import { findZone, insertZone, type ZoneRow } from "../db/zones.js";
import { GatehouseError, notFound } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { newHexId } from "./ids.js";

export const ZoneErrors = {
  badName: 1020,
  nameTaken: 1021,
} as const;

/** DNS_NAME: lower-case LDH labels of 1–63 characters, at least two labels, 253 characters at most. */
const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function normaliseZoneName(raw: string): string {
  const name = raw.trim().toLowerCase().replace(/\.$/, "");
  if (!DNS_NAME.test(name)) {
    throw new GatehouseError(ZoneErrors.badName, 400, "zone name must be a DNS name such as example.com");
  }
  return name;
}

export async function createZone(
  ctx: ServiceContext,
  input: { name: string; accountId: string },
  actor: Actor,
): Promise<ZoneRow> {
  const name = normaliseZoneName(input.name);
  try {
    return (await ctx.sql.begin(async (tx) => {
      const zone = await insertZone(tx, { id: newHexId(), accountId: input.accountId, name });
      await insertAuditEvent(tx, {
        accountId: input.accountId,
        ...actor,
        action: "zone.create",
        objectType: "zone",
        objectId: zone.id,
      });
      return zone;
    })) as ZoneRow;
  } catch (err) {
    if (isUniqueViolation(err, "zones_name_key")) {
      throw new GatehouseError(ZoneErrors.nameTaken, 409, "a zone with this name already exists");
    }
    throw err;
  }
}

/**
 * ZoneCache keeps zone rows in memory: every certificate request resolves its zone, and zones
 * only change by being created (a `zone` change on the bus drops everything, in every process).
 */
class ZoneCache {
  private zones = new Map<string, ZoneRow>();
  constructor(bus: ServiceContext["bus"]) {
    bus.subscribe((change) => {
      if (change.topic === "zone") this.zones.clear();
    });
  }
  async get(ctx: ServiceContext, id: string): Promise<ZoneRow | undefined> {
    const hit = this.zones.get(id);
    if (hit) return hit;
    const zone = await findZone(ctx.sql, id);
    if (zone) {
      if (this.zones.size > 50_000) this.zones.clear();
      this.zones.set(id, zone);
    }
    return zone;
  }
}
const zoneCaches = new WeakMap<object, ZoneCache>();

/** getZoneOfAccount resolves a zone inside an account: another account's zone is simply not found. */
export async function getZoneOfAccount(ctx: ServiceContext, zoneId: string, accountId?: string): Promise<ZoneRow> {
  let cache = zoneCaches.get(ctx.sql);
  if (!cache) zoneCaches.set(ctx.sql, (cache = new ZoneCache(ctx.bus)));
  const zone = await cache.get(ctx, zoneId);
  if (!zone || (accountId !== undefined && zone.account_id !== accountId)) throw notFound("zone");
  return zone;
}
