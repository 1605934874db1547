import type { FastifyRequest } from "fastify";
import type { ZoneRow } from "../db/zones.js";
import { notFound } from "../errors.js";
import type { ServiceContext } from "../services/context.js";
import { HEX_ID } from "../services/ids.js";
import type { Scope } from "../services/tokens.js";
import { getZoneOfAccount } from "../services/zones.js";
import { principalOf, requireScope } from "./auth.js";

/**
 * zoneInAccount resolves the `zone_id` path parameter the way every zone route must: after the
 * token (401, done by the hook), the zone is looked up inside the token's account (404 for any
 * other account's zone or a malformed id), then the scope is checked (403). Omit the scope for
 * routes any token of the account may call.
 */
export async function zoneInAccount(
  ctx: ServiceContext,
  request: FastifyRequest<{ Params: { zone_id: string } }>,
  scope?: Scope,
): Promise<ZoneRow> {
  const principal = principalOf(request);
  if (!HEX_ID.test(request.params.zone_id)) throw notFound("zone");
  const zone = await getZoneOfAccount(ctx, request.params.zone_id, principal.kind === "token" ? principal.token.account_id : undefined);
  if (scope) requireScope(principal, scope);
  return zone;
}
