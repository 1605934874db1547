import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { clientCertificateCommand } from "../../src/cli/client-certificate.js";
import { runCli, type Command } from "../../src/cli/framework.js";
import { hostnameAssociationCommand } from "../../src/cli/hostname-association.js";
import { mtlsCertificateCommand } from "../../src/cli/mtls-certificate.js";
import type { Io } from "../../src/cli/output.js";
import { provisionCommand } from "../../src/cli/provision.js";
import { edgeCommand, serveCommand } from "../../src/cli/serve.js";
import { BindingLeaseErrors } from "../../src/services/binding-leases.js";
import { describeEachDatabase } from "../helpers/gatehouse.js";
import { createBindingTenant, listen, makeBindingPki, type BindingPki, type BindingTenant } from "../binding/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const BUILT = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** newest returns the latest modification time of the .ts files under a folder. */
function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const path = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(path) : e.name.endsWith(".ts") ? statSync(path).mtimeMs : 0);
  }, 0);
}

/**
 * ENTRY: the built bin (dist/cli/main.js, as `npm run build` makes it: what users run) when it is
 * newer than every source file; otherwise the sources through tsx (slower to start).
 */
const ENTRY: string[] =
  existsSync(BUILT) && statSync(BUILT).mtimeMs >= newest(join(ROOT, "src")) ? [BUILT] : ["--import", "tsx", MAIN];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const ESC = "\x1b[";

let p: BindingPki;
before(() => {
  p = makeBindingPki();
});
after(() => p.pki.cleanup());

interface Ran {
  code: number;
  out: string;
  err: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * gatehouse runs the real command line in a child process. With `pty`, it runs under `script`
 * (util-linux) so stdout and stdin are a pseudo-terminal of `cols` columns; `input` is typed.
 */
function gatehouse(args: string[], env: Record<string, string>, opts: { pty?: boolean; cols?: number; input?: string } = {}): Promise<Ran> {
  const node = [process.execPath, ...ENTRY, ...args].map(quote).join(" ");
  const [cmd, argv] = opts.pty
    ? ["script", ["-qec", `stty cols ${opts.cols ?? 160} rows 50; ${node}`, "/dev/null"]]
    : [process.execPath, [...ENTRY, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv as string[], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out: out.replace(/\r\n/g, "\n"), err }));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** inProcess runs a command line in this process, with stdout a TTY or not, for the many cheap cases. */
async function inProcess(root: Command, args: string[], env: Record<string, string>, tty = false): Promise<Ran> {
  let out = "";
  let err = "";
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  const stdout = Object.assign(sink((s) => (out += s)), { isTTY: tty, columns: 100 });
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  stdin.end();
  const io: Io = { stdout, stderr: sink((s) => (err += s)), stdin, env };
  const code = await runCli(root, args, io);
  return { code, out, err };
}

const ROOT_COMMAND: Command = {
  name: "gatehouse",
  summary: "test root",
  subcommands: [mtlsCertificateCommand, clientCertificateCommand, hostnameAssociationCommand, serveCommand, edgeCommand, provisionCommand],
};

describe("gatehouse --help", () => {
  it("200/every command and group answers --help with its usage and exit 0", async () => {
    const walk = async (cmd: Command, path: string[]) => {
      const r = await inProcess(ROOT_COMMAND, [...path, "--help"], {});
      assert.equal(r.code, 0, `${path.join(" ")} --help`);
      assert.match(r.out, /^Usage: gatehouse/m, path.join(" "));
      assert.match(r.out, /--help/);
      for (const sub of cmd.subcommands ?? []) await walk(sub, [...path, sub.name]);
    };
    await walk(ROOT_COMMAND, []);
  });

  it("200/the bin lists its command groups; 2/unknown command or option", async () => {
    const help = await gatehouse(["--help"], {});
    assert.equal(help.code, 0, help.err);
    for (const group of ["mtls-certificate", "client-certificate", "hostname-association", "serve", "edge", "provision"]) assert.match(help.out, new RegExp(`^  ${group} `, "m"));
    const unknown = await inProcess(ROOT_COMMAND, ["mtls-certificate", "lst"], {});
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'lst'/);
    const badOption = await inProcess(ROOT_COMMAND, ["mtls-certificate", "list", "--bogus"], {});
    assert.equal(badOption.code, 2);
    assert.match(badOption.err, /--bogus/);
  });
});

