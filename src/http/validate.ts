import { GatehouseError, RequestErrors } from "../errors.js";

/**
 * Small body and query validators. Messages name the field and what it must be, never the value
 * received: a CSR or key pasted into the wrong field must not come back in an error or a log.
 */
const invalid = (message: string) => new GatehouseError(RequestErrors.validation, 400, message);

export type Body = Record<string, unknown>;

/** objectBody accepts an absent body as {} and refuses anything that is not a JSON object. */
export function objectBody(body: unknown): Body {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw invalid("request body must be a JSON object");
  return body as Body;
}

export function requiredString(body: Body, field: string, maxLength: number): string {
  const v = body[field];
  if (v === undefined || v === null) throw invalid(`${field} is required`);
  if (typeof v !== "string") throw invalid(`${field} must be a string`);
  if (v.length > maxLength) throw invalid(`${field} must be at most ${maxLength} characters`);
  return v;
}

export function optionalString(body: Body, field: string, maxLength: number): string | undefined {
  return body[field] === undefined || body[field] === null ? undefined : requiredString(body, field, maxLength);
}

export function optionalInteger(body: Body, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalid(`${field} must be a whole number`);
  return v;
}

/** queryInteger reads a query-string integer; absent → undefined. */
export function queryInteger(query: Record<string, unknown>, field: string, code: number, min: number, max: number): number | undefined {
  const raw = query[field];
  if (raw === undefined || raw === "") return undefined;
  const n = typeof raw === "string" && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GatehouseError(code, 400, `${field} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
