import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { GatehouseError, notFound, RequestErrors } from "../../errors.js";
import { getAccount } from "../../services/accounts.js";
import type { ServiceContext } from "../../services/context.js";
import { HEX_ID } from "../../services/ids.js";
import { principalOf, requireAccount, type Principal } from "../auth.js";
import { ok } from "../envelope.js";
import { accountView } from "../render.js";

/**
 * What wrangler (and Cloudflare's SDKs) ask besides the resources themselves, observed by running
 * `wrangler mtls-certificate upload|list|delete` and `wrangler whoami` (4.86.0) against a logging
 * server: `GET /memberships?page=1` to find the account when CLOUDFLARE_ACCOUNT_ID is unset,
 * `GET /user/tokens/verify`, `GET /user` and `GET /accounts?page=1` for whoami. With
 * CLOUDFLARE_ACCOUNT_ID set, the mtls-certificate commands ask nothing but their own routes.
 *
 * Gatehouse tokens belong to an account: /accounts and /memberships list that one account (the
 * operator, who belongs to none, gets empty lists), and /user answers Cloudflare's 9109, which
 * wrangler reads as "no user e-mail for this token".
 */
export const WranglerCompatErrors = {
  /** Cloudflare's code for "Unauthorized to access requested resource" (account-owned tokens on /user). */
  noUser: 9109,
} as const;

const tokenIdOf = (p: Principal) => (p.kind === "operator" ? "operator" : p.token.id);

function pageOf(query: Record<string, unknown>): { page: number; perPage: number } {
  const int = (raw: unknown, fallback: number, min: number, max: number, field: string) => {
    if (raw === undefined || raw === "") return fallback;
    const n = typeof raw === "string" && /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new GatehouseError(RequestErrors.validation, 400, `${field} must be a whole number from ${min} to ${max}`);
    return n;
  };
  return { page: int(query.page, 1, 1, 100_000, "page"), perPage: int(query.per_page, 20, 5, 50, "per_page") };
}

/**
 * acceptJsonSentAsTextPlain makes bodies that wrangler sends as `text/plain;charset=UTF-8` (its
 * fetch passes a JSON string without a content type) parse as JSON, as Cloudflare's API does.
 * A text/plain body that does not start with `{` or `[` stays a string. Call it on the root
 * instance before the API routes are registered (they inherit the parser).
 */
export function acceptJsonSentAsTextPlain(app: FastifyInstance): void {
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("text/plain", { parseAs: "string" }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === "") return done(null, undefined);
    if (text[0] !== "{" && text[0] !== "[") return done(null, body);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new GatehouseError(RequestErrors.invalidJson, 400, "request body is not valid JSON"), undefined);
    }
  });
}

export const wranglerCompatRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    const verified = (p: Principal) => ({ id: tokenIdOf(p), status: "active" as const });

    app.get("/user/tokens/verify", async (request) => ok(verified(principalOf(request)), { messages: ["This API Token is valid and active"] }));

    app.get<{ Params: { account_id: string } }>("/accounts/:account_id/tokens/verify", async (request) => {
      const principal = principalOf(request);
      if (!HEX_ID.test(request.params.account_id)) throw notFound("account");
      requireAccount(principal, request.params.account_id);
      await getAccount(ctx, request.params.account_id);
      return ok(verified(principal), { messages: ["This API Token is valid and active"] });
    });

    app.get("/user", async () => {
      throw new GatehouseError(WranglerCompatErrors.noUser, 403, "Gatehouse tokens belong to an account, not a user: use /accounts");
    });

    /** ownAccount: the token's account as a one-element page (the operator has none). */
    const ownAccount = async (p: Principal) => (p.kind === "operator" ? [] : [await getAccount(ctx, p.token.account_id)]);
    const page = <T>(items: T[], query: Record<string, unknown>) => {
      const { page, perPage } = pageOf(query);
      const slice = items.slice((page - 1) * perPage, page * perPage);
      return ok(slice, {
        resultInfo: { page, per_page: perPage, count: slice.length, total_count: items.length, total_pages: Math.ceil(items.length / perPage) },
      });
    };

    app.get<{ Querystring: Record<string, unknown> }>("/accounts", async (request) => {
      const accounts = await ownAccount(principalOf(request));
      return page(
        accounts.map((a) => ({ ...accountView(a), type: "standard" })),
        request.query,
      );
    });

    app.get<{ Querystring: Record<string, unknown> }>("/memberships", async (request) => {
      const principal = principalOf(request);
      const accounts = await ownAccount(principal);
      return page(
        accounts.map((a) => ({
          id: tokenIdOf(principal),
          status: "accepted",
          account: { id: a.id, name: a.name },
          roles: principal.kind === "token" ? principal.token.scopes : [],
        })),
        request.query,
      );
    });
  };
