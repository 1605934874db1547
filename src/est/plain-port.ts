/**
 * plain-port.ts answers EST paths on the plain API port with 403 and a pointer to the TLS port:
 * RFC 7030 §3.3 forbids tokens and server-generated keys in clear, so nothing is read or issued
 * here. It answers in the onRequest hook, before any body is read or parsed.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { EnrollmentErrors } from "../services/enrollment-errors.js";
import { EST_PREFIX } from "./routes.js";

/**
 * estPlainPortRoutes is an `extraRoutes` entry for the API app; `estPort` says where EST listens
 * (undefined when it is not configured), read per request so an ephemeral port shows as bound.
 */
export function estPlainPortRoutes(estPort: () => number | undefined) {
  const messageFor = (port: number | undefined) =>
    port === undefined
      ? "EST is served only over TLS (RFC 7030 §3.3), and this deployment has no EST listener: set EST_TLS_CERT and EST_TLS_KEY (or the edge's EDGE_TLS_CERT and EDGE_TLS_KEY)"
      : `EST is served only over TLS (RFC 7030 §3.3): use https on port ${port} with the same path`;
  return async (app: FastifyInstance): Promise<void> => {
    const refuse = async (_request: unknown, reply: FastifyReply) =>
      reply
        .code(403)
        .header("gatehouse-error-code", String(EnrollmentErrors.tlsOnly))
        .type("text/plain; charset=utf-8")
        .send(`${messageFor(estPort())}\n`);
    app.all(`${EST_PREFIX}`, { onRequest: refuse }, async () => undefined);
    app.all(`${EST_PREFIX}/*`, { onRequest: refuse }, async () => undefined);
  };
}
