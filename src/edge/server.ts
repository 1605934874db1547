/**
 * server.ts is the mTLS edge (DESIGN.md "The edge"). For each TCP connection:
 *
 *  1. peek at the ClientHello's server_name on the raw socket, without consuming it;
 *  2. look the hostname up (zone, associated CAs) and hand the socket, bytes put back, to the
 *     TLS server for that hostname: one that requests a client certificate offering only the
 *     hostname's CAs as acceptable names, or one that never asks (Node's requestCert is
 *     per server, nodejs/node#41211). One server per (server certificate, CA set), cached;
 *  3. per request: the verdict is computed for the HTTP Host — a Host whose CA set differs from
 *     the SNI's answers 421 — then revocation and expiry are checked (cached, invalidated through
 *     the change bus), the zone's policy applies (block: 403 naming the reason; forward: pass),
 *     and the request streams to the zone's origin with the verdict headers.
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import { constants as cryptoConstants } from "node:crypto";
import { createSecureContext, type TLSSocket } from "node:tls";
import type { Logger } from "../log.js";
import { hostOfHeader, MAX_CLIENT_HELLO, normaliseHostname, peekClientHello } from "./client-hello.js";
import type { EdgeDirectory, HostRoute, Revocation, TrustedCa, ZoneSettings } from "./directory.js";
import type { Header } from "./headers.js";
import type { ServerIdentities, ServerIdentity } from "./identities.js";
import { forward, OriginPool, type OriginFailure } from "./proxy.js";
import { connectionVerdict, REFUSAL_TEXT, VerdictCache, type ConnectionVerdict, type Refusal } from "./verdict.js";

/** HANDSHAKE_TIMEOUT_MS: a client has this long for its ClientHello, and again for the TLS handshake. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
const MAX_TLS_SERVERS = 1024;

/** EdgeErrors: the codes of the edge's own answers (1710–1739; docs/error-codes.md). */
export const EdgeErrors: Record<Refusal | "misdirected" | "unknownHost" | "noOrigin" | "originFailed" | "originTimeout" | "unavailable" | "badTarget", number> = {
  no_certificate: 1710,
  unknown_ca: 1711,
  expired: 1712,
  not_yet_valid: 1713,
  wrong_eku: 1714,
  path_length: 1715,
  invalid: 1716,
  revoked: 1717,
  held: 1718,
  misdirected: 1720,
  unknownHost: 1721,
  noOrigin: 1722,
  originFailed: 1723,
  originTimeout: 1724,
  unavailable: 1725,
  badTarget: 1726,
};

export interface EdgeServerOptions {
  directory: EdgeDirectory;
  identities: ServerIdentities;
  logger: Logger;
  /** Extra CA (PEM) trusted for https origins, beside Node's root store. */
  originCa?: string;
  handshakeTimeoutMs?: number;
  /** How long an origin may stay silent before the edge answers 504 (default 60 s). */
  originTimeoutMs?: number;
  /** Where the one line per request goes (default: the logger); it never carries secrets, so it needs no redaction. */
  accessLog?: Logger;
  /** healthy answers /healthz on hosts no zone owns (the database is reachable). */
  healthy?: () => Promise<boolean>;
}

/** TlsServerSlot: one TLS server and the CA set its connections were verified against. */
interface TlsServerSlot {
  server: https.Server;
  caKey: string;
  route: HostRoute;
}

/** ConnectionState lives on the TLS socket for the connection's life. */
interface ConnectionState {
  slot: TlsServerSlot;
  verdict?: ConnectionVerdict;
  requests: number;
  /** The last Host header seen and its normalised name (clients send the same one every time). */
  hostHeader?: string;
  hostname?: string;
  /** The verdict headers for the last (verified, revoked) pair, built once per connection. */
  headers?: { key: number; list: Header[] };
}

const kState = Symbol("gatehouse.edge.connection");
type EdgeSocket = TLSSocket & { [kState]?: ConnectionState };

/** verdictHeaders: the cf-cert-* set, and the RFC 9440 pair only for a verified, unrevoked certificate. */
function verdictHeaders(verdict: ConnectionVerdict, verified: boolean, revoked: boolean): Header[] {
  const list: Header[] = [
    ["cf-cert-presented", verdict.presented ? "true" : "false"],
    ["cf-cert-verified", verified ? "true" : "false"],
    ["cf-cert-revoked", revoked ? "true" : "false"],
    ...verdict.headers.fields,
  ];
  if (verified && !revoked) {
    if (verdict.headers.clientCert) list.push(["Client-Cert", verdict.headers.clientCert]);
    if (verdict.headers.clientCertChain) list.push(["Client-Cert-Chain", verdict.headers.clientCertChain]);
  }
  return list;
}

