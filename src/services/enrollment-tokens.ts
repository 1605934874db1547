import { createHash, randomBytes } from "node:crypto";
import { insertAuditEvent, type Actor } from "../db/audit.js";
import {
  findEnrollmentTokenByDigest,
  insertEnrollmentToken,
  listEnrollmentTokens,
  revokeEnrollmentToken,
  type EnrollmentTokenRow,
} from "../db/enrollment-tokens.js";
import type { ZoneRow } from "../db/zones.js";
import { GatehouseError, notFound } from "../errors.js";
import { MAX_VALIDITY_DAYS, MIN_VALIDITY_DAYS } from "../pki/certificate.js";
import type { ServiceContext } from "./context.js";
import { EnrollmentErrors, estError } from "./enrollment-errors.js";
import { newUuid } from "./ids.js";

/** ENROLLMENT_TOKEN_PREFIX marks enrollment tokens (as `gh_` marks API tokens) for secret scanners. */
export const ENROLLMENT_TOKEN_PREFIX = "ghe_";
/** MAX_USES_LIMIT bounds max_uses: a factory batch is large, but not unbounded by accident. */
export const MAX_USES_LIMIT = 10_000_000;
export const DEFAULT_ENROLLMENT_VALIDITY_DAYS = 365;
const PATTERN = /^[\x20-\x7e]{1,64}$/;

export const enrollmentTokenDigest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** EnrollmentTokenInput: the API's fields, already type-checked by the route. */
export interface EnrollmentTokenInput {
  name: string;
  maxUses?: number;
  expiresOn?: string;
  commonNamePattern?: string;
  validityDays?: number;
}

const invalid = (code: number, message: string) => new GatehouseError(code, 400, message);

/**
 * globToRegExp turns a common-name pattern into an anchored RegExp: `*` any run of characters,
 * `?` one character, everything else literal (so `device-*` or `*.sensors.example.com`).
 */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

function checkInput(ctx: ServiceContext, input: EnrollmentTokenInput) {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw invalid(EnrollmentErrors.badTokenName, "name must be 1 to 200 characters");
  if (input.maxUses !== undefined && (input.maxUses < 1 || input.maxUses > MAX_USES_LIMIT)) {
    throw invalid(EnrollmentErrors.badMaxUses, `max_uses must be a whole number from 1 to ${MAX_USES_LIMIT}`);
  }
  let expiresOn: Date | null = null;
  if (input.expiresOn !== undefined) {
    const t = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(input.expiresOn) ? Date.parse(input.expiresOn) : NaN;
    if (!Number.isFinite(t)) throw invalid(EnrollmentErrors.badExpiresOn, "expires_on must be an RFC 3339 time such as 2030-01-01T00:00:00Z");
    if (t <= ctx.now().getTime()) throw invalid(EnrollmentErrors.badExpiresOn, "expires_on must be in the future");
    expiresOn = new Date(Math.floor(t / 1000) * 1000);
  }
  if (input.commonNamePattern !== undefined && !PATTERN.test(input.commonNamePattern)) {
    throw invalid(
      EnrollmentErrors.badCommonNamePattern,
      "common_name_pattern must be 1 to 64 printable ASCII characters; * matches any run of characters, ? one character",
    );
  }
  const validityDays = input.validityDays ?? DEFAULT_ENROLLMENT_VALIDITY_DAYS;
  if (validityDays < MIN_VALIDITY_DAYS || validityDays > MAX_VALIDITY_DAYS) {
    throw invalid(EnrollmentErrors.badValidityDays, `validity_days must be a whole number from ${MIN_VALIDITY_DAYS} to ${MAX_VALIDITY_DAYS}`);
  }
  return { name, expiresOn, validityDays };
}

/** createEnrollmentToken makes a token for a zone; the value is returned this once and stored as a digest. */
export async function createEnrollmentToken(
  ctx: ServiceContext,
  zone: ZoneRow,
  input: EnrollmentTokenInput,
  actor: Actor,
): Promise<{ token: EnrollmentTokenRow; value: string }> {
  const { name, expiresOn, validityDays } = checkInput(ctx, input);
  const value = ENROLLMENT_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const token = (await ctx.sql.begin(async (tx) => {
    const row = await insertEnrollmentToken(tx, {
      id: newUuid(),
      account_id: zone.account_id,
      zone_id: zone.id,
      name,
      digest: enrollmentTokenDigest(value),
      max_uses: input.maxUses ?? null,
      expires_on: expiresOn,
      common_name_pattern: input.commonNamePattern ?? null,
      validity_days: validityDays,
    });
    await insertAuditEvent(tx, {
      accountId: zone.account_id,
      ...actor,
      action: "enrollment_token.create",
      objectType: "enrollment_token",
      objectId: row.id,
      newStatus: "active",
    });
    return row;
  })) as EnrollmentTokenRow;
  return { token, value };
}

export function listZoneEnrollmentTokens(ctx: ServiceContext, zone: ZoneRow): Promise<EnrollmentTokenRow[]> {
  return listEnrollmentTokens(ctx.sql, zone.id);
}

/** revokeZoneEnrollmentToken (DELETE) stops a token; repeating it answers the revoked token again. */
export async function revokeZoneEnrollmentToken(ctx: ServiceContext, zone: ZoneRow, id: string, actor: Actor): Promise<EnrollmentTokenRow> {
  return (await ctx.sql.begin(async (tx) => {
    const row = await revokeEnrollmentToken(tx, zone.id, id);
    if (!row) throw notFound("enrollment token");
    await insertAuditEvent(tx, {
      accountId: zone.account_id,
      ...actor,
      action: "enrollment_token.revoke",
      objectType: "enrollment_token",
      objectId: row.id,
      newStatus: "revoked",
    });
    return row;
  })) as EnrollmentTokenRow;
}

/** tokenStatus is what the API shows: revoked, expired and exhausted tokens enroll nothing. */
export function tokenStatus(t: EnrollmentTokenRow, now: Date): "active" | "revoked" | "expired" | "exhausted" {
  if (t.revoked_on) return "revoked";
  if (t.expires_on && t.expires_on.getTime() <= now.getTime()) return "expired";
  if (t.max_uses !== null && t.uses >= t.max_uses) return "exhausted";
  return "active";
}

/** refusalOf is the EST error for a token that may not enroll (undefined: it may). */
export function refusalOf(t: EnrollmentTokenRow, now: Date): GatehouseError | undefined {
  switch (tokenStatus(t, now)) {
    case "revoked":
      return estError("tokenInvalid");
    case "expired":
      return estError("tokenExpired");
    case "exhausted":
      return estError("tokenUsedUp");
    default:
      return undefined;
  }
}

/**
 * authenticateEnrollmentToken resolves a presented value to a live token of `zone`: unknown,
 * revoked or another zone's answers 401 (the same answer, so nothing about other zones leaks);
 * expired or used up answers 403.
 */
export async function authenticateEnrollmentToken(ctx: ServiceContext, zone: ZoneRow, value: string | undefined): Promise<EnrollmentTokenRow> {
  if (value === undefined) throw estError("tokenMissing");
  const token = await findEnrollmentTokenByDigest(ctx.sql, enrollmentTokenDigest(value));
  if (!token || token.zone_id !== zone.id) throw estError("tokenInvalid");
  const refusal = refusalOf(token, ctx.now());
  if (refusal) throw refusal;
  return token;
}
