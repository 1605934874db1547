import type { ChangeBus } from "../db/changes.js";
import type { Sql } from "../db/sql.js";
import type { MasterKeys } from "../keys/secrets.js";
import type { Logger } from "../log.js";
import type { IssuerCache } from "./issuers.js";

/**
 * ServiceContext is what every use case needs beside its arguments: the database, the change bus,
 * the master keys, the clock (injected so tests can fix it) and deployment settings.
 */
export interface ServiceContext {
  sql: Sql;
  bus: ChangeBus;
  masterKeys: MasterKeys;
  now: () => Date;
  log: Logger;
  publicUrl?: string;
  byocaLimit: number;
  issuers: IssuerCache;
}
