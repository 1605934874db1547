import type { ChangeBus } from "../db/changes.js";
import type { Sql } from "../db/sql.js";
import type { MasterKeys } from "../keys/secrets.js";
import type { Logger } from "../log.js";
import type { IssuerCache } from "./issuers.js";
import type { PkiServices } from "./pki.js";
import type { PkiSettings } from "./pki-settings.js";

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
  /** CRL/OCSP knobs (services/pki-settings.ts); unset fields take their defaults. */
  pkiSettings?: Partial<PkiSettings>;
  /** The CRL publisher and OCSP responder (services/pki.ts), started by startGatehouse. */
  pki?: PkiServices;
}
