import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { startTestGatehouse } from "../helpers/gatehouse.js";
import { createBindingTenant, listen, makeBindingPki, startMtlsServer, uploadClient, type BindingPki, type MtlsServer } from "./helpers.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILT = existsSync(join(ROOT, "dist/index.js")) && existsSync(join(ROOT, "dist/index.d.ts"));

/**
 * The package as users get it: `npm pack` of the built output, installed into a fresh project,
 * which imports `createBindings` from "gatehouse", type-checks against its declarations, and
 * makes a real mTLS call through a binding against a running Gatehouse.
 */
describe("the gatehouse package (npm pack)", { skip: !BUILT && "dist/ is missing: run `npm run build` first" }, () => {
  let dir: string;
  let p: BindingPki;
  let server: MtlsServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gh-pack-"));
    p = makeBindingPki();
    server = await startMtlsServer(p);
  });
  after(async () => {
    await server?.close();
    p?.pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("200/a project that installed the packed tarball runs the bin, imports createBindings, type-checks, and fetches with a client certificate", async () => {
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT });
    const [packed] = JSON.parse(stdout);
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts") && files.includes("dist/cli/main.js"));
    assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/")), "only the build output, migrations and the contract ship");

    const project = join(dir, "project");
    await run("mkdir", ["-p", project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "uses-gatehouse", private: true, type: "module" }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", join(dir, packed.filename)], { cwd: project, timeout: 240_000 });

    const bin = await run(join(project, "node_modules/.bin/gatehouse"), ["mtls-certificate", "--help"], { cwd: project });
    assert.match(bin.stdout, /^Usage: gatehouse mtls-certificate <command>/m, "the package's bin runs");

    writeFileSync(
      join(project, "check.ts"),
      `import { createBindings, BindingError, type Bindings, type Fetcher } from "gatehouse";\n` +
        `const env: Bindings<"MY_CERT"> = await createBindings({ mtls_certificates: [{ binding: "MY_CERT", certificate_id: "x" }] });\n` +
        `const f: Fetcher = env.MY_CERT;\nconst r: Response = await f.fetch(new Request("https://example.com"), { method: "GET" });\n` +
        `export const ok: [number, typeof BindingError] = [r.status, BindingError];\n`,
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    await run(process.execPath, [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2023,dom",
      "--types", "node", "--typeRoots", join(ROOT, "node_modules/@types"), "--skipLibCheck", "check.ts"], { cwd: project });

    const h = await startTestGatehouse("embedded");
    try {
      const apiUrl = await listen(h);
      const t = await createBindingTenant(h);
      const id = await uploadClient(h, t, p.clientOne);
      writeFileSync(
        join(project, "main.mjs"),
        `import { createBindings } from "gatehouse";\n` +
          `const env = await createBindings({ mtls_certificates: [{ binding: "MY_CERT", certificate_id: process.argv[2] }] }, undefined, { ca: process.env.SERVER_CA });\n` +
          `const res = await env.MY_CERT.fetch(process.argv[3]);\nconsole.log(JSON.stringify(await res.json()));\nawait env.close();\n`,
      );
      const out = await run(process.execPath, ["main.mjs", id, `${server.url}/from-the-package`], {
        cwd: project,
        env: { PATH: process.env.PATH, GATEHOUSE_API_URL: apiUrl, GATEHOUSE_API_TOKEN: t.useToken, GATEHOUSE_ACCOUNT_ID: t.accountId, SERVER_CA: p.caA.certPem },
      });
      assert.deepEqual(JSON.parse(out.stdout), { cn: "client-one", method: "GET", path: "/from-the-package", body: "" });
      const leases = await h.gh.db.sql`SELECT count(*)::int AS n FROM binding_leases`;
      assert.equal(leases[0].n, 0, "close() released the lease before the process exited");
    } finally {
      await h.stop();
    }
  });
});
