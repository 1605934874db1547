import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The subject key types Gatehouse accepts, with the openssl options that make each. */
export const OPENSSL_KEY_OPTIONS: Record<string, string[]> = {
  "P-256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
  "P-384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
  "RSA-2048": ["-newkey", "rsa:2048"],
  "RSA-3072": ["-newkey", "rsa:3072"],
  "RSA-4096": ["-newkey", "rsa:4096"],
  Ed25519: ["-newkey", "ed25519"],
  "RSA-1024": ["-newkey", "rsa:1024"],
};

export interface MadeCsr {
  csrPem: string;
  keyPem: string;
}

/** makeCsr runs `openssl req` to make a fresh key and CSR: a real, independent producer of CSRs. */
export function makeCsr(opts: { keyType?: string; subject?: string; addext?: string[] } = {}): MadeCsr {
  const dir = mkdtempSync(join(tmpdir(), "gh-csr-"));
  try {
    const args = ["req", "-new", ...OPENSSL_KEY_OPTIONS[opts.keyType ?? "P-256"], "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "csr.pem")];
    args.push("-subj", opts.subject ?? "/CN=test-client");
    for (const ext of opts.addext ?? []) args.push("-addext", ext);
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    return { csrPem: readFileSync(join(dir, "csr.pem"), "utf8"), keyPem: readFileSync(join(dir, "key.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tamperCsrSignature flips one bit of the CSR's signature so its self-signature fails. */
export function tamperCsrSignature(csrPem: string): string {
  const b64 = csrPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Buffer.from(b64, "base64");
  der[der.length - 3] ^= 0x01;
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n").trim();
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
}
