import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Config } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import { createEdge, type Edge } from "./edge/main.js";
import { estPlainPortRoutes } from "./est/plain-port.js";
import { buildEstApp, DEFAULT_EST_PORT, estPortOf, readEstTls } from "./est/server.js";
import { buildApp, type AppOptions } from "./http/app.js";
import { pkiRoutes } from "./http/routes/pki.js";
import { checkMasterKey, embeddedMasterKey, readOrCreateFileSecret } from "./keys/master-key.js";
import type { MasterKeys } from "./keys/secrets.js";
import type { Logger } from "./log.js";
import type { ServiceContext } from "./services/context.js";
import { IssuerCache } from "./services/issuers.js";
import { startPkiServices } from "./services/pki.js";
import { TOKEN_PREFIX, tokenDigest, TokenAuthenticator } from "./services/tokens.js";

/** Gatehouse is one running service: its database, its services and its HTTP app. */
export interface Gatehouse {
  db: Database;
  ctx: ServiceContext;
  app: FastifyInstance;
  /** est is the EST app over TLS (not yet listening: server.ts listens), when a certificate is configured. */
  est?: FastifyInstance;
  /** edge is the mTLS edge (not yet listening: server.ts listens), when EDGE_PORT is set. */
  edge?: Edge;
  operatorToken?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  logger: Logger;
  /** now is injectable for tests that fix the clock. */
  now?: () => Date;
  /** Tell the operator a generated token (embedded mode): stderr, never a log line. */
  announce?: (text: string) => void;
  extraRoutes?: AppOptions["extraRoutes"];
  apiRoutes?: AppOptions["apiRoutes"];
}

function operatorTokenOf(config: Config, announce: (text: string) => void): string | undefined {
  if (config.operatorToken) return config.operatorToken;
  if (config.databaseUrl || config.dataDir === "memory://") return undefined;
  const { value, created } = readOrCreateFileSecret(config.dataDir, "operator-token", () => TOKEN_PREFIX + randomBytes(32).toString("base64url"));
  if (created) {
    announce(
      `Gatehouse generated an operator token (stored in ${join(config.dataDir, "operator-token")}, mode 0600):\n  ${value}\n` +
        `Use it as "Authorization: Bearer <token>" to create accounts, zones and API tokens.\n`,
    );
  }
  return value;
}

/** startGatehouse opens (and migrates) the database, checks the master key, and builds the app. */
export async function startGatehouse(opts: StartOptions): Promise<Gatehouse> {
  const { config, logger } = opts;
  const announce = opts.announce ?? ((text) => process.stderr.write(text));
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let stopPki: (() => Promise<void>) | undefined;
  try {
    const current = config.masterKey ?? (db.kind === "embedded" && config.dataDir !== "memory://" ? embeddedMasterKey(config.dataDir) : undefined);
    const masterKeys: MasterKeys = { current: current ?? randomBytes(32), previous: config.masterKeyPrevious };
    await checkMasterKey(db.sql, masterKeys);
    const operatorToken = operatorTokenOf(config, announce);
    if (!config.publicUrl) {
      logger.warn("GATEHOUSE_PUBLIC_URL is not set: certificates carry no CRL or OCSP pointers");
    }
    const ctx: ServiceContext = {
      sql: db.sql,
      bus: db.bus,
      masterKeys,
      now: opts.now ?? (() => new Date()),
      log: logger,
      publicUrl: config.publicUrl,
      byocaLimit: config.byocaLimit,
      issuers: new IssuerCache(db.sql, masterKeys, db.bus),
      pkiSettings: {
        crlValidityHours: config.crlValidityHours,
        crlDebounceSeconds: config.crlDebounceSeconds,
        ocspValidityHours: config.ocspValidityHours,
        pkiRateLimit: config.pkiRateLimit,
        ocspNoncePerMinute: config.ocspNoncePerMinute,
        copyIn: db.kind === "server",
      },
    };
    // CRL publishing and the OCSP responder (issue 4): bus subscriptions and the CRL sweep.
    ctx.pki = startPkiServices(ctx);
    stopPki = () => ctx.pki!.stop();
    const tokens = new TokenAuthenticator(db.sql, db.bus, operatorToken ? tokenDigest(operatorToken) : undefined);
    let est: FastifyInstance | undefined;
    const app = await buildApp({
      ctx,
      tokens,
      logger,
      healthy: async () => (await db.sql`SELECT 1 AS up FROM schema_migrations LIMIT 1`).length === 1,
      extraRoutes: [pkiRoutes, estPlainPortRoutes(() => (config.estTlsCertPath ? estPortOf(est, config.estPort ?? DEFAULT_EST_PORT) : undefined)), ...(opts.extraRoutes ?? [])],
      apiRoutes: opts.apiRoutes,
    });
    est = config.estTlsCertPath
      ? await buildEstApp({ ctx, logger, tls: readEstTls({ certPath: config.estTlsCertPath, keyPath: config.estTlsKeyPath! }) })
      : undefined;
    // The edge shares this process's database and change bus (DESIGN.md: embedded mode is one process).
    const edge = config.edgePort !== undefined ? createEdge({ config, logger, sql: db.sql, bus: db.bus }) : undefined;
    logger.info({ database: db.describe, kind: db.kind }, `database: ${db.describe}`);
    return {
      db,
      ctx,
      app,
      est,
      edge,
      operatorToken,
      async close() {
        await edge?.close();
        await est?.close();
        await app.close();
        await stopPki?.();
        await db.close();
      },
    };
  } catch (err) {
    await stopPki?.().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }
}
