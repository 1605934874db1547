/**
 * The Cloudflare v4 envelope, on every response, errors included:
 * { success, errors: [{code, message}], messages: [{code, message}], result, result_info? }.
 */
export interface ResponseMessage {
  code: number;
  message: string;
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

export interface Envelope<T> {
  success: boolean;
  errors: ResponseMessage[];
  messages: ResponseMessage[];
  result: T | null;
  result_info?: ResultInfo;
}

/** INFO_MESSAGE_CODE numbers informational messages (e.g. a CSR extension that was not copied). */
export const INFO_MESSAGE_CODE = 1190;

export function ok<T>(result: T, extra: { resultInfo?: ResultInfo; messages?: string[] } = {}): Envelope<T> {
  const body: Envelope<T> = {
    success: true,
    errors: [],
    messages: (extra.messages ?? []).map((message) => ({ code: INFO_MESSAGE_CODE, message })),
    result,
  };
  if (extra.resultInfo) body.result_info = extra.resultInfo;
  return body;
}

export function fail(code: number, message: string): Envelope<null> {
  return { success: false, errors: [{ code, message }], messages: [], result: null };
}

/** rfc3339 writes a time as Cloudflare does: whole seconds, `Z`. */
export function rfc3339(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
