import { BindingConfigError, BindingErrors } from "./errors.js";

/** ApiConnection is how a program outside Gatehouse reaches it: the API, a token, an account. */
export interface ApiConnection {
  /** Base URL of the Gatehouse API (`https://gatehouse.example.com`; a trailing `/client/v4` is accepted). */
  apiUrl: string;
  apiToken: string;
  accountId: string;
}

/** ApiError is a failure the API reported in its envelope (code and message), or a transport failure (code undefined). */
export class ApiError extends Error {
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly errors: Array<{ code: number; message: string }>;

  constructor(status: number | undefined, errors: Array<{ code: number; message: string }>, message?: string, options?: { cause?: unknown }) {
    super(message ?? errors.map((e) => `${e.message} [code ${e.code}]`).join("; "), options);
    this.name = "ApiError";
    this.status = status;
    this.code = errors[0]?.code;
    this.errors = errors;
  }
}

export interface ApiResult<T> {
  result: T;
  resultInfo?: { page: number; per_page: number; count: number; total_count: number; total_pages?: number };
  messages: Array<{ code: number; message: string }>;
}

const HEX_ID = /^[0-9a-f]{32}$/;

const missing = (message: string) => new BindingConfigError(BindingErrors.missingSetting, message);

/** apiBase turns GATEHOUSE_API_URL into the `/client/v4` base, refusing what is not an http(s) URL. */
export function apiBase(apiUrl: string, variable = "GATEHOUSE_API_URL"): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw missing(`${variable} must be a URL like https://gatehouse.example.com`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw missing(`${variable} must be an http(s) URL`);
  const path = url.pathname.replace(/\/+$/, "").replace(/\/client\/v4$/, "");
  return `${url.origin}${path}/client/v4`;
}

/** apiSettingsFromEnv reads GATEHOUSE_API_URL and GATEHOUSE_API_TOKEN; a missing one is named. */
export function apiSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ApiConnection> = {}): Pick<ApiConnection, "apiUrl" | "apiToken"> {
  const apiUrl = overrides.apiUrl ?? env.GATEHOUSE_API_URL;
  const apiToken = overrides.apiToken ?? env.GATEHOUSE_API_TOKEN;
  if (!apiUrl) throw missing("GATEHOUSE_API_URL is not set: set it to the Gatehouse API's address (e.g. http://127.0.0.1:8080)");
  if (!apiToken) throw missing("GATEHOUSE_API_TOKEN is not set: set it to an API token of your account");
  apiBase(apiUrl);
  return { apiUrl, apiToken };
}

/**
 * apiConnectionFromEnv reads GATEHOUSE_API_URL, GATEHOUSE_API_TOKEN and GATEHOUSE_ACCOUNT_ID
 * (the account may come from `overrides`, as the CLI's --account does). A missing one is named.
 */
export function apiConnectionFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ApiConnection> = {}): ApiConnection {
  const settings = apiSettingsFromEnv(env, overrides);
  const accountId = overrides.accountId ?? env.GATEHOUSE_ACCOUNT_ID;
  if (!accountId) throw missing("GATEHOUSE_ACCOUNT_ID is not set: set it (or pass --account) to your account id (32 hex characters)");
  if (!HEX_ID.test(accountId)) throw missing("GATEHOUSE_ACCOUNT_ID (or --account) must be an account id: 32 lowercase hex characters");
  return { ...settings, accountId };
}

/**
 * GatehouseApi calls the REST API with a bearer token and unwraps the envelope: `result` on
 * success, an ApiError carrying the first error's code and message otherwise. It uses the global
 * fetch, never a binding's, so no client certificate is involved.
 */
export class GatehouseApi {
  readonly base: string;

  constructor(
    private readonly connection: Pick<ApiConnection, "apiUrl" | "apiToken">,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = apiBase(connection.apiUrl);
  }

  async call<T>(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Record<string, string | number | boolean | undefined> } = {},
  ): Promise<ApiResult<T>> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.connection.apiToken}`, accept: "application/json" };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: "error",
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ApiError(undefined, [], `cannot reach the Gatehouse API at ${url.origin} (${why})`, { cause: err });
    }
    const text = await res.text();
    let body: { success?: boolean; result?: T; errors?: Array<{ code: number; message: string }>; messages?: Array<{ code: number; message: string }>; result_info?: ApiResult<T>["resultInfo"] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, [], `the API at ${url.origin} answered HTTP ${res.status} without a JSON envelope (is GATEHOUSE_API_URL right?)`);
    }
    if (!res.ok || body.success !== true) {
      const errors = Array.isArray(body.errors) && body.errors.length > 0 ? body.errors : [];
      throw new ApiError(res.status, errors, errors.length ? undefined : `the API answered HTTP ${res.status}`);
    }
    return { result: body.result as T, resultInfo: body.result_info, messages: body.messages ?? [] };
  }
}
