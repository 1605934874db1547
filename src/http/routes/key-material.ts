import type { TLSSocket } from "node:tls";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { BindingLeaseRow } from "../../db/binding-leases.js";
import { GatehouseError, notFound } from "../../errors.js";
import { listBindingLeases, registerLease, releaseLease, renewBindingLease } from "../../services/binding-leases.js";
import type { ServiceContext } from "../../services/context.js";
import { HEX_ID, UUID } from "../../services/ids.js";
import { findKeyHolder, KeyMaterialErrors, readKeyMaterial } from "../../services/key-material.js";
import { actorOf, principalOf, requireAccount, requireScope, type Principal } from "../auth.js";
import { ok, rfc3339 } from "../envelope.js";
import { objectBody } from "../validate.js";

type CertParams = { account_id: string; mtls_certificate_id: string };
type LeaseParams = CertParams & { lease_id: string };

/** isLoopback: 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return v4.startsWith("127.") || ip === "::1";
}

/**
 * requireSecureTransport refuses key material over plain HTTP unless the peer is on loopback
 * (a local binding, or a TLS-terminating proxy on the same host). `request.protocol` is "https"
 * for a TLS socket, or behind a proxy when fastify's trustProxy is configured.
 */
function requireSecureTransport(request: FastifyRequest): void {
  const tls = (request.raw.socket as TLSSocket | undefined)?.encrypted === true;
  if (tls || request.protocol === "https" || isLoopback(request.socket?.remoteAddress ?? request.ip)) return;
  throw new GatehouseError(
    KeyMaterialErrors.plainHttp,
    403,
    "key material is only served over HTTPS (plain HTTP only from loopback): call the API through TLS",
  );
}

/** requireUseScope: only an account token that carries mtls_certificates:use; never the operator. */
function requireUseScope(principal: Principal): void {
  if (principal.kind === "operator") {
    throw new GatehouseError(
      KeyMaterialErrors.operatorRefused,
      403,
      "key material is released only to an account token with the mtls_certificates:use scope, not to the operator token",
    );
  }
  requireScope(principal, "mtls_certificates:use");
}

export function leaseView(row: BindingLeaseRow) {
  return {
    id: row.id,
    binding: row.binding,
    certificate_id: row.mtls_certificate_id,
    holder: row.holder,
    status: row.active ? ("active" as const) : ("expired" as const),
    created_on: rfc3339(row.created_on),
    renewed_on: rfc3339(row.renewed_on),
    expires_on: rfc3339(row.expires_on),
  };
}

/**
 * Key material and binding leases of `ca: false` mTLS certificates:
 * POST …/{id}/key_material (mtls_certificates:use, HTTPS or loopback, Cache-Control: no-store,
 * audited) and …/{id}/bindings (register, renew, release, list). Checks: token (hook) → account
 * and certificate (404) → scope (403).
 */
export const keyMaterialRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    /** resolve: the certificate inside the token's account (404), then the scope (403). */
    const resolve = async (request: FastifyRequest<{ Params: CertParams }>, check: (p: Principal) => void) => {
      const principal = principalOf(request);
      const { account_id: accountId, mtls_certificate_id: id } = request.params;
      if (!HEX_ID.test(accountId)) throw notFound("account");
      requireAccount(principal, accountId);
      if (!UUID.test(id)) throw notFound("mTLS certificate");
      const holder = await findKeyHolder(ctx.sql, accountId, id);
      check(principal);
      return holder;
    };
    const leaseIdOf = (params: LeaseParams) => {
      if (!UUID.test(params.lease_id)) throw notFound("binding lease");
      return params.lease_id;
    };

    app.post<{ Params: CertParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id/key_material", async (request, reply) => {
      requireSecureTransport(request);
      const holder = await resolve(request, requireUseScope);
      const material = await readKeyMaterial(ctx, holder.account_id, holder.id, actorOf(request));
      reply.header("cache-control", "no-store");
      reply.header("pragma", "no-cache");
      return ok({ ...material, expires_on: rfc3339(material.expires_on) });
    });

    app.post<{ Params: CertParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id/bindings", async (request) => {
      const holder = await resolve(request, requireUseScope);
      const body = objectBody(request.body);
      const lease = await registerLease(
        ctx,
        { accountId: holder.account_id, certificateId: holder.id, binding: body.binding, holder: body.holder, ttlSeconds: body.ttl_seconds },
        actorOf(request),
      );
      return ok(leaseView(lease));
    });

    app.get<{ Params: CertParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id/bindings", async (request) => {
      const holder = await resolve(request, (p) => requireScope(p, "ssl_certificates:read"));
      return ok((await listBindingLeases(ctx, holder.account_id, holder.id)).map(leaseView));
    });

    app.put<{ Params: LeaseParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id/bindings/:lease_id", async (request) => {
      const holder = await resolve(request, requireUseScope);
      const body = objectBody(request.body);
      return ok(leaseView(await renewBindingLease(ctx, holder.account_id, holder.id, leaseIdOf(request.params), body.ttl_seconds)));
    });

    app.delete<{ Params: LeaseParams }>("/accounts/:account_id/mtls_certificates/:mtls_certificate_id/bindings/:lease_id", async (request) => {
      const holder = await resolve(request, requireUseScope);
      return ok(leaseView(await releaseLease(ctx, holder.account_id, holder.id, leaseIdOf(request.params), actorOf(request))));
    });
  };
