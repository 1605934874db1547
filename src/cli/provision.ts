/**
 * `gatehouse provision`: factory provisioning. For each device it makes a key locally, issues a
 * client certificate through the API and writes key.pem (0600), cert.pem and chain.pem (and
 * device.p12 with --p12) into DIR/<device name>/, every file atomically.
 *
 * Crash safety: key.pem and csr.pem are written before the certificate is requested, and the
 * request carries an Idempotency-Key derived from the device name and public key, so a rerun
 * after a crash sends the same request and the API replays the certificate it already issued
 * (within its 24 h replay window) instead of issuing a second one. cert.pem is written last; a
 * device with cert.pem is done, and a rerun skips it.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { apiBase, apiSettingsFromEnv } from "../binding/api-client.js";
import { parseCsr } from "../pki/csr.js";
import { CliError, type Command, type RunContext } from "./framework.js";
import { DEVICE_FILES, prepareDeviceDir, readIfExists, syncDir, writeFileAtomic, writePkcs12 } from "./provision-files.js";
import {
  buildCsrPem,
  DEVICE_KEY_TYPES,
  generateDeviceKey,
  idempotencyKeyOf,
  keyTypeOf,
  privateKeyPem,
  spkiDerOf,
  type DeviceKeyType,
} from "./provision-keys.js";
import { Progress } from "./provision-progress.js";

export interface ProvisionSettings {
  apiUrl: string;
  apiToken: string;
  zoneId: string;
  count: number;
  outDir: string;
  /** `{n}` is the device number (1…count); `{n:5}` pads it with zeros to 5 digits. */
  namePattern: string;
  keyType: DeviceKeyType;
  concurrency: number;
  /** The PKCS#12 password when device.p12 is wanted (GATEHOUSE_P12_PASSWORD), else undefined. */
  p12Password?: string;
  validityDays?: number;
}

export interface ProvisionReport {
  total: number;
  /** Issued in this run (replayed ones included). */
  issued: number;
  /** Of `issued`, answered from the API's idempotency store: a previous run had issued them. */
  replayed: number;
  /** Complete before this run and left alone. */
  existing: number;
  failed: Array<{ device: string; reason: string }>;
  /** Summed over devices (they overlap under concurrency): key generation, API issuance, file writing. */
  keygenMs: number;
  issueMs: number;
  writeMs: number;
  wallMs: number;
}

export const MAX_COUNT = 1_000_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RETRIES = 4;

/** deviceName applies the pattern to device number `n`. */
export function deviceName(pattern: string, n: number): string {
  return pattern.replace(/\{n(?::(\d{1,2}))?\}/g, (_m, width?: string) => String(n).padStart(width ? Number(width) : 0, "0"));
}

/** ProvisionApi is the few API calls provisioning makes, with retries for transient failures. */
class ProvisionApi {
  private readonly base: string;
  private caPems = new Map<string, string>();
  private accountId?: string;

