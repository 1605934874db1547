import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, beforeEach, describe, it } from "node:test";
import { createTenant, DATABASE_KINDS, startTestGatehouse, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";
import { shOk } from "../est/est-helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** gatehouse runs the real CLI entry (src/cli/main.ts through tsx) as a child process. */
function gatehouse(args: string[], env: Record<string, string>, onStart?: (child: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(child);
  });
}

/** deviceDirs lists DIR's device folders. */
const deviceDirs = (out: string) => readdirSync(out).filter((d) => statSync(join(out, d)).isDirectory());

/** checkDevices asserts every device folder is complete and valid, and returns the certificates' serials. */
async function checkDevices(out: string, count: number, caPem: string): Promise<string[]> {
  const dirs = deviceDirs(out);
  assert.equal(dirs.length, count);
  const serials: string[] = [];
  for (const d of dirs) {
    const dir = join(out, d);
    assert.equal(statSync(join(dir, "key.pem")).mode & 0o777, 0o600, `${d}/key.pem is 0600`);
    const cert = new X509Certificate(readFileSync(join(dir, "cert.pem")));
    assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, "key.pem")))), `${d}: cert matches key`);
    assert.equal(cert.subject, `CN=${d}`);
    assert.equal(new X509Certificate(readFileSync(join(dir, "chain.pem"))).fingerprint256, new X509Certificate(caPem).fingerprint256);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".partial-")), [], "no temporary files left");
    serials.push(cert.serialNumber);
  }
  // openssl judges them all in one go against the chain.
  const verified = await shOk(out, `openssl verify -CAfile ${join(dirs[0], "chain.pem")} ${dirs.map((d) => join(d, "cert.pem")).join(" ")}`);
  assert.equal(verified.trim().split("\n").filter((l) => l.endsWith(": OK")).length, count);
  return serials;
}

