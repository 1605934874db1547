import { createHash } from "node:crypto";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { StatusFilter } from "../../db/client-certificates.js";
import { GatehouseError, notFound, RequestErrors } from "../../errors.js";
import {
  ClientCertificateErrors,
  getCertificate,
  issue,
  list,
  parseReason,
  reactivate,
  revoke,
} from "../../services/client-certificates.js";
import type { ServiceContext } from "../../services/context.js";
import type { Scope } from "../../services/tokens.js";
import { zoneInAccount } from "../zone-access.js";
import { UUID } from "../../services/ids.js";
import { actorOf } from "../auth.js";
import { ok } from "../envelope.js";
import { clientCertificateView } from "../render.js";
import { objectBody, optionalInteger, queryInteger, requiredString } from "../validate.js";

type ZoneParams = { zone_id: string };
type CertParams = ZoneParams & { client_certificate_id: string };

const STATUS_FILTERS: readonly StatusFilter[] = ["all", "active", "pending_reactivation", "pending_revocation", "revoked"];
/** CSR_MAX_LENGTH bounds the PEM text: an RSA-4096 CSR with 100 SANs stays well under it. */
const CSR_MAX_LENGTH = 32 * 1024;
const DEFAULT_VALIDITY_DAYS = 3650;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** pageOf reads page/per_page, or the legacy limit/offset when neither of the new ones is present. */
function pageOf(query: Record<string, unknown>): { limit: number; offset: number; page: number; perPage: number } {
  const page = queryInteger(query, "page", ClientCertificateErrors.badPage, 1, 1_000_000);
  const perPage = queryInteger(query, "per_page", ClientCertificateErrors.badPerPage, 5, 50);
  if (page === undefined && perPage === undefined && (query.limit !== undefined || query.offset !== undefined)) {
    const limit = queryInteger(query, "limit", ClientCertificateErrors.badPerPage, 1, 50) ?? 20;
    const offset = queryInteger(query, "offset", ClientCertificateErrors.badPage, 0, 1_000_000_000) ?? 0;
    return { limit, offset, page: Math.floor(offset / limit) + 1, perPage: limit };
  }
  const p = page ?? 1;
  const pp = perPage ?? 20;
  return { limit: pp, offset: (p - 1) * pp, page: p, perPage: pp };
}

/**
 * /zones/{zone_id}/client_certificates: issue from a CSR, list, get, revoke (DELETE), reactivate
 * (PATCH). Order of checks: token (hook) → zone inside the token's account (404) → scope (403).
 */
export const clientCertificateRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    const zoneFor = (request: FastifyRequest<{ Params: ZoneParams }>, scope: Scope) => zoneInAccount(ctx, request, scope);
    const certIdOf = (params: CertParams) => {
      if (!UUID.test(params.client_certificate_id)) throw notFound("client certificate");
      return params.client_certificate_id;
    };
    /** reasonOf takes the JSON field `reason`, or the query `?reason=` (PROFILE.md). */
    const reasonOf = (request: FastifyRequest) => {
      const body = objectBody(request.body);
      return parseReason(body.reason ?? (request.query as Record<string, unknown>).reason);
    };

    app.post<{ Params: ZoneParams }>("/zones/:zone_id/client_certificates", async (request, reply) => {
      const zone = await zoneFor(request, "ssl_certificates:edit");
      const body = objectBody(request.body);
      const csrPem = requiredString(body, "csr", CSR_MAX_LENGTH);
      const validityDays = optionalInteger(body, "validity_days") ?? DEFAULT_VALIDITY_DAYS;
      const keyHeader = request.headers["idempotency-key"];
      let idempotency;
      if (keyHeader !== undefined) {
        if (typeof keyHeader !== "string" || !IDEMPOTENCY_KEY.test(keyHeader)) {
          throw new GatehouseError(RequestErrors.validation, 400, "Idempotency-Key must be 1 to 255 printable ASCII characters");
        }
        idempotency = {
          key: `client_certificates:${zone.id}:${keyHeader}`,
          requestHash: createHash("sha256").update(JSON.stringify([csrPem, validityDays])).digest(),
          render: (row: Parameters<typeof clientCertificateView>[0], messages: string[]) => ok(clientCertificateView(row), { messages }),
        };
      }
      const outcome = await issue(ctx, { zone, csrPem, validityDays, idempotency }, actorOf(request));
      if (outcome.kind === "replayed") {
        reply.header("idempotent-replayed", "true");
        return reply.code(outcome.statusCode).send(outcome.body);
      }
      return ok(clientCertificateView(outcome.row), { messages: outcome.messages });
    });

    app.get<{ Params: ZoneParams; Querystring: Record<string, unknown> }>("/zones/:zone_id/client_certificates", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:read");
      const query = request.query;
      const status = (query.status ?? "all") as StatusFilter;
      if (!STATUS_FILTERS.includes(status)) {
        throw new GatehouseError(ClientCertificateErrors.badStatusFilter, 400, `status must be one of ${STATUS_FILTERS.join(", ")}`);
      }
      const paging = pageOf(query);
      const { rows, total } = await list(ctx, zone, { status, limit: paging.limit, offset: paging.offset });
      return ok(rows.map(clientCertificateView), {
        resultInfo: {
          page: paging.page,
          per_page: paging.perPage,
          count: rows.length,
          total_count: total,
          total_pages: Math.ceil(total / paging.perPage),
        },
      });
    });

    app.get<{ Params: CertParams }>("/zones/:zone_id/client_certificates/:client_certificate_id", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:read");
      return ok(clientCertificateView(await getCertificate(ctx, zone, certIdOf(request.params))));
    });

    app.delete<{ Params: CertParams }>("/zones/:zone_id/client_certificates/:client_certificate_id", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:edit");
      const id = certIdOf(request.params);
      const row = await revoke(ctx, zone, id, reasonOf(request), actorOf(request));
      return ok(clientCertificateView(row));
    });

    app.patch<{ Params: CertParams }>("/zones/:zone_id/client_certificates/:client_certificate_id", async (request) => {
      const zone = await zoneFor(request, "ssl_certificates:edit");
      const id = certIdOf(request.params);
      const body = objectBody(request.body);
      if (body.reactivate !== undefined && body.reactivate !== true) {
        throw new GatehouseError(RequestErrors.validation, 400, "reactivate, when sent, must be true");
      }
      return ok(clientCertificateView(await reactivate(ctx, zone, id, actorOf(request))));
    });
  };
