import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createManagedCa } from "../../src/pki/ca.js";
import { certsOnlyBase64, certsOnlyDer, readCertsOnly } from "../../src/pki/pkcs7.js";
import { globToRegExp } from "../../src/services/enrollment-tokens.js";
import { shOk, tempDir } from "./est-helpers.js";

describe("certs-only PKCS#7 (RFC 5652 §5, RFC 7030 §4.1.3)", () => {
  let dir = "";
  let certs: Uint8Array[] = [];
  before(async () => {
    dir = tempDir("gh-pkcs7-");
    const now = new Date();
    certs = await Promise.all(
      ["P-256", "RSA-2048"].map(async (keyType) => (await createManagedCa({ keyType: keyType as never, commonName: `CA ${keyType}`, now, validityYears: 1 })).certificateDer),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("openssl pkcs7 reads both certificates from the base64 form, and -print_certs shows them", async () => {
    writeFileSync(join(dir, "two.b64"), certsOnlyBase64(certs));
    const text = await shOk(dir, "openssl base64 -d -in two.b64 | openssl pkcs7 -inform DER -print_certs");
    const found = [...text.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]).fingerprint256).sort();
    assert.deepEqual(found, certs.map((c) => new X509Certificate(c).fingerprint256).sort());
    // The structure as openssl sees it: signedData with no signers.
    const parsed = await shOk(dir, "openssl base64 -d -in two.b64 | openssl asn1parse -inform DER");
    assert.match(parsed, /:pkcs7-signedData/);
    assert.match(parsed, /:pkcs7-data/);
  });

  it("every base64 line is at most 64 characters and the DER round-trips", () => {
    const b64 = certsOnlyBase64(certs);
    assert.ok(b64.split("\n").every((l) => l.length <= 64));
    const back = readCertsOnly(certsOnlyDer(certs));
    assert.equal(back.length, 2);
    assert.deepEqual(back.map((c) => Buffer.from(c).toString("hex")).sort(), certs.map((c) => Buffer.from(c).toString("hex")).sort());
  });

  it("the certificates SET OF is in DER order whatever order it is given", () => {
    assert.deepEqual(certsOnlyDer(certs), certsOnlyDer([...certs].reverse()));
  });

  it("refuses an empty list and bytes that are not a certificate", () => {
    assert.throws(() => certsOnlyDer([]), RangeError);
    assert.throws(() => certsOnlyDer([Uint8Array.of(0x30, 0x03, 0x02, 0x01)]));
  });
});

describe("common_name_pattern globs", () => {
  const cases: Array<[string, string, boolean]> = [
    ["device-*", "device-17", true],
    ["device-*", "device-", true],
    ["device-*", "Device-1", false],
    ["device-*", "xdevice-1", false],
    ["*.sensors.example.com", "a.b.sensors.example.com", true],
    ["*.sensors.example.com", "sensorsXexample.com", false],
    ["line?-*", "line4-001", true],
    ["line?-*", "line42-001", false],
    ["a.b", "aXb", false],
    ["(x)+[y]", "(x)+[y]", true],
  ];
  for (const [pattern, cn, ok] of cases) {
    it(`${pattern} ${ok ? "matches" : "does not match"} ${cn}`, () => assert.equal(globToRegExp(pattern).test(cn), ok));
  }
});