for (const kind of DATABASE_KINDS) {
  describe(`gatehouse provision [${kind}]`, () => {
    let h: (TestGatehouse & { stop: () => Promise<void> }) | undefined;
    let apiUrl = "";
    let tenant: Tenant;
    let work = "";
    const env = () => ({ GATEHOUSE_API_URL: apiUrl, GATEHOUSE_API_TOKEN: tenant.editToken });
    const apiCount = async () =>
      (await h!.request({ method: "GET", url: `/client/v4/zones/${tenant.zoneId}/client_certificates?per_page=5`, token: tenant.readToken })).json
        .result_info.total_count as number;

    before(async () => {
      h = await startTestGatehouse(kind);
      apiUrl = await h.gh.app.listen({ host: "127.0.0.1", port: 0 });
    });
    after(async () => {
      await h?.stop();
    });
    beforeEach(async () => {
      await h!.truncate();
      tenant = await createTenant(h!);
      work = mkdtempSync(join(tmpdir(), "gh-provision-"));
    });

    it("--count 200 makes 200 valid devices; a rerun issues nothing", async () => {
      const out = join(work, "devices");
      const run = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "200", "--out", out], env());
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Issued:\s+200\b/);
      assert.match(run.stderr, /^provision: 200\/200 100%  [\d.]+ devices\/s  ETA 0s$/m, "plain progress lines when not on a terminal");
      const serials = await checkDevices(out, 200, tenant.caPem);
      assert.equal(new Set(serials).size, 200);
      assert.equal(await apiCount(), 200);

      const again = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "200", "--out", out, "--json"], env());
      assert.equal(again.code, 0, again.stderr);
      const report = JSON.parse(again.stdout);
      assert.deepEqual([report.issued, report.existing, report.failed.length], [0, 200, 0]);
      assert.equal(await apiCount(), 200);
      rmSync(work, { recursive: true, force: true });
    });

    it("killed halfway with SIGKILL and rerun: exactly 200 certificates in the API, none doubled", async () => {
      const out = join(work, "devices");
      const args = ["provision", "--zone", tenant.zoneId, "--count", "200", "--out", out, "--concurrency", "8"];
      const killed = await gatehouse(args, env(), (child) => {
        const timer = setInterval(() => {
          const done = existsSync(out) ? deviceDirs(out).filter((d) => existsSync(join(out, d, "cert.pem"))).length : 0;
          if (done >= 80) {
            clearInterval(timer);
            child.kill("SIGKILL");
          }
        }, 5);
        child.on("close", () => clearInterval(timer));
      });
      assert.equal(killed.signal, "SIGKILL", `the run was killed before it finished: ${killed.stdout}`);
      const finished = deviceDirs(out).filter((d) => existsSync(join(out, d, "cert.pem"))).length;
      assert.ok(finished >= 80 && finished < 200, `killed halfway (${finished} finished)`);
      const issuedBefore = await apiCount();
      assert.ok(issuedBefore >= finished && issuedBefore < 200);

      const rerun = await gatehouse([...args, "--json"], env());
      assert.equal(rerun.code, 0, rerun.stderr);
      const report = JSON.parse(rerun.stdout);
      assert.equal(report.existing, finished);
      assert.equal(report.issued, 200 - finished);
      // Devices whose certificate was issued before the kill but not yet written were replayed, not
      // issued again (requests in flight at the kill may commit after issuedBefore was read: at least).
      assert.ok(report.replayed >= issuedBefore - finished, `replayed ${report.replayed}, issued before the rerun ${issuedBefore}`);
      const serials = await checkDevices(out, 200, tenant.caPem);
      assert.equal(await apiCount(), 200);
      const rows = await h!.gh.db.sql<{ serial: Buffer }[]>`SELECT serial FROM client_certificates WHERE zone_id = ${tenant.zoneId}`;
      assert.deepEqual(rows.map((r) => r.serial.toString("hex")).sort(), serials.map((s) => s.toLowerCase()).sort(), "the API holds exactly the devices' certificates");
      rmSync(work, { recursive: true, force: true });
    });

    it("a crash between issuance and writing is replayed, never issued twice", async () => {
      const out = join(work, "devices");
      const args = ["provision", "--zone", tenant.zoneId, "--count", "3", "--out", out, "--json"];
      assert.equal((await gatehouse(args, env())).code, 0);
      const first = readFileSync(join(out, "device-2", "cert.pem"), "utf8");
      // As if the process died after the API answered but before chain.pem and cert.pem were renamed in.
      rmSync(join(out, "device-2", "cert.pem"));
      rmSync(join(out, "device-2", "chain.pem"));
      writeFileSync(join(out, "device-2", ".partial-cert.pem.0123456789ab"), first.slice(0, 40));
      const rerun = await gatehouse(args, env());
      assert.equal(rerun.code, 0, rerun.stderr);
      const report = JSON.parse(rerun.stdout);
      assert.deepEqual([report.issued, report.replayed, report.existing], [1, 1, 2]);
      assert.equal(readFileSync(join(out, "device-2", "cert.pem"), "utf8"), first);
      await checkDevices(out, 3, tenant.caPem);
      assert.equal(await apiCount(), 3);
      rmSync(work, { recursive: true, force: true });
    });

    it("--p12 writes device.p12 that openssl opens with the password; a later --p12 run adds it without issuing", async () => {
      const out = join(work, "devices");
      const base = ["provision", "--zone", tenant.zoneId, "--count", "2", "--out", out, "--key-type", "rsa2048", "--name-pattern", "line4-{n:3}"];
      assert.equal((await gatehouse([...base, "--p12"], { ...env(), GATEHOUSE_P12_PASSWORD: "s3cret" })).code, 0);
      const dir = join(out, "line4-001");
      const certs = await shOk(dir, "openssl pkcs12 -in device.p12 -passin env:PW -nokeys", { PW: "s3cret" });
      const inP12 = [...certs.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).fingerprint256).sort();
      const expected = [readFileSync(join(dir, "cert.pem"), "utf8"), tenant.caPem].map((pem) => new X509Certificate(pem).fingerprint256).sort();
      assert.deepEqual(inP12, expected, "the device certificate and its chain");
      const keyFromP12 = await shOk(dir, "openssl pkcs12 -in device.p12 -passin env:PW -nocerts -nodes | openssl pkey -pubout", { PW: "s3cret" });
      assert.equal(keyFromP12, await shOk(dir, "openssl pkey -in key.pem -pubout"));
      assert.equal(new X509Certificate(readFileSync(join(dir, "cert.pem"))).publicKey.asymmetricKeyDetails?.modulusLength, 2048);

      const plain = join(work, "plain");
      const plainArgs = ["provision", "--zone", tenant.zoneId, "--count", "2", "--out", plain];
      assert.equal((await gatehouse(plainArgs, env())).code, 0);
      const withP12 = await gatehouse([...plainArgs, "--p12", "--json"], { ...env(), GATEHOUSE_P12_PASSWORD: "" });
      assert.equal(withP12.code, 0, withP12.stderr);
      assert.equal(JSON.parse(withP12.stdout).issued, 0);
      assert.ok(existsSync(join(plain, "device-1", "device.p12")));
      await shOk(plain, "openssl pkcs12 -in device-1/device.p12 -passin pass: -nokeys -noout");
      assert.equal(await apiCount(), 4);
      rmSync(work, { recursive: true, force: true });
    });

    it("exit 1 lists the devices that failed; the others are written", async () => {
      const out = join(work, "devices");
      await shOk(work, "mkdir -p devices && touch devices/device-2");
      const run = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "4", "--out", out], env());
      assert.equal(run.code, 1);
      assert.match(run.stderr, /1 device\(s\) failed/);
      assert.match(run.stderr, /^  device-2: /m);
      assert.doesNotMatch(run.stderr, /^  device-[134]: /m);
      assert.equal(await apiCount(), 3);

      const bad = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "2", "--out", join(work, "v"), "--validity-days", "5000"], env());
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^  device-1: error 1133: validity_days/m);
      assert.match(bad.stderr, /^  device-2: error 1133: validity_days/m);
      assert.equal(await apiCount(), 3);
      rmSync(work, { recursive: true, force: true });
    });

    it("usage and settings errors: exit 2 naming what to fix; a bad token: exit 1 before any key is made", async () => {
      const out = join(work, "devices");
      const noCount = await gatehouse(["provision", "--zone", tenant.zoneId, "--out", out], env());
      assert.equal(noCount.code, 2);
      assert.match(noCount.stderr, /--count is required/);
      const noToken = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "1", "--out", out], { GATEHOUSE_API_URL: apiUrl });
      assert.equal(noToken.code, 2);
      assert.match(noToken.stderr, /GATEHOUSE_API_TOKEN/);
      const noN = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "2", "--out", out, "--name-pattern", "same"], env());
      assert.equal(noN.code, 2);
      assert.match(noN.stderr, /\{n\}/);
      const badType = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "2", "--out", out, "--key-type", "ed448"], env());
      assert.equal(badType.code, 2);
      const p12 = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "1", "--out", out, "--p12"], env());
      assert.equal(p12.code, 2);
      assert.match(p12.stderr, /GATEHOUSE_P12_PASSWORD/);
      const badToken = await gatehouse(["provision", "--zone", tenant.zoneId, "--count", "1", "--out", out], { ...env(), GATEHOUSE_API_TOKEN: "gh_nope" });
      assert.equal(badToken.code, 1);
      assert.match(badToken.stderr, /cannot start: error 10000/);
      assert.ok(!existsSync(out), "nothing written");
      assert.equal(await apiCount(), 0);
      rmSync(work, { recursive: true, force: true });
    });

    it("on a terminal: a progress bar redrawn in place with rate and ETA", async () => {
      const out = join(work, "devices");
      const cmd = `node --import tsx src/cli/main.ts provision --zone ${tenant.zoneId} --count 30 --out ${out} --concurrency 2`;
      const typescript = await shOk(ROOT, `script -qec ${JSON.stringify(cmd)} /dev/null`, { ...env(), COLUMNS: "100" });
      assert.match(typescript, /\r\x1b\[K\[#+-*\] \d+\/30 +\d+%  [\d.]+ devices\/s  ETA /);
      assert.match(typescript, /\[#{10,}\] 30\/30 100%/);
      assert.match(typescript, /Issued:\s*(\x1b\[0m)?\s*30/);
      rmSync(work, { recursive: true, force: true });
    });
  });
}
