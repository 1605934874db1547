import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawnService, waitForExit, type ServiceProcess } from "../helpers/process.js";
import { makeCsr, makeEstServerCertificate, sh, tempDir } from "./est-helpers.js";

/**
 * The real process (src/server.ts): with only the edge's certificate configured (EDGE_TLS_CERT/KEY,
 * no EST_TLS_*), it starts the EST listener on EST_TLS_PORT and logs where; a device enrolls over
 * it with curl, and the plain API port refuses EST with a pointer to that port.
 */
describe("EST in the service process", () => {
  let dir = "";
  let svc: ServiceProcess | undefined;
  let estPort = 0;
  const op = `gh_op_${randomBytes(16).toString("hex")}`;

  before(async () => {
    dir = tempDir("gh-est-proc-");
    const { certPath, keyPath } = await makeEstServerCertificate(dir);
    svc = await spawnService({
      GATEHOUSE_DATA_DIR: join(dir, "data"),
      GATEHOUSE_OPERATOR_TOKEN: op,
      EDGE_TLS_CERT: certPath,
      EDGE_TLS_KEY: keyPath,
      EST_TLS_PORT: "0",
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const m = /EST \(RFC 7030\) listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(svc.output());
      if (m) {
        estPort = Number(m[1]);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (svc) {
      svc.child.kill("SIGTERM");
      await waitForExit(svc.child);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts EST with the edge's certificate and enrolls a device; the API port points at the EST port", async () => {
    assert.ok(estPort > 0, `EST listener announced: ${svc!.output().slice(-1500)}`);
    const api = `${svc!.url}/client/v4`;
    const post = async (path: string, token: string, body: unknown) => {
      const res = await fetch(api + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      return (await res.json()).result;
    };
    const account = await post("/accounts", op, { name: "factory" });
    const zone = await post("/zones", op, { name: `f${randomBytes(3).toString("hex")}.example.com`, account: { id: account.id } });
    const edit = await post(`/accounts/${account.id}/tokens`, op, { name: "edit", scopes: ["ssl_certificates:edit"] });
    const enrollment = await post(`/zones/${zone.id}/enrollment_tokens`, edit.value, { name: "line 1", max_uses: 1 });
    await makeCsr(dir, "dev", "/CN=device-1");
    const est = `https://127.0.0.1:${estPort}/.well-known/est/${zone.id}`;
    const r = await sh(
      dir,
      `curl -sS --cacert est-server.pem -u d:${enrollment.value} --data-binary @dev.b64 -H 'Content-Type: application/pkcs10' ${est}/simpleenroll | openssl base64 -d | openssl pkcs7 -inform DER -print_certs -out dev.pem && openssl x509 -in dev.pem -noout -subject`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CN ?= ?device-1/);

    const plain = await fetch(`${svc!.url}/.well-known/est/${zone.id}/simpleenroll`, { method: "POST", headers: { "content-type": "application/pkcs10" }, body: "MIIB" });
    assert.equal(plain.status, 403);
    assert.equal(plain.headers.get("gatehouse-error-code"), "1910");
    assert.match(await plain.text(), new RegExp(`port ${estPort}`));
  });
});
