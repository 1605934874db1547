/**
 * proxy.ts forwards a request to a zone's origin and streams the answer back. Bodies stream both
 * ways (never buffered); connections to each origin are kept alive and reused. An https origin is
 * verified against Node's root store plus EDGE_ORIGIN_CA, never with verification off. Failures
 * before the response starts answer 502 (unreachable, refused, bad TLS) or 504 (no answer in
 * time) with a reason; a failure after it started cuts the client connection, as a proxy must.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { rootCertificates } from "node:tls";
import type { Header } from "./headers.js";
import { isVerdictHeader } from "./headers.js";

/** ORIGIN_TIMEOUT_MS: how long the origin may stay silent (connect, first byte, or between bytes). */
export const ORIGIN_TIMEOUT_MS = 60_000;

/** Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded, in either direction. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate", "http2-settings"]);

/** OriginFailure: why an origin could not answer, for the 502/504 body and the log. */
export interface OriginFailure {
  status: 502 | 504;
  reason: string;
}

export class OriginPool {
  private readonly agents = new Map<string, http.Agent>();
  private readonly ca?: string[];

  constructor(opts: { originCa?: string } = {}) {
    if (opts.originCa) this.ca = [...rootCertificates, opts.originCa];
  }

  agentFor(origin: URL): http.Agent {
    let agent = this.agents.get(origin.origin);
    if (!agent) {
      const common = { keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 256, scheduling: "lifo" as const };
      agent = origin.protocol === "https:" ? new https.Agent({ ...common, ca: this.ca, servername: origin.hostname }) : new http.Agent(common);
      this.agents.set(origin.origin, agent);
    }
    return agent;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
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
    if (lower === "x-forwarded-proto") continue;
    out.push(name, raw[i + 1]);
  }
  const peer = req.socket.remoteAddress ?? "";
  out.push("x-forwarded-for", forwardedFor === undefined ? peer : `${forwardedFor}, ${peer}`, "x-forwarded-proto", "https");
  if (req.headers["transfer-encoding"] !== undefined) out.push("transfer-encoding", "chunked");
  for (const [name, value] of added) out.push(name, value);
  return out;
}

/** responseHeaders: the origin's headers minus hop-by-hop ones. */
function responseHeaders(res: IncomingMessage): string[] {
  const raw = res.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function classify(err: NodeJS.ErrnoException, timedOut: boolean): OriginFailure {
  if (timedOut) return { status: 504, reason: "the origin did not answer in time" };
  const code = err.code ?? "";
  if (code === "ECONNREFUSED") return { status: 502, reason: "the origin refused the connection" };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { status: 502, reason: "the origin's host name does not resolve" };
  if (/^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_|HOSTNAME_MISMATCH)/.test(code) || /certificate/i.test(err.message)) {
    return { status: 502, reason: "the origin's TLS certificate could not be verified" };
  }
  if (code === "ECONNRESET" || code === "EPIPE") return { status: 502, reason: "the origin closed the connection" };
  return { status: 502, reason: "the origin could not be reached" };
}

/**
 * forward sends `req` to `origin` with `added` headers and pipes the answer into `res`. `onFailure`
 * is called when the origin fails before a response started (the caller answers 502/504);
 * `done` once the exchange is over either way.
 */
export function forward(
  pool: OriginPool,
  origin: URL,
  req: IncomingMessage,
  res: ServerResponse,
  added: Header[],
  onFailure: (failure: OriginFailure) => void,
  timeoutMs = ORIGIN_TIMEOUT_MS,
): void {
  const transport = origin.protocol === "https:" ? https : http;
  const hasBody = req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined;
  let timedOut = false;
  let failed = false;
  const outgoing = transport.request({
    protocol: origin.protocol,
    hostname: origin.hostname.startsWith("[") ? origin.hostname.slice(1, -1) : origin.hostname,
    port: origin.port || (origin.protocol === "https:" ? 443 : 80),
    method: req.method,
    path: req.url,
    headers: requestHeaders(req, added) as unknown as http.OutgoingHttpHeaders,
    agent: pool.agentFor(origin),
    timeout: timeoutMs,
    setHost: false,
  });
  outgoing.on("timeout", () => {
    timedOut = true;
    outgoing.destroy(Object.assign(new Error("origin timeout"), { code: "ETIMEDOUT" }));
  });
  outgoing.on("error", (err: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = true;
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    req.unpipe(outgoing);
    onFailure(classify(err, timedOut));
  });
  outgoing.on("response", (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer) as unknown as http.OutgoingHttpHeaders);
    answer.pipe(res);
    answer.on("error", (err) => res.destroy(err));
  });
  // A client that goes away cancels the origin request.
  res.on("close", () => {
    if (!res.writableFinished) outgoing.destroy();
  });
  if (hasBody) req.pipe(outgoing);
  else outgoing.end();
}
