import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { EnrollmentTokenRow } from "../../db/enrollment-tokens.js";
import { notFound } from "../../errors.js";
import type { ServiceContext } from "../../services/context.js";
import type { Scope } from "../../services/tokens.js";
import { zoneInAccount } from "../zone-access.js";
import {
  createEnrollmentToken,
  listZoneEnrollmentTokens,
  revokeZoneEnrollmentToken,
  tokenStatus,
} from "../../services/enrollment-tokens.js";
import { UUID } from "../../services/ids.js";
import { actorOf } from "../auth.js";
import { ok, rfc3339 } from "../envelope.js";
import { objectBody, optionalInteger, optionalString, requiredString } from "../validate.js";

type ZoneParams = { zone_id: string };
type TokenParams = ZoneParams & { enrollment_token_id: string };

/** enrollmentTokenView is the API form; the value appears only in the create response. */
export const enrollmentTokenView = (t: EnrollmentTokenRow, now: Date) => ({
  id: t.id,
  name: t.name,
  zone_id: t.zone_id,
  status: tokenStatus(t, now),
  max_uses: t.max_uses,
  uses: t.uses,
  expires_on: t.expires_on ? rfc3339(t.expires_on) : null,
  common_name_pattern: t.common_name_pattern,
  validity_days: t.validity_days,
  created_on: rfc3339(t.created_on),
  revoked_on: t.revoked_on ? rfc3339(t.revoked_on) : null,
});

/**
 * /zones/{zone_id}/enrollment_tokens: tokens with which devices enroll over EST. Create and
 * delete need ssl_certificates:edit, listing ssl_certificates:read. Order of checks: token (hook)
 * → zone inside the token's account (404) → scope (403).
 */
export const enrollmentTokenRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    const zoneFor = (request: FastifyRequest<{ Params: ZoneParams }>, scope: Scope) => zoneInAccount(ctx, request, scope);

    app.post<{ Params: ZoneParams }>("/zones/:zone_id/enrollment_tokens", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:edit");
      const body = objectBody(request.body);
      const { token, value } = await createEnrollmentToken(
        ctx,
        zone,
        {
          name: requiredString(body, "name", 200),
          maxUses: optionalInteger(body, "max_uses"),
          expiresOn: optionalString(body, "expires_on", 64),
          commonNamePattern: optionalString(body, "common_name_pattern", 64),
          validityDays: optionalInteger(body, "validity_days"),
        },
        actorOf(request),
      );
      return ok({ ...enrollmentTokenView(token, ctx.now()), value });
    });

    app.get<{ Params: ZoneParams }>("/zones/:zone_id/enrollment_tokens", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:read");
      const now = ctx.now();
      return ok((await listZoneEnrollmentTokens(ctx, zone)).map((t) => enrollmentTokenView(t, now)));
    });

    app.delete<{ Params: TokenParams }>("/zones/:zone_id/enrollment_tokens/:enrollment_token_id", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:edit");
      if (!UUID.test(request.params.enrollment_token_id)) throw notFound("enrollment token");
      const token = await revokeZoneEnrollmentToken(ctx, zone, request.params.enrollment_token_id, actorOf(request));
      return ok(enrollmentTokenView(token, ctx.now()));
    });
  };
