import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Sql } from "./sql.js";

/** MIGRATION_LOCK is the advisory-lock key that serialises migrations across processes ("gatehouse" in ASCII). */
const MIGRATION_LOCK = 0x6761746568;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** loadMigrations reads `NNNN_name.sql` files in version order; gaps are allowed (families reserve ranges). */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration file name must be NNNN_name.sql: ${file}`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`two migrations share version ${version}`);
    migrations.push({ version, name: match[2], sql: await readFile(join(dir, file), "utf8") });
  }
  return migrations;
}

/**
 * migrate applies every pending migration inside ONE transaction holding a transaction-scoped
 * advisory lock, so processes starting together against one server cannot race: the second
 * waits, then finds nothing to do. A failure rolls every pending migration back.
 */
export async function migrate(sql: Sql, dir: string): Promise<number[]> {
  const migrations = await loadMigrations(dir);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_on timestamptz NOT NULL DEFAULT now())`;
    const done = new Set((await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
    return applied;
  }) as Promise<number[]>;
}
