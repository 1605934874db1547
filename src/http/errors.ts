import type { FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError, RequestErrors } from "../errors.js";
import { fail, type Envelope } from "./envelope.js";

/** Fastify's own client errors, translated to our codes; their messages are ours, never the input. */
const FASTIFY_ERRORS: Record<string, { code: number; status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: RequestErrors.bodyTooLarge, status: 413, message: "request body is too large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: RequestErrors.unsupportedMediaType,
    status: 415,
    message: "unsupported Content-Type: send application/json",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: RequestErrors.invalidJson, status: 400, message: "Content-Length does not match the body" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: RequestErrors.invalidJson, status: 400, message: "request body is empty" },
  FST_ERR_BAD_URL: { code: RequestErrors.validation, status: 400, message: "the URL is malformed (a bad %-escape)" },
  FST_ERR_ASYNC_CONSTRAINT: { code: RequestErrors.validation, status: 400, message: "the request could not be routed" },
};

/**
 * toEnvelope is the ONE place an error becomes a response. GatehouseErrors keep their code and
 * status; fastify's client errors map to ours; anything else is a 500 whose message is hidden (the
 * cause goes to the log, with the request id the client can quote).
 */
export function toEnvelope(err: unknown): { status: number; body: Envelope<null>; internal: boolean } {
  if (err instanceof GatehouseError) return { status: err.status, body: fail(err.code, err.message), internal: false };
  const fe = err as { code?: string; statusCode?: number; validation?: unknown };
  const known = fe?.code ? FASTIFY_ERRORS[fe.code] : undefined;
  if (known) return { status: known.status, body: fail(known.code, known.message), internal: false };
  if (fe?.validation) return { status: 400, body: fail(RequestErrors.validation, "request does not match the schema"), internal: false };
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: fail(RequestErrors.validation, "bad request"), internal: false };
  }
  return {
    status: 500,
    body: fail(RequestErrors.internal, "internal error: see the service log for this request id"),
    internal: true,
  };
}

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, internal } = toEnvelope(err);
  if (internal) request.log.error({ err }, "request failed");
  else request.log.info({ code: body.errors[0].code, status }, "request refused");
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}
