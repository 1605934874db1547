/**
 * Test helpers for the PKI core: temp dirs, running `openssl` and `certtool` (gnutls-bin), keys
 * of every kind (node:crypto, or openssl where node cannot), real `openssl req` CSRs, and a
 * hand-built CSR for the malformed cases openssl refuses to make. No crypto is mocked.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign, type KeyObject, createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bitString, NULL, oid, sequence, tlv, set, integer } from "../../src/pki/der.js";
import { derToPem } from "../../src/pki/pem.js";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** run executes a command without a shell; never throws on a non-zero status. */
export function run(cmd: string, args: readonly string[], input?: string | Uint8Array): RunResult {
  const r = spawnSync(cmd, args, { input: typeof input === "string" ? Buffer.from(input) : input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** openssl runs `openssl …` and returns stdout; throws with stderr on failure. */
export function openssl(args: readonly string[], input?: string | Uint8Array): string {
  const r = run("openssl", args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** hasCerttool: gnutls-bin's certtool is installed. */
export function hasCerttool(): boolean {
  try {
    return run("certtool", ["--version"]).status === 0;
  } catch {
    return false;
  }
}

/** TempDir: a fresh directory under the OS temp dir; `remove()` deletes it. */
export interface TempDir {
  path: string;
  file(name: string, contents?: string | Uint8Array): string;
  remove(): void;
}

/** tempDir makes a TempDir; pair it with `after(() => dir.remove())`. */
export function tempDir(prefix = "gh-pki-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file(name, contents) {
      const p = join(path, name);
      if (contents !== undefined) writeFileSync(p, contents);
      return p;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Key kinds the tests need, good and bad. */
export type TestKeyKind =
  | "RSA-1024" | "RSA-2048" | "RSA-3072" | "RSA-4096" | "RSA-2048-e3"
  | "P-256" | "P-384" | "P-521" | "secp256k1" | "Ed25519" | "Ed448" | "DSA"
  | "P-256-explicit";

const keyCache = new Map<TestKeyKind, string>();

/** testKeyPem returns a PKCS#8 PEM private key of `kind`, generated once per process (RSA-4096 included). */
export function testKeyPem(kind: TestKeyKind): string {
  let pem = keyCache.get(kind);
  if (pem !== undefined) return pem;
  const pkcs8 = (k: KeyObject): string => k.export({ type: "pkcs8", format: "pem" }) as string;
  switch (kind) {
    case "RSA-1024": case "RSA-2048": case "RSA-3072": case "RSA-4096":
      pem = pkcs8(generateKeyPairSync("rsa", { modulusLength: Number(kind.slice(4)) }).privateKey);
      break;
    case "RSA-2048-e3":
      pem = pkcs8(generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 3 }).privateKey);
      break;
    case "P-256": case "P-384": case "P-521": case "secp256k1":
      pem = pkcs8(generateKeyPairSync("ec", { namedCurve: kind }).privateKey);
      break;
    case "Ed25519":
      pem = pkcs8(generateKeyPairSync("ed25519").privateKey);
      break;
    case "Ed448":
      pem = pkcs8(generateKeyPairSync("ed448").privateKey);
      break;
    case "DSA":
      pem = pkcs8(generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 }).privateKey);
      break;
    case "P-256-explicit":
      // openssl writes the curve as explicit ECParameters (specifiedCurve) in the SPKI.
      pem = openssl(["ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout"]);
      break;
    default:
      throw new Error("unknown key kind");
  }
  keyCache.set(kind, pem);
  return pem;
}

/** CsrOptions for opensslCsr. */
export interface CsrOptions {
  key: TestKeyKind;
  subj?: string;
  addext?: string[];
  multivalueRdn?: boolean;
  digest?: string;
}

/** opensslCsr makes a real CSR with `openssl req -new` and returns its PEM. */
export function opensslCsr(o: CsrOptions): string {
  const dir = tempDir("gh-csr-");
  try {
    const keyFile = dir.file("key.pem", testKeyPem(o.key));
    const args = ["req", "-new", "-key", keyFile, "-subj", o.subj ?? "/CN=test", "-utf8"];
    if (o.multivalueRdn) args.push("-multivalue-rdn");
    for (const e of o.addext ?? []) args.push("-addext", e);
    if (o.digest) args.push(`-${o.digest}`);
    const out = dir.file("csr.pem");
    args.push("-out", out);
    openssl(args);
    return readFileSync(out, "utf8");
  } finally {
    dir.remove();
  }
}

/** tamperSignature flips one bit of the CSR's last signature byte (outside any DER length). */
export function tamperSignature(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  der[der.length - 1] ^= 0x01;
  return derToPem(der, "CERTIFICATE REQUEST");
}

/** HandCsr: inputs of a hand-built CSR; every part may be replaced by raw DER. */
export interface HandCsr {
  key: TestKeyKind;
  version?: number;
  /** Name DER; default CN=hand. */
  subjectDer?: Uint8Array;
  /** Extension TLVs for one extensionRequest attribute. */
  extensions?: Uint8Array[];
  /** Replace the whole attributes [0] content. */
  attributesContent?: Uint8Array;
  /** Bytes appended after the CertificationRequest. */
  trailing?: Uint8Array;
  /** Replace the SubjectPublicKeyInfo (the signature is still made with `key`). */
  spkiDer?: Uint8Array;
  /** Replace the signatureAlgorithm AlgorithmIdentifier (the signature is still made for `key`). */
  signatureAlgorithm?: Uint8Array;
}

const SIG_ALG: Record<string, { alg: Uint8Array; hash: string | null }> = {
  rsa: { alg: sequence(oid("1.2.840.113549.1.1.11"), NULL), hash: "sha256" },
  ec: { alg: sequence(oid("1.2.840.10045.4.3.2")), hash: "sha256" },
  ed25519: { alg: sequence(oid("1.3.101.112")), hash: null },
};

/** rdn: one single-valued RDN (tag 0x0c UTF8String unless given). */
export function rdn(type: string, value: string, tag = 0x0c): Uint8Array {
  return set(sequence(oid(type), tlv(tag, Buffer.from(value, "utf8"))));
}

/** extensionDer: an Extension TLV. */
export function extensionDer(type: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(oid(type), Uint8Array.of(1, 1, 0xff), tlv(4, value)) : sequence(oid(type), tlv(4, value));
}

/** buildCsr signs a hand-made CertificationRequestInfo with a real key and returns PEM. */
export function buildCsr(h: HandCsr): string {
  const priv: KeyObject = createPrivateKey(testKeyPem(h.key));
  const spki = createPublicKey(priv).export({ type: "spki", format: "der" });
  const family = priv.asymmetricKeyType === "rsa" ? "rsa" : priv.asymmetricKeyType === "ed25519" ? "ed25519" : "ec";
  const attrs = h.attributesContent ??
    (h.extensions ? sequence(oid("1.2.840.113549.1.9.14"), set(sequence(...h.extensions))) : new Uint8Array(0));
  const cri = sequence(
    integer(h.version ?? 0),
    h.subjectDer ?? sequence(rdn("2.5.4.3", "hand")),
    h.spkiDer ?? spki,
    tlv(0xa0, attrs),
  );
  const { alg, hash } = SIG_ALG[family];
  const sig = sign(hash, cri, priv);
  const der = sequence(cri, h.signatureAlgorithm ?? alg, bitString(sig));
  const full = h.trailing ? Buffer.concat([der, h.trailing]) : der;
  return derToPem(full, "CERTIFICATE REQUEST");
}
