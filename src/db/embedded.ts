import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * EmbeddedDatabase is PGlite under the data directory, served in-process over a loopback socket
 * so postgres.js (with max: 1) stays the one SQL code path. PGlite is one session in one process:
 * two processes on one directory silently lose rows, so an exclusive lock file refuses a second opener.
 */
export interface EmbeddedDatabase {
  url: string;
  close(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** lockDataDir takes `dataDir/gatehouse.lock`; a lock left by a dead process (kill -9) is taken over. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "gatehouse.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && pidIsAlive(holder)) {
        throw new DataDirLockedError(
          `the embedded database in ${resolve(dataDir)} is in use by process ${holder}: embedded mode is single-process. ` +
            `Stop that process, use another GATEHOUSE_DATA_DIR, or set DATABASE_URL to share a PostgreSQL server.`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new DataDirLockedError(`could not take the lock file in ${resolve(dataDir)}`);
}

/** openEmbedded starts PGlite (on disk under dataDir, or in memory when dataDir is "memory://"). */
export async function openEmbedded(dataDir: string | "memory://"): Promise<EmbeddedDatabase> {
  const inMemory = dataDir === "memory://";
  const unlock = inMemory ? () => {} : lockDataDir(dataDir);
  try {
    const db = await PGlite.create(inMemory ? undefined : join(dataDir, "pgdata"));
    const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1" });
    await server.start();
    const port = Number(server.getServerConn().split(":").pop());
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async close() {
        await server.stop();
        await db.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
