/**
 * Codes of the outbound binding as the library and the CLI see them (1850–1899; the server-side
 * codes of key material and leases, 1800–1849, are declared in services/key-material.ts and
 * services/binding-leases.ts). docs/error-codes.md lists them all.
 */
export const BindingErrors = {
  /** The binding configuration is malformed (shape, names, ids). */
  badConfig: 1850,
  /** A connection setting (API URL, token, account) is missing or malformed. */
  missingSetting: 1851,
  /** The certificate is unknown, deleted, or not a `ca: false` upload with a key. */
  certificateUnavailable: 1852,
  /** The certificate has expired or is not valid yet. */
  certificateExpired: 1853,
  /** An `http:` (or other non-TLS) URL: a client certificate only means something over TLS. */
  plainHttp: 1854,
  /** A redirect to a non-`https:` URL while following redirects. */
  insecureRedirect: 1855,
  /** `close()` was called. */
  closed: 1856,
  /** The key material could not be loaded (API unreachable, bad answer); fetch retries later. */
  loadFailed: 1857,
} as const;

/**
 * BindingError is how a binding's `fetch` rejects when the binding itself is the reason: it names
 * the binding and says why. It extends TypeError because the global `fetch` rejects with a
 * TypeError for everything that is not an HTTP response, and callers already catch that.
 */
export class BindingError extends TypeError {
  readonly code: number;
  readonly binding: string;

  constructor(binding: string, code: number, reason: string, options?: { cause?: unknown }) {
    super(`binding ${binding}: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BindingError";
    this.code = code;
    this.binding = binding;
  }
}

/** ConfigError: createBindings could not start because the configuration or a setting is wrong. */
export class BindingConfigError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "BindingConfigError";
    this.code = code;
  }
}
