import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { describe, test } from "node:test";
import { createSoftwareSigner } from "../../src/keys/software-signer.js";
import { CA_KEY_TYPES, signatureScheme, type CaKeyType } from "../../src/pki/signer.js";

function keyFor(t: CaKeyType): { pkcs8: Buffer; spki: Buffer } {
  const { privateKey } = t.startsWith("RSA")
    ? generateKeyPairSync("rsa", { modulusLength: Number(t.slice(4)) })
    : generateKeyPairSync("ec", { namedCurve: t });
  return { pkcs8: privateKey.export({ type: "pkcs8", format: "der" }), spki: createPublicKey(privateKey).export({ type: "spki", format: "der" }) };
}

describe("software Signer (node:crypto KeyObject, threadpool signing)", () => {
  const expected: Record<CaKeyType, [string, string, string]> = {
    "P-256": ["300a06082a8648ce3d040302", "ECDSAWithSHA256", "sha256"],
    "P-384": ["300a06082a8648ce3d040303", "ECDSAWithSHA384", "sha384"],
    "RSA-2048": ["300d06092a864886f70d01010b0500", "SHA256WithRSA", "sha256"],
    "RSA-3072": ["300d06092a864886f70d01010b0500", "SHA256WithRSA", "sha256"],
    "RSA-4096": ["300d06092a864886f70d01010b0500", "SHA256WithRSA", "sha256"],
  };
  // RSA-3072/4096 keys are made (slowly) by the CA tests; here P-256, P-384 and RSA-2048 suffice.
  for (const t of ["P-256", "P-384", "RSA-2048"] as const) {
    test(`${t}: AlgorithmIdentifier, Go name, signatures verify (64 concurrent)`, async () => {
      const { pkcs8, spki } = keyFor(t);
      const signer = createSoftwareSigner(pkcs8, t);
      assert.equal(signer.keyType, t);
      assert.equal(Buffer.from(signer.algorithmIdentifierDer).toString("hex"), expected[t][0]);
      assert.equal(signer.signatureName, expected[t][1]);
      const pub = createPublicKey({ key: spki, format: "der", type: "spki" });
      const data = Array.from({ length: 64 }, (_, i) => Buffer.from(`tbs ${i}`));
      const sigs = await Promise.all(data.map((d) => signer.sign(d)));
      sigs.forEach((s, i) => assert.ok(verify(expected[t][2], data[i], pub, s)));
      if (!t.startsWith("RSA")) assert.equal(sigs[0][0], 0x30, "ECDSA-Sig-Value DER");
    });
  }

  test("the scheme table covers every CA key type and never uses PSS or SHA-1", () => {
    for (const t of CA_KEY_TYPES) {
      const s = signatureScheme(t);
      assert.equal(Buffer.from(s.algorithmIdentifierDer).toString("hex"), expected[t][0]);
      assert.equal(s.signatureName, expected[t][1]);
    }
  });

  test("a key of the wrong type or a non-PKCS#8 input is refused", () => {
    const { pkcs8 } = keyFor("P-256");
    assert.throws(() => createSoftwareSigner(pkcs8, "P-384"), TypeError);
    assert.throws(() => createSoftwareSigner(pkcs8, "RSA-2048"), TypeError);
    assert.throws(() => createSoftwareSigner(Uint8Array.of(1, 2, 3), "P-256"));
    const ed = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "der" });
    assert.throws(() => createSoftwareSigner(ed, "P-256"), TypeError);
  });

  test("the caller may wipe its key buffer right after creating the signer", async () => {
    const { pkcs8, spki } = keyFor("P-256");
    const signer = createSoftwareSigner(pkcs8, "P-256");
    pkcs8.fill(0);
    const sig = await signer.sign(Buffer.from("x"));
    assert.ok(verify("sha256", Buffer.from("x"), createPublicKey({ key: spki, format: "der", type: "spki" }), sig));
  });
});
