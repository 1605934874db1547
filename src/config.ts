/**
 * Config is everything the process reads from its environment, read and checked once at start-up.
 * No other module reads `process.env`: values are passed down explicitly.
 */
export interface Config {
  host: string;
  port: number;
  /** Postgres server URL; absent means the embedded PGlite database under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** 32-byte AES key (base64 in GATEHOUSE_MASTER_KEY); generated in embedded mode when unset. */
  masterKey?: Buffer;
  masterKeyPrevious?: Buffer;
  operatorToken?: string;
  /** Base URL baked into certificates' CRL/OCSP/caIssuers pointers; absent: none are added. */
  publicUrl?: string;
  logLevel: string;
  /** How many HTTP worker processes (server mode only; embedded mode is single-process). */
  workers: number;
  byocaLimit: number;
  /** The mTLS edge: enabled in the API process when EDGE_PORT is set (`gatehouse edge` defaults it to 8443). */
  edgePort?: number;
  /** Address the edge listens on (EDGE_HOST; absent: HOST). */
  edgeHost?: string;
  /** Default server certificate and key of the edge (PEM files), and a directory of <hostname>.crt|.key pairs. */
  edgeTlsCertPath?: string;
  edgeTlsKeyPath?: string;
  edgeTlsDir?: string;
  /** Extra CA (PEM file) trusted for https origins, beside Node's root store. */
  edgeOriginCaPath?: string;
  /** EST listener (RFC 7030): port, and the server certificate/key PEM files (EST_TLS_*, else EDGE_TLS_*). */
  estPort?: number;
  estTlsCertPath?: string;
  estTlsKeyPath?: string;
  /** CRL and OCSP publishing (GATEHOUSE_CRL_*, GATEHOUSE_OCSP_*, GATEHOUSE_PKI_RATE_LIMIT); see services/pki-settings.ts. */
  crlValidityHours?: number;
  crlDebounceSeconds?: number;
  ocspValidityHours?: number;
  pkiRateLimit?: number;
  ocspNoncePerMinute?: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function parsePort(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${name} must be a port number (0-65535)`);
  return port;
}

function parseKey(name: string, raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === "") return undefined;
  const key = Buffer.from(raw, "base64");
  if (key.length !== 32) throw new ConfigError(`${name} must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
  return key;
}

function parsePositiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive whole number`);
  return n;
}

/** estConfig: EST_TLS_CERT and EST_TLS_KEY come together, else the edge's pair is used; neither: no EST listener. */
function estConfig(env: NodeJS.ProcessEnv): Pick<Config, "estPort" | "estTlsCertPath" | "estTlsKeyPath"> {
  const own = Boolean(env.EST_TLS_CERT || env.EST_TLS_KEY);
  const cert = own ? env.EST_TLS_CERT : env.EDGE_TLS_CERT;
  const key = own ? env.EST_TLS_KEY : env.EDGE_TLS_KEY;
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(own ? "EST_TLS_CERT and EST_TLS_KEY must be set together" : "EDGE_TLS_CERT and EDGE_TLS_KEY must be set together");
  }
  return { estPort: parsePort("EST_TLS_PORT", env.EST_TLS_PORT, 8444), estTlsCertPath: cert || undefined, estTlsKeyPath: key || undefined };
}

/** DEFAULT_EDGE_PORT: the edge's port when it runs (`gatehouse edge`) without EDGE_PORT. */
export const DEFAULT_EDGE_PORT = 8443;

/** edgeConfig: the edge's listener address and files; EDGE_TLS_CERT and EDGE_TLS_KEY come together. */
function edgeConfig(env: NodeJS.ProcessEnv): Pick<Config, "edgeHost" | "edgeTlsCertPath" | "edgeTlsKeyPath" | "edgeTlsDir" | "edgeOriginCaPath"> {
  if (Boolean(env.EDGE_TLS_CERT) !== Boolean(env.EDGE_TLS_KEY)) throw new ConfigError("EDGE_TLS_CERT and EDGE_TLS_KEY must be set together");
  return {
    edgeHost: env.EDGE_HOST || undefined,
    edgeTlsCertPath: env.EDGE_TLS_CERT || undefined,
    edgeTlsKeyPath: env.EDGE_TLS_KEY || undefined,
    edgeTlsDir: env.EDGE_TLS_DIR || undefined,
    edgeOriginCaPath: env.EDGE_ORIGIN_CA || undefined,
  };
}

function parseWholeNumber(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** pkiConfig: CRL/OCSP knobs; unset ones stay undefined and take the defaults of services/pki-settings.ts. */
function pkiConfig(env: NodeJS.ProcessEnv): Pick<Config, "crlValidityHours" | "crlDebounceSeconds" | "ocspValidityHours" | "pkiRateLimit" | "ocspNoncePerMinute"> {
  return {
    crlValidityHours: parseWholeNumber("GATEHOUSE_CRL_VALIDITY_HOURS", env.GATEHOUSE_CRL_VALIDITY_HOURS, 1, 24 * 30),
    crlDebounceSeconds: parseWholeNumber("GATEHOUSE_CRL_DEBOUNCE_SECONDS", env.GATEHOUSE_CRL_DEBOUNCE_SECONDS, 0, 3600),
    ocspValidityHours: parseWholeNumber("GATEHOUSE_OCSP_VALIDITY_HOURS", env.GATEHOUSE_OCSP_VALIDITY_HOURS, 1, 24 * 7),
    pkiRateLimit: parseWholeNumber("GATEHOUSE_PKI_RATE_LIMIT", env.GATEHOUSE_PKI_RATE_LIMIT, 0, 1_000_000),
    ocspNoncePerMinute: parseWholeNumber("GATEHOUSE_OCSP_NONCE_PER_MINUTE", env.GATEHOUSE_OCSP_NONCE_PER_MINUTE, 0, 1_000_000),
  };
}

/** loadConfig reads the environment once; it throws ConfigError with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  const masterKey = parseKey("GATEHOUSE_MASTER_KEY", env.GATEHOUSE_MASTER_KEY);
  if (databaseUrl && !masterKey) {
    throw new ConfigError("GATEHOUSE_MASTER_KEY is required when DATABASE_URL is set (32 bytes, base64: openssl rand -base64 32)");
  }
  const publicUrl = env.GATEHOUSE_PUBLIC_URL ? env.GATEHOUSE_PUBLIC_URL.replace(/\/+$/, "") : undefined;
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError("GATEHOUSE_PUBLIC_URL must be an http(s) URL");
  return {
    host: env.HOST || "127.0.0.1",
    port: parsePort("PORT", env.PORT, 8080),
    databaseUrl,
    dataDir: env.GATEHOUSE_DATA_DIR || "./data",
    masterKey,
    masterKeyPrevious: parseKey("GATEHOUSE_MASTER_KEY_PREVIOUS", env.GATEHOUSE_MASTER_KEY_PREVIOUS),
    operatorToken: env.GATEHOUSE_OPERATOR_TOKEN || undefined,
    publicUrl,
    logLevel: env.LOG_LEVEL || "info",
    workers: databaseUrl ? parsePositiveInt("GATEHOUSE_WORKERS", env.GATEHOUSE_WORKERS, 1) : 1,
    byocaLimit: parsePositiveInt("GATEHOUSE_BYOCA_LIMIT", env.GATEHOUSE_BYOCA_LIMIT, 5),
    edgePort: env.EDGE_PORT ? parsePort("EDGE_PORT", env.EDGE_PORT, DEFAULT_EDGE_PORT) : undefined,
    ...edgeConfig(env),
    ...estConfig(env),
    ...pkiConfig(env),
  };
}
