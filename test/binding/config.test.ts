import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { bindingsOf, BindingConfigError, BindingErrors, findConfigFile, readConfigFile } from "../../src/index.js";

const ID = "99f5fef1-6cc1-46b8-bd79-44a0d5082b8d";
const dir = mkdtempSync(join(tmpdir(), "gh-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function badConfig(fn: () => unknown, message: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BindingConfigError);
    assert.equal(err.code, BindingErrors.badConfig);
    assert.match(err.message, message);
    return true;
  });
}

describe("binding configuration (wrangler's shape)", () => {
  it("200/the Workers shape; ids lower-cased; remote accepted; no list is no binding", () => {
    assert.deepEqual(bindingsOf({ mtls_certificates: [{ binding: "MY_CERT", certificate_id: ID.toUpperCase(), remote: true }] }), [
      { binding: "MY_CERT", certificate_id: ID, remote: true },
    ]);
    assert.deepEqual(bindingsOf({ name: "worker" }), []);
  });

  it("400/names: identifiers only, unique, not the object's own methods", () => {
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "my-cert", certificate_id: ID }] }), /JavaScript identifier/);
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "A", certificate_id: ID }, { binding: "A", certificate_id: ID }] }), /appears twice/);
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "refresh", certificate_id: ID }] }), /may not be "refresh"/);
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "__proto__", certificate_id: ID }] }), /may not be/);
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "A", certificate_id: 42 }] }), /\[0\]\.certificate_id/);
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "A", certificate_id: ID, remote: "yes" }] }), /remote/);
    badConfig(() => bindingsOf({ mtls_certificates: { binding: "A" } }), /must be a list/);
    badConfig(() => bindingsOf(["nope"]), /must be an object/);
    badConfig(() => bindingsOf({ mtls_certificates: [{ binding: "A", certificate_id: ID }] }, "prod"), /no environment "env.prod"/);
  });

  it("200/files: JSONC with comments and trailing commas, TOML arrays of tables; the first of gatehouse.jsonc/.json/.toml is found", () => {
    const jsonc = join(dir, "gatehouse.jsonc");
    writeFileSync(jsonc, `// top\n{ "mtls_certificates": [ /* one */ { "binding": "A", "certificate_id": "${ID}", }, ], }\n`);
    assert.deepEqual(bindingsOf(readConfigFile(jsonc)), [{ binding: "A", certificate_id: ID }]);
    const toml = join(dir, "gatehouse.toml");
    writeFileSync(toml, `[[mtls_certificates]]\nbinding = "B"\ncertificate_id = "${ID}"\n`);
    assert.deepEqual(bindingsOf(readConfigFile(toml)), [{ binding: "B", certificate_id: ID }]);
    assert.equal(findConfigFile(dir), jsonc);
  });

  it("400/files: unreadable, bad JSONC, bad TOML, another extension — errors name the file and position, never the content", () => {
    badConfig(() => readConfigFile(join(dir, "missing.jsonc")), /cannot read .*missing\.jsonc: ENOENT/);
    const bad = join(dir, "bad.jsonc");
    writeFileSync(bad, `{\n "mtls_certificates": [ SECRET ]\n}`);
    badConfig(() => readConfigFile(bad), /not valid JSONC \(.* on line 2\)/);
    assert.throws(() => readConfigFile(bad), (err: Error) => !err.message.includes("SECRET"));
    const badToml = join(dir, "bad.toml");
    writeFileSync(badToml, `[[mtls_certificates]\nbinding = SECRET\n`);
    badConfig(() => readConfigFile(badToml), /not valid TOML/);
    assert.throws(() => readConfigFile(badToml), (err: Error) => !err.message.includes("SECRET"));
    const yaml = join(dir, "gatehouse.yaml");
    writeFileSync(yaml, "x: 1\n");
    badConfig(() => readConfigFile(yaml), /must end in \.jsonc, \.json or \.toml/);
    const list = join(dir, "list.json");
    writeFileSync(list, "[]");
    badConfig(() => readConfigFile(list), /object at the top level/);
  });
});
