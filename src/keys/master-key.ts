import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "../db/sql.js";
import { open, seal, SecretError, type MasterKeys } from "./secrets.js";

const CANARY_NAME = "master_key_canary";
const CANARY_TEXT = "gatehouse master key canary";

export class MasterKeyError extends Error {
  override name = "MasterKeyError";
}

/**
 * readOrCreateFileSecret returns the secret stored in dataDir/name, creating it (mode 0600) when
 * absent. `created` tells the caller it is new, e.g. to print a generated operator token once.
 */
export function readOrCreateFileSecret(dataDir: string, name: string, make: () => string): { value: string; created: boolean } {
  const path = join(dataDir, name);
  if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), created: false };
  mkdirSync(dataDir, { recursive: true });
  const value = make();
  writeFileSync(path, value + "\n", { mode: 0o600, flag: "wx" });
  return { value, created: true };
}

/** embeddedMasterKey reads or generates DATA_DIR/master-key (embedded mode only). */
export function embeddedMasterKey(dataDir: string): Buffer {
  const { value } = readOrCreateFileSecret(dataDir, "master-key", () => randomBytes(32).toString("base64"));
  const key = Buffer.from(value, "base64");
  if (key.length !== 32) throw new MasterKeyError(`${join(dataDir, "master-key")} must hold 32 bytes, base64-encoded`);
  return key;
}

/**
 * checkMasterKey proves at start-up that the configured key is the one this database's secrets
 * were sealed with, using a sealed canary row: a wrong key stops start-up here with a clear
 * message instead of failing later on the first signature. A canary sealed with the previous key
 * is re-sealed with the current one.
 */
export async function checkMasterKey(sql: Sql, keys: MasterKeys): Promise<void> {
  const [row] = await sql<{ value: Buffer }[]>`SELECT value FROM settings WHERE name = ${CANARY_NAME}`;
  if (!row) {
    const canary = seal(keys, "settings", CANARY_NAME, Buffer.from(CANARY_TEXT));
    await sql`INSERT INTO settings (name, value) VALUES (${CANARY_NAME}, ${canary}) ON CONFLICT (name) DO NOTHING`;
    return;
  }
  try {
    open(keys, "settings", CANARY_NAME, row.value);
  } catch (err) {
    if (err instanceof SecretError) {
      throw new MasterKeyError(
        "GATEHOUSE_MASTER_KEY does not match the key this database's secrets were sealed with. " +
          "Set the original key (during a rotation: the new key as GATEHOUSE_MASTER_KEY and the old one as GATEHOUSE_MASTER_KEY_PREVIOUS).",
      );
    }
    throw err;
  }
}
