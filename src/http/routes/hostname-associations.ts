import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { ServiceContext } from "../../services/context.js";
import { findAssociationTarget, getHostnames, parseCertificateId, putHostnames } from "../../services/hostname-associations.js";
import { zoneInAccount } from "../zone-access.js";
import { actorOf, principalOf, requireScope } from "../auth.js";
import { ok } from "../envelope.js";
import { objectBody } from "../validate.js";

type ZoneParams = { zone_id: string };
const PATH = "/zones/:zone_id/certificate_authorities/hostname_associations";

/**
 * /zones/{zone_id}/certificate_authorities/hostname_associations: GET and PUT (replace) the set of
 * hostnames of the zone that trust one CA — the given mtls_certificate_id (a BYOCA), or the
 * account's active managed CA when it is absent. Order of checks: token (hook) → zone, then
 * mtls_certificate_id, inside the token's account (404) → scope (403) → body → one service call.
 */
export const hostnameAssociationRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    // The scope is checked by each handler after mtls_certificate_id is resolved (404 before 403).
    const zoneOf = async (request: FastifyRequest<{ Params: ZoneParams }>) => ({
      principal: principalOf(request),
      zone: await zoneInAccount(ctx, request),
    });

    app.get<{ Params: ZoneParams; Querystring: Record<string, unknown> }>(PATH, async (request) => {
      const { principal, zone } = await zoneOf(request);
      const certificateId = parseCertificateId(request.query.mtls_certificate_id);
      await findAssociationTarget(ctx, zone, certificateId);
      requireScope(principal, "ssl_certificates:read");
      return ok({ hostnames: await getHostnames(ctx, zone, certificateId) });
    });

    app.put<{ Params: ZoneParams }>(PATH, async (request) => {
      const { principal, zone } = await zoneOf(request);
      const body = objectBody(request.body);
      const certificateId = parseCertificateId(body.mtls_certificate_id);
      await findAssociationTarget(ctx, zone, certificateId);
      requireScope(principal, "ssl_certificates:edit");
      const hostnames = await putHostnames(ctx, zone, { hostnames: body.hostnames, certificateId }, actorOf(request));
      return ok({ hostnames });
    });
  };
