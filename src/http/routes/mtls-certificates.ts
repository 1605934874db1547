import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { MtlsCertificateRow } from "../../db/mtls-certificates.js";
import { GatehouseError, notFound } from "../../errors.js";
import { getAccount } from "../../services/accounts.js";
import { forceOf } from "../../services/binding-leases.js";
import type { ServiceContext } from "../../services/context.js";
import { HEX_ID } from "../../services/ids.js";
import {
  getMtlsCertificate,
  listAssociations,
  listCertificates,
  MtlsCertificateErrors,
  remove,
  upload,
} from "../../services/mtls-certificates.js";
import { actorOf, principalOf, requireAccount, requireScope } from "../auth.js";
import { ok, rfc3339 } from "../envelope.js";
import { objectBody, optionalString, queryInteger, requiredString } from "../validate.js";

type AccountParams = { account_id: string };
type CertParams = AccountParams & { mtls_certificate_id: string };
type Query = Record<string, unknown>;

/** CERTIFICATES_MAX_LENGTH / KEY_MAX_LENGTH bound the PEM fields (a 10-certificate RSA-4096 chain fits). */
const CERTIFICATES_MAX_LENGTH = 60 * 1024;
const KEY_MAX_LENGTH = 16 * 1024;
const NAME_MAX_LENGTH = 200;
/** DEFAULT_PER_PAGE is large: Cloudflare's SDKs read this list as a single page. */
const DEFAULT_PER_PAGE = 1000;
const TYPES = ["custom", "gateway_managed", "access_managed"];

/** mtlsCertificateView is Cloudflare's MTLSCertificate: serial_number decimal, issuer RFC 4514, type custom. */
export function mtlsCertificateView(row: MtlsCertificateRow) {
  return {
    id: row.id,
    ca: row.ca,
    certificates: row.certificates,
    expires_on: rfc3339(row.expires_on),
    issuer: row.issuer,
    name: row.name,
    serial_number: row.serial_number,
    signature: row.signature,
    type: "custom",
    uploaded_on: rfc3339(row.uploaded_on),
  };
}

function nameOf(raw: unknown): string {
  if (raw === undefined || raw === null) return "";
  if (typeof raw !== "string" || raw.length > NAME_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(raw)) {
    throw new GatehouseError(MtlsCertificateErrors.badName, 400, `name must be a string of at most ${NAME_MAX_LENGTH} characters without control characters`);
  }
  return raw.trim();
}

function caFilterOf(raw: unknown): boolean | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (raw === "true" || raw === "false") return raw === "true";
  throw new GatehouseError(MtlsCertificateErrors.badCaFilter, 400, "ca must be true or false");
}

/** typeFilterOf reads Cloudflare's `type` filter (comma-separated); every upload here is `custom`. */
function typeFilterOf(raw: unknown): boolean {
  if (raw === undefined || raw === "") return true;
  const types = (Array.isArray(raw) ? raw : [raw]).flatMap((t) => (typeof t === "string" ? t.split(",") : [""]));
  if (types.some((t) => !TYPES.includes(t.trim()))) {
    throw new GatehouseError(MtlsCertificateErrors.badTypeFilter, 400, `type must be a comma-separated list of ${TYPES.join(", ")}`);
  }
  return types.some((t) => t.trim() === "custom");
}

/**
 * /accounts/{account_id}/mtls_certificates: upload (POST), list, get, delete, and the services
 * using one (associations). Order of checks: token (hook) → account, then certificate, inside the
 * token's account (404) → scope (403) → body → one service call.
 */
export const mtlsCertificateRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    const accountOf = async (request: FastifyRequest<{ Params: AccountParams }>) => {
      const principal = principalOf(request);
      const accountId = request.params.account_id;
      if (!HEX_ID.test(accountId)) throw notFound("account");
      requireAccount(principal, accountId);
      if (principal.kind === "operator") await getAccount(ctx, accountId);
      return { principal, accountId };
    };

    app.post<{ Params: AccountParams }>("/accounts/:account_id/mtls_certificates", async (request) => {
      const { principal, accountId } = await accountOf(request);
      requireScope(principal, "ssl_certificates:edit");
      const body = objectBody(request.body);
      if (typeof body.ca !== "boolean") {
        throw new GatehouseError(MtlsCertificateErrors.badCaFlag, 400, "ca is required: true for a CA, false for a leaf certificate with its private_key");
      }
      const row = await upload(
        ctx,
        accountId,
        {
          ca: body.ca,
          certificates: requiredString(body, "certificates", CERTIFICATES_MAX_LENGTH),
          name: nameOf(body.name),
          privateKey: optionalString(body, "private_key", KEY_MAX_LENGTH),
        },
        actorOf(request),
      );
      return ok({ ...mtlsCertificateView(row), updated_at: rfc3339(row.updated_at) });
    });

    app.get<{ Params: AccountParams; Querystring: Query }>("/accounts/:account_id/mtls_certificates", async (request) => {
      const { principal, accountId } = await accountOf(request);
      requireScope(principal, "ssl_certificates:read");
      const q = request.query;
      const ca = caFilterOf(q.ca);
      const name = q.name === undefined ? undefined : nameOf(q.name);
      const anyType = typeFilterOf(q.type);
      const page = queryInteger(q, "page", MtlsCertificateErrors.badPage, 1, 1_000_000) ?? 1;
      const perPage = queryInteger(q, "per_page", MtlsCertificateErrors.badPerPage, 1, DEFAULT_PER_PAGE) ?? DEFAULT_PER_PAGE;
      const { rows, total } = anyType
        ? await listCertificates(ctx, accountId, { ca, name, limit: perPage, offset: (page - 1) * perPage })
        : { rows: [], total: 0 };
      return ok(rows.map(mtlsCertificateView), {
        resultInfo: { page, per_page: perPage, count: rows.length, total_count: total, total_pages: Math.ceil(total / perPage) },
      });
    });

    app.get<{ Params: CertParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id", async (request) => {
      const { principal, accountId } = await accountOf(request);
      const row = await getMtlsCertificate(ctx, accountId, request.params.mtls_certificate_id);
      requireScope(principal, "ssl_certificates:read");
      return ok(mtlsCertificateView(row));
    });

    app.delete<{ Params: CertParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id", async (request) => {
      const { principal, accountId } = await accountOf(request);
      const row = await getMtlsCertificate(ctx, accountId, request.params.mtls_certificate_id);
      requireScope(principal, "ssl_certificates:edit");
      const force = forceOf((request.query as Query).force);
      return ok(mtlsCertificateView(await remove(ctx, accountId, row.id, actorOf(request), { force })));
    });

    app.get<{ Params: CertParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id/associations", async (request) => {
      const { principal, accountId } = await accountOf(request);
      const row = await getMtlsCertificate(ctx, accountId, request.params.mtls_certificate_id);
      requireScope(principal, "ssl_certificates:read");
      return ok(await listAssociations(ctx, row));
    });
  };