/** isSelfIssued: a root (subject = issuer); anything else is an intermediate anchor. */
const isSelfIssued = (ca: TrustedCa): boolean => ca.fields.subjectDer !== undefined && ca.fields.issuerDer !== undefined && ca.fields.subjectDer.equals(ca.fields.issuerDer);

const TLS_SECURE_OPTIONS = cryptoConstants.SSL_OP_NO_TICKET | cryptoConstants.SSL_OP_NO_RENEGOTIATION;

export class EdgeServer {
  readonly raw: net.Server;
  private readonly slots = new Map<string, TlsServerSlot>();
  private readonly sockets = new Set<net.Socket>();
  private readonly pool: OriginPool;
  private readonly log: Logger;
  private readonly accessLog: Logger;
  private readonly handshakeTimeoutMs: number;
  private health?: { at: number; up: Promise<boolean> };
  /** Verdicts of recently seen certificates (per CA set): reconnecting clients skip the parsing. */
  readonly verdicts = new VerdictCache();

  constructor(private readonly opts: EdgeServerOptions) {
    this.log = opts.logger.child({ component: "edge" });
    this.accessLog = opts.accessLog ?? this.log;
    this.pool = new OriginPool({ originCa: opts.originCa, timeoutMs: opts.originTimeoutMs });
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.raw = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  // ── 1. peek ────────────────────────────────────────────────────────────────────────────────

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => {}); // resets during the peek; the TLS socket reports its own
    let buf: Buffer | undefined;
    const onTimeout = () => socket.destroy();
    socket.setTimeout(this.handshakeTimeoutMs, onTimeout);
    const onData = (chunk: Buffer) => {
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
      const hello = peekClientHello(buf);
      if (hello.kind === "more") {
        if (buf.length > MAX_CLIENT_HELLO + 1024) socket.destroy();
        return;
      }
      socket.off("data", onData);
      socket.pause();
      socket.setTimeout(0);
      socket.off("timeout", onTimeout);
      if (hello.kind === "invalid") {
        socket.destroy();
        return;
      }
      const sni = hello.serverName;
      const route = this.opts.directory.peekRoute(sni);
      if (route) this.handOff(socket, buf, sni, route);
      else {
        this.opts.directory.route(sni).then(
          (r) => this.handOff(socket, buf!, sni, r),
          (err) => {
            this.log.error({ err, sni }, "edge: hostname lookup failed; connection closed");
            socket.destroy();
          },
        );
      }
    };
    socket.on("data", onData);
  }

  // ── 2. hand the socket to the TLS server for the hostname ────────────────────────────────

  private handOff(socket: net.Socket, hello: Buffer, sni: string | undefined, route: HostRoute): void {
    if (socket.destroyed) return;
    const slot = this.slotFor(this.opts.identities.forHostname(sni), route);
    socket.unshift(hello);
    slot.server.emit("connection", socket);
  }

  /** slotFor returns the TLS server for a certificate and a CA set, creating it on first use. */
  private slotFor(identity: ServerIdentity, route: HostRoute): TlsServerSlot {
    const key = `${identity.name}|${route.caKey}`;
    const cached = this.slots.get(key);
    if (cached) {
      // Refresh its place in the insertion-ordered map (least recently used goes first).
      this.slots.delete(key);
      this.slots.set(key, cached);
      return cached;
    }
    const mtls = route.cas.length > 0;
    const tlsOptions = {
      cert: identity.cert,
      key: identity.key,
      minVersion: "TLSv1.2" as const,
      secureOptions: TLS_SECURE_OPTIONS,
      // Only these CAs: they are the trust store and the CertificateRequest's acceptable names.
      ...(mtls ? { ca: route.cas.map((c) => c.pem) } : {}),
    };
    const options: https.ServerOptions = {
      ...tlsOptions,
      handshakeTimeout: this.handshakeTimeoutMs,
      ...(mtls ? { requestCert: true, rejectUnauthorized: false } : {}),
      headersTimeout: 20_000,
      requestTimeout: 300_000,
    };
    if (mtls && route.cas.some((c) => !isSelfIssued(c))) {
      // An anchor that is not a root (an intermediate uploaded alone) needs OpenSSL's
      // X509_V_FLAG_PARTIAL_CHAIN, which tls.Server does not pass on from its options: hand
      // every handshake a context built with it (SNICallback; the SNI is always present here).
      const partial = createSecureContext({ ...tlsOptions, allowPartialTrustChain: true });
      options.SNICallback = (_servername, cb) => cb(null, partial);
    }
    const server = https.createServer(options);
    server.keepAliveTimeout = 75_000;
    server.maxRequestsPerSocket = 0;
    const slot: TlsServerSlot = { server, caKey: route.caKey, route };
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.onRequest(slot, req, res));
    server.on("tlsClientError", (err: NodeJS.ErrnoException, sock: net.Socket) => {
      this.log.debug({ err: err.code ?? err.message }, "edge: TLS handshake failed");
      sock.destroy();
    });
    // Never listens itself; 'listening' starts the HTTP layer's header/request timeout checks.
    server.emit("listening");
    this.slots.set(key, slot);
    if (this.slots.size > MAX_TLS_SERVERS) {
      const oldest = this.slots.keys().next().value!;
      this.slots.delete(oldest);
    }
    return slot;
  }

  // ── 3. requests ────────────────────────────────────────────────────────────────────────────

  private onRequest(slot: TlsServerSlot, req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as EdgeSocket;
    let state = socket[kState];
    if (!state) state = socket[kState] = { slot, requests: 0 };
    state.requests++;
    const started = performance.now();
    // Only origin-form targets (RFC 9112 §3.2.1): an absolute URL could name another host than the
    // Host the verdict is computed for, and "*" (OPTIONS) has nothing to forward.
    if (req.url === undefined || req.url.charCodeAt(0) !== 0x2f) {
      return this.answer(req, res, 400, EdgeErrors.badTarget, "the request target must be a path starting with /", started);
    }
    const hostHeader = req.headers.host;
    if (hostHeader !== state.hostHeader || state.requests === 1) {
      state.hostHeader = hostHeader;
      // A Host with no name in it (an IP literal, as clients connecting by address send) names
      // nothing the connection could be borrowed for: it is read as the SNI's name.
      const sni = (socket as TLSSocket & { servername?: string | false }).servername;
      state.hostname = hostOfHeader(hostHeader) ?? (sni ? normaliseHostname(sni) : undefined);
    }
    const hostname = state.hostname;
    const dir = this.opts.directory;
    const route = dir.peekRoute(hostname);
    if (route) this.withRoute(state, req, res, route, started);
    else {
      dir.route(hostname).then(
        (r) => this.withRoute(state, req, res, r, started),
        (err) => this.unavailable(req, res, err, started),
      );
    }
  }

  private withRoute(state: ConnectionState, req: IncomingMessage, res: ServerResponse, route: HostRoute, started: number): void {
    if (!route.zone) {
      if (req.url === "/healthz" && (req.method === "GET" || req.method === "HEAD")) return void this.healthz(res);
      return this.answer(req, res, 421, EdgeErrors.unknownHost, "no zone on this edge serves this host", started);
    }
    if (route.caKey !== state.slot.caKey) {
      return this.answer(req, res, 421, EdgeErrors.misdirected, "this connection's TLS server name does not have the same client-certificate settings as the Host; open a new connection for it", started);
    }
    const zoneId = route.zone.id;
    const settings = this.opts.directory.peekSettings(zoneId);
    if (settings) this.withSettings(state, req, res, route, settings, started);
    else {
      this.opts.directory.zoneSettings(zoneId).then(
        (s) => this.withSettings(state, req, res, route, s, started),
        (err) => this.unavailable(req, res, err, started),
      );
    }
  }

  private withSettings(state: ConnectionState, req: IncomingMessage, res: ServerResponse, route: HostRoute, settings: ZoneSettings, started: number): void {
    const verdict = (state.verdict ??= connectionVerdict(req.socket as TLSSocket, state.slot.route.cas, { verdicts: this.verdicts, caKey: state.slot.caKey }));
    if (verdict.verified && verdict.managedCaId) {
      const dir = this.opts.directory;
      const key = (verdict.revocationKey ??= dir.revocationKey(verdict.managedCaId, verdict.leaf!.serial));
      const rev = dir.peekRevocation(key);
      if (rev) return this.decide(state, req, res, route, settings, verdict, rev, started);
      dir.revocation(key).then(
        (r) => this.decide(state, req, res, route, settings, verdict, r, started),
        (err) => this.unavailable(req, res, err, started),
      );
      return;
    }
    this.decide(state, req, res, route, settings, verdict, undefined, started);
  }

  private decide(
    state: ConnectionState,
    req: IncomingMessage,
    res: ServerResponse,
    route: HostRoute,
    settings: ZoneSettings,
    verdict: ConnectionVerdict,
    rev: Revocation | undefined,
    started: number,
  ): void {
    // Validity is re-checked per request: a kept-alive connection can outlive its certificate.
    const expiredNow = verdict.verified && verdict.leaf?.notAfter !== undefined && verdict.leaf.notAfter.getTime() < Date.now();
    const verified = verdict.verified && !expiredNow;
    const revoked = verified && rev !== undefined && rev.revoked;
    const refusal: Refusal | undefined = !verified
      ? (expiredNow ? "expired" : verdict.refusal)
      : revoked
        ? (rev!.reason === "certificateHold" ? "held" : "revoked")
        : undefined;
    const mtls = route.cas.length > 0;
    const logged = { host: route.hostname, sni: (req.socket as TLSSocket & { servername?: string | false }).servername || undefined, verdict: mtls ? (refusal ?? "verified") : "none", serial: verdict.serialHex || undefined };
    if (mtls && refusal && settings.policy === "block") {
      return this.answer(req, res, 403, EdgeErrors[refusal], REFUSAL_TEXT[refusal], started, logged);
    }
    if (!settings.origin) {
      return this.answer(req, res, 502, EdgeErrors.noOrigin, "no origin is configured for this zone (PATCH its edge_settings)", started, logged);
    }
    const key = (verified ? 1 : 0) | (revoked ? 2 : 0);
    if (state.headers?.key !== key) state.headers = { key, list: verdictHeaders(verdict, verified, revoked) };
    const added = state.requests === 1 ? [...state.headers.list, ...verdict.headers.firstRequest] : state.headers.list;
    res.once("finish", () => this.logRequest(req, res.statusCode, started, logged));
    forward(this.pool, settings.origin, req, res, added, (failure: OriginFailure) => {
      const code = failure.status === 504 ? EdgeErrors.originTimeout : EdgeErrors.originFailed;
      this.answer(req, res, failure.status, code, failure.reason, started, logged, false);
    });
  }

  // ── answers of the edge itself ─────────────────────────────────────────────────────────────

  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    started: number,
    logged: Record<string, unknown> = { host: hostOfHeader(req.headers.host) },
    log = true,
  ): void {
    if (res.headersSent) return void res.destroy();
    const body = JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null });
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    res.end(body);
    if (log) this.logRequest(req, status, started, logged);
  }

  private unavailable(req: IncomingMessage, res: ServerResponse, err: unknown, started: number): void {
    this.log.error({ err }, "edge: database lookup failed");
    this.answer(req, res, 503, EdgeErrors.unavailable, "the edge cannot reach its database; try again shortly", started);
  }

  private logRequest(req: IncomingMessage, status: number, started: number, fields: Record<string, unknown>): void {
    fields.method = req.method;
    fields.status = status;
    fields.ms = Math.round((performance.now() - started) * 10) / 10;
    this.accessLog.info(fields, "edge request");
  }

  private healthz(res: ServerResponse): void {
    const now = Date.now();
    if (!this.health || now - this.health.at > 1000) {
      this.health = { at: now, up: (this.opts.healthy?.() ?? Promise.resolve(true)).catch(() => false) };
    }
    this.health.up.then((up) => {
      const body = JSON.stringify({ status: up ? "ok" : "unavailable" });
      res.writeHead(up ? 200 : 503, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      res.end(body);
    });
  }

  // ── life cycle ─────────────────────────────────────────────────────────────────────────────

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.raw.once("error", reject);
      this.raw.listen({ port, host, backlog: 4096 }, () => {
        this.raw.off("error", reject);
        resolve(this.raw.address() as net.AddressInfo);
      });
    });
  }

  /** close stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  async close(graceMs = 5_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.raw.close(() => resolve()));
    for (const slot of this.slots.values()) {
      slot.server.closeIdleConnections();
      slot.server.close();
    }
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      for (const slot of this.slots.values()) slot.server.closeIdleConnections();
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const socket of this.sockets) socket.destroy();
    await this.pool.close();
    await closed;
  }
}
