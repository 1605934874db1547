#!/usr/bin/env node
// `npm start`: install what is missing (when package-lock.json changed since the last install),
// build, then run the service in this process (it migrates before it listens). Reads HOST, PORT,
// DATABASE_URL (unset: embedded PostgreSQL under GATEHOUSE_DATA_DIR, default ./data) and the rest
// of the variables listed in README.md.
import { join } from "node:path";
import { ensureInstalled, ROOT, run } from "./ensure-installed.mjs";

ensureInstalled();
run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.json")]);
await import(join(ROOT, "dist", "server.js"));
