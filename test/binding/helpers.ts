/**
 * Helpers for the binding and CLI suites: a throwaway PKI (openssl, via the BYOCA fixture), a real
 * HTTPS server on loopback that demands client certificates from CA "A", and tenants with a
 * `mtls_certificates:use` token and an uploaded client certificate.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { TestPki, type Issued } from "../fixtures/byoca/pki.js";
import { createTenant, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";

const SERVER_EXT =
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n";

/** BindingPki: CA A (trusted by the server) with a server and a client certificate; CA B with a stranger. */
export interface BindingPki {
  pki: TestPki;
  caA: Issued;
  server: Issued;
  clientOne: Issued;
  clientTwo: Issued;
  caB: Issued;
  stranger: Issued;
}

export function makeBindingPki(): BindingPki {
  const pki = new TestPki();
  const caA = pki.root("ca-a", "p256");
  const caB = pki.root("ca-b", "p256");
  return {
    pki,
    caA,
    caB,
    server: pki.issue("server", caA, { ca: false, ext: SERVER_EXT, subject: "/CN=localhost" }),
    clientOne: pki.issue("client-one", caA, { ca: false, subject: "/O=Example Inc./CN=client-one" }),
    clientTwo: pki.issue("client-two", caA, { ca: false, spec: "rsa2048", subject: "/O=Example Inc./CN=client-two" }),
    stranger: pki.issue("stranger", caB, { ca: false, subject: "/O=Elsewhere/CN=stranger" }),
  };
}

/** MtlsServer: an HTTPS server that requires a client certificate from CA A and echoes who called. */
export interface MtlsServer {
  url: string;
  server: Server;
  /** seen: the CN of every request that got through, in order. */
  seen: string[];
  /** connections: TLS connections accepted (to check pooling). */
  connections: number;
  close(): Promise<void>;
}

export async function startMtlsServer(p: BindingPki): Promise<MtlsServer> {
  const state = { seen: [] as string[], connections: 0 };
  const server = createServer(
    { key: p.server.keyPem, cert: p.server.certPem, ca: p.caA.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const cn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? "");
      state.seen.push(cn);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.url === "/redirect-http") {
          res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/plain` }).end();
          return;
        }
        if (req.url === "/redirect-https") {
          res.writeHead(302, { location: "/hello" }).end();
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ cn, method: req.method, path: req.url, body: Buffer.concat(chunks).toString("utf8") }));
      });
    },
  );
  server.on("secureConnection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    server,
    get seen() {
      return state.seen;
    },
    get connections() {
      return state.connections;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** BindingTenant: a tenant plus a token with mtls_certificates:use. */
export interface BindingTenant extends Tenant {
  useToken: string;
}

export async function createToken(h: TestGatehouse, accountId: string, scopes: string[]): Promise<string> {
  const res = await h.request({ method: "POST", url: `/client/v4/accounts/${accountId}/tokens`, token: h.operatorToken, body: { name: scopes.join("+"), scopes } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result.value;
}

export async function createBindingTenant(h: TestGatehouse): Promise<BindingTenant> {
  const t = await createTenant(h);
  return { ...t, useToken: await createToken(h, t.accountId, ["mtls_certificates:use"]) };
}

/** uploadClient uploads a `ca: false` certificate with its key and returns its id. */
export async function uploadClient(h: TestGatehouse, t: Tenant, issued: Issued, name = issued.name): Promise<string> {
  const res = await h.request({
    method: "POST",
    url: `/client/v4/accounts/${t.accountId}/mtls_certificates`,
    token: t.editToken,
    body: { ca: false, certificates: issued.certPem, private_key: issued.keyPem, name },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json.result.id;
}

/** listen makes the test Gatehouse reachable over real HTTP on loopback (for the API connection and the CLI). */
export async function listen(h: TestGatehouse): Promise<string> {
  const address = h.gh.app.server.address() as AddressInfo | null;
  if (address) return `http://127.0.0.1:${address.port}`;
  await h.gh.app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(h.gh.app.server.address() as AddressInfo).port}`;
}
