import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError } from "../../errors.js";
import { ocspErrorResponse, OcspResponseStatus } from "../../pki/ocsp.js";
import type { ServiceContext } from "../../services/context.js";
import type { OcspAnswer } from "../../services/ocsp.js";
import { PkiErrors } from "../../services/pki-errors.js";
import type { PkiServices } from "../../services/pki.js";
import { TokenBuckets } from "../../services/token-buckets.js";
import { fail } from "../envelope.js";

/** OCSP_BODY_LIMIT: an OCSP request is a few hundred bytes; 8 KiB is generous (DESIGN.md "Hardening"). */
export const OCSP_BODY_LIMIT = 8 * 1024;
/** CA_FILE_MAX_AGE: CA certificates never change, so clients may keep them a day. */
const CA_FILE_MAX_AGE = 86_400;

const NO_MANAGED_CA =
  "no managed CA with this id: Gatehouse publishes CRLs, OCSP and CA certificates only for the managed CAs it holds keys for, never for uploaded (BYOCA) CAs";
const TRY_LATER = Buffer.from(ocspErrorResponse(OcspResponseStatus.tryLater));
const MALFORMED = Buffer.from(ocspErrorResponse(OcspResponseStatus.malformedRequest));
/** UNSUPPORTED marks a body of another media type (the handler answers 415). */
const UNSUPPORTED = Symbol("unsupported media type");

type CaParams = { ca_id: string };

const httpDate = (d: Date) => d.toUTCString();
const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));

/**
 * pkiRoutes: the public, unauthenticated revocation endpoints of every managed CA, for relying
 * parties (openssl, nginx, OCSP clients): CRL (DER or PEM), OCSP (RFC 6960 GET and POST) and the
 * CA certificate. Rate-limited per client address. BYOCA and unknown ids: 404 (OCSP: unauthorized).
 */
export async function pkiRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const services = ctx.pki;
  if (!services) throw new Error("pkiRoutes needs ctx.pki (startPkiServices)");
  await app.register(async (pki) => pkiPlugin(pki, services));
}