describeEachDatabase("gatehouse CLI against a running Gatehouse", (get) => {
  let apiUrl: string;
  let t: BindingTenant;
  let env: Record<string, string>;
  before(async () => {
    apiUrl = await listen(get());
  });
  const setup = async () => {
    t = await createBindingTenant(get());
    env = { GATEHOUSE_API_URL: apiUrl, GATEHOUSE_API_TOKEN: t.editToken, GATEHOUSE_ACCOUNT_ID: t.accountId };
  };
  const list = async () => JSON.parse((await inProcess(ROOT_COMMAND, ["mtls-certificate", "list", "--json"], env)).out) as Array<{ id: string; name: string }>;

  it("0/upload, list and delete by id and by name through a pseudo-terminal: wrangler's fields, bold headers, a table fitted to the terminal", async () => {
    await setup();
    const up = await gatehouse(["mtls-certificate", "upload", "--cert", p.clientOne.certPath, "--key", p.clientOne.keyPath, "--name", "client-one"], env, { pty: true });
    assert.equal(up.code, 0, up.out + up.err);
    assert.match(up.out, /Uploaded mTLS certificate client-one/);
    const id = up.out.match(new RegExp(`ID:[^\\n]*?(${UUID.source})`))?.[1];
    assert.ok(id, up.out);
    assert.match(up.out, /Issuer:.*CN=ca-a/);
    assert.match(up.out, /Expires on:.*\d{4}-\d\d-\d\dT/);
    assert.ok(up.out.includes(ESC + "1m"), "labels are bold on a terminal");
    const two = await gatehouse(["mtls-certificate", "upload", "--cert", p.clientTwo.certPath, "--key", p.clientTwo.keyPath, "--name", "client-two"], env);
    assert.equal(two.code, 0, two.err);
    assert.ok(!two.out.includes(ESC), "no escape codes when stdout is not a terminal");

    const wide = await gatehouse(["mtls-certificate", "list"], env, { pty: true, cols: 200 });
    assert.equal(wide.code, 0, wide.err);
    const lines = wide.out.trimEnd().split("\n");
    assert.match(lines[0], new RegExp(`^${ESC.replace("[", "\\[")}1mID\\s+NAME\\s+CA\\s+ISSUER\\s+UPLOADED ON\\s+EXPIRES ON`));
    assert.equal(lines.length, 3);
    assert.match(wide.out, new RegExp(`${id}\\s+client-one\\s+no\\s+CN=ca-a`));
    const narrow = await gatehouse(["mtls-certificate", "list"], env, { pty: true, cols: 100 });
    for (const line of narrow.out.trimEnd().split("\n")) assert.ok(line.replace(/\x1b\[[0-9;]*m/g, "").length <= 100, `fits 100 columns: ${line}`);
    assert.ok(narrow.out.includes(id), "ids are never shortened");
    assert.ok(narrow.out.includes("…"), "a long column is shortened on a narrow terminal");

    const byId = await gatehouse(["mtls-certificate", "delete", "--id", id, "--yes"], env, { pty: true });
    assert.equal(byId.code, 0, byId.out);
    assert.match(byId.out, new RegExp(`Deleted mTLS certificate ${id} \\(client-one\\)`));
    assert.deepEqual((await list()).map((c) => c.name), ["client-two"]);

    const asked = await gatehouse(["mtls-certificate", "delete", "--name", "client-two"], env, { pty: true, input: "y\n" });
    assert.equal(asked.code, 0, asked.out);
    assert.match(asked.out, /Delete mTLS certificate .* \(client-two\)\? \[y\/N\]/);
    assert.match(asked.out, /Deleted mTLS certificate/);
    assert.deepEqual(await list(), []);
  });

  it("0/--json for scripts: upload, list and delete print the API's result, parseable", async () => {
    await setup();
    const up = await gatehouse(["mtls-certificate", "upload", "--json", "--cert", p.clientOne.certPath, "--key", p.clientOne.keyPath, "--name", "j"], env);
    assert.equal(up.code, 0, up.err);
    const created = JSON.parse(up.out);
    assert.equal(created.name, "j");
    assert.equal(created.ca, false);
    assert.ok(!up.out.includes("PRIVATE KEY"), "the key never comes back");
    const listed = JSON.parse((await gatehouse(["mtls-certificate", "list", "--json", "--leaf"], env)).out);
    assert.deepEqual(listed.map((c: { id: string }) => c.id), [created.id]);
    const del = await gatehouse(["mtls-certificate", "delete", "--json", "--name", "j", "--yes"], env);
    assert.equal(del.code, 0, del.err);
    assert.equal(JSON.parse(del.out).id, created.id);
  });

  it("1 and 2/errors: API errors as code + message (exit 1), usage and missing settings (exit 2)", async () => {
    await setup();
    const h = get();
    const up = await inProcess(ROOT_COMMAND, ["mtls-certificate", "upload", "--json", "--cert", p.clientOne.certPath, "--key", p.clientOne.keyPath, "--name", "bound"], env);
    const id = JSON.parse(up.out).id;
    const noConfirm = await gatehouse(["mtls-certificate", "delete", "--name", "bound"], env);
    assert.equal(noConfirm.code, 2, noConfirm.err);
    assert.match(noConfirm.err, /pass --yes/);
    const lease = await h.request({ method: "POST", url: `/client/v4/accounts/${t.accountId}/mtls_certificates/${id}/bindings`, token: t.useToken, body: { binding: "MY_CERT", holder: "cli-test:1" } });
    assert.equal(lease.statusCode, 200, lease.body);

    const bound = await gatehouse(["mtls-certificate", "delete", "--id", id, "--yes"], env);
    assert.equal(bound.code, 1);
    assert.match(bound.err, new RegExp(`^error ${BindingLeaseErrors.inUseByBinding}: .*MY_CERT`));
    const boundJson = await inProcess(ROOT_COMMAND, ["mtls-certificate", "delete", "--id", id, "--yes", "--json"], env);
    assert.equal(boundJson.code, 1);
    assert.equal(JSON.parse(boundJson.out).errors[0].code, BindingLeaseErrors.inUseByBinding);
    const forced = await inProcess(ROOT_COMMAND, ["mtls-certificate", "delete", "--id", id, "--yes", "--force"], env);
    assert.equal(forced.code, 0, forced.err);

    const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
      [["mtls-certificate", "delete", "--id", id, "--name", "x"], env, 2, /can't provide both --id and --name\./],
      [["mtls-certificate", "delete"], env, 2, /must provide --id or --name\./],
      [["mtls-certificate", "delete", "--name", "nobody"], env, 1, /certificate not found with name "nobody"/],
      [["mtls-certificate", "delete", "--id", randomUUID(), "--yes"], env, 1, /^error 1005: mTLS certificate not found/],
      [["mtls-certificate", "upload", "--cert", "/nonexistent.pem", "--key", "k"], env, 2, /cannot read --cert \/nonexistent\.pem: ENOENT/],
      [["mtls-certificate", "upload", "--cert", p.clientOne.certPath], env, 2, /--key is required/],
      [["mtls-certificate", "list"], { ...env, GATEHOUSE_API_URL: "" }, 2, /GATEHOUSE_API_URL is not set/],
      [["mtls-certificate", "list"], { ...env, GATEHOUSE_API_TOKEN: "" }, 2, /GATEHOUSE_API_TOKEN is not set/],
      [["mtls-certificate", "list"], { ...env, GATEHOUSE_ACCOUNT_ID: "" }, 2, /GATEHOUSE_ACCOUNT_ID is not set: set it \(or pass --account\)/],
      [["mtls-certificate", "list"], { ...env, GATEHOUSE_API_TOKEN: "gh_wrong" }, 1, /^error 10000: /],
      [["client-certificate", "list"], env, 2, /--zone ZONE_ID or set GATEHOUSE_ZONE_ID/],
    ];
    for (const [args, e, code, message] of cases) {
      const r = await inProcess(ROOT_COMMAND, args, e);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, message, args.join(" "));
    }
  });

  it("0/client-certificate create, list, get, revoke, reactivate and hostname-association put/get", async () => {
    await setup();
    const zoneEnv = { ...env, GATEHOUSE_ZONE_ID: t.zoneId };
    const csr = p.pki.openssl(["req", "-new", "-key", p.clientOne.keyPath, "-subj", "/CN=device-1"]);
    const csrPath = p.pki.write("device-1.csr", csr);
    const outPath = p.pki.path("device-1.pem");
    const created = await inProcess(ROOT_COMMAND, ["client-certificate", "create", "--csr", csrPath, "--validity-days", "30", "--out", outPath], zoneEnv);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /Issued client certificate/);
    assert.match(p.pki.read("device-1.pem"), /^-----BEGIN CERTIFICATE-----/);
    const id = created.out.match(new RegExp(`ID:\\s+(${UUID.source})`))![1];
    const listed = await inProcess(ROOT_COMMAND, ["client-certificate", "list"], zoneEnv);
    assert.match(listed.out, /^ID\s+COMMON NAME\s+STATUS\s+SERIAL\s+EXPIRES ON$/m);
    assert.match(listed.out, new RegExp(`${id}\\s+device-1\\s+active`));
    const revoked = await inProcess(ROOT_COMMAND, ["client-certificate", "revoke", id, "--json"], zoneEnv);
    assert.equal(JSON.parse(revoked.out).status, "revoked");
    const reactivated = await inProcess(ROOT_COMMAND, ["client-certificate", "reactivate", "--id", id], zoneEnv);
    assert.equal(reactivated.code, 0, reactivated.err);
    assert.match(reactivated.out, /Status:\s+active/);
    const final = await inProcess(ROOT_COMMAND, ["client-certificate", "revoke", id, "--reason", "keyCompromise"], zoneEnv);
    assert.match(final.out, /Status:\s+revoked \(keyCompromise\)/);
    const again = await inProcess(ROOT_COMMAND, ["client-certificate", "reactivate", id], zoneEnv);
    assert.equal(again.code, 1);
    assert.match(again.err, /^error \d+: /);
    const pem = await inProcess(ROOT_COMMAND, ["client-certificate", "get", id, "--pem"], zoneEnv);
    assert.match(pem.out, /^-----BEGIN CERTIFICATE-----\n/);

    const host = `api.${t.zoneName}`;
    const put = await inProcess(ROOT_COMMAND, ["hostname-association", "put", "--hostname", host, "--hostname", `*.dev.${t.zoneName}`], zoneEnv);
    assert.equal(put.code, 0, put.err);
    const got = await inProcess(ROOT_COMMAND, ["hostname-association", "get", "--json"], zoneEnv);
    assert.deepEqual(JSON.parse(got.out).hostnames, [`*.dev.${t.zoneName}`, host].sort());
    const cleared = await inProcess(ROOT_COMMAND, ["hostname-association", "put", "--clear"], zoneEnv);
    assert.match(cleared.out, /No hostnames\./);
    const bad = await inProcess(ROOT_COMMAND, ["hostname-association", "put"], zoneEnv);
    assert.equal(bad.code, 2);
  });
});