  constructor(private readonly settings: ProvisionSettings) {
    this.base = apiBase(settings.apiUrl);
  }

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.base + path, {
          method,
          headers: { authorization: `Bearer ${this.settings.apiToken}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
          redirect: "error",
        });
      } catch (err) {
        if (attempt < RETRIES) {
          await backoff(attempt);
          continue;
        }
        const cause = (err as { cause?: { code?: string } }).cause;
        throw new Error(`cannot reach the API (${cause?.code ?? (err as Error).message})`);
      }
      const text = await res.text();
      if ((res.status >= 500 || res.status === 429) && attempt < RETRIES) {
        await backoff(attempt);
        continue;
      }
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        throw new Error(`the API answered HTTP ${res.status} without a JSON envelope`);
      }
      if (!res.ok || json.success !== true) {
        const e = json.errors?.[0];
        throw new Error(e ? `error ${e.code}: ${e.message}` : `the API answered HTTP ${res.status}`);
      }
      return { result: json.result, replayed: res.headers.get("idempotent-replayed") === "true" };
    }
  }

  /** start checks the zone and the token before any key is made, and loads the active CA. */
  async start(): Promise<void> {
    const zone = await this.call("GET", `/zones/${this.settings.zoneId}`);
    this.accountId = zone.result.account.id;
    await this.loadActiveCa();
  }

  private async loadActiveCa(): Promise<void> {
    const ca = await this.call("GET", `/accounts/${this.accountId}/certificate_authorities/managed`);
    this.caPems.set(ca.result.id, ca.result.certificate);
  }

  /** caPem returns the issuing CA's PEM (a rotation during the run loads the new active CA). */
  async caPem(caId: string): Promise<string> {
    if (!this.caPems.has(caId)) await this.loadActiveCa();
    const pem = this.caPems.get(caId);
    if (!pem) throw new Error("the issuing CA is no longer the account's active CA; rerun to fetch the chain");
    return pem;
  }

  issue(name: string, csrPem: string, spkiDer: Buffer) {
    const body: Record<string, unknown> = { csr: csrPem };
    if (this.settings.validityDays !== undefined) body.validity_days = this.settings.validityDays;
    return this.call("POST", `/zones/${this.settings.zoneId}/client_certificates`, body, { "idempotency-key": idempotencyKeyOf(name, spkiDer) });
  }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1) * (0.5 + Math.random())));
}

type Outcome = "issued" | "replayed" | "existing";

/** provisionDevice does one device's work; its timings are added to the report. */
async function provisionDevice(api: ProvisionApi, s: ProvisionSettings, name: string, report: ProvisionReport): Promise<Outcome> {
  const dir = join(s.outDir, name);
  const path = (f: string) => join(dir, f);
  const existingCert = await readIfExists(path(DEVICE_FILES.cert));
  if (existingCert !== undefined) {
    await checkComplete(s, dir, name, existingCert);
    return "existing";
  }
  await prepareDeviceDir(dir);

  // 1. The key: reuse one a killed run left (its certificate may already be issued), else make it.
  // 2. The CSR is kept too: ECDSA signatures are randomised, and a replay needs the same body.
  // Both are on disk (files and directory entries flushed) before the certificate is requested.
  let key: KeyObject;
  let csrPem: string | undefined;
  const toWrite: Array<[string, string, number]> = [];
  const keyPem = await readIfExists(path(DEVICE_FILES.key));
  if (keyPem !== undefined) {
    key = createPrivateKey(keyPem);
    if (keyTypeOf(key) !== s.keyType) throw new Error(`key.pem holds another key type than --key-type ${s.keyType}`);
    csrPem = await readIfExists(path(DEVICE_FILES.csr));
  } else {
    const t = performance.now();
    key = await generateDeviceKey(s.keyType);
    report.keygenMs += performance.now() - t;
    toWrite.push([DEVICE_FILES.key, privateKeyPem(key), 0o600]);
  }
  const spki = spkiDerOf(key);
  if (csrPem === undefined || !Buffer.from(parseCsr(csrPem).spkiDer).equals(spki)) {
    csrPem = buildCsrPem(key, name);
    toWrite.push([DEVICE_FILES.csr, csrPem, 0o644]);
  }
  if (toWrite.length > 0) {
    const w = performance.now();
    await Promise.all(toWrite.map(([file, text, mode]) => writeFileAtomic(path(file), text, mode)));
    await syncDir(dir);
    report.writeMs += performance.now() - w;
  }

  // 3. Issue (or replay) through the API.
  const t = performance.now();
  const { result, replayed } = await api.issue(name, csrPem, spki);
  const chainPem = await api.caPem(result.certificate_authority.id);
  report.issueMs += performance.now() - t;

  // 4. chain.pem (and device.p12), then cert.pem last: its presence marks a finished device.
  const w = performance.now();
  await writeFileAtomic(path(DEVICE_FILES.chain), chainPem);
  if (s.p12Password !== undefined) await writePkcs12(dir, name, s.p12Password, result.certificate);
  await writeFileAtomic(path(DEVICE_FILES.cert), result.certificate);
  report.writeMs += performance.now() - w;
  return replayed ? "replayed" : "issued";
}

/** checkComplete verifies a finished device (cert matches key, chain present) and adds a missing device.p12. */
async function checkComplete(s: ProvisionSettings, dir: string, name: string, certPem: string): Promise<void> {
  const keyPem = await readIfExists(join(dir, DEVICE_FILES.key));
  const chainPem = await readIfExists(join(dir, DEVICE_FILES.chain));
  if (keyPem === undefined || chainPem === undefined) throw new Error("cert.pem is there but key.pem or chain.pem is missing");
  if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) throw new Error("cert.pem does not match key.pem");
  if (s.p12Password !== undefined && !(await exists(join(dir, DEVICE_FILES.p12)))) await writePkcs12(dir, name, s.p12Password, certPem);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** checkSettings refuses settings that would make bad or colliding device names. */
export function checkSettings(s: ProvisionSettings): void {
  if (!Number.isInteger(s.count) || s.count < 1 || s.count > MAX_COUNT) throw new CliError(`--count must be a whole number from 1 to ${MAX_COUNT}`);
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1 || s.concurrency > 256) throw new CliError("--concurrency must be a whole number from 1 to 256");
  if (!DEVICE_KEY_TYPES.includes(s.keyType)) throw new CliError(`--key-type must be one of ${DEVICE_KEY_TYPES.join(", ")}`);
  if (s.count > 1 && !/\{n(:\d{1,2})?\}/.test(s.namePattern)) throw new CliError("--name-pattern must contain {n} (or {n:WIDTH}) so each device gets its own name");
  for (const n of [1, s.count]) {
    if (!NAME.test(deviceName(s.namePattern, n))) {
      throw new CliError("--name-pattern must make names of 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
  }
}

/**
 * provision runs the whole batch with `concurrency` workers and returns the report; a device that
 * fails is recorded and the others go on. `progress` is told after each device.
 */
export async function provision(s: ProvisionSettings, progress?: Progress): Promise<ProvisionReport> {
  checkSettings(s);
  const report: ProvisionReport = { total: s.count, issued: 0, replayed: 0, existing: 0, failed: [], keygenMs: 0, issueMs: 0, writeMs: 0, wallMs: 0 };
  const started = performance.now();
  const api = new ProvisionApi(s);
  await api.start();
  let next = 1;
  const worker = async () => {
    for (let n = next++; n <= s.count; n = next++) {
      const name = deviceName(s.namePattern, n);
      try {
        const outcome = await provisionDevice(api, s, name, report);
        if (outcome === "existing") report.existing++;
        else {
          report.issued++;
          if (outcome === "replayed") report.replayed++;
        }
      } catch (err) {
        const reason = (err as Error).message;
        report.failed.push({ device: name, reason });
        progress?.failure(name, reason);
      }
      progress?.update(report.issued + report.existing + report.failed.length, report.failed.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.concurrency, s.count) }, worker));
  report.wallMs = performance.now() - started;
  progress?.finish();
  report.failed.sort((a, b) => a.device.localeCompare(b.device, "en", { numeric: true }));
  return report;
}

function integerOption(ctx: RunContext, name: string, fallback?: number): number | undefined {
  const raw = ctx.string(name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new CliError(`--${name} must be a whole number`);
  return Number(raw);
}

export const provisionCommand: Command = {
  name: "provision",
  summary: "provision devices in bulk: local keys, certificates from the API, files per device",
  description:
    "For each device N (1…COUNT), DIR/<name>/ gets key.pem (mode 0600), cert.pem and chain.pem (the issuing\n" +
    "CA), and device.p12 with --p12 (made by `openssl pkcs12 -export`, password from GATEHOUSE_P12_PASSWORD).\n" +
    "Keys are made on this machine and never sent. Every file is written atomically. A rerun over the same\n" +
    "DIR issues only what is missing: the Idempotency-Key (device name + public key) makes the API replay a\n" +
    "certificate a killed run had already obtained (within 24 h). Exit 1 lists the devices that failed.\n" +
    "Settings: GATEHOUSE_API_URL, GATEHOUSE_API_TOKEN (ssl_certificates:edit), --zone or GATEHOUSE_ZONE_ID.\n" +
    "RSA keys are made in Node's thread pool: UV_THREADPOOL_SIZE=16 keeps file writes from queueing behind them.",
  options: {
    zone: { type: "string", placeholder: "ZONE_ID", description: "zone to issue in (default: $GATEHOUSE_ZONE_ID)" },
    count: { type: "string", placeholder: "N", description: "number of devices" },
    out: { type: "string", placeholder: "DIR", description: "output directory (one folder per device)" },
    "name-pattern": { type: "string", placeholder: "PATTERN", description: "device name and CN; {n} or {n:WIDTH} is the number (default: device-{n})" },
    "key-type": { type: "string", placeholder: "TYPE", description: "p256 (default) or rsa2048" },
    concurrency: { type: "string", placeholder: "C", description: "devices in flight at once (default: 16)" },
    "validity-days": { type: "string", placeholder: "DAYS", description: "certificate validity (default: the API's, 3650)" },
    p12: { type: "boolean", description: "also write device.p12 (needs openssl and GATEHOUSE_P12_PASSWORD, which may be empty)" },
  },
  examples: [
    "gatehouse provision --zone 023e105f4ecef8ad9ca31a8372d0c353 --count 10000 --out ./devices",
    "GATEHOUSE_P12_PASSWORD=s3cret gatehouse provision --count 500 --out ./line4 --name-pattern line4-{n:5} --key-type rsa2048 --p12",
  ],
  async run(ctx) {
    const env = ctx.io.env;
    const p12 = ctx.flag("p12");
    if (p12 && env.GATEHOUSE_P12_PASSWORD === undefined) {
      throw new CliError("--p12 needs GATEHOUSE_P12_PASSWORD (set it to the PKCS#12 password; an empty value means no password)");
    }
    const settings: ProvisionSettings = {
      ...apiSettingsFromEnv(env),
      zoneId: ctx.zoneId(),
      count: integerOption(ctx, "count")!,
      outDir: ctx.string("out", true),
      namePattern: ctx.string("name-pattern") ?? "device-{n}",
      keyType: (ctx.string("key-type") ?? "p256") as DeviceKeyType,
      concurrency: integerOption(ctx, "concurrency", 16)!,
      validityDays: integerOption(ctx, "validity-days"),
      p12Password: p12 ? env.GATEHOUSE_P12_PASSWORD : undefined,
    };
    if (ctx.string("count") === undefined) throw new CliError("--count is required (see gatehouse provision --help)");
    checkSettings(settings);
    const stderr = ctx.io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
    let report: ProvisionReport;
    try {
      report = await provision(settings, new Progress(stderr, settings.count));
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot start: ${(err as Error).message}`, 1);
    }
    const rate = report.issued / (report.wallMs / 1000);
    if (ctx.json) ctx.out.json({ ...report, devices_per_second: Number.isFinite(rate) ? rate : 0 });
    else {
      ctx.out.fields([
        ["Devices", String(report.total)],
        ["Issued", `${report.issued}${report.replayed ? ` (${report.replayed} replayed from an earlier run)` : ""}`],
        ["Already present", String(report.existing)],
        ["Failed", String(report.failed.length)],
        ["Rate", `${Number.isFinite(rate) ? rate.toFixed(1) : "0"} devices/s`],
        ["Output", settings.outDir],
      ]);
    }
    if (report.failed.length > 0) {
      ctx.out.error(`gatehouse: ${report.failed.length} device(s) failed; rerun the same command to retry them:\n`);
      for (const f of report.failed) ctx.out.error(`  ${f.device}: ${f.reason}\n`);
      return 1;
    }
    return 0;
  },
};
