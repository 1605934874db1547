/**
 * routes.ts: the EST operations under /.well-known/est/{zone_id}/ (RFC 7030 §3.2.2, the zone id as
 * the CA label). Handlers follow the API's shape: decode the transfer form → resolve the zone
 * (404) → one service call → encode. Answers are base64 (RFC 8951); errors are plain text.
 */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Actor } from "../db/audit.js";
import { base64Lines, certsOnlyBase64 } from "../pki/pkcs7.js";
import type { ServiceContext } from "../services/context.js";
import { authenticateClientCertificate, enrollWithToken, estCaCertificates, estZone, reenroll, serverKeygen } from "../services/enrollment.js";
import { authenticateEnrollmentToken } from "../services/enrollment-tokens.js";
import { clientCertificateOf, decodeBase64Body, PKCS7_CERTS_ONLY, PKCS8, requirePkcs10, tokenOf } from "./wire.js";

type ZoneParams = { zone_id: string };

/** EST_PREFIX is the RFC 7030 §3.2.2 well-known path. */
export const EST_PREFIX = "/.well-known/est";
/** EST_OPERATIONS with their methods, for routing and for 405 answers. */
export const EST_OPERATIONS: Readonly<Record<string, "GET" | "POST">> = {
  cacerts: "GET",
  simpleenroll: "POST",
  simplereenroll: "POST",
  csrattrs: "GET",
  serverkeygen: "POST",
};

const actorOf = (request: FastifyRequest): Actor => ({ actor: "est", requestId: request.id, sourceIp: request.ip });

function sendCertsOnly(reply: FastifyReply, certificates: Uint8Array[]): FastifyReply {
  return reply
    .code(200)
    .header("content-type", PKCS7_CERTS_ONLY)
    .header("content-transfer-encoding", "base64")
    .send(certsOnlyBase64(certificates));
}

const crlf = (s: string) => s.replace(/\n/g, "\r\n");

/** keyAndCertificate is RFC 7030 §4.4.2's multipart/mixed answer: the PKCS#8 key, then the certificate. */
function keyAndCertificate(privateKeyPkcs8: Uint8Array, certificate: Uint8Array): { boundary: string; body: string } {
  const boundary = `est-${randomBytes(12).toString("hex")}`;
  const part = (type: string, b64: string) =>
    `--${boundary}\r\nContent-Type: ${type}\r\nContent-Transfer-Encoding: base64\r\n\r\n${crlf(b64)}`;
  return {
    boundary,
    body: part(PKCS8, base64Lines(privateKeyPkcs8)) + part(PKCS7_CERTS_ONLY, certsOnlyBase64([certificate])) + `--${boundary}--\r\n`,
  };
}

/** estRoutes registers the five operations on the EST app. */
export function estRoutes(ctx: ServiceContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: ZoneParams }>(`${EST_PREFIX}/:zone_id/cacerts`, async (request, reply) => {
      const zone = await estZone(ctx, request.params.zone_id);
      return sendCertsOnly(reply, await estCaCertificates(ctx, zone));
    });

    app.get<{ Params: ZoneParams }>(`${EST_PREFIX}/:zone_id/csrattrs`, async (request, reply) => {
      await estZone(ctx, request.params.zone_id);
      // Nothing to ask of the CSR beyond the profile's own rules (RFC 7030 §4.5.2: 204).
      return reply.code(204).send();
    });

    app.post<{ Params: ZoneParams }>(`${EST_PREFIX}/:zone_id/simpleenroll`, async (request, reply) => {
      const zone = await estZone(ctx, request.params.zone_id);
      requirePkcs10(request);
      const token = await authenticateEnrollmentToken(ctx, zone, tokenOf(request));
      const csrDer = decodeBase64Body(request.body as Buffer | undefined);
      const enrolled = await enrollWithToken(ctx, { zone, token, csrDer }, actorOf(request));
      return sendCertsOnly(reply, [enrolled.der]);
    });

    app.post<{ Params: ZoneParams }>(`${EST_PREFIX}/:zone_id/simplereenroll`, async (request, reply) => {
      const zone = await estZone(ctx, request.params.zone_id);
      requirePkcs10(request);
      const current = await authenticateClientCertificate(ctx, zone, clientCertificateOf(request));
      const csrDer = decodeBase64Body(request.body as Buffer | undefined);
      const enrolled = await reenroll(ctx, { zone, current, csrDer }, actorOf(request));
      return sendCertsOnly(reply, [enrolled.der]);
    });

    app.post<{ Params: ZoneParams }>(`${EST_PREFIX}/:zone_id/serverkeygen`, async (request, reply) => {
      const zone = await estZone(ctx, request.params.zone_id);
      requirePkcs10(request);
      const token = await authenticateEnrollmentToken(ctx, zone, tokenOf(request));
      const csrDer = decodeBase64Body(request.body as Buffer | undefined);
      const made = await serverKeygen(ctx, { zone, token, csrDer }, actorOf(request));
      const { boundary, body } = keyAndCertificate(made.privateKeyPkcs8, made.der);
      made.privateKeyPkcs8.fill(0);
      return reply
        .code(200)
        .header("content-type", `multipart/mixed; boundary=${boundary}`)
        .header("cache-control", "no-store")
        .send(body);
    });
  };
}
