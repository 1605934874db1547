import type { FastifyPluginAsync } from "fastify";
import { createAccount, getAccount, getManagedCa } from "../../services/accounts.js";
import type { ServiceContext } from "../../services/context.js";
import { HEX_ID, UUID } from "../../services/ids.js";
import { createToken, deleteToken, listAccountTokens } from "../../services/tokens.js";
import { createZone, getZoneOfAccount } from "../../services/zones.js";
import { actorOf, principalOf, requireAccount, requireOperator, type Principal } from "../auth.js";
import { ok } from "../envelope.js";
import { accountView, managedCaView, tokenView, zoneView } from "../render.js";
import { objectBody, optionalString, requiredString } from "../validate.js";
import { notFound } from "../../errors.js";

type AccountParams = { account_id: string };

/**
 * Accounts, zones and tokens: the operator creates them; an account's own tokens may read the
 * account, its zones and its managed CA.
 */
export const accountRoutes =
  (ctx: ServiceContext): FastifyPluginAsync =>
  async (app) => {
    const accountIdOf = (params: AccountParams) => {
      if (!HEX_ID.test(params.account_id)) throw notFound("account");
      return params.account_id;
    };
    /** operatorAccount: a token of another account gets 404, of this account 403, the operator the account id. */
    const operatorAccount = async (principal: Principal, params: AccountParams) => {
      const accountId = accountIdOf(params);
      requireAccount(principal, accountId);
      requireOperator(principal);
      return (await getAccount(ctx, accountId)).id;
    };

    app.post("/accounts", async (request) => {
      requireOperator(principalOf(request));
      const body = objectBody(request.body);
      const created = await createAccount(
        ctx,
        { name: requiredString(body, "name", 200), caKeyType: optionalString(body, "ca_key_type", 20) },
        actorOf(request),
      );
      return ok({ ...accountView(created.account), managed_ca: managedCaView(created.ca) });
    });

    app.get<{ Params: AccountParams }>("/accounts/:account_id", async (request) => {
      const accountId = accountIdOf(request.params);
      requireAccount(principalOf(request), accountId);
      return ok(accountView(await getAccount(ctx, accountId)));
    });

    app.get<{ Params: AccountParams }>("/accounts/:account_id/certificate_authorities/managed", async (request) => {
      const accountId = accountIdOf(request.params);
      requireAccount(principalOf(request), accountId);
      return ok(managedCaView(await getManagedCa(ctx, accountId)));
    });

    app.post("/zones", async (request) => {
      const principal = principalOf(request);
      const body = objectBody(request.body);
      const name = requiredString(body, "name", 253);
      const account = body.account as { id?: unknown } | undefined;
      const accountId = requiredString({ "account.id": account?.id }, "account.id", 32);
      if (!HEX_ID.test(accountId)) throw notFound("account");
      requireAccount(principal, accountId);
      requireOperator(principal);
      const owner = await getAccount(ctx, accountId);
      const zone = await createZone(ctx, { name, accountId: owner.id }, actorOf(request));
      return ok(zoneView(zone, owner));
    });

    app.get<{ Params: { zone_id: string } }>("/zones/:zone_id", async (request) => {
      const principal = principalOf(request);
      if (!HEX_ID.test(request.params.zone_id)) throw notFound("zone");
      const zone = await getZoneOfAccount(ctx, request.params.zone_id, principal.kind === "token" ? principal.token.account_id : undefined);
      return ok(zoneView(zone, await getAccount(ctx, zone.account_id)));
    });

    app.post<{ Params: AccountParams }>("/accounts/:account_id/tokens", async (request) => {
      const accountId = await operatorAccount(request.principal!, request.params);
      const body = objectBody(request.body);
      const { token, value } = await createToken(
        ctx,
        { accountId, name: requiredString(body, "name", 200), scopes: body.scopes },
        actorOf(request),
      );
      return ok({ ...tokenView(token), value });
    });

    app.get<{ Params: AccountParams }>("/accounts/:account_id/tokens", async (request) => {
      const accountId = await operatorAccount(request.principal!, request.params);
      return ok((await listAccountTokens(ctx, accountId)).map(tokenView));
    });

    app.delete<{ Params: AccountParams & { token_id: string } }>("/accounts/:account_id/tokens/:token_id", async (request) => {
      const accountId = await operatorAccount(request.principal!, request.params);
      if (!UUID.test(request.params.token_id)) throw notFound("token");
      return ok(tokenView(await deleteToken(ctx, accountId, request.params.token_id, actorOf(request))));
    });
  };
