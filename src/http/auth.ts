import type { FastifyRequest } from "fastify";
import type { ApiTokenRow } from "../db/api-tokens.js";
import type { Actor } from "../db/audit.js";
import { GatehouseError, notFound, RequestErrors } from "../errors.js";
import { hasScope, type Scope, type TokenAuthenticator } from "../services/tokens.js";

/** Principal is who a request speaks for: the operator (deployment admin) or an account's token. */
export type Principal = { kind: "operator" } | { kind: "token"; token: ApiTokenRow };

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const unauthenticated = () =>
  new GatehouseError(RequestErrors.unauthenticated, 401, "Authentication error: send Authorization: Bearer <token>");

/** authenticate resolves the bearer token (401 when missing, unknown or revoked). It runs first. */
export async function authenticate(request: FastifyRequest, tokens: TokenAuthenticator): Promise<Principal> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw unauthenticated();
  const value = match[1];
  if (tokens.isOperator(value)) return (request.principal = { kind: "operator" });
  const token = await tokens.lookup(value);
  if (!token) throw unauthenticated();
  return (request.principal = { kind: "token", token });
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
  return request.principal;
}

/** requireAccount: a token sees only its own account; anything else is "not found" (never 403). */
export function requireAccount(principal: Principal, accountId: string, what = "account"): void {
  if (principal.kind === "token" && principal.token.account_id !== accountId) throw notFound(what);
}

/** requireScope runs after the object was resolved inside the account (so 404 precedes 403). */
export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.kind === "operator") return;
  if (!hasScope(principal.token.scopes, scope)) {
    throw new GatehouseError(RequestErrors.forbidden, 403, `this token lacks the ${scope} scope`);
  }
}

export function requireOperator(principal: Principal): void {
  if (principal.kind !== "operator") {
    throw new GatehouseError(RequestErrors.forbidden, 403, "this endpoint needs the operator token");
  }
}

/** actorOf is what an audit event records of the request: token id (or operator), request id, source IP. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal;
  return {
    actor: !principal ? "anonymous" : principal.kind === "operator" ? "operator" : `token:${principal.token.id}`,
    requestId: request.id,
    sourceIp: request.ip,
  };
}
