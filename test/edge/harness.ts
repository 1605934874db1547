/**
 * Harness for the edge tests: a real local HTTP origin that records every request it receives,
 * curl and openssl s_client as TLS peers, a Node keep-alive client for kept-alive connections,
 * and an edge built on the test Gatehouse's database.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tempDir, type TempDir } from "../helpers/openssl.js";
import { testConfig, type TestGatehouse } from "../helpers/gatehouse.js";
import { createEdge, type Edge } from "../../src/edge/main.js";
import { createLogger } from "../../src/log.js";
import { TestPki, type Issued } from "./test-pki.js";

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  remotePort: number;
}

export interface Origin {
  url: string;
  port: number;
  received: Received[];
  server: http.Server;
  close(): Promise<void>;
}

/** startOrigin runs a plain HTTP origin that records requests and answers 200 "origin ok" (or echoes POST bodies). */
export async function startOrigin(handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<Origin> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body, remotePort: req.socket.remotePort! });
      if (handler) return handler(req, res, body);
      const out = req.method === "POST" ? body : Buffer.from("origin ok");
      res.writeHead(200, { "content-type": "text/plain", "content-length": out.length, "x-origin": "yes" });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface CurlResult {
  status: number;
  body: string;
  headers: string;
  exit: number;
  stderr: string;
}

/** runAsync runs a command without a shell (the edge runs in this process: never block the loop). */
function runAsync(cmd: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** curl asks `https://host:port/path` of the edge with `--resolve` to 127.0.0.1; never throws. */
export async function curl(
  edgePort: number,
  host: string,
  opts: { path?: string; cert?: Issued; caFile: string; headers?: string[]; sni?: string; method?: string; data?: string; extra?: string[] },
): Promise<CurlResult> {
  const sni = opts.sni ?? host;
  const args = ["-sS", "-m", "10", "--resolve", `${sni}:${edgePort}:127.0.0.1`, "--cacert", opts.caFile, "-i", "-w", "\n%{http_code}"];
  if (opts.cert) args.push("--cert", opts.cert.certFile, "--key", opts.cert.keyFile);
  for (const h of opts.headers ?? []) args.push("-H", h);
  if (sni !== host) args.push("-H", `Host: ${host}`);
  if (opts.method) args.push("-X", opts.method);
  if (opts.data !== undefined) args.push("--data-binary", opts.data);
  args.push(`https://${sni}:${edgePort}${opts.path ?? "/"}`);
  args.push(...(opts.extra ?? []));
  const r = await runAsync("curl", args);
  const out = r.stdout;
  const lastNl = out.lastIndexOf("\n");
  const status = Number(out.slice(lastNl + 1));
  const rest = out.slice(0, lastNl);
  const split = rest.indexOf("\r\n\r\n");
  return { status, headers: split < 0 ? rest : rest.slice(0, split), body: split < 0 ? "" : rest.slice(split + 4), exit: r.status, stderr: r.stderr };
}

/** sClient runs `openssl s_client -msg -state` against the edge and returns its output (stdout + stderr). */
export async function sClient(edgePort: number, servername: string, opts: { cert?: Issued; caFile?: string } = {}): Promise<string> {
  const args = ["s_client", "-connect", `127.0.0.1:${edgePort}`, "-servername", servername, "-msg", "-state", "-tls1_3"];
  if (opts.cert) args.push("-cert", opts.cert.certFile, "-key", opts.cert.keyFile);
  if (opts.caFile) args.push("-CAfile", opts.caFile);
  return new Promise((resolve, reject) => {
    const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill(), 10_000);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    // Give the handshake (and TLS 1.3's post-handshake messages) time, then say goodbye.
    setTimeout(() => child.stdin.end("Q\n"), 500);
  });
}

/** caNames: the "Acceptable client certificate CA names" s_client printed ("" when none). */
export function caNames(sClientOutput: string): string {
  const after = sClientOutput.split("Acceptable client certificate CA names\n")[1];
  return after === undefined ? "" : after.split(/\n(Requested Signature Algorithms|Client Certificate Types|---)/)[0];
}

/** KeepAliveClient: one TLS connection reused for every request (Node's https with maxSockets 1). */
export class KeepAliveClient {
  readonly agent: https.Agent;
  constructor(
    private readonly edgePort: number,
    private readonly host: string,
    opts: { cert?: Issued; caPem: string },
  ) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: opts.caPem,
      cert: opts.cert?.pem,
      key: opts.cert?.keyPem,
      servername: host,
    });
  }

  get(path = "/", headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; localPort: number }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: "127.0.0.1", port: this.edgePort, path, headers: { host: this.host, ...headers }, agent: this.agent, servername: this.host },
        (res) => {
          let body = "";
          const localPort = res.socket.localPort!;
          res.setEncoding("utf8");
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers, localPort }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** EdgeFixture: the PKI, the edge's own server certificate (for *.example.net and *.example.org) and the edge. */
export interface EdgeFixture {
  dir: TempDir;
  pki: TestPki;
  /** CA that signed the edge's server certificate: clients trust it. */
  serverCa: Issued;
  edge: Edge;
  port: number;
  close(): Promise<void>;
}

export async function startEdgeFixture(h: TestGatehouse, opts: { originCaFile?: string | ((pki: TestPki) => string); originTimeoutMs?: number } = {}): Promise<EdgeFixture> {
  const dir = tempDir("gh-edge-");
  const pki = new TestPki(dir);
  const serverCa = pki.root("edge-server-ca");
  const server = pki.issue("edge-server", serverCa, { kind: "server", san: ["example.net", "*.example.net", "example.org", "*.example.org", "localhost"] });
  const config = testConfig({
    edgeTlsCertPath: server.certFile,
    edgeTlsKeyPath: server.keyFile,
    edgeOriginCaPath: typeof opts.originCaFile === "function" ? opts.originCaFile(pki) : opts.originCaFile,
    logLevel: process.env.TEST_LOG_LEVEL ?? "silent",
  });
  const edge = createEdge({ config, logger: createLogger(config.logLevel), sql: h.gh.db.sql, bus: h.gh.db.bus, originTimeoutMs: opts.originTimeoutMs });
  const address = await edge.listen(0, "127.0.0.1");
  return {
    dir,
    pki,
    serverCa,
    edge,
    port: address.port,
    async close() {
      await edge.close();
      dir.remove();
    },
  };
}

/** waitFor polls `check` until it returns true or `ms` pass; returns the elapsed time. */
export async function waitFor(check: () => Promise<boolean>, ms: number, stepMs = 10): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return Infinity;
}
