#!/usr/bin/env node
// `npm test`: the whole suite with node's test runner (TypeScript through tsx). It needs no running
// service: suites start Gatehouse in-process on ephemeral ports. Real-server suites use
// TEST_DATABASE_URL (a PostgreSQL server where the tests may CREATE DATABASE); without it they are
// skipped and say so. Pass file paths or folders to run part of the suite.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ensureInstalled } from "./ensure-installed.mjs";

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith(".test.ts") ? [path] : [];
  // Hidden folders and node_modules hold tools, not our suites (test/.wrangler has wrangler's own tests).
  return readdirSync(path)
    .filter((entry) => !entry.startsWith(".") && entry !== "node_modules")
    .sort()
    .flatMap((entry) => collect(join(path, entry)));
}

ensureInstalled();
const targets = process.argv.slice(2);
const files = (targets.length ? targets : ["test"]).flatMap(collect);
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
if (!process.env.TEST_DATABASE_URL) {
  console.error("note: TEST_DATABASE_URL is not set: suites that need a real PostgreSQL server are skipped");
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=600000", ...files],
  { stdio: "inherit", env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? "test" } },
);
process.exit(result.status ?? 1);
