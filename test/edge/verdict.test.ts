/**
 * The client certificate as the edge reads it from a real TLS server socket: from OpenSSL's
 * serialised session (the cheap path) for TLS 1.3 and 1.2, byte for byte what Node's own peer
 * certificate holds; and a verdict shared between connections presenting the same certificate.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { connectionVerdict, peerLeafDer, VerdictCache } from "../../src/edge/verdict.js";
import { readCertificateFields } from "../../src/edge/certificate-fields.js";
import { derToPem } from "../../src/pki/pem.js";
import { tempDir } from "../helpers/openssl.js";
import { TestPki } from "./test-pki.js";

describe("edge verdict on real TLS sockets", () => {
  const dir = tempDir("gh-edge-verdict-");
  after(() => dir.remove());
  const pki = new TestPki(dir);
  const ca = pki.root("verdict-ca");
  const server = pki.issue("verdict-server", ca, { kind: "server", san: ["localhost"] });
  const client = pki.issue("verdict-client", ca, { kind: "client", subject: "/O=Acme/CN=device" });
  const caDer = Buffer.from(ca.pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  const trusted = [{ caId: "00000000-0000-4000-8000-000000000001", kind: "byoca" as const, pem: derToPem(caDer, "CERTIFICATE"), fields: readCertificateFields(caDer), x509: () => { throw new Error("not needed"); } }];

  /** handshake runs one TLS connection and hands the server socket to `check` once secure. */
  async function handshake(version: "TLSv1.2" | "TLSv1.3", check: (s: tls.TLSSocket) => void): Promise<void> {
    const srv = tls.createServer({ cert: server.pem, key: server.keyPem, ca: ca.pem, requestCert: true, rejectUnauthorized: false, minVersion: version, maxVersion: version });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once("secureConnection", (s) => {
          try {
            check(s);
            resolve();
          } catch (err) {
            reject(err);
          } finally {
            s.destroy();
          }
        });
        const c = tls.connect({ port: (srv.address() as AddressInfo).port, host: "127.0.0.1", servername: "localhost", ca: ca.pem, cert: client.pem, key: client.keyPem });
        c.on("error", () => {});
      });
    } finally {
      srv.close();
    }
  }

  for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
    test(`${version}: the session's peer certificate is the client's, without Node's certificate objects`, async () => {
      await handshake(version, (s) => {
        const expected = s.getPeerCertificate(false).raw;
        (s as unknown as { getPeerCertificate: () => never }).getPeerCertificate = () => {
          throw new Error("the session path must not need it");
        };
        assert.deepEqual(peerLeafDer(s), expected);
      });
    });
  }

  test("the same verified certificate gets the same verdict object on a second connection", async () => {
    const verdicts = new VerdictCache();
    const seen: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      await handshake("TLSv1.3", (s) => {
        const v = connectionVerdict(s, trusted, { verdicts, caKey: trusted[0].caId });
        assert.equal(v.verified, true);
        assert.equal(v.headers.fields.find(([k]) => k === "cf-cert-subject-dn")![1], "CN=device,O=Acme");
        seen.push(v);
      });
    }
    assert.equal(seen[0], seen[1]);
  });
});
