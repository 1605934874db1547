import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { BindingLeaseErrors } from "../../src/services/binding-leases.js";
import { describeEachDatabase } from "../helpers/gatehouse.js";
import { createBindingTenant, listen, makeBindingPki, type BindingPki, type BindingTenant } from "../binding/helpers.js";

/**
 * The unchanged wrangler CLI against Gatehouse: CLOUDFLARE_API_BASE_URL points at /client/v4 and
 * `wrangler mtls-certificate upload | list | delete --name` must work as they do against
 * Cloudflare. wrangler is installed by test/interop/install-wrangler.sh (called from .ci/run)
 * into test/.wrangler/; without it this suite skips and says how to get it.
 */
const WRANGLER = fileURLToPath(new URL("../.wrangler/node_modules/.bin/wrangler", import.meta.url));
const INSTALLED = existsSync(WRANGLER);
const VERSION = INSTALLED ? readFileSync(fileURLToPath(new URL("../.wrangler/.version", import.meta.url)), "utf8").trim() : "";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Ran {
  code: number;
  out: string;
}

if (!INSTALLED) {
  describe("wrangler interop", () => {
    it("skipped: wrangler is not installed in test/.wrangler (run test/interop/install-wrangler.sh)", { skip: "run test/interop/install-wrangler.sh to install wrangler into test/.wrangler" }, () => {});
  });
} else {
  let p: BindingPki;
  let home: string;
  before(() => {
    p = makeBindingPki();
    home = mkdtempSync(join(tmpdir(), "gh-wrangler-"));
  });
  after(() => {
    p.pki.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  describeEachDatabase(`wrangler ${VERSION} against Gatehouse`, (get) => {
    let apiUrl: string;
    let t: BindingTenant;
    let cwd: string;
    before(async () => {
      apiUrl = await listen(get());
    });
    /** fresh: a new tenant, and a new working directory (wrangler caches the account id in ./.wrangler). */
    const fresh = async () => {
      t = await createBindingTenant(get());
      cwd = mkdtempSync(join(home, "project-"));
    };

    /** wrangler runs the real CLI; every request it makes goes to the loopback Gatehouse. */
    function wrangler(args: string[], opts: { accountId?: string | null } = {}): Promise<Ran> {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        HOME: home,
        CI: "true",
        CLOUDFLARE_API_BASE_URL: `${apiUrl}/client/v4`,
        CLOUDFLARE_API_TOKEN: t.editToken,
        WRANGLER_SEND_METRICS: "false",
        // wrangler's update check asks the npm registry: point it at a closed loopback port instead.
        npm_config_registry: "http://127.0.0.1:9/",
        NO_COLOR: "1",
      };
      if (opts.accountId !== null) env.CLOUDFLARE_ACCOUNT_ID = opts.accountId ?? t.accountId;
      return new Promise((resolve) => {
        execFile(WRANGLER, args, { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
          resolve({ code, out: stdout + stderr });
        });
      });
    }

    const apiList = async () => {
      const res = await get().request({ method: "GET", url: `/client/v4/accounts/${t.accountId}/mtls_certificates`, token: t.readToken });
      return res.json.result as Array<{ id: string; name: string; ca: boolean }>;
    };

    it("0/wrangler mtls-certificate upload, list, delete --name", async () => {
      await fresh();
      const up = await wrangler(["mtls-certificate", "upload", "--cert", p.clientOne.certPath, "--key", p.clientOne.keyPath, "--name", "wr-one"]);
      assert.equal(up.code, 0, up.out);
      assert.match(up.out, /Success! Uploaded mTLS Certificate wr-one/);
      const id = up.out.match(new RegExp(`ID: (${UUID.source})`))?.[1];
      assert.ok(id, up.out);
      assert.match(up.out, /Issuer: CN=ca-a,O=Example Inc\.,C=US/);
      const stored = await apiList();
      assert.deepEqual(stored.map((c) => [c.id, c.name, c.ca]), [[id, "wr-one", false]]);

      const listed = await wrangler(["mtls-certificate", "list"]);
      assert.equal(listed.code, 0, listed.out);
      assert.match(listed.out, new RegExp(`ID: ${id}\\s+Name: wr-one\\s+Issuer: CN=ca-a`));

      const del = await wrangler(["mtls-certificate", "delete", "--name", "wr-one"]);
      assert.equal(del.code, 0, del.out);
      assert.match(del.out, new RegExp(`Deleted certificate ${id} \\(wr-one\\) successfully`));
      assert.deepEqual(await apiList(), []);
    });

    it("0/without CLOUDFLARE_ACCOUNT_ID wrangler finds the account through /memberships", async () => {
      await fresh();
      const up = await wrangler(["mtls-certificate", "upload", "--cert", p.clientTwo.certPath, "--key", p.clientTwo.keyPath, "--name", "wr-two"], { accountId: null });
      assert.equal(up.code, 0, up.out);
      const listed = await wrangler(["mtls-certificate", "list"], { accountId: null });
      assert.equal(listed.code, 0, listed.out);
      assert.match(listed.out, /Name: wr-two/);
    });

    it("409/wrangler's delete of a certificate a binding uses fails with Gatehouse's code and reason", async () => {
      await fresh();
      const up = await wrangler(["mtls-certificate", "upload", "--cert", p.clientOne.certPath, "--key", p.clientOne.keyPath, "--name", "bound"]);
      const id = up.out.match(new RegExp(`ID: (${UUID.source})`))![1];
      const lease = await get().request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/mtls_certificates/${id}/bindings`, token: t.useToken, body: { binding: "MY_CERT", holder: "wrangler-test:1" } });
      assert.equal(lease.statusCode, 200, lease.body);
      const del = await wrangler(["mtls-certificate", "delete", "--id", id]);
      assert.notEqual(del.code, 0, del.out);
      assert.match(del.out, new RegExp(`${BindingLeaseErrors.inUseByBinding}`));
      assert.match(del.out, /MY_CERT/);
      assert.equal((await apiList()).length, 1);
    });
  });
}
