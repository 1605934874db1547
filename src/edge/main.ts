/**
 * main.ts builds and runs the mTLS edge. Two ways to run it:
 *
 *  - in the API process (`npm start` with EDGE_PORT set; always so in embedded mode, where the
 *    database is one session in one process): runtime.ts calls createEdge with the process's
 *    database and change bus, and server.ts makes it listen;
 *  - on its own (`gatehouse edge`, or `node dist/edge/main.js`): startEdge() reads the
 *    environment, opens the database (a server one: an embedded data directory is locked by
 *    the API process), listens on EDGE_PORT (default 8443) and drains on SIGTERM.
 */
import { readFileSync } from "node:fs";
import { realpathSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { ConfigError, DEFAULT_EDGE_PORT, loadConfig, type Config } from "../config.js";
import type { ChangeBus } from "../db/changes.js";
import { openDatabase, type Database } from "../db/database.js";
import type { Sql } from "../db/sql.js";
import { createLogger, type Logger } from "../log.js";
import { EdgeDirectory, type TrustLookup } from "./directory.js";
import { ServerIdentities } from "./identities.js";
import { EdgeServer } from "./server.js";

/** Edge is a built edge: not listening until listen() is called. */
export interface Edge {
  server: EdgeServer;
  directory: EdgeDirectory;
  listen(port?: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

export interface CreateEdgeOptions {
  config: Config;
  logger: Logger;
  sql: Sql;
  bus: ChangeBus;
  /** Answers /healthz (the database is reachable); default: a SELECT 1. */
  healthy?: () => Promise<boolean>;
  trustLookup?: TrustLookup;
  /** How long an origin may stay silent before a 504 (default 60 s). */
  originTimeoutMs?: number;
  /** Where request lines go (default: the logger). */
  accessLog?: Logger;
}

/** createEdge loads the edge's certificates (throwing a clear error for a bad file) and builds it. */
export function createEdge(opts: CreateEdgeOptions): Edge {
  const { config } = opts;
  const identities = ServerIdentities.load({ certFile: config.edgeTlsCertPath, keyFile: config.edgeTlsKeyPath, dir: config.edgeTlsDir });
  let originCa: string | undefined;
  if (config.edgeOriginCaPath) {
    try {
      originCa = readFileSync(config.edgeOriginCaPath, "utf8");
    } catch (err) {
      throw new ConfigError(`cannot read EDGE_ORIGIN_CA ${config.edgeOriginCaPath}: ${(err as Error).message}`);
    }
  }
  const directory = new EdgeDirectory({ sql: opts.sql, bus: opts.bus, trustLookup: opts.trustLookup });
  const server = new EdgeServer({
    directory,
    identities,
    logger: opts.logger,
    originCa,
    originTimeoutMs: opts.originTimeoutMs,
    accessLog: opts.accessLog,
    healthy: opts.healthy ?? (async () => (await opts.sql`SELECT 1 AS up`).length === 1),
  });
  return {
    server,
    directory,
    listen: (port = config.edgePort ?? DEFAULT_EDGE_PORT, host = config.edgeHost ?? config.host) => server.listen(port, host),
    async close() {
      await server.close();
      directory.close();
    },
  };
}

export interface StartEdgeOptions {
  config?: Config;
  logger?: Logger;
  /** A database already open in this process (not closed by the edge); absent: the edge opens its own. */
  db?: Database;
}

export interface RunningEdge extends Edge {
  address: AddressInfo;
}

/** SHUTDOWN_GRACE_MS: SIGTERM lets in-flight requests finish for this long, then exits. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * startEdge runs the edge. Called with no options (the `gatehouse edge` command), it reads the
 * environment, opens the database, listens, and installs SIGTERM/SIGINT handlers that drain and exit.
 */
export async function startEdge(opts: StartEdgeOptions = {}): Promise<RunningEdge> {
  const standalone = opts.config === undefined;
  const config = opts.config ?? loadConfig();
  // One line per request: written synchronously in 4 KiB batches (and at least every second, and
  // at exit), not a write(2) per line nor a thread-pool hop per batch; the access lines hold only
  // the edge's own fields (host, verdict, serial, status), so they skip redaction.
  let logger = opts.logger;
  let accessLog: Logger | undefined;
  let destination: ReturnType<typeof pino.destination> | undefined;
  if (!logger) {
    destination = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: 1000 });
    logger = createLogger(config.logLevel, destination as unknown as NodeJS.WritableStream);
    accessLog = pino({ level: config.logLevel, base: { pid: process.pid, component: "edge" } }, destination);
  }
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  let edge: Edge;
  let address: AddressInfo;
  try {
    edge = createEdge({ config, logger, accessLog, sql: db.sql, bus: db.bus });
    address = await edge.listen();
  } catch (err) {
    if (!opts.db) await db.close().catch(() => {});
    throw err;
  }
  logger.info({ address }, `Gatehouse mTLS edge listening on ${address.address}:${address.port}`);
  destination?.flushSync();
  const running: RunningEdge = {
    ...edge,
    address,
    async close() {
      await edge.close();
      if (!opts.db) await db.close();
    },
  };
  if (standalone) {
    let closing = false;
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, "edge draining");
      setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
      running.close().then(
        () => {
          destination?.flushSync();
          process.exit(0);
        },
        (err) => {
          logger.error({ err }, "error while closing the edge");
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
  }
  return running;
}

/** Run directly (`node dist/edge/main.js`): start, or print why not and exit 1. */
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  startEdge().catch((err) => {
    process.stderr.write(`gatehouse edge: ${err instanceof Error && err.name !== "Error" ? err.message : (err?.stack ?? err)}\n`);
    process.exit(1);
  });
}
