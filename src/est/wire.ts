/**
 * wire.ts is EST's HTTP-level encoding (RFC 7030 §3, RFC 8951): base64 bodies, the credentials a
 * request carries, the media types of answers and the plain-text error form.
 */
import type { TLSSocket } from "node:tls";
import type { FastifyReply, FastifyRequest } from "fastify";
import { toEnvelope } from "../http/errors.js";
import { estError } from "../services/enrollment-errors.js";

/** PKCS7_CERTS_ONLY is the media type of every certificate answer (RFC 7030 §4.1.3, §4.2.3). */
export const PKCS7_CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only";
export const PKCS10 = "application/pkcs10";
export const PKCS8 = "application/pkcs8";
/** EST_BODY_LIMIT: a base64 CSR with many SANs fits; DESIGN.md "Hardening" sets 16 KiB. */
export const EST_BODY_LIMIT = 16 * 1024;
export const WWW_AUTHENTICATE = 'Basic realm="gatehouse-est", charset="UTF-8"';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * decodeBase64Body reads an RFC 8951 body: base64 (RFC 4648 §4) of DER, line breaks and other
 * whitespace allowed, padding required, nothing else. Throws the EST badBase64 error.
 */
export function decodeBase64Body(body: Buffer | undefined): Uint8Array {
  const text = (body ?? Buffer.alloc(0)).toString("latin1").replace(/[ \t\r\n]+/g, "");
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) throw estError("badBase64");
  const der = Buffer.from(text, "base64");
  if (der.toString("base64") !== text) throw estError("badBase64");
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/** requirePkcs10 refuses any request whose media type is not application/pkcs10 (415). */
export function requirePkcs10(request: FastifyRequest): void {
  const type = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== PKCS10) throw estError("unsupportedMediaType");
}

/**
 * tokenOf takes an enrollment token from `Authorization: Bearer <token>` or from the password of
 * HTTP Basic (RFC 7617; the user name is ignored). Undefined when neither is present.
 */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const bearer = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const password = colon >= 0 ? decoded.slice(colon + 1) : "";
  return password === "" ? undefined : password;
}

/** clientCertificateOf returns the DER of the TLS client certificate, if the client sent one. */
export function clientCertificateOf(request: FastifyRequest): Uint8Array | undefined {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== "function") return undefined;
  const peer = socket.getPeerCertificate();
  return peer && peer.raw && peer.raw.length > 0 ? new Uint8Array(peer.raw) : undefined;
}

/**
 * sendEstError answers an error as EST does: the HTTP status and a text/plain reason (RFC 7030
 * §4.2.3), the stable code in `gatehouse-error-code`. The mapping is the API's one mapper
 * (http/errors.ts), so codes and hidden 5xx messages are the same as in the JSON API.
 */
export function sendEstError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, internal } = toEnvelope(err);
  const { code, message } = body.errors[0];
  if (internal) request.log.error({ err }, "EST request failed");
  else request.log.info({ code, status }, "EST request refused");
  if (status === 401) reply.header("www-authenticate", WWW_AUTHENTICATE);
  return reply.code(status).header("gatehouse-error-code", String(code)).type("text/plain; charset=utf-8").send(`${message}\n`);
}
