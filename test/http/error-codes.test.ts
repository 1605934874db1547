import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { it } from "node:test";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** declaredCodes finds every `export const XErrors = { name: 1234, … }` catalogue in src/. */
function declaredCodes(): Map<number, string> {
  const codes = new Map<number, string>();
  for (const file of sources(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const block of text.matchAll(/export const (\w+Errors) = \{([^}]*)\}/g)) {
      for (const m of block[2].matchAll(/(\w+):\s*(\d{4,5})\b/g)) codes.set(Number(m[2]), `${block[1]}.${m[1]} (${file.slice(ROOT.length)})`);
    }
  }
  return codes;
}

it("docs/error-codes.md has a row for every error code declared in src/", () => {
  const doc = readFileSync(join(ROOT, "docs/error-codes.md"), "utf8");
  const documented = new Set([...doc.matchAll(/^\| (\d{4,5}) \|/gm)].map((m) => Number(m[1])));
  const codes = declaredCodes();
  assert.ok(codes.size > 50, `found ${codes.size} codes`);
  const missing = [...codes].filter(([code]) => !documented.has(code)).map(([code, where]) => `${code} ${where}`);
  assert.deepEqual(missing, []);
});

it("no two catalogues declare the same code", () => {
  const seen = new Map<number, string>();
  const clashes: string[] = [];
  for (const file of sources(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const block of text.matchAll(/export const (\w+Errors) = \{([^}]*)\}/g)) {
      for (const m of block[2].matchAll(/(\w+):\s*(\d{4,5})\b/g)) {
        const here = `${block[1]}.${m[1]}`;
        const code = Number(m[2]);
        if (seen.has(code) && seen.get(code) !== here) clashes.push(`${code}: ${seen.get(code)} and ${here}`);
        seen.set(code, here);
      }
    }
  }
  assert.deepEqual(clashes, []);
});
