/**
 * GatehouseError is the one error type every layer throws for a failure a client can act on.
 * `code` is a stable number clients may branch on (Cloudflare's `errors[].code`, always ≥ 1000);
 * `status` is the HTTP status the one mapper in `http/errors.ts` answers with. Codes are grouped
 * by family, each family declaring its own in its own module; docs/error-codes.md lists them all.
 *
 * Ranges: 1000–1099 request and generic · 1100–1199 CSR and issuance · 1200–1299 client
 * certificate state · 1400–1499 mTLS certificates (1489 is Cloudflare's) · 1500–1599 hostname
 * associations · 1600–1699 CRL and OCSP · 1700–1799 edge settings · 1800–1899 binding and key
 * material · 1900–1999 EST and enrollment · 7003 no route · 10000–10099 authentication.
 */
export class GatehouseError extends Error {
  readonly code: number;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: number, status: number, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatehouseError";
    this.code = code;
    this.status = status;
    this.details = options?.details;
  }
}

/** Generic request-level codes (1000–1099, 7003, 10000–10099). */
export const RequestErrors = {
  invalidJson: 1000,
  bodyTooLarge: 1001,
  unsupportedMediaType: 1002,
  validation: 1003,
  methodNotAllowed: 1004,
  notFound: 1005,
  conflict: 1006,
  idempotencyKeyReused: 1007,
  rateLimited: 1008,
  noRoute: 7003,
  unauthenticated: 10000,
  forbidden: 10001,
  internal: 1099,
} as const;

export const notFound = (what: string): GatehouseError =>
  new GatehouseError(RequestErrors.notFound, 404, `${what} not found`);

export const badRequest = (code: number, message: string): GatehouseError => new GatehouseError(code, 400, message);
