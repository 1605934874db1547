/**
 * server.ts builds the EST listener: a fastify app of its own over HTTPS only (RFC 7030 §3.3:
 * tokens and server-generated keys never cross in clear). The TLS server asks every client for a
 * certificate without requiring one (`requestCert`, `rejectUnauthorized: false`), so token clients
 * (simpleenroll) and certificate clients (simplereenroll) share one port; the handler checks a
 * presented certificate against the CA of the zone in the path, never the TLS layer against a
 * merged list of every tenant's CAs.
 */
import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "../log.js";
import { estError } from "../services/enrollment-errors.js";
import type { ServiceContext } from "../services/context.js";
import { DEFAULT_EST_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import { EST_OPERATIONS, EST_PREFIX, estRoutes } from "./routes.js";
import { EST_BODY_LIMIT, sendEstError } from "./wire.js";

/** DEFAULT_EST_PORT: RFC 7030 names no port; 8444 sits beside the edge's 8443. */
export const DEFAULT_EST_PORT = 8444;

/** EstTls: the server certificate chain and key (PEM) the EST listener presents. */
export interface EstTls {
  cert: Buffer;
  key: Buffer;
}

/** readEstTls loads the PEM files named by EST_TLS_CERT/EST_TLS_KEY (or the edge's); start-up fails on a bad file. */
export function readEstTls(paths: { certPath: string; keyPath: string }): EstTls {
  const cert = readFileSync(paths.certPath);
  const key = readFileSync(paths.keyPath);
  new X509Certificate(cert); // a clear start-up error rather than a failing handshake later
  return { cert, key };
}

/** estPortOf is the port the EST app listens on (an ephemeral one resolved), else `fallback`. */
export function estPortOf(app: FastifyInstance | undefined, fallback: number): number {
  const address = app?.server.listening ? app.server.address() : null;
  return address && typeof address === "object" ? address.port : fallback;
}

export interface EstAppOptions {
  ctx: ServiceContext;
  logger: Logger;
  tls: EstTls;
  rateLimit?: RateLimitOptions | false;
}

/** buildEstApp assembles the EST app; the caller listens (server.ts) and closes it (runtime.ts). */
export async function buildEstApp(opts: EstAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    https: {
      cert: opts.tls.cert,
      key: opts.tls.key,
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: 10_000,
      minVersion: "TLSv1.2",
    },
    loggerInstance: opts.logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    bodyLimit: EST_BODY_LIMIT,
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Every body is read as bytes; each handler checks its own media type (415 in plain text).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.setErrorHandler((err, request, reply) => sendEstError(err, request, reply));

  if (opts.rateLimit !== false) {
    const limiter = new RateLimiter(opts.rateLimit ?? DEFAULT_EST_RATE_LIMIT);
    app.addHook("onRequest", async (request, reply) => {
      if (!limiter.take(request.ip)) {
        reply.header("retry-after", "1");
        throw estError("rateLimited");
      }
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const match = new RegExp(`^${EST_PREFIX}/[^/]+/([a-z]+)/?$`).exec(request.url.split("?")[0]);
    const method = match && Object.hasOwn(EST_OPERATIONS, match[1]) ? EST_OPERATIONS[match[1]] : undefined;
    if (method) {
      reply.header("allow", method);
      return sendEstError(estError("methodNotAllowed"), request, reply);
    }
    return sendEstError(estError("noRoute"), request, reply);
  });

  await app.register(estRoutes(opts.ctx));
  return app;
}