async function pkiPlugin(app: FastifyInstance, services: PkiServices): Promise<void> {
  const { crls, ocsp, cas } = services;
  const limit = services.settings.pkiRateLimit;
  const buckets = new TokenBuckets(limit, limit * 2);

  app.addContentTypeParser("application/ocsp-request", { parseAs: "buffer", bodyLimit: OCSP_BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: OCSP_BODY_LIMIT }, (_req, _body, done) => done(null, UNSUPPORTED));

  app.addHook("onRequest", async (request, reply) => {
    if (buckets.take(request.ip)) return;
    reply.header("retry-after", String(buckets.retryAfterSeconds()));
    if (request.url.includes("/ocsp")) {
      return reply.code(429).type("application/ocsp-response").send(TRY_LATER);
    }
    return reply.code(429).send(fail(PkiErrors.rateLimited, "too many requests from this address to the PKI endpoints; retry later"));
  });

  const managedCa = async (caId: string) => {
    const pub = await cas.get(caId);
    if (!pub) throw new GatehouseError(PkiErrors.noManagedCa, 404, NO_MANAGED_CA);
    return pub;
  };

  const sendCrl = async (request: FastifyRequest<{ Params: CaParams }>, reply: FastifyReply, pem: boolean) => {
    const crl = await crls.current(request.params.ca_id);
    if (!crl) throw new GatehouseError(PkiErrors.noManagedCa, 404, NO_MANAGED_CA);
    const remaining = seconds(crl.nextUpdate.getTime() - Date.now());
    reply
      .header("cache-control", `public, max-age=${Math.min(remaining, services.settings.crlDebounceSeconds)}, stale-if-error=${remaining}, no-transform`)
      .header("etag", pem ? crl.etag.replace(/"$/, '-pem"') : crl.etag)
      .header("last-modified", httpDate(crl.thisUpdate))
      .header("vary", "accept");
    if (notModified(request, reply.getHeader("etag") as string, crl.thisUpdate)) return reply.code(304).send();
    return pem ? reply.type("application/x-pem-file").send(crl.pem()) : reply.type("application/pkix-crl").send(crl.der);
  };
  const wantsPem = (request: FastifyRequest) => /application\/x-pem-file/i.test(String(request.headers.accept ?? ""));

  app.get<{ Params: CaParams }>("/pki/:ca_id/crl", (request, reply) => sendCrl(request, reply, wantsPem(request)));
  app.get<{ Params: CaParams }>("/pki/:ca_id/crl.pem", (request, reply) => sendCrl(request, reply, true));

  const sendCa = async (request: FastifyRequest<{ Params: CaParams }>, reply: FastifyReply, pem: boolean) => {
    const pub = await managedCa(request.params.ca_id);
    const etag = `"${createHash("sha256").update(pub.ca.certificate_der).digest("hex").slice(0, 32)}${pem ? "-pem" : ""}"`;
    reply.header("cache-control", `public, max-age=${CA_FILE_MAX_AGE}`).header("etag", etag);
    if (notModified(request, etag)) return reply.code(304).send();
    return pem ? reply.type("application/x-pem-file").send(pub.ca.certificate_pem) : reply.type("application/pkix-cert").send(pub.ca.certificate_der);
  };
  app.get<{ Params: CaParams }>("/pki/:ca_id/ca.pem", (request, reply) => sendCa(request, reply, true));
  app.get<{ Params: CaParams }>("/pki/:ca_id/ca.der", (request, reply) => sendCa(request, reply, false));

  const sendOcsp = (reply: FastifyReply, answer: OcspAnswer, get: boolean) => {
    const c = answer.cache;
    if (c && get) {
      // RFC 5019 §6.2: cacheable by HTTP caches until we would sign it again ourselves.
      reply
        .header("cache-control", `public, max-age=${seconds(c.refreshAt - Date.now())}, no-transform, must-revalidate`)
        .header("last-modified", httpDate(c.producedAt))
        .header("expires", httpDate(c.nextUpdate))
        .header("etag", c.etag);
    } else {
      reply.header("cache-control", "no-store");
    }
    return reply.code(200).type("application/ocsp-response").send(Buffer.from(answer.der.buffer, answer.der.byteOffset, answer.der.byteLength));
  };

  app.post<{ Params: CaParams }>("/pki/:ca_id/ocsp", async (request, reply) => {
    const body = request.body;
    if (body === UNSUPPORTED || (body !== undefined && !Buffer.isBuffer(body))) {
      throw new GatehouseError(PkiErrors.ocspMediaType, 415, "send the OCSP request as Content-Type: application/ocsp-request (RFC 6960 appendix A.1)");
    }
    return sendOcsp(reply, await ocsp.respond(request.params.ca_id, body ?? Buffer.alloc(0), request.ip), false);
  });

  app.get<{ Params: CaParams & { "*": string } }>("/pki/:ca_id/ocsp/*", async (request, reply) => {
    const der = ocspGetRequest(request.raw.url ?? "");
    if (!der) return sendOcsp(reply, { der: MALFORMED }, false);
    return sendOcsp(reply, await ocsp.respond(request.params.ca_id, der, request.ip), true);
  });
}

/** ocspGetRequest decodes the RFC 6960 A.1 GET form: the URL-encoded base64 DER after `/ocsp/`. */
export function ocspGetRequest(rawUrl: string): Buffer | undefined {
  const path = rawUrl.split("?")[0];
  const at = path.indexOf("/ocsp/");
  if (at < 0) return undefined;
  let text: string;
  try {
    text = decodeURIComponent(path.slice(at + "/ocsp/".length));
  } catch {
    return undefined;
  }
  // base64 as RFC 6960 says, or its URL-safe alphabet, which some clients send; padding optional.
  if (text.length === 0 || text.length > Math.ceil((OCSP_BODY_LIMIT * 4) / 3) + 4 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const der = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return der.length > 0 && der.length <= OCSP_BODY_LIMIT ? der : undefined;
}

/** notModified answers a conditional GET: If-None-Match first, then If-Modified-Since. */
function notModified(request: FastifyRequest, etag: string, lastModified?: Date): boolean {
  const inm = request.headers["if-none-match"];
  if (typeof inm === "string") return inm.split(",").some((t) => t.trim() === etag || t.trim() === "*");
  const ims = request.headers["if-modified-since"];
  if (lastModified && typeof ims === "string") {
    const since = Date.parse(ims);
    return Number.isFinite(since) && lastModified.getTime() <= since;
  }
  return false;
}
