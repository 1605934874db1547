import { fileURLToPath } from "node:url";
import { inProcessChangeBus, serverChangeBus, type ChangeBus } from "./changes.js";
import { openEmbedded } from "./embedded.js";
import { migrate } from "./migrate.js";
import { connect, type Sql } from "./sql.js";

/** MIGRATIONS_DIR is the repository's migrations/ folder, found from this file in src/ or dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

/** Database is the one SQL client of a process, the change bus next to it, and how to close both. */
export interface Database {
  sql: Sql;
  bus: ChangeBus;
  kind: "server" | "embedded";
  /** A short description for the start-up log: never the password. */
  describe: string;
  close(): Promise<void>;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres server";
  }
}

/**
 * openDatabase connects to DATABASE_URL, or starts the embedded PGlite under dataDir, and applies
 * pending migrations before anything else may use it.
 */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; poolSize?: number }): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = connect(opts.databaseUrl, { max: opts.poolSize ?? 10 });
    try {
      await migrate(sql, MIGRATIONS_DIR);
      const bus = await serverChangeBus(sql);
      return {
        sql,
        bus,
        kind: "server",
        describe: `PostgreSQL server ${redactUrl(opts.databaseUrl)}`,
        async close() {
          await bus.close().catch(() => {});
          await sql.end({ timeout: 5 });
        },
      };
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw err;
    }
  }
  const embedded = await openEmbedded(opts.dataDir);
  // PGlite is one session: one connection, so transactions serialise exactly as they would on it.
  const sql = connect(embedded.url, { max: 1 });
  try {
    await migrate(sql, MIGRATIONS_DIR);
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    await embedded.close();
    throw err;
  }
  const bus = inProcessChangeBus();
  return {
    sql,
    bus,
    kind: "embedded",
    describe: opts.dataDir === "memory://" ? "embedded PGlite (in memory)" : `embedded PGlite in ${opts.dataDir}`,
    async close() {
      await bus.close();
      await sql.end({ timeout: 5 });
      await embedded.close();
    },
  };
}
