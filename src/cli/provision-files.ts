/**
 * provision-files.ts writes a device's files atomically: each one is written to a temporary file
 * in the same directory, flushed to disk, then renamed over its final name, so a crash (or
 * SIGKILL) leaves either the old state or the complete new file, never half of one. cert.pem is
 * written last: its presence marks a finished device.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** DEVICE_FILES: the names inside each device directory. */
export const DEVICE_FILES = {
  key: "key.pem",
  csr: "csr.pem",
  cert: "cert.pem",
  chain: "chain.pem",
  p12: "device.p12",
} as const;

const TEMP_MARK = ".partial-";

/** writeFileAtomic writes `data` to `path` via a temporary file, fsync and rename; `mode` applies from creation. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const name = path.slice(path.lastIndexOf("/") + 1);
  const temp = join(dir, `${TEMP_MARK}${name}.${randomBytes(6).toString("hex")}`);
  const fh = await open(temp, "wx", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * syncDir flushes a directory, so the renames done in it survive a power cut (fsync of a file
 * does not cover its directory entry). Used once key.pem and csr.pem are in place, before the
 * certificate is requested: a lost key.pem would make a rerun issue a second certificate.
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** readIfExists returns a file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** prepareDeviceDir creates the device directory (0700) and removes temporary files a killed run left. */
export async function prepareDeviceDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const entry of await readdir(dir)) if (entry.startsWith(TEMP_MARK)) await rm(join(dir, entry), { force: true });
}

/**
 * writePkcs12 bundles key, certificate and chain into device.p12 with `openssl pkcs12 -export`
 * (OpenSSL 3 defaults: AES-256-CBC, PBKDF2, HMAC-SHA256 MAC). The certificate goes in on stdin (it
 * is not on disk yet: cert.pem is written last), the password through openssl's environment
 * (`-passout env:`), never on the command line where `ps` would show it.
 */
export async function writePkcs12(dir: string, friendlyName: string, password: string, certPem: string): Promise<void> {
  const temp = join(dir, `${TEMP_MARK}${DEVICE_FILES.p12}.${randomBytes(6).toString("hex")}`);
  try {
    await runOpenssl(
      ["pkcs12", "-export", "-inkey", join(dir, DEVICE_FILES.key), "-certfile", join(dir, DEVICE_FILES.chain), "-name", friendlyName, "-out", temp, "-passout", "env:GATEHOUSE_P12_PASSWORD"],
      certPem,
      { PATH: process.env.PATH ?? "/usr/bin:/bin", GATEHOUSE_P12_PASSWORD: password },
    );
    const fh = await open(temp, "r+");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, join(dir, DEVICE_FILES.p12));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

function runOpenssl(args: string[], stdin: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("openssl", args, { env, stdio: ["pipe", "ignore", "pipe"], timeout: 30_000 });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => reject(new Error(`cannot run openssl: ${err.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`openssl pkcs12 failed${stderr ? `: ${stderr.trim().split("\n")[0]}` : ` (exit ${code})`}`));
    });
    child.stdin.end(stdin);
  });
}
