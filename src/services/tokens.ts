import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { findActiveTokenByDigest, insertToken, listTokens, revokeToken, type ApiTokenRow } from "../db/api-tokens.js";
import { insertAuditEvent, type Actor } from "../db/audit.js";
import type { ChangeBus } from "../db/changes.js";
import type { Sql } from "../db/sql.js";
import { GatehouseError, notFound } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { newUuid } from "./ids.js";

/**
 * Scopes a token may carry. Edit implies read; `mtls_certificates:use` (reading a stored client
 * key for the outbound binding) is implied by nothing and must be granted by name.
 */
export const SCOPES = ["ssl_certificates:read", "ssl_certificates:edit", "mtls_certificates:use"] as const;
export type Scope = (typeof SCOPES)[number];

export const TokenErrors = {
  badName: 1030,
  badScopes: 1031,
} as const;

/** TOKEN_PREFIX marks Gatehouse tokens so secret scanners can find leaked ones. */
export const TOKEN_PREFIX = "gh_";

export const tokenDigest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** hasScope applies the implication edit ⇒ read. */
export function hasScope(scopes: readonly string[], wanted: Scope): boolean {
  return scopes.includes(wanted) || (wanted === "ssl_certificates:read" && scopes.includes("ssl_certificates:edit"));
}

export async function createToken(
  ctx: ServiceContext,
  input: { accountId: string; name: string; scopes: unknown },
  actor: Actor,
): Promise<{ token: ApiTokenRow; value: string }> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw new GatehouseError(TokenErrors.badName, 400, "name must be 1 to 200 characters");
  const scopes = input.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => !(SCOPES as readonly unknown[]).includes(s))) {
    throw new GatehouseError(TokenErrors.badScopes, 400, `scopes must be a non-empty list of: ${SCOPES.join(", ")}`);
  }
  const value = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const token = (await ctx.sql.begin(async (tx) => {
    const row = await insertToken(tx, {
      id: newUuid(),
      accountId: input.accountId,
      name,
      digest: tokenDigest(value),
      scopes: [...new Set(scopes as string[])],
    });
    await insertAuditEvent(tx, { accountId: input.accountId, ...actor, action: "token.create", objectType: "api_token", objectId: row.id });
    return row;
  })) as ApiTokenRow;
  return { token, value };
}

export async function listAccountTokens(ctx: ServiceContext, accountId: string): Promise<ApiTokenRow[]> {
  return listTokens(ctx.sql, accountId);
}

export async function deleteToken(ctx: ServiceContext, accountId: string, tokenId: string, actor: Actor): Promise<ApiTokenRow> {
  const token = (await ctx.sql.begin(async (tx) => {
    const row = await revokeToken(tx, accountId, tokenId);
    if (!row) throw notFound("token");
    await insertAuditEvent(tx, { accountId, ...actor, action: "token.revoke", objectType: "api_token", objectId: tokenId, newStatus: "revoked" });
    await ctx.bus.publish(tx, { topic: "token", id: tokenId });
    return row;
  })) as ApiTokenRow;
  return token;
}

/**
 * TokenAuthenticator resolves bearer tokens to their rows, caching by digest for a few seconds.
 * A revocation is published on the bus and drops the cache in every process at once; the TTL only
 * bounds how long a missed notification could matter.
 */
export class TokenAuthenticator {
  private cache = new Map<string, { token: ApiTokenRow | undefined; until: number }>();
  private static readonly TTL_MS = 5_000;
  private static readonly MAX_ENTRIES = 10_000;

  constructor(
    private readonly sql: Sql,
    bus: ChangeBus,
    private readonly operatorDigest?: Buffer,
  ) {
    bus.subscribe((change) => {
      if (change.topic === "token") this.cache.clear();
    });
  }

  /** isOperator compares digests in constant time, so the comparison leaks nothing of the token. */
  isOperator(value: string): boolean {
    return this.operatorDigest !== undefined && timingSafeEqual(tokenDigest(value), this.operatorDigest);
  }

  async lookup(value: string): Promise<ApiTokenRow | undefined> {
    const digest = tokenDigest(value);
    const key = digest.toString("base64");
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.token;
    const token = await findActiveTokenByDigest(this.sql, digest);
    if (this.cache.size >= TokenAuthenticator.MAX_ENTRIES) this.cache.clear();
    this.cache.set(key, { token, until: now + TokenAuthenticator.TTL_MS });
    return token;
  }
}
