import { X509Certificate, createPrivateKey } from "node:crypto";
import { hostname } from "node:os";
import { apiConnectionFromEnv, type ApiConnection } from "./api-client.js";
import { apiKeySource } from "./api-source.js";
import { bindingsOf, findConfigFile, readConfigFile, type BindingConfig } from "./config.js";
import { databaseKeySource, openDatabaseKeySource, type DatabaseConnection, type InProcessConnection } from "./database-source.js";
import { BindingConfigError, BindingErrors } from "./errors.js";
import { BindingFetcher, type BindingStatus, type Fetcher, type KeyMaterial } from "./fetcher.js";
import { SourceFailure, type KeySource, type Lease } from "./source.js";

/** BindingConnection: the REST API (default, from GATEHOUSE_API_*), or the database inside a deployment. */
export type BindingConnection = ApiConnection | DatabaseConnection | InProcessConnection;

export interface BindingOptions {
  /** Use `env.<name>.mtls_certificates` of the configuration (wrangler's named environments). */
  environment?: string;
  /** Trust anchors (PEM) for the servers the bindings call; default: Node's CA store. */
  ca?: string | string[];
  /** Lease length in seconds (10–3600, default 60); renewed every third of it. */
  leaseSeconds?: number;
  /** How this process is named in leases and audit events; default `hostname:pid`. */
  holder?: string;
  /** Called with background failures (a renewal that could not reach Gatehouse); default: ignored. */
  onError?: (err: Error) => void;
  /** Environment to read settings from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The clock used for certificate validity checks. */
  now?: () => Date;
}

/** BindingHandle is a Fetcher plus what a program may want to know about it. */
export interface BindingHandle extends Fetcher {
  readonly binding: string;
  readonly certificateId: string;
  readonly status: BindingStatus;
}

/** BindingsControl: the methods of the object createBindings returns (not enumerable, not bindings). */
export interface BindingsControl {
  /** close releases the leases and the pooled connections; later fetches reject. */
  close(): Promise<void>;
  /** refresh renews every lease now (and notices a deleted certificate), instead of waiting for the timer. */
  refresh(): Promise<void>;
}

/** Bindings is `env`: one Fetcher per configured binding, by name. */
export type Bindings<Name extends string = string> = { readonly [K in Name]: BindingHandle } & BindingsControl;

interface Slot {
  fetcher: BindingFetcher;
  lease?: Lease;
  loading?: Promise<void>;
  unwatch?: () => void;
}

function isApi(c: BindingConnection): c is ApiConnection {
  return typeof (c as ApiConnection).apiUrl === "string";
}
function isInProcess(c: BindingConnection): c is InProcessConnection {
  return typeof (c as InProcessConnection).sql === "function";
}

/** connectionFromEnv: GATEHOUSE_API_URL → the API; else DATABASE_URL + GATEHOUSE_MASTER_KEY → the database. */
function connectionFromEnv(env: NodeJS.ProcessEnv): BindingConnection {
  if (!env.GATEHOUSE_API_URL && env.DATABASE_URL && env.GATEHOUSE_MASTER_KEY) {
    return {
      databaseUrl: env.DATABASE_URL,
      masterKey: env.GATEHOUSE_MASTER_KEY,
      masterKeyPrevious: env.GATEHOUSE_MASTER_KEY_PREVIOUS || undefined,
      accountId: env.GATEHOUSE_ACCOUNT_ID || undefined,
    };
  }
  return apiConnectionFromEnv(env);
}

function configOf(config: BindingConfig | string | undefined): BindingConfig {
  if (typeof config === "string") return readConfigFile(config);
  if (config !== undefined) return config;
  const found = findConfigFile();
  if (!found) {
    throw new BindingConfigError(
      BindingErrors.badConfig,
      "no binding configuration: pass { mtls_certificates: [{ binding, certificate_id }] } or create gatehouse.jsonc (or .toml) in the working directory",
    );
  }
  return readConfigFile(found);
}

/** checkMaterial: the leaf parses and the key is the leaf's (a mismatch would fail every handshake). */
function checkMaterial(material: KeyMaterial, certificateId: string): void {
  const leaf = new X509Certificate(material.certificates);
  if (material.id !== certificateId || !leaf.checkPrivateKey(createPrivateKey(material.privateKey))) {
    throw new SourceFailure("gone", "cannot be used: the key material Gatehouse returned does not match it");
  }
}

