import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DataDirLockedError, openEmbedded } from "../../src/db/embedded.js";
import { loadMigrations } from "../../src/db/migrate.js";
import { MIGRATIONS_DIR, openDatabase } from "../../src/db/database.js";
import { createTestDatabase, TEST_DATABASE_URL } from "../helpers/gatehouse.js";

describe("migrations", () => {
  it("files are numbered NNNN_name.sql with unique versions", async () => {
    const migrations = await loadMigrations(MIGRATIONS_DIR);
    assert.ok(migrations.length >= 4);
    assert.deepEqual(migrations.map((m) => m.version), [...new Set(migrations.map((m) => m.version))].sort((a, b) => a - b));
  });

  it("processes starting together against one server do not race: each version is applied once", { skip: !TEST_DATABASE_URL && "TEST_DATABASE_URL is not set" }, async () => {
    const db = await createTestDatabase();
    try {
      const opened = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ databaseUrl: db.url, dataDir: "unused", poolSize: 2 })));
      const rows = await opened[0].sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
      const expected = (await loadMigrations(MIGRATIONS_DIR)).map((m) => m.version);
      assert.deepEqual(rows.map((r) => r.version), expected);
      await Promise.all(opened.map((d) => d.close()));
    } finally {
      await db.drop();
    }
  });

  it("embedded mode refuses a second opener of the same data directory, and takes over a dead process's lock", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-embedded-"));
    try {
      const first = await openEmbedded(dir);
      await assert.rejects(openEmbedded(dir), (err: Error) => err instanceof DataDirLockedError && /single-process/.test(err.message));
      await first.close();
      // a lock left by a process that no longer exists (kill -9) does not block the next start
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(dir, "gatehouse.lock"), "999999");
      const second = await openEmbedded(dir);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
