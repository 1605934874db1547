import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect, createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { makeCsr } from "../helpers/csr.js";
import { createTenant, DATABASE_KINDS, startTestGatehouse, type TestGatehouse } from "../helpers/gatehouse.js";
import { crlSerials, issue, rawRequest, revoke, run, tempDir, waitForCrl } from "../helpers/revocation.js";

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, "127.0.0.1");
    c.once("connect", () => c.destroy() && resolve(true) === undefined);
    c.once("error", () => resolve(false));
  });

/**
 * nginx (the Debian package, run in the foreground with its own prefix on a loopback port, never
 * the system service) with ssl_verify_client on, ssl_client_certificate = the managed CA and
 * ssl_crl = the CRL fetched from Gatehouse, in real TLS handshakes driven by curl.
 */
for (const kind of DATABASE_KINDS) {
  describe(`nginx ssl_crl from Gatehouse refuses a revoked client certificate [${kind}]`, () => {
    let h: TestGatehouse & { stop: () => Promise<void> };
    let nginx: ChildProcess | undefined;
    const dir = tempDir("gh-nginx-");
    before(async () => {
      h = await startTestGatehouse(kind, { crlDebounceSeconds: 0, pkiRateLimit: 0 } as never);
    });
    after(async () => {
      if (nginx && nginx.exitCode === null) {
        nginx.kill("SIGQUIT");
        await new Promise((r) => nginx!.once("exit", r));
      }
      await h?.stop();
      dir.remove();
    });

    it("a good certificate gets 200, a held and a keyCompromise one get 400 with 'certificate revoked' in nginx's log", async () => {
      const t = await createTenant(h);
      const good = makeCsr({ subject: "/CN=good-client" });
      const held = makeCsr({ subject: "/CN=held-client" });
      const gone = makeCsr({ subject: "/CN=compromised-client" });
      const [goodCert, heldCert, goneCert] = [await issue(h, t, good.csrPem), await issue(h, t, held.csrPem), await issue(h, t, gone.csrPem)];
      const before = await waitForCrl(h, t.caId, () => true);
      await revoke(h, t, heldCert.id);
      await revoke(h, t, goneCert.id, "keyCompromise");
      await waitForCrl(h, t.caId, async (c) => c.number > before.number && (await crlSerials(dir, c.der)).length === 2);
      // the file nginx loads is what a cron job would fetch: /crl.pem
      const crlPem = (await rawRequest(h, { method: "GET", url: `/pki/${t.caId}/crl.pem` })).body.toString();
      dir.file("crl.pem", crlPem);
      dir.file("ca.pem", t.caPem);
      for (const [name, made] of [["good", good], ["held", held], ["gone", gone]] as const) dir.file(`${name}.key`, made.keyPem);
      dir.file("good.pem", goodCert.pem);
      dir.file("held.pem", heldCert.pem);
      dir.file("gone.pem", goneCert.pem);

      const srv = await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir.file("server.key"), "-out", dir.file("server.pem"), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
      assert.equal(srv.code, 0, srv.out);
      const port = await freePort();
      mkdirSync(dir.file("tmp"));
      dir.file(
        "nginx.conf",
        `daemon off;
master_process off;
worker_processes 1;
pid ${dir.file("nginx.pid")};
error_log ${dir.file("error.log")} info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir.file("tmp")}/body;
  proxy_temp_path ${dir.file("tmp")}/proxy;
  fastcgi_temp_path ${dir.file("tmp")}/fastcgi;
  uwsgi_temp_path ${dir.file("tmp")}/uwsgi;
  scgi_temp_path ${dir.file("tmp")}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir.file("server.pem")};
    ssl_certificate_key ${dir.file("server.key")};
    ssl_session_tickets off;
    ssl_client_certificate ${dir.file("ca.pem")};
    ssl_verify_client on;
    ssl_crl ${dir.file("crl.pem")};
    location / { return 200 "hello $ssl_client_s_dn\\n"; }
  }
}
`,
      );
      const check = await run("nginx", ["-t", "-p", dir.path, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")]);
      assert.equal(check.code, 0, check.out);
      nginx = spawn("nginx", ["-p", dir.path, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")], { stdio: "ignore" });
      for (let i = 0; i < 100 && !(await reachable(port)); i++) await new Promise((r) => setTimeout(r, 50));

      const curl = (name: string) =>
        run("curl", ["-s", "--cacert", dir.file("server.pem"), "--cert", dir.file(`${name}.pem`), "--key", dir.file(`${name}.key`), "-w", "\n%{http_code}", `https://127.0.0.1:${port}/`]);
      const ok = await curl("good");
      assert.match(ok.out, /^hello CN=good-client\n\n200$/);
      for (const name of ["held", "gone"]) {
        const refused = await curl(name);
        assert.match(refused.out, /400$/, `${name}: ${refused.out}`);
        assert.match(refused.out, /The SSL certificate error/);
      }
      const log = (await run("cat", [dir.file("error.log")])).out;
      assert.equal((log.match(/client SSL certificate verify error: \(23:certificate revoked\)/g) ?? []).length, 2, log);
    });
  });
}
