/**
 * Unit tests of the edge's pure parts, on bytes real peers produce: ClientHellos captured from
 * openssl s_client, curl and Node (whole, re-split across records, truncated), Host headers, the
 * verdict-header name rule, OpenSSL's time format and the RFC 9440 size limits on openssl-made
 * certificates.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { after, describe, test } from "node:test";
import { hostOfHeader, normaliseHostname, peekClientHello } from "../../src/edge/client-hello.js";
import { formatOpenSslTime, readCertificateFields } from "../../src/edge/certificate-fields.js";
import { CLIENT_CERT_CHAIN_LIMIT, CLIENT_CERT_LIMIT, connectionHeaders, isVerdictHeader } from "../../src/edge/headers.js";
import { openssl, tempDir } from "../helpers/openssl.js";
import { TestPki } from "./test-pki.js";

/** capture listens on loopback, lets `client` connect, and returns the first complete ClientHello bytes. */
async function capture(client: (port: number) => { kill(): void } | void): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let handle: { kill(): void } | void;
      const timer = setTimeout(() => reject(new Error("no ClientHello")), 10_000);
      server.on("connection", (sock) => {
        let buf = Buffer.alloc(0);
        sock.on("data", (d) => {
          buf = Buffer.concat([buf, d]);
          if (peekClientHello(buf).kind !== "more") {
            clearTimeout(timer);
            sock.destroy();
            handle?.kill();
            resolve(buf);
          }
        });
        sock.on("error", () => {});
      });
      handle = client(port);
    });
  } finally {
    server.close();
  }
}

const sClientHello = (args: string[]) =>
  capture((port) => {
    const child = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...args], { stdio: ["pipe", "ignore", "ignore"] });
    return { kill: () => child.kill() };
  });

/** resplit cuts one handshake record into records of `size` bytes of fragment each. */
function resplit(hello: Buffer, size: number): Buffer {
  const fragment = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < fragment.length; i += size) {
    const part = fragment.subarray(i, i + size);
    out.push(Buffer.from([22, 3, 1, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(out);
}

describe("ClientHello peek", () => {
  test("SNI from openssl s_client (TLS 1.3 and 1.2), curl and Node", async () => {
    assert.deepEqual(peekClientHello(await sClientHello(["-servername", "Api.Example.NET"])), { kind: "hello", serverName: "api.example.net" });
    assert.deepEqual(peekClientHello(await sClientHello(["-servername", "old.example.net", "-tls1_2"])), { kind: "hello", serverName: "old.example.net" });
    const fromCurl = await capture((port) => {
      const child = spawn("curl", ["-sk", "-m", "5", "--resolve", `curl.example.net:${port}:127.0.0.1`, `https://curl.example.net:${port}/`], { stdio: "ignore" });
      return { kill: () => child.kill() };
    });
    assert.deepEqual(peekClientHello(fromCurl), { kind: "hello", serverName: "curl.example.net" });
    const fromNode = await capture((port) => {
      const s = tls.connect({ port, host: "127.0.0.1", servername: "node.example.net", rejectUnauthorized: false });
      s.on("error", () => {});
      return { kill: () => s.destroy() };
    });
    assert.deepEqual(peekClientHello(fromNode), { kind: "hello", serverName: "node.example.net" });
  });

  test("no SNI: -noservername, and a server_name that is not a DNS name", async () => {
    assert.deepEqual(peekClientHello(await sClientHello(["-noservername"])), { kind: "hello" });
    const odd = await capture((port) => {
      const s = tls.connect({ port, host: "127.0.0.1", servername: "bad_name!.example.net", rejectUnauthorized: false });
      s.on("error", () => {});
      return { kill: () => s.destroy() };
    });
    assert.deepEqual(peekClientHello(odd), { kind: "hello", serverName: undefined });
  });

  test("a ClientHello split across records and TCP reads: 'more' for every prefix, the name at the end", async () => {
    const hello = await sClientHello(["-servername", "split.example.net"]);
    for (const size of [1, 7, 64]) {
      const split = resplit(hello, size);
      assert.deepEqual(peekClientHello(split), { kind: "hello", serverName: "split.example.net" }, `records of ${size}`);
    }
    const split = resplit(hello, 50);
    for (let n = 0; n < split.length; n++) assert.equal(peekClientHello(split.subarray(0, n)).kind, "more", `prefix ${n}`);
  });

  test("invalid: plain HTTP, SSLv2-style hello, a ServerHello, an alert between records, a giant length", () => {
    assert.equal(peekClientHello(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).kind, "invalid");
    assert.equal(peekClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0])).kind, "invalid");
    assert.equal(peekClientHello(Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0])).kind, "invalid");
    const first = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0, 40]);
    assert.equal(peekClientHello(Buffer.concat([first, Buffer.from([21, 3, 3, 0, 2, 2, 40])])).kind, "invalid");
    assert.equal(peekClientHello(Buffer.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff])).kind, "invalid");
    assert.equal(peekClientHello(Buffer.from([22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3])).kind, "invalid");
  });
});

