import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { GatehouseError, RequestErrors } from "../errors.js";
import type { Logger } from "../log.js";
import type { ServiceContext } from "../services/context.js";
import type { TokenAuthenticator } from "../services/tokens.js";
import { authenticate } from "./auth.js";
import { fail } from "./envelope.js";
import { sendError } from "./errors.js";
import { accountRoutes } from "./routes/accounts.js";
import { clientCertificateRoutes } from "./routes/client-certificates.js";
import { docsRoutes } from "./routes/docs.js";
import { edgeSettingsRoutes } from "./routes/edge-settings.js";
import { hostnameAssociationRoutes } from "./routes/hostname-associations.js";
import { mtlsCertificateRoutes } from "./routes/mtls-certificates.js";
import { enrollmentTokenRoutes } from "./routes/enrollment-tokens.js";
import { keyMaterialRoutes } from "./routes/key-material.js";
import { acceptJsonSentAsTextPlain, wranglerCompatRoutes } from "./routes/wrangler-compat.js";

/** JSON_BODY_LIMIT is the per-route default body limit (DESIGN.md "Hardening"). */
export const JSON_BODY_LIMIT = 64 * 1024;
export const API_PREFIX = "/client/v4";

export interface AppOptions {
  ctx: ServiceContext;
  tokens: TokenAuthenticator;
  logger: Logger;
  /** healthy answers whether the database is reachable and migrated. */
  healthy: () => Promise<boolean>;
  /** extraRoutes lets later families (CRL/OCSP, EST, edge settings) register beside these. */
  extraRoutes?: Array<(app: FastifyInstance, ctx: ServiceContext) => Promise<void> | void>;
  /** apiRoutes are registered under /client/v4 behind authentication, like the built-in families. */
  apiRoutes?: Array<(app: FastifyInstance, ctx: ServiceContext) => Promise<void> | void>;
}

/** buildApp assembles the HTTP API: one plugin per route family, one error mapper, one 404. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: JSON_BODY_LIMIT,
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors fastify raises before routing (a bad %-escape in the URL, a malformed content type)
    // go through the one mapper too, so they answer in the envelope.
    frameworkErrors: (err, request, reply) => sendError(err, request, reply),
  });

  // JSON with an empty body allowed: DELETE/PATCH may come with a JSON content type and no body.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser(/^application\/([a-z0-9.+-]*\+)?json$/i, { parseAs: "string" }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new GatehouseError(RequestErrors.invalidJson, 400, "request body is not valid JSON"), undefined);
    }
  });

  // wrangler sends its JSON bodies as text/plain (see routes/wrangler-compat.ts).
  acceptJsonSentAsTextPlain(app);

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));

  // Every registered route, for the 405 answer and for the test that holds openapi.yaml to the app.
  const routePatterns: Array<{ method: string; url: string; pattern: RegExp }> = [];
  app.decorate("registeredRoutes", routePatterns);
  app.addHook("onRoute", (route) => {
    const source = route.url.replace(/:[a-z_]+/g, "[^/]+");
    for (const method of [route.method].flat()) routePatterns.push({ method, url: route.url, pattern: new RegExp(`^${source}/?$`) });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    const allowed = [...new Set(routePatterns.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      reply.header("allow", allowed.join(", "));
      return reply.code(405).send(fail(RequestErrors.methodNotAllowed, `method ${request.method} is not allowed here`));
    }
    return reply.code(404).send(fail(RequestErrors.noRoute, "No route for the URI"));
  });

  app.get("/healthz", async (_request, reply) => {
    const up = await opts.healthy().catch(() => false);
    return reply.code(up ? 200 : 503).send({ status: up ? "ok" : "unavailable" });
  });

  await app.register(docsRoutes);
  for (const register of opts.extraRoutes ?? []) await register(app, opts.ctx);

  await app.register(
    async (api) => {
      api.addHook("onRequest", async (request) => {
        await authenticate(request, opts.tokens);
      });
      await api.register(accountRoutes(opts.ctx));
      await api.register(clientCertificateRoutes(opts.ctx));
      await api.register(mtlsCertificateRoutes(opts.ctx));
      await api.register(hostnameAssociationRoutes(opts.ctx));
      await api.register(edgeSettingsRoutes(opts.ctx));
      await api.register(enrollmentTokenRoutes(opts.ctx));
      await api.register(keyMaterialRoutes(opts.ctx));
      await api.register(wranglerCompatRoutes(opts.ctx));
      for (const register of opts.apiRoutes ?? []) await register(api, opts.ctx);
    },
    { prefix: API_PREFIX },
  );
  return app;
}
