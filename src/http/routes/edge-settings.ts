import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { EdgePolicy, EdgeSettingsRow } from "../../db/edge-settings.js";
import { GatehouseError } from "../../errors.js";
import type { ServiceContext } from "../../services/context.js";
import type { Scope } from "../../services/tokens.js";
import { zoneInAccount } from "../zone-access.js";
import { EDGE_POLICIES, EdgeSettingsErrors, getEdgeSettings, updateEdgeSettings, type EdgeSettingsPatch } from "../../services/edge-settings.js";
import { actorOf } from "../auth.js";
import { ok, rfc3339 } from "../envelope.js";
import { objectBody } from "../validate.js";

type ZoneParams = { zone_id: string };
const PATH = "/zones/:zone_id/edge_settings";
const FIELDS = new Set(["origin", "policy"]);

/** edgeSettingsView is the API shape: `{origin, policy, modified_on}`. */
export function edgeSettingsView(row: EdgeSettingsRow) {
  return { origin: row.origin, policy: row.policy, modified_on: row.modified_on ? rfc3339(row.modified_on) : null };
}

/** patchOf validates a PATCH body: only `origin` (URL string or null) and `policy` (block | forward). */
function patchOf(raw: unknown): EdgeSettingsPatch {
  const body = objectBody(raw);
  for (const key of Object.keys(body)) {
    if (!FIELDS.has(key)) throw new GatehouseError(EdgeSettingsErrors.unknownField, 400, "only origin and policy can be set");
  }
  const patch: EdgeSettingsPatch = {};
  if (body.origin !== undefined) {
    if (body.origin !== null && typeof body.origin !== "string") {
      throw new GatehouseError(EdgeSettingsErrors.badOrigin, 400, "origin must be a URL string, or null to remove it");
    }
    patch.origin = body.origin;
  }
  if (body.policy !== undefined) {
    if (typeof body.policy !== "string" || !(EDGE_POLICIES as readonly string[]).includes(body.policy)) {
      throw new GatehouseError(EdgeSettingsErrors.badPolicy, 400, `policy must be one of ${EDGE_POLICIES.join(", ")}`);
    }
    patch.policy = body.policy as EdgePolicy;
  }
  return patch;
}

/**
 * /zones/{zone_id}/edge_settings: the zone's origin and policy for the mTLS edge. GET needs
 * ssl_certificates:read, PATCH ssl_certificates:edit. Order of checks: token (hook) → zone inside
 * the token's account (404) → scope (403) → body → one service call.
 */
export const edgeSettingsRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    const zoneFor = (request: FastifyRequest<{ Params: ZoneParams }>, scope: Scope) => zoneInAccount(ctx, request, scope);

    app.get<{ Params: ZoneParams }>(PATH, async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:read");
      return ok(edgeSettingsView(await getEdgeSettings(ctx, zone)));
    });

    app.patch<{ Params: ZoneParams }>(PATH, async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:edit");
      const patch = patchOf(request.body);
      return ok(edgeSettingsView(await updateEdgeSettings(ctx, zone, patch, actorOf(request))));
    });
  };
