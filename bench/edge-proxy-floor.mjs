#!/usr/bin/env node
// The floor for any mTLS edge written on Node: the least a Node process can do to terminate mTLS
// and pass a kept-alive request on to an origin. Node's https server with requestCert (OpenSSL
// checks the client certificate), the request's own headers passed through (hop-by-hop ones
// dropped, X-Forwarded-For/-Proto added, as nginx's proxy_pass does), no lookups, no verdict
// headers, no log line. bench/edge.sh runs it beside the edge and nginx so the edge's own work can
// be told apart from what Node's HTTP stack costs.
//
//   node bench/edge-proxy-floor.mjs --port P --origin-port O --dir CERTDIR [--client undici|node-parser]
//
// --client undici        undici's Pool.dispatch, as the edge forwards (src/edge/proxy.ts)   [default]
// --client node-parser   a hand-written keep-alive client on Node's own llhttp binding (the
//                        parser node:http uses): what replacing undici could save at most. A
//                        measuring device only: GET/HEAD without bodies, no timeouts, no retries.
// Loopback only; prints READY <port>; stops on SIGTERM/SIGINT.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { constants } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: a } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'origin-port': { type: 'string' },
    dir: { type: 'string' },
    client: { type: 'string', default: 'undici' },
  },
});
if (!a['origin-port'] || !a.dir) { console.error('need --origin-port and --dir'); process.exit(2); }
const originPort = Number(a['origin-port']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function passedHeaders(req) {
  const raw = req.rawHeaders;
  const out = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  out.push('x-forwarded-for', req.socket.remoteAddress ?? '', 'x-forwarded-proto', 'https');
  return out;
}

function undiciForwarder() {
  const pool = new Pool(`http://127.0.0.1:${originPort}`, { pipelining: 1, keepAliveTimeout: 30_000 });
  return (req, res) => {
    pool.dispatch({ path: req.url, method: req.method, headers: passedHeaders(req), body: null }, {
      onRequestStart() {},
      onResponseStart(_c, status, headers) {
        const out = {};
        for (const k in headers) if (!HOP_BY_HOP.has(k)) out[k] = headers[k];
        res.writeHead(status, out);
      },
      onResponseData(_c, chunk) { res.write(chunk); },
      onResponseEnd() { res.end(); },
      onResponseError(_c, err) { if (res.headersSent) res.destroy(err); else { res.writeHead(502); res.end(); } },
    });
  };
}

function nodeParserForwarder() {
  // node:_http_common is Node's own (undocumented) export of the llhttp binding node:http uses.
  const { HTTPParser } = createRequire(import.meta.url)('node:_http_common');
  const idle = [];
  const connect = () => {
    const socket = net.connect(originPort, '127.0.0.1');
    socket.setNoDelay(true);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    const conn = { socket, res: null, keepAlive: true };
    parser[HTTPParser.kOnHeadersComplete] = (_maj, _min, headers, _m, _u, status, _msg, _upg, keepAlive) => {
      conn.keepAlive = keepAlive;
      const out = [];
      for (let i = 0; i < headers.length; i += 2) if (!HOP_BY_HOP.has(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
      conn.res.writeHead(status, out);
      return conn.head ? 1 : 0;
    };
    parser[HTTPParser.kOnBody] = (chunk) => conn.res.write(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => {
      const res = conn.res;
      conn.res = null;
      res.end();
      if (conn.keepAlive) idle.push(conn);
      else socket.destroy();
    };
    socket.on('data', (d) => { if (parser.execute(d) instanceof Error) socket.destroy(); });
    socket.on('error', () => conn.res?.destroy());
    socket.on('close', () => { const i = idle.indexOf(conn); if (i >= 0) idle.splice(i, 1); });
    return conn;
  };
  return (req, res) => {
    const h = passedHeaders(req);
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    const conn = idle.pop() ?? connect();
    conn.res = res;
    conn.head = req.method === 'HEAD';
    conn.socket.write(head + '\r\n', 'latin1');
  };
}

const forwarders = { undici: undiciForwarder, 'node-parser': nodeParserForwarder };
if (!forwarders[a.client]) { console.error(`--client must be one of ${Object.keys(forwarders).join(', ')}`); process.exit(2); }
const file = (name) => fs.readFileSync(path.join(a.dir, name));
const server = https.createServer({
  key: file('server.key'), cert: file('server.pem'), ca: file('ca.pem'),
  requestCert: true, rejectUnauthorized: true, secureOptions: constants.SSL_OP_NO_TICKET,
}, forwarders[a.client]());
server.keepAliveTimeout = 75_000;
server.maxRequestsPerSocket = 0;
server.on('tlsClientError', (_err, socket) => socket.destroy());
server.listen(Number(a.port), '127.0.0.1', 4096, () => console.log(`READY ${server.address().port}`));
const stop = () => { server.close(); server.closeAllConnections(); setTimeout(() => process.exit(0), 200).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
