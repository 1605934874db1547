// ensureInstalled runs `npm ci` when node_modules is missing or package-lock.json changed since
// the last install (a stamp in node_modules records the lockfile's hash). Shared by `npm start`
// and `npm test`, so either works first on a fresh clone.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    console.error(`gatehouse: '${cmd} ${args.join(" ")}' failed`);
    process.exit(r.status ?? 1);
  }
}

export function ensureInstalled() {
  const lockHash = createHash("sha256").update(readFileSync(join(ROOT, "package-lock.json"))).digest("hex");
  const stamp = join(ROOT, "node_modules", ".gatehouse-install-stamp");
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === lockHash) return;
  console.error("gatehouse: installing dependencies (package-lock.json changed since the last install)");
  run(process.platform === "win32" ? "npm.cmd" : "npm", ["ci", "--no-audit", "--no-fund"]);
  writeFileSync(stamp, lockHash + "\n");
}
