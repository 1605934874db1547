#!/usr/bin/env node
// `npm start`: install what is missing (when package-lock.json changed since the last install),
// build, then run the service in this process (it migrates before it listens). Reads HOST, PORT,
// DATABASE_URL (unset: embedded PostgreSQL under GATEHOUSE_DATA_DIR, default ./data) and the rest
// of the variables listed in README.md.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    console.error(`gatehouse: '${cmd} ${args.join(" ")}' failed`);
    process.exit(r.status ?? 1);
  }
}

const lock = readFileSync(join(root, "package-lock.json"));
const lockHash = createHash("sha256").update(lock).digest("hex");
const stamp = join(root, "node_modules", ".gatehouse-install-stamp");
if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== lockHash) {
  console.error("gatehouse: installing dependencies (package-lock.json changed since the last install)");
  run(npm, ["ci", "--no-audit", "--no-fund"]);
  writeFileSync(stamp, lockHash + "\n");
}
run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.json")]);
await import(join(root, "dist", "server.js"));
