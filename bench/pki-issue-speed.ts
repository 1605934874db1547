#!/usr/bin/env node
// Micro-benchmark of the pure issuance path (no HTTP, no database):
//   parseCsr (PEM → checks → self-signature verify) + issueClientCertificate (TBS → lint → sign).
// CSRs are real `openssl req` output (P-256 subject keys by default), the CA is made by createManagedCa.
// Prints one line per stage: wall-clock ops/s and CPU µs per op (all threads of the process, the
// signing threadpool included). The figure to quote is "parse+issue" as CPU µs per op, i.e. what
// one core does: on a shared machine wall-clock rates move with the neighbours, CPU time much less.
// "node:crypto floor" is the crypto alone (CSR key import + CSR verify + one CA signature), the
// part no JavaScript change can remove.
//
// Usage: node --import tsx bench/pki-issue-speed.ts [SECONDS=3] [CA_KEY=P-256] [CSR_KEY=P-256] [INFLIGHT=64]
// One core:  taskset -c 0 node --import tsx bench/pki-issue-speed.ts
import { execFileSync } from "node:child_process";
import { createPrivateKey, sign, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pkijs from "pkijs";
import { createSoftwareSigner } from "../src/keys/software-signer.js";
import { createManagedCa } from "../src/pki/ca.js";
import { buildLeafTbs, issueClientCertificate, type IssuerInfo } from "../src/pki/certificate.js";
import { parseCsr } from "../src/pki/csr.js";
import { DerCursor, readWhole } from "../src/pki/der-reader.js";
import { lintTbsCertificate } from "../src/pki/lint.js";
import { parseSanExtension } from "../src/pki/san.js";
import { checkSubjectKey, publicKeyObject } from "../src/pki/spki.js";
import { parseCsrSubject } from "../src/pki/subject.js";
import { pemToDer } from "../src/pki/pem.js";
import { newSerial } from "../src/pki/serial.js";
import type { CaKeyType } from "../src/pki/signer.js";

const SECS = Number(process.argv[2] ?? 3);
const CA_KEY = (process.argv[3] ?? "P-256") as CaKeyType;
const CSR_KEY = process.argv[4] ?? "P-256";
const INFLIGHT = Number(process.argv[5] ?? 64);
const POOL = 32;

const newkey: Record<string, string[]> = {
  "P-256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  "P-384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  "RSA-2048": ["-newkey", "rsa:2048"],
  Ed25519: ["-newkey", "ed25519"],
};

const dir = mkdtempSync(join(tmpdir(), "gh-bench-"));
const csrs: string[] = [];
try {
  for (let i = 0; i < POOL; i++) {
    const out = join(dir, `${i}.csr`);
    execFileSync("openssl", ["req", "-new", ...newkey[CSR_KEY], "-nodes", "-keyout", join(dir, `${i}.key`), "-subj", `/C=US/O=Bench/CN=device-${i}`,
      "-addext", `subjectAltName=DNS:device-${i}.example.com`, "-out", out], { stdio: "ignore" });
    csrs.push(readFileSync(out, "utf8"));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const now = new Date();
const ca = await createManagedCa({ keyType: CA_KEY, commonName: "Bench CA", now, validityYears: 20 });
const issuer: IssuerInfo = {
  certificateDer: ca.certificateDer,
  subjectDer: ca.subjectDer,
  subjectKeyIdentifier: ca.subjectKeyIdentifier,
  notAfter: ca.notAfter,
  signer: createSoftwareSigner(ca.privateKeyPkcs8Der, CA_KEY),
};

// Each stage reports wall-clock ops/s and CPU µs per op (process.cpuUsage: every thread of the
// process, threadpool included). On a shared machine the CPU figure is the stable one:
// 1e6 / CPU µs is what one fully available core does.
interface Rate {
  wall: number;
  cpuUs: number;
}

function rateSync(fn: (i: number) => void): Rate {
  for (let k = 0; k < 500; k++) fn(k);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECS * 1000;
  while (performance.now() < end) for (let k = 0; k < 32; k++) fn(n++);
  const c = process.cpuUsage(c0);
  return { wall: n / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / n };
}

async function rateAsync(fn: (i: number) => Promise<unknown>, inflight: number): Promise<Rate> {
  let n = 0;
  let stop = false;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  setTimeout(() => (stop = true), SECS * 1000);
  const worker = async (): Promise<void> => {
    while (!stop) await fn(n++);
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const c = process.cpuUsage(c0);
  return { wall: n / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / n };
}

/** walkCsr: the same strict DER walk parseCsr does (structure, key policy, subject, SAN), without crypto. */
function walkCsr(der: Uint8Array): void {
  const outer = DerCursor.inside(der, readWhole(der, 0x30));
  const info = DerCursor.inside(der, outer.expect(0x30));
  outer.expect(0x30);
  outer.expect(0x03);
  outer.finish();
  info.expect(0x02);
  const subject = info.expect(0x30);
  checkSubjectKey(der, info.expect(0x30));
  const attrs = DerCursor.inside(der, info.expect(0xa0));
  parseCsrSubject(der, subject);
  const attr = DerCursor.inside(der, attrs.expect(0x30));
  attr.expect(0x06);
  const exts = DerCursor.inside(der, DerCursor.inside(der, attr.expect(0x31)).expect(0x30));
  const ext = DerCursor.inside(der, exts.expect(0x30));
  ext.expect(0x06);
  const v = ext.expect(0x04);
  parseSanExtension(der.subarray(v.valueStart, v.end));
}

const parsed = csrs.map((p) => parseCsr(p));
// `openssl req` signs with SHA-256 for every key type but Ed25519.
const HASH: Record<string, string | null> = { "P-256": "sha256", "P-384": "sha256", "RSA-2048": "sha256", Ed25519: null };
const CA_HASH = CA_KEY === "P-384" ? "sha384" : "sha256";
const ders = csrs.map((p) => pemToDer(p, "CERTIFICATE REQUEST"));
const row = (name: string, r: Rate): void =>
  console.log(`${name.padEnd(36)} ${r.wall.toFixed(0).padStart(7)} /s wall  ${r.cpuUs.toFixed(1).padStart(7)} µs CPU  = ${(1e6 / r.cpuUs).toFixed(0).padStart(6)} /s per core`);

console.log(`node ${process.version}, CA ${CA_KEY}, CSR ${CSR_KEY}, ${SECS}s per stage, inflight ${INFLIGHT}`);
row("pkijs CertificationRequest.fromBER", rateSync((i) => pkijs.CertificationRequest.fromBER(new Uint8Array(ders[i % POOL]))));
// The floor set by node:crypto alone for one issuance: import the CSR key (the cheapest route
// publicKeyObject takes), verify the CSR signature, make one CA signature (sync, no threadpool).
const caPriv = createPrivateKey({ key: Buffer.from(ca.privateKeyPkcs8Der), format: "der", type: "pkcs8" });
const floorInputs = parsed.map((c) => ({ c, der: pemToDer(c.pem, "CERTIFICATE REQUEST") }));
row("node:crypto floor (import+verify+sign)", rateSync((i) => {
  const { c, der } = floorInputs[i % POOL];
  const key = publicKeyObject(c.spkiDer, checkSubjectKey(c.spkiDer, readWhole(c.spkiDer, 0x30)));
  const o = DerCursor.inside(der, readWhole(der, 0x30));
  const cri = o.expect(0x30);
  o.expect(0x30);
  const sig = o.expect(0x03);
  if (!verify(HASH[c.keyType], der.subarray(cri.start, cri.end), key, der.subarray(sig.valueStart + 1, sig.end))) throw new Error("verify");
  sign(CA_HASH, der.subarray(0, 300), caPriv);
}));
row("strict DER reader walk (no crypto)", rateSync((i) => walkCsr(ders[i % POOL])));
row("parseCsr (incl. key import+verify)", rateSync((i) => parseCsr(csrs[i % POOL])));
row("buildLeafTbs", rateSync((i) => buildLeafTbs({ csr: parsed[i % POOL], issuer, serial: newSerial(), now, validityDays: 365 })));
row("buildLeafTbs + lint", rateSync((i) => {
  const { tbs } = buildLeafTbs({ csr: parsed[i % POOL], issuer, serial: newSerial(), now, validityDays: 365 });
  lintTbsCertificate(tbs, { profile: "leaf", signatureAlgorithmDer: issuer.signer.algorithmIdentifierDer, issuerSubjectDer: issuer.subjectDer, issuerSki: issuer.subjectKeyIdentifier, issuerNotAfter: issuer.notAfter });
}));
row("issue (parsed CSR), serial await", await rateAsync((i) => issueClientCertificate({ csr: parsed[i % POOL], issuer, serial: newSerial(), now, validityDays: 365 }), 1));
row(`issue (parsed CSR), ${INFLIGHT} in flight`, await rateAsync((i) => issueClientCertificate({ csr: parsed[i % POOL], issuer, serial: newSerial(), now, validityDays: 365 }), INFLIGHT));
row(`parse+issue, ${INFLIGHT} in flight`, await rateAsync((i) => issueClientCertificate({ csr: parseCsr(csrs[i % POOL]), issuer, serial: newSerial(), now, validityDays: 365 }), INFLIGHT));
