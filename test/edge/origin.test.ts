/**
 * The edge's side toward origins: an https origin verified against EDGE_ORIGIN_CA (and refused
 * when its certificate is not trusted), 502 when the origin hangs up, 504 when it stays silent,
 * and chunked responses streamed through.
 */
import assert from "node:assert/strict";
import https from "node:https";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { after, before, beforeEach, test } from "node:test";
import { createTenant, describeEachDatabase, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";
import { curl, startEdgeFixture, type EdgeFixture } from "./harness.js";
import type { Issued } from "./test-pki.js";

describeEachDatabase("mTLS edge → origin", (get) => {
  let fx: EdgeFixture;
  let originCa: Issued;
  const servers: Array<http.Server | https.Server> = [];

  before(async () => {
    fx = await startEdgeFixture(get(), {
      originCaFile: (pki) => (originCa = pki.root("origin-ca")).certFile,
      originTimeoutMs: 400,
    });
  });
  after(async () => {
    for (const s of servers) {
      (s as { closeAllConnections?: () => void }).closeAllConnections?.();
      s.close();
    }
    await fx?.close();
  });
  beforeEach(() => fx.edge.directory.clear());

  async function listen<T extends http.Server | https.Server>(server: T): Promise<number> {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as AddressInfo).port;
  }
  async function zoneWithOrigin(h: TestGatehouse, origin: string): Promise<Tenant> {
    const t = await createTenant(h, { zoneName: "example.net" });
    const res = await h.request({ method: "PATCH", url: `/client/v4/zones/${t.zoneId}/edge_settings`, token: t.editToken, body: { origin } });
    assert.equal(res.statusCode, 200);
    return t;
  }
  const ask = (path = "/") => curl(fx.port, "www.example.net", { caFile: fx.serverCa.certFile, path });
  const code = (body: string) => JSON.parse(body).errors[0].code;

  test("200/https origin verified against EDGE_ORIGIN_CA", async () => {
    const cert = fx.pki.issue("origin-ok", originCa, { kind: "server", san: ["IP:127.0.0.1"] });
    const port = await listen(https.createServer({ cert: cert.pem, key: cert.keyPem }, (req, res) => res.end(`tls origin saw ${req.headers["cf-cert-presented"]}`)));
    await zoneWithOrigin(get(), `https://127.0.0.1:${port}`);
    const res = await ask();
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, "tls origin saw false");
  });

  test("502/https origin whose certificate no trusted CA issued", async () => {
    const stranger = fx.pki.root("stranger-ca");
    const cert = fx.pki.issue("origin-untrusted", stranger, { kind: "server", san: ["IP:127.0.0.1"] });
    let reached = 0;
    const port = await listen(https.createServer({ cert: cert.pem, key: cert.keyPem }, (_req, res) => res.end(String(++reached))));
    await zoneWithOrigin(get(), `https://127.0.0.1:${port}`);
    const res = await ask();
    assert.equal(res.status, 502);
    assert.equal(code(res.body), 1723);
    assert.match(JSON.parse(res.body).errors[0].message, /certificate could not be verified/);
    assert.equal(reached, 0);
  });

  test("504/origin silent past the timeout; 502/origin hanging up", async () => {
    const silent = await listen(http.createServer(() => {}));
    const t = await zoneWithOrigin(get(), `http://127.0.0.1:${silent}`);
    let res = await ask();
    assert.equal(res.status, 504);
    assert.equal(code(res.body), 1724);
    const rude = await listen(http.createServer((req) => req.socket.destroy()));
    await get().request({ method: "PATCH", url: `/client/v4/zones/${t.zoneId}/edge_settings`, token: t.editToken, body: { origin: `http://127.0.0.1:${rude}` } });
    res = await ask();
    assert.equal(res.status, 502);
    assert.equal(code(res.body), 1723);
  });

  test("502/origin answering with a header that cannot be relayed (control character), the edge keeps serving", async () => {
    const raw = net.createServer((sock) => {
      sock.on("error", () => {});
      sock.once("data", () => sock.end("HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\nContent-Length: 2\r\n\r\nok"));
    });
    servers.push(raw as unknown as http.Server);
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
    const t = await zoneWithOrigin(get(), `http://127.0.0.1:${(raw.address() as AddressInfo).port}`);
    const res = await ask();
    assert.equal(res.status, 502);
    assert.equal(code(res.body), 1723);
    const good = await listen(http.createServer((_req, r) => r.end("fine")));
    await get().request({ method: "PATCH", url: `/client/v4/zones/${t.zoneId}/edge_settings`, token: t.editToken, body: { origin: `http://127.0.0.1:${good}` } });
    assert.equal((await ask()).body, "fine");
  });

  test("400/absolute-form or asterisk request targets never reach the origin", async () => {
    let reached = 0;
    const port = await listen(http.createServer((_req, r) => r.end(String(++reached))));
    await zoneWithOrigin(get(), `http://127.0.0.1:${port}`);
    for (const target of ["http://www.example.org/steal", "*"]) {
      const res = await curl(fx.port, "www.example.net", { caFile: fx.serverCa.certFile, extra: ["--request-target", target, "-X", "OPTIONS"] });
      assert.equal(res.status, 400, target);
      assert.equal(code(res.body), 1726, target);
    }
    assert.equal(reached, 0);
  });

  test("200/chunked response streamed through, status and headers kept", async () => {
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(207, { "x-from-origin": "1", "content-type": "text/plain" });
        let i = 0;
        const tick = setInterval(() => {
          res.write(`chunk ${i}\n`);
          if (++i === 5) {
            clearInterval(tick);
            res.end();
          }
        }, 5);
      }),
    );
    await zoneWithOrigin(get(), `http://127.0.0.1:${port}`);
    const res = await ask("/stream");
    assert.equal(res.status, 207);
    assert.match(res.headers, /x-from-origin: 1/);
    assert.equal(res.body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
  });
});