/**
 * createBindings gives a program Workers' mTLS bindings: for each `{binding, certificate_id}` of
 * the configuration, `env[binding].fetch(input, init?)` is the global fetch presenting that stored
 * client certificate. It loads each key (into memory only), registers each binding as an
 * association of its certificate with a lease it renews while the process runs, and resolves
 * when every binding has been tried: a binding whose certificate is unknown, deleted or expired
 * rejects its fetches with a BindingError naming it and the reason; one whose load failed for a
 * transient reason (Gatehouse unreachable) retries on its next fetch.
 */
export async function createBindings<Name extends string = string>(
  config?: BindingConfig | string,
  connection?: BindingConnection,
  options: BindingOptions = {},
): Promise<Bindings<Name>> {
  const list = bindingsOf(configOf(config), options.environment);
  const leaseSeconds = options.leaseSeconds ?? 60;
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 10 || leaseSeconds > 3600) {
    throw new BindingConfigError(BindingErrors.badConfig, "leaseSeconds must be a whole number from 10 to 3600");
  }
  const holder = options.holder ?? `${hostname()}:${process.pid}`;
  const onError = options.onError ?? (() => {});
  const conn = connection ?? connectionFromEnv(options.env ?? process.env);

  let source: KeySource;
  if (isApi(conn)) source = apiKeySource(apiConnectionFromEnv({}, conn));
  else if (isInProcess(conn)) source = await databaseKeySource(conn, holder);
  else source = await openDatabaseKeySource(conn, holder);

  const slots = new Map<string, Slot>();

  /** load fetches the key and registers the lease; one attempt at a time per binding. */
  const load = (slot: Slot): Promise<void> =>
    (slot.loading ??= (async () => {
      const f = slot.fetcher;
      try {
        const material = await source.keyMaterial(f.certificateId);
        checkMaterial(material, f.certificateId);
        const lease = await source.registerLease(f.certificateId, f.binding, holder, leaseSeconds);
        if (f.status === "closed") {
          // close() ran while this load was under way: give the lease back at once.
          await source.releaseLease(f.certificateId, lease.id).catch(() => {});
          return;
        }
        slot.lease = lease;
        f.load(material);
      } catch (err) {
        if (err instanceof SourceFailure && err.kind === "gone") f.markUnavailable(`certificate ${f.certificateId} ${err.message}`);
        else f.markLoadFailed(`could not load certificate ${f.certificateId} (${(err as Error).message}); the next fetch tries again`, err);
      } finally {
        slot.loading = undefined;
      }
    })());

  /** renew keeps the lease alive; it is how a deleted certificate is noticed. */
  const renew = async (slot: Slot): Promise<void> => {
    const f = slot.fetcher;
    if (f.status === "loading") return load(slot);
    if (f.status !== "ready" || !slot.lease) return;
    try {
      slot.lease = await source.renewLease(f.certificateId, slot.lease.id, leaseSeconds);
    } catch (err) {
      if (!(err instanceof SourceFailure) || err.kind === "transient") {
        onError(err as Error);
        return;
      }
      if (err.kind === "lease") {
        try {
          slot.lease = await source.registerLease(f.certificateId, f.binding, holder, leaseSeconds);
          return;
        } catch (again) {
          if (!(again instanceof SourceFailure) || again.kind !== "gone") {
            onError(again as Error);
            return;
          }
          err = again;
        }
      }
      slot.lease = undefined;
      f.markUnavailable(`certificate ${f.certificateId} ${(err as Error).message}`);
    }
  };

  const env = Object.create(null) as Record<string, unknown>;
  for (const { binding, certificate_id } of list) {
    const slot: Slot = { fetcher: undefined as unknown as BindingFetcher };
    slot.fetcher = new BindingFetcher(binding, certificate_id, { ca: options.ca, now: options.now }, () => load(slot));
    slot.unwatch = source.watch?.(certificate_id, () => void renew(slot));
    slots.set(binding, slot);
    Object.defineProperty(env, binding, { value: slot.fetcher, enumerable: true });
  }
  await Promise.all([...slots.values()].map(load));

  const timer = setInterval(() => void refresh(), Math.floor((leaseSeconds * 1000) / 3));
  timer.unref();
  let closed = false;

  async function refresh(): Promise<void> {
    if (closed) return;
    await Promise.all([...slots.values()].map(renew));
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    await Promise.all(
      [...slots.values()].map(async (slot) => {
        slot.unwatch?.();
        const lease = slot.lease;
        slot.lease = undefined;
        await slot.fetcher.close();
        if (lease) await source.releaseLease(slot.fetcher.certificateId, lease.id).catch(() => {});
      }),
    );
    await source.close();
  }

  Object.defineProperty(env, "close", { value: close, enumerable: false });
  Object.defineProperty(env, "refresh", { value: refresh, enumerable: false });
  return env as unknown as Bindings<Name>;
}
