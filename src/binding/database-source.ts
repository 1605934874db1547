import type { ChangeBus } from "../db/changes.js";
import type { Sql } from "../db/sql.js";
import { GatehouseError } from "../errors.js";
import type { MasterKeys } from "../keys/secrets.js";
import { SourceFailure, type KeySource, type Lease } from "./source.js";

/** InProcessConnection: a program running inside Gatehouse passes its database and master keys. */
export interface InProcessConnection {
  sql: Sql;
  masterKeys: MasterKeys;
  /** When given, only certificates of this account may be bound. */
  accountId?: string;
  /** Deletions announced on the bus reach the bindings at once (otherwise: at the next renewal). */
  bus?: ChangeBus;
}

/**
 * DatabaseConnection: direct access inside a Gatehouse deployment (a PostgreSQL server: the
 * embedded database is single-process and cannot be shared). The master key decrypts the keys.
 */
export interface DatabaseConnection {
  databaseUrl: string;
  /** 32 bytes, or their base64 (GATEHOUSE_MASTER_KEY). */
  masterKey: Buffer | string;
  masterKeyPrevious?: Buffer | string;
  accountId?: string;
}

const LEASE_NOT_FOUND = 1811;

function classify(err: unknown): SourceFailure {
  if (err instanceof GatehouseError) {
    if (err.code === LEASE_NOT_FOUND) return new SourceFailure("lease", err.message, { cause: err });
    if (err.status === 404) return new SourceFailure("gone", "is unknown or was deleted", { cause: err });
    if (err.status < 500) return new SourceFailure("gone", `cannot be used: ${err.message} [code ${err.code}]`, { cause: err });
  }
  if ((err as Error)?.name === "SecretError") return new SourceFailure("gone", `cannot be used: its key cannot be decrypted (${(err as Error).message})`, { cause: err });
  return new SourceFailure("transient", (err as Error)?.message ?? String(err), { cause: err });
}

/**
 * databaseKeySource reads and decrypts keys and keeps leases straight in the database, through
 * the same services the API uses (each key read is audited with actor `binding:<holder>`).
 * Services are imported lazily so a program using only the API never loads the database layer.
 */
export async function databaseKeySource(conn: InProcessConnection, holder: string, onClose?: () => Promise<void>): Promise<KeySource> {
  const { readKeyMaterial } = await import("../services/key-material.js");
  const leases = await import("../services/binding-leases.js");
  const ctx = { sql: conn.sql, masterKeys: conn.masterKeys };
  const actor = { actor: `binding:${holder}` };
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classify(err);
    }
  };
  const lease = (row: { id: string; expires_on: Date }): Lease => ({ id: row.id, expiresOn: row.expires_on });
  return {
    keyMaterial: (id) =>
      call(async () => {
        const m = await readKeyMaterial(ctx, conn.accountId, id, actor);
        return { id: m.id, name: m.name, certificates: m.certificates, privateKey: m.private_key };
      }),
    registerLease: (id, binding, holderName, ttlSeconds) =>
      call(async () => lease(await leases.registerLease(ctx, { accountId: conn.accountId, certificateId: id, binding, holder: holderName, ttlSeconds }, actor))),
    renewLease: (id, leaseId, ttlSeconds) => call(async () => lease(await leases.renewBindingLease(ctx, conn.accountId, id, leaseId, ttlSeconds))),
    releaseLease: (id, leaseId) =>
      call(async () => {
        await leases.releaseLease(ctx, conn.accountId, id, leaseId, actor);
      }),
    watch: conn.bus
      ? (id, changed) =>
          conn.bus!.subscribe((change) => {
            if ((change.topic === "mtls_certificate" || change.topic === "binding_lease") && change.id === id) changed();
          })
      : undefined,
    async close() {
      await onClose?.();
    },
  };
}

function keyOf(raw: Buffer | string, variable: string): Buffer {
  const key = typeof raw === "string" ? Buffer.from(raw, "base64") : raw;
  if (key.length !== 32) throw new Error(`${variable} must be 32 bytes, base64-encoded`);
  return key;
}

/** openDatabaseKeySource connects to DATABASE_URL with a small pool and checks the master key first. */
export async function openDatabaseKeySource(conn: DatabaseConnection, holder: string): Promise<KeySource> {
  const { openDatabase } = await import("../db/database.js");
  const { checkMasterKey } = await import("../keys/master-key.js");
  const masterKeys: MasterKeys = {
    current: keyOf(conn.masterKey, "GATEHOUSE_MASTER_KEY"),
    previous: conn.masterKeyPrevious === undefined ? undefined : keyOf(conn.masterKeyPrevious, "GATEHOUSE_MASTER_KEY_PREVIOUS"),
  };
  const db = await openDatabase({ databaseUrl: conn.databaseUrl, dataDir: "", poolSize: 2 });
  try {
    await checkMasterKey(db.sql, masterKeys);
  } catch (err) {
    await db.close();
    throw err;
  }
  return databaseKeySource({ sql: db.sql, masterKeys, accountId: conn.accountId, bus: db.bus }, holder, () => db.close());
}
