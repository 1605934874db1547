/**
 * proxy.ts forwards a request to a zone's origin and streams the answer back, through undici's
 * HTTP/1.1 connection pools (one per origin, kept-alive connections reused): measurably less CPU
 * per request than node:http's client, which matters because the edge must cost close to nothing
 * beyond TLS. Bodies stream both ways with backpressure (never buffered). An https origin is
 * verified against Node's root store plus EDGE_ORIGIN_CA, never with verification off. Failures
 * before the response starts answer 502 (unreachable, refused, bad TLS, hung up) or 504 (no
 * answer in time) with a reason; a failure after it started cuts the client connection, as a
 * proxy must.
 */
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from "node:http";
import { isIP } from "node:net";
import { checkServerIdentity, rootCertificates, type PeerCertificate } from "node:tls";
import { Pool, type Dispatcher } from "undici";
import type { Header } from "./headers.js";
import { isVerdictHeader } from "./headers.js";

/** ORIGIN_TIMEOUT_MS: how long the origin may stay silent (connect, response headers, or between body bytes). */
export const ORIGIN_TIMEOUT_MS = 60_000;

/** Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded, in either direction. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate", "http2-settings"]);

/** OriginFailure: why an origin could not answer, for the 502/504 body and the log. */
export interface OriginFailure {
  status: 502 | 504;
  reason: string;
}

export class OriginPool {
  private readonly pools = new Map<string, Pool>();
  private readonly ca?: string[];

  constructor(private readonly opts: { originCa?: string; timeoutMs?: number } = {}) {
    if (opts.originCa) this.ca = [...rootCertificates, opts.originCa];
  }

  poolFor(origin: URL): Pool {
    let pool = this.pools.get(origin.origin);
    if (!pool) {
      const timeout = this.opts.timeoutMs ?? ORIGIN_TIMEOUT_MS;
      const host = origin.hostname.startsWith("[") ? origin.hostname.slice(1, -1) : origin.hostname;
      pool = new Pool(origin.origin, {
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connectTimeout: timeout,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        // The origin's certificate is checked against the origin URL's host, not the client's
        // Host header (which is forwarded as is); SNI is that name too when it is not an IP.
        connect:
          origin.protocol === "https:"
            ? {
                ca: this.ca,
                servername: isIP(host) ? undefined : host,
                checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
              }
            : undefined,
      });
      this.pools.set(origin.origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => {})));
    this.pools.clear();
  }
}

/** requestHeaders: the client's headers minus hop-by-hop and verdict headers, plus the edge's own. */
function requestHeaders(req: IncomingMessage, added: Header[]): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let connectionTokens: Set<string> | undefined;
  const connection = req.headers.connection;
  if (connection && connection !== "keep-alive" && connection !== "close") {
    connectionTokens = new Set(connection.toLowerCase().split(",").map((t) => t.trim()));
  }
  let forwardedFor: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connectionTokens?.has(lower) || isVerdictHeader(lower)) continue;
    if (lower === "x-forwarded-for") {
      forwardedFor = forwardedFor === undefined ? raw[i + 1] : `${forwardedFor}, ${raw[i + 1]}`;
      continue;
    }
    // Expect: 100-continue was answered by this server already; the length is re-added below.
    if (lower === "x-forwarded-proto" || lower === "content-length" || lower === "expect") continue;
    out.push(name, raw[i + 1]);
  }
  const peer = req.socket.remoteAddress ?? "";
  out.push("x-forwarded-for", forwardedFor === undefined ? peer : `${forwardedFor}, ${peer}`, "x-forwarded-proto", "https");
  const length = req.headers["content-length"];
  if (length !== undefined && req.headers["transfer-encoding"] === undefined) out.push("content-length", length);
  for (const [name, value] of added) out.push(name, value);
  return out;
}

/** responseHeaders: the origin's headers (undici gives them lower-cased) minus hop-by-hop ones. */
function responseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  }
  return out;
}

function classify(err: Error & { code?: string }): OriginFailure {
  const code = err.code ?? "";
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT") {
    return { status: 504, reason: "the origin did not answer in time" };
  }
  if (code === "ECONNREFUSED") return { status: 502, reason: "the origin refused the connection" };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { status: 502, reason: "the origin's host name does not resolve" };
  if (/^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_|HOSTNAME_MISMATCH)/.test(code) || /certificate/i.test(err.message)) {
    return { status: 502, reason: "the origin's TLS certificate could not be verified" };
  }
  if (code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE") return { status: 502, reason: "the origin closed the connection" };
  if (code === "GH_BAD_ORIGIN_HEADER") return { status: 502, reason: err.message };
  return { status: 502, reason: "the origin could not be reached" };
}

/**
 * forward sends `req` to `origin` with `added` headers and streams the answer into `res`.
 * `onFailure` is called when the origin fails before a response started (the caller answers
 * 502/504).
 */
export function forward(
  pool: OriginPool,
  origin: URL,
  req: IncomingMessage,
  res: ServerResponse,
  added: Header[],
  onFailure: (failure: OriginFailure) => void,
): void {
  const hasBody = req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined;
  let controller: Dispatcher.DispatchController | undefined;
  let done = false;
  // A client that goes away cancels the origin request.
  res.on("close", () => {
    if (!done) controller?.abort(new Error("client went away"));
  });
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
    },
    onResponseStart(c, statusCode, headers, statusMessage) {
      if (statusCode < 200) return; // 1xx informational: not relayed
      try {
        res.writeHead(statusCode, statusMessage || undefined, responseHeaders(headers as Record<string, string | string[]>));
      } catch (err) {
        // A header Node will not send (say, a control character from the origin): 502, not a crash.
        c.abort(Object.assign(new Error("the origin sent a header that cannot be relayed"), { code: "GH_BAD_ORIGIN_HEADER", cause: err }));
      }
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) {
        c.pause();
        res.once("drain", () => c.resume());
      }
    },
    onResponseEnd() {
      done = true;
      res.end();
    },
    onResponseError(_c, err) {
      done = true;
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      onFailure(classify(err as Error & { code?: string }));
    },
  };
  try {
    pool.poolFor(origin).dispatch(
      {
        path: req.url ?? "/",
        method: (req.method ?? "GET") as Dispatcher.HttpMethod,
        headers: requestHeaders(req, added),
        body: hasBody ? req : null,
      },
      handler,
    );
  } catch (err) {
    done = true;
    onFailure(classify(err as Error & { code?: string }));
  }
}
