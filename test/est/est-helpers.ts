import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe } from "node:test";
import { promisify } from "node:util";
import type { Config } from "../../src/config.js";
import { DATABASE_KINDS, startTestGatehouse, type DatabaseKind, type Tenant, type TestGatehouse } from "../helpers/gatehouse.js";

const execFileAsync = promisify(execFile);

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** sh runs a bash command line (pipes as RFC 7030's examples write them) in `cwd`. */
export async function sh(cwd: string, command: string, env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync("bash", ["-o", "pipefail", "-c", command], {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(e) };
  }
}

/** shOk runs `command` and fails with its output when it exits non-zero. */
export async function shOk(cwd: string, command: string, env: Record<string, string> = {}): Promise<string> {
  const r = await sh(cwd, command, env);
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${command}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** tempDir makes a scratch directory; the harness removes it when it stops. */
export function tempDir(prefix = "gh-est-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** EstHarness: Gatehouse with its EST listener on an ephemeral loopback port and the server's CA file. */
export interface EstHarness {
  h: TestGatehouse;
  dir: string;
  estUrl: string;
  estPort: number;
  /** curl's common options: the EST server's certificate as the only trust anchor. */
  curl: string;
}

/** makeEstServerCertificate writes a self-signed P-256 server certificate for 127.0.0.1 into `dir`. */
export async function makeEstServerCertificate(dir: string): Promise<{ certPath: string; keyPath: string }> {
  await shOk(
    dir,
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout est-server.key -out est-server.pem " +
      "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null",
  );
  return { certPath: join(dir, "est-server.pem"), keyPath: join(dir, "est-server.key") };
}

/** startEstHarness starts Gatehouse (embedded or server database) with EST on an ephemeral port. */
export async function startEstHarness(kind: DatabaseKind, overrides: Partial<Config> = {}): Promise<EstHarness & { stop: () => Promise<void> }> {
  const dir = tempDir();
  const { certPath, keyPath } = await makeEstServerCertificate(dir);
  const h = await startTestGatehouse(kind, { estTlsCertPath: certPath, estTlsKeyPath: keyPath, estPort: 0, ...overrides });
  if (!h.gh.est) throw new Error("EST app was not built");
  await h.gh.est.listen({ host: "127.0.0.1", port: 0 });
  const address = h.gh.est.server.address();
  const estPort = typeof address === "object" && address ? address.port : 0;
  return {
    h,
    dir,
    estPort,
    estUrl: `https://127.0.0.1:${estPort}/.well-known/est`,
    curl: `curl -sS --max-time 30 --cacert ${certPath}`,
    async stop() {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** describeEst runs a suite per database kind with an EST harness, truncating before each case. */
export function describeEst(name: string, body: (get: () => EstHarness) => void, kinds: DatabaseKind[] = DATABASE_KINDS): void {
  for (const kind of kinds) {
    describe(`${name} [${kind}]`, () => {
      let e: (EstHarness & { stop: () => Promise<void> }) | undefined;
      before(async () => {
        e = await startEstHarness(kind);
      });
      after(async () => {
        await e?.stop();
      });
      beforeEach(async () => {
        await e!.h.truncate();
      });
      body(() => e!);
    });
  }
}

/** createEnrollmentToken makes a token through the API and returns its id and value. */
export async function createEnrollmentToken(
  h: TestGatehouse,
  tenant: Tenant,
  body: Record<string, unknown> = {},
): Promise<{ id: string; value: string }> {
  const res = await h.request({
    method: "POST",
    url: `/client/v4/zones/${tenant.zoneId}/enrollment_tokens`,
    token: tenant.editToken,
    body: { name: "factory line 1", ...body },
  });
  if (res.statusCode !== 200) throw new Error(`enrollment token: ${res.body}`);
  return { id: res.json.result.id, value: res.json.result.value };
}

/**
 * makeCsr writes `<name>.key` (P-256 unless `newkey` says otherwise) and `<name>.b64`, the
 * base64 of its DER CSR (what EST sends), into `dir`.
 */
export async function makeCsr(dir: string, name: string, subject: string, opts: { newkey?: string; key?: string; addext?: string } = {}): Promise<string> {
  const keyArgs = opts.key ? `-key ${opts.key}` : `-newkey ${opts.newkey ?? "ec -pkeyopt ec_paramgen_curve:P-256"} -nodes -keyout ${name}.key`;
  const ext = opts.addext ? `-addext ${opts.addext}` : "";
  await shOk(dir, `openssl req -new ${keyArgs} -subj '${subject}' ${ext} -outform DER -out ${name}.der 2>/dev/null && openssl base64 -in ${name}.der -out ${name}.b64`);
  return join(dir, `${name}.b64`);
}

/** estPost sends a file to an EST operation with curl and returns status, headers and body. */
export async function estPost(
  e: EstHarness,
  zoneId: string,
  op: string,
  file: string,
  extra = "",
  contentType = "application/pkcs10",
): Promise<{ status: number; headers: string; body: string }> {
  const tag = Math.random().toString(36).slice(2);
  const r = await sh(
    e.dir,
    `${e.curl} ${extra} -D hdr-${tag}.txt -o body-${tag}.txt -w '%{http_code}' --data-binary @${file} -H 'Content-Type: ${contentType}' ${e.estUrl}/${zoneId}/${op}`,
  );
  const headers = safeRead(join(e.dir, `hdr-${tag}.txt`));
  const body = safeRead(join(e.dir, `body-${tag}.txt`));
  return { status: Number(r.stdout.trim()) || 0, headers, body };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** headerOf reads one header (last response) from curl -D output. */
export function headerOf(headers: string, name: string): string | undefined {
  const blocks = headers.trim().split(/\r?\n\r?\n/);
  const last = blocks[blocks.length - 1];
  const m = new RegExp(`^${name}:\\s*(.*)$`, "im").exec(last);
  return m ? m[1].trim() : undefined;
}

/** certsFromPkcs7 decodes a base64 certs-only body with openssl, as RFC 7030 §4.1.3 shows, into a PEM file. */
export async function certsFromPkcs7(dir: string, b64Body: string, outName: string): Promise<string> {
  writeFileSync(join(dir, `${outName}.p7.b64`), b64Body);
  await shOk(dir, `openssl base64 -d -in ${outName}.p7.b64 | openssl pkcs7 -inform DER -print_certs -out ${outName}.pem`);
  return readFileSync(join(dir, `${outName}.pem`), "utf8");
}
