import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertMatchesContract } from "./contract.js";
import type { Tenant, TestGatehouse } from "./gatehouse.js";

/**
 * Helpers for the CRL/OCSP interop suites: peers (openssl, certtool, nginx) run as child
 * processes WITHOUT blocking the event loop, because the Gatehouse they talk to listens in the
 * same process.
 */

export interface RunResult {
  code: number;
  out: string;
}

/** run executes a peer tool asynchronously and returns its exit code and stdout+stderr. */
export function run(cmd: string, args: string[], opts: { input?: Buffer } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: "buffer", maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, out: Buffer.concat([stdout, stderr]).toString("utf8") });
    });
    if (opts.input) child.stdin!.end(opts.input);
  });
}

/** TempDir is a scratch directory removed by `remove()`. */
export function tempDir(prefix: string): { path: string; file: (name: string, content?: string | Uint8Array) => string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file(name, content) {
      const p = join(path, name);
      if (content !== undefined) writeFileSync(p, content);
      return p;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

export interface IssuedCert {
  id: string;
  serial: string;
  pem: string;
}

/** issue POSTs a CSR (made by `openssl req`) and returns the certificate. */
export async function issue(h: TestGatehouse, t: Tenant, csrPem: string, validityDays = 30): Promise<IssuedCert> {
  const res = await h.request({ method: "POST", url: `/client/v4/zones/${t.zoneId}/client_certificates`, token: t.editToken, body: { csr: csrPem, validity_days: validityDays } });
  assert.equal(res.statusCode, 200, res.body);
  return { id: res.json.result.id, serial: res.json.result.serial_number, pem: res.json.result.certificate };
}

export const certUrl = (t: Tenant, id: string) => `/client/v4/zones/${t.zoneId}/client_certificates/${id}`;

/** revoke DELETEs with no body (a hold) or with `?reason=`. */
export async function revoke(h: TestGatehouse, t: Tenant, id: string, reason?: string): Promise<void> {
  const res = await h.request({ method: "DELETE", url: certUrl(t, id) + (reason ? `?reason=${reason}` : ""), token: t.editToken });
  assert.equal(res.statusCode, 200, res.body);
}

/** rawRequest injects a request and returns the raw body bytes, checking status and headers against openapi.yaml. */
export async function rawRequest(h: TestGatehouse, opts: { method: string; url: string; headers?: Record<string, string>; payload?: Buffer | string }) {
  const res = await h.gh.app.inject({ method: opts.method as never, url: opts.url, headers: opts.headers, payload: opts.payload });
  let json: unknown;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  assertMatchesContract(opts.method, opts.url, { statusCode: res.statusCode, json, headers: res.headers });
  return { statusCode: res.statusCode, headers: res.headers, body: res.rawPayload, json: json as any };
}

/** fetchCrl GETs the CRL DER. */
export async function fetchCrl(h: TestGatehouse, caId: string): Promise<{ der: Buffer; number: bigint }> {
  const res = await rawRequest(h, { method: "GET", url: `/pki/${caId}/crl` });
  assert.equal(res.statusCode, 200, res.body.toString());
  assert.equal(res.headers["content-type"], "application/pkix-crl");
  return { der: res.body, number: BigInt(String(res.headers.etag).replace(/^"(\d+)-.*$/, "$1")) };
}

/** waitForCrl polls the CRL until `ok` holds (new CRLs follow changes within the debounce interval). */
export async function waitForCrl(h: TestGatehouse, caId: string, ok: (crl: { der: Buffer; number: bigint }) => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crl = await fetchCrl(h, caId);
    if (await ok(crl)) return crl;
    if (Date.now() > deadline) assert.fail(`CRL of ${caId} did not reach the expected state (number ${crl.number})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** crlSerials lists the (upper-case hex) serials of a DER CRL, read by `openssl crl -text`. */
export async function crlSerials(dir: ReturnType<typeof tempDir>, der: Buffer): Promise<string[]> {
  const path = dir.file(`crl-${Date.now()}-${Math.random()}.der`, der);
  const r = await run("openssl", ["crl", "-inform", "DER", "-in", path, "-noout", "-text"]);
  assert.equal(r.code, 0, r.out);
  return [...r.out.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]);
}

/** opensslSerial: the API's serial (lowercase hex, whole bytes) as `openssl crl -text` prints it. */
export const opensslSerial = (apiSerial: string) => apiSerial.toUpperCase();
