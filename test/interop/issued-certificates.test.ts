import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { makeCsr, OPENSSL_KEY_OPTIONS } from "../helpers/csr.js";
import { createTenant, DATABASE_KINDS, startTestGatehouse, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";

const KEY_TYPES = ["RSA-2048", "RSA-3072", "RSA-4096", "P-256", "P-384", "Ed25519"];

/**
 * Certificates issued through the API are judged by independent peers: openssl verify -x509_strict,
 * gnutls certtool, and a real TLS handshake where curl presents them to a Node https server that
 * demands client certificates from the account's CA.
 */
describe(`issued certificates against openssl, certtool and curl [${DATABASE_KINDS.at(-1)}]`, () => {
  let h: TestGatehouse & { stop: () => Promise<void> };
  let t: Tenant;
  let dir: string;
  const issued = new Map<string, { cert: string; key: string }>();

  before(async () => {
    h = await startTestGatehouse(DATABASE_KINDS.at(-1)!);
    t = await createTenant(h);
    dir = mkdtempSync(join(tmpdir(), "gh-interop-"));
    writeFileSync(join(dir, "ca.pem"), t.caPem);
    for (const keyType of KEY_TYPES) {
      const { csrPem, keyPem } = makeCsr({ keyType, subject: `/O=Interop/CN=client-${keyType}`, addext: ["subjectAltName=DNS:client.example.com,URI:spiffe://example.com/client"] });
      const res = await h.request({ method: "POST", url: `/client/v4/zones/${t.zoneId}/client_certificates`, token: t.editToken, body: { csr: csrPem, validity_days: 30 } });
      assert.equal(res.statusCode, 200, `${keyType}: ${res.body}`);
      issued.set(keyType, { cert: res.json.result.certificate, key: keyPem });
      writeFileSync(join(dir, `${keyType}.pem`), res.json.result.certificate);
      writeFileSync(join(dir, `${keyType}.key`), keyPem, { mode: 0o600 });
    }
  });
  after(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const keyType of KEY_TYPES) {
    it(`${keyType}: openssl verify -x509_strict and certtool -i accept it`, () => {
      const verify = spawnSync("openssl", ["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", join(dir, "ca.pem"), join(dir, `${keyType}.pem`)], { encoding: "utf8" });
      assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /: OK/);
      const certtool = spawnSync("certtool", ["-i", "--infile", join(dir, `${keyType}.pem`)], { encoding: "utf8" });
      assert.equal(certtool.status, 0, certtool.stderr);
      assert.match(certtool.stdout, /TLS WWW Client/);
      assert.doesNotMatch(certtool.stdout + certtool.stderr, /warning|error/i);
    });
  }

  it("the managed CA passes openssl verify -x509_strict and certtool", () => {
    const verify = spawnSync("openssl", ["verify", "-x509_strict", "-CAfile", join(dir, "ca.pem"), join(dir, "ca.pem")], { encoding: "utf8" });
    assert.equal(verify.status, 0, verify.stderr);
    const certtool = spawnSync("certtool", ["-i", "--infile", join(dir, "ca.pem")], { encoding: "utf8" });
    assert.equal(certtool.status, 0, certtool.stderr);
    assert.match(certtool.stdout, /Certificate Authority \(CA\): TRUE/);
  });

  describe("a TLS server demanding client certificates from the account's CA", () => {
    let server: Server;
    let port: number;
    before(async () => {
      execFileSync("openssl", ["req", "-x509", ...OPENSSL_KEY_OPTIONS["P-256"], "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost", "-keyout", join(dir, "server.key"), "-out", join(dir, "server.pem")], { stdio: "ignore" });
      execFileSync("openssl", ["req", "-x509", ...OPENSSL_KEY_OPTIONS["P-256"], "-nodes", "-days", "1", "-subj", "/CN=impostor",
        "-keyout", join(dir, "self.key"), "-out", join(dir, "self.pem")], { stdio: "ignore" });
      server = createServer(
        { key: execFileSync("cat", [join(dir, "server.key")]), cert: execFileSync("cat", [join(dir, "server.pem")]), ca: t.caPem, requestCert: true, rejectUnauthorized: true },
        (req, res) => {
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          res.end(`hello ${peer.subject?.CN}`);
        },
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    // curl runs asynchronously: the server answering it lives in this process's event loop.
    const curl = (cert: string, key: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile("curl", ["-sS", "--max-time", "10", "--cacert", join(dir, "server.pem"), "--resolve", `localhost:${port}:127.0.0.1`,
          "--cert", cert, "--key", key, `https://localhost:${port}/`], { encoding: "utf8" }, (err, stdout, stderr) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
      });

    for (const keyType of ["P-256", "RSA-2048", "Ed25519"]) {
      it(`accepts curl --cert with an issued ${keyType} certificate`, async () => {
        const res = await curl(join(dir, `${keyType}.pem`), join(dir, `${keyType}.key`));
        assert.equal(res.status, 0, res.stderr);
        assert.equal(res.stdout, `hello client-${keyType}`);
      });
    }

    it("refuses a self-signed client certificate", async () => {
      const res = await curl(join(dir, "self.pem"), join(dir, "self.key"));
      assert.notEqual(res.status, 0);
      assert.doesNotMatch(res.stdout, /hello/);
    });
  });
});