describe("host names", () => {
  test("normalised Host headers; IP literals and junk are not names", () => {
    const cases: Array<[string | undefined, string | undefined]> = [
      ["Example.NET:8443", "example.net"],
      ["www.example.net.", "www.example.net"],
      ["localhost", "localhost"],
      ["[::1]:443", undefined],
      ["127.0.0.1:8443", undefined],
      ["", undefined],
      [undefined, undefined],
      ["a..b", undefined],
      ["bad host", undefined],
      ["-lead.example.net", undefined],
    ];
    for (const [input, want] of cases) assert.equal(hostOfHeader(input), want, String(input));
    assert.equal(normaliseHostname("x".repeat(64) + ".example.net"), undefined, "a label longer than 63");
  });
});

describe("verdict headers", () => {
  const dir = tempDir("gh-edge-unit-");
  after(() => dir.remove());
  const pki = new TestPki(dir);

  test("names the edge owns, compared lower-cased with _ read as -", () => {
    for (const n of ["cf-cert-verified", "CF-Cert-Revoked", "cf_cert_verified", "Cf_Client_Cert_Sha256", "cf-client-cert-der-base64", "client-cert", "Client_Cert_Chain"]) {
      assert.equal(isVerdictHeader(n), true, n);
    }
    for (const n of ["content-type", "cf-ray", "client-certificate", "x-cf-cert-verified", "cookie", "cf-certs"]) assert.equal(isVerdictHeader(n), false, n);
  });

  test("dates in OpenSSL's format, as openssl x509 prints them", () => {
    const root = pki.root("time-root");
    const leaf = pki.issue("time-leaf", root, { kind: "client", notBefore: new Date("2022-03-01T13:35:00Z"), notAfter: new Date("2049-12-31T23:59:59Z") });
    const fields = readCertificateFields(new X509Certificate(leaf.pem).raw);
    assert.equal(formatOpenSslTime(fields.notBefore), "Mar  1 13:35:00 2022 GMT");
    assert.equal(`notBefore=${formatOpenSslTime(fields.notBefore)}\nnotAfter=${formatOpenSslTime(fields.notAfter)}\n`, openssl(["x509", "-in", leaf.certFile, "-noout", "-dates"]));
    assert.equal(fields.serial.toString("hex").toUpperCase(), openssl(["x509", "-in", leaf.certFile, "-noout", "-serial"]).trim().slice("serial=".length));
  });

  test("Client-Cert over 10 KiB and Client-Cert-Chain over 16 KiB are left empty", () => {
    const root = pki.root("big-root");
    const san = Array.from({ length: 420 }, (_, i) => `host-${String(i).padStart(4, "0")}.example.net`);
    const big = new X509Certificate(pki.issue("big-leaf", root, { kind: "client", san }).pem).raw;
    const small = new X509Certificate(pki.issue("small-leaf", root, { kind: "client" }).pem).raw;
    assert.ok(big.toString("base64").length + 2 > CLIENT_CERT_LIMIT, `big leaf is ${big.length} bytes`);
    const h = connectionHeaders({ leaf: readCertificateFields(big), chain: [big, small] });
    assert.equal(h.clientCert, "");
    assert.notEqual(h.clientCertChain, "");
    assert.equal(connectionHeaders({ leaf: readCertificateFields(small), chain: [big, big] }).clientCertChain.length <= CLIENT_CERT_CHAIN_LIMIT, true);
    assert.equal(connectionHeaders({ leaf: readCertificateFields(small), chain: [big, big] }).clientCertChain, "");
    assert.equal(connectionHeaders({ leaf: readCertificateFields(small), chain: [] }).clientCert, `:${small.toString("base64")}:`);
  });
});
