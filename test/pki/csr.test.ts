import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { describe, test } from "node:test";
import { GatehouseError } from "../../src/errors.js";
import { parseCsr, parseCsrDer } from "../../src/pki/csr.js";
import { oid, sequence, set, tlv } from "../../src/pki/der.js";
import { CsrErrors, type CsrErrorName } from "../../src/pki/errors.js";
import { readTlv } from "../../src/pki/der-reader.js";
import { derToPem, pemToDer } from "../../src/pki/pem.js";
import { buildCsr, extensionDer, opensslCsr, rdn, tamperSignature, testKeyPem } from "../helpers/openssl.js";

const MARK = "zq9mark"; // appears in bad inputs; must never appear in a message

function expectCode(pem: string | (() => unknown), name: CsrErrorName): void {
  const fn = typeof pem === "string" ? () => parseCsr(pem) : pem;
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GatehouseError, `expected GatehouseError, got ${String(e)}`);
    assert.equal(e.code, CsrErrors[name], `expected ${name} (${CsrErrors[name]}), got ${e.code}: ${e.message}`);
    assert.equal(e.status, 400);
    assert.ok(!e.message.includes(MARK), "message must not echo the input");
    return true;
  });
}

describe("parseCsr accepts every supported key type (real openssl CSRs)", () => {
  for (const key of ["RSA-2048", "RSA-3072", "RSA-4096", "P-256", "P-384", "Ed25519"] as const) {
    test(`200/${key}`, () => {
      const pem = opensslCsr({ key, subj: "/C=US/ST=California/L=San Francisco/O=Example Inc./OU=Devices/CN=device-001", addext: ["subjectAltName=DNS:device-001.example.com,email:ops@example.com,URI:spiffe://example.org/ns/default/sa/device,IP:192.0.2.7,IP:2001:db8::1"] });
      const csr = parseCsr(pem);
      assert.equal(csr.keyType, key);
      assert.deepEqual(csr.subject, { country: "US", state: "California", locality: "San Francisco", organization: "Example Inc.", organizationalUnit: "Devices", commonName: "device-001" });
      assert.deepEqual(csr.sans, [
        { type: "dns", value: "device-001.example.com" },
        { type: "email", value: "ops@example.com" },
        { type: "uri", value: "spiffe://example.org/ns/default/sa/device" },
        { type: "ip", value: "192.0.2.7" },
        { type: "ip", value: "2001:db8::1" },
      ]);
      assert.deepEqual(csr.droppedExtensions, []);
      // The SPKI is the key's, byte for byte.
      const spkiFromKey = createPublicKey(createPrivateKey(testKeyPem(key))).export({ type: "spki", format: "der" });
      assert.deepEqual(Buffer.from(csr.spkiDer), spkiFromKey);
      assert.equal(csr.pem, pem.replace(/\r\n/g, "\n"));
      assert.deepEqual(Buffer.from(csr.der), Buffer.from(pemToDer(pem, "CERTIFICATE REQUEST")));
    });
  }

  test("200/SHA-384 and SHA-512 RSA signatures", () => {
    for (const digest of ["sha384", "sha512"]) assert.equal(parseCsr(opensslCsr({ key: "RSA-2048", digest })).keyType, "RSA-2048");
  });

  test("200/UTF-8 subject, wildcard DNS SAN", () => {
    const csr = parseCsr(opensslCsr({ key: "P-256", subj: "/O=Bücher GmbH/CN=Zoë", addext: ["subjectAltName=DNS:*.example.com"] }));
    assert.deepEqual(csr.subject, { organization: "Bücher GmbH", commonName: "Zoë" });
    assert.deepEqual(csr.sans, [{ type: "dns", value: "*.example.com" }]);
  });

  test("200/empty subject with a SAN", () => {
    const csr = parseCsr(opensslCsr({ key: "P-256", subj: "/", addext: ["subjectAltName=URI:spiffe://example.org/workload"] }));
    assert.deepEqual(csr.subject, {});
    assert.equal(csr.sans.length, 1);
  });

  test("200/CA:TRUE and keyCertSign requests are dropped and named, not copied", () => {
    const csr = parseCsr(opensslCsr({ key: "P-256", addext: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign", "extendedKeyUsage=serverAuth", "certificatePolicies=1.2.3.4", "1.2.3.4.5=ASN1:NULL"] }));
    assert.deepEqual(csr.droppedExtensions, ["basicConstraints", "keyUsage", "extendedKeyUsage", "certificatePolicies", "1.2.3.4.5"]);
  });

  test("200/PEM with CRLF, surrounding whitespace and the old NEW CERTIFICATE REQUEST label is normalised", () => {
    const pem = opensslCsr({ key: "P-256" });
    const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, "");
    const messy = `\r\n  -----BEGIN NEW CERTIFICATE REQUEST-----\r\n${body.match(/.{1,40}/g)!.join("\r\n")}\r\n-----END NEW CERTIFICATE REQUEST-----\r\n\r\n`;
    assert.equal(parseCsr(messy).pem, pem);
  });

  test("200/challengePassword attribute is ignored", () => {
    const pem = buildCsr({ key: "P-256", attributesContent: sequence(oid("1.2.840.113549.1.9.7"), set(tlv(0x0c, Buffer.from("secret")))) });
    assert.equal(parseCsr(pem).keyType, "P-256");
  });

  test("200/DER entry point (EST)", () => {
    const pem = opensslCsr({ key: "Ed25519" });
    assert.equal(parseCsrDer(pemToDer(pem, "CERTIFICATE REQUEST")).keyType, "Ed25519");
  });
});

describe("parseCsr refuses each bad input with its own code", () => {
  const cases: Array<[string, CsrErrorName, () => string]> = [
    ["not PEM: garbage", "notPem", () => `${MARK} not a csr`],
    ["not PEM: empty", "notPem", () => ""],
    ["not PEM: certificate label", "notPem", () => opensslCsr({ key: "P-256" }).replace(/CERTIFICATE REQUEST/g, "CERTIFICATE")],
    ["not PEM: two blocks", "notPem", () => opensslCsr({ key: "P-256" }).repeat(2)],
    ["not PEM: bad base64", "notPem", () => "-----BEGIN CERTIFICATE REQUEST-----\nMII$$$\n-----END CERTIFICATE REQUEST-----\n"],
    ["not PEM: text outside the block", "notPem", () => `${MARK}\n` + opensslCsr({ key: "P-256" })],
    ["not DER: random bytes", "notDer", () => "-----BEGIN CERTIFICATE REQUEST-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE REQUEST-----\n"],
    ["not DER: trailing bytes", "notDer", () => buildCsr({ key: "P-256", trailing: Uint8Array.of(0, 0) })],
    ["not DER: attributes [0] missing", "notDer", () => truncateAttributes(buildCsr({ key: "P-256" }))],
    ["version 1", "badVersion", () => buildCsr({ key: "P-256", version: 1 })],
    ["tampered signature", "badSignature", () => tamperSignature(opensslCsr({ key: "P-256" }))],
    ["tampered RSA signature", "badSignature", () => tamperSignature(opensslCsr({ key: "RSA-2048" }))],
    ["tampered Ed25519 signature", "badSignature", () => tamperSignature(opensslCsr({ key: "Ed25519" }))],
    ["SHA-1 signature", "unsupportedSignatureAlgorithm", () => opensslCsr({ key: "RSA-2048", digest: "sha1" })],
    ["ECDSA algorithm on an RSA key", "signatureKeyMismatch", () => buildCsr({ key: "RSA-2048", signatureAlgorithm: sequence(oid("1.2.840.10045.4.3.2")) })],
    ["RSA 1024", "rsaKeySize", () => opensslCsr({ key: "RSA-1024" })],
    ["RSA e=3", "rsaExponent", () => opensslCsr({ key: "RSA-2048-e3" })],
    ["Ed448 key", "unsupportedKeyAlgorithm", () => opensslCsr({ key: "Ed448" })],
    ["DSA key", "unsupportedKeyAlgorithm", () => opensslCsr({ key: "DSA" })],
    ["P-521", "unsupportedCurve", () => opensslCsr({ key: "P-521" })],
    ["secp256k1", "unsupportedCurve", () => opensslCsr({ key: "secp256k1" })],
    ["explicit EC parameters", "explicitEcParameters", () => opensslCsr({ key: "P-256-explicit" })],
    ["EC point not on the curve", "badPublicKey", () => buildCsr({ key: "P-256", spkiDer: offCurveSpki() })],
    ["control character in CN", "subjectControlCharacters", () => opensslCsr({ key: "P-256", subj: `/CN=${MARK}\u0001x` })],
    ["DEL in O", "subjectControlCharacters", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.10", `${MARK}\u007f`)) })],
    ["multi-valued RDN", "subjectMultiValuedRdn", () => opensslCsr({ key: "P-256", subj: `/CN=${MARK}+O=b`, multivalueRdn: true })],
    ["CN over 64", "subjectTooLong", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.3", MARK + "x".repeat(60))) })],
    ["L over 128", "subjectTooLong", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.7", MARK + "x".repeat(122))) })],
    ["repeated CN", "subjectRepeatedAttribute", () => opensslCsr({ key: "P-256", subj: `/CN=${MARK}/CN=b` })],
    ["C of three letters", "subjectBadCountry", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.6", "USA", 0x13)) })],
    ["C of digits", "subjectBadCountry", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.6", "12", 0x13)) })],
    ["emailAddress in subject", "subjectUnsupportedAttribute", () => opensslCsr({ key: "P-256", subj: `/CN=a/emailAddress=${MARK}@example.com` })],
    ["DC in subject", "subjectUnsupportedAttribute", () => opensslCsr({ key: "P-256", subj: `/DC=${MARK}/CN=a` })],
    ["invalid UTF-8 in CN", "subjectBadString", () => buildCsr({ key: "P-256", subjectDer: sequence(set(sequence(oid("2.5.4.3"), tlv(0x0c, Uint8Array.of(0x61, 0xff))))) })],
    ["CN as an INTEGER", "subjectBadString", () => buildCsr({ key: "P-256", subjectDer: sequence(set(sequence(oid("2.5.4.3"), tlv(0x02, Uint8Array.of(1))))) })],
    ["PrintableString with @", "subjectBadString", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.3", `${MARK}@x`, 0x13)) })],
    ["empty CN", "subjectEmptyValue", () => buildCsr({ key: "P-256", subjectDer: sequence(rdn("2.5.4.3", "")) })],
    ["otherName SAN", "sanOtherName", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${MARK}@example.com`] })],
    ["directoryName SAN", "sanDirectoryName", () => sanCsr(tlv(0xa4, sequence(rdn("2.5.4.3", MARK))))],
    ["registeredID SAN", "sanRegisteredId", () => opensslCsr({ key: "P-256", addext: ["subjectAltName=RID:1.2.3.4"] })],
    ["ediPartyName SAN", "sanUnsupportedType", () => sanCsr(tlv(0xa5, tlv(0xa1, tlv(0x0c, Buffer.from(MARK)))))],
    ["DNS SAN with underscore", "sanInvalidDns", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=DNS:${MARK}_x.example.com`] })],
    ["DNS SAN with empty label", "sanInvalidDns", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=DNS:${MARK}..example.com`] })],
    ["DNS SAN with leading hyphen", "sanInvalidDns", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=DNS:-${MARK}.example.com`] })],
    ["DNS SAN with a space", "sanInvalidDns", () => sanCsr(tlv(0x82, Buffer.from(`${MARK} x.example.com`)))],
    ["email SAN without @", "sanInvalidEmail", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=email:${MARK}`] })],
    ["URI SAN without scheme", "sanInvalidUri", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=URI:${MARK}/path`] })],
    ["URI SAN with empty host", "sanInvalidUri", () => opensslCsr({ key: "P-256", addext: [`subjectAltName=URI:spiffe:///${MARK}`] })],
    ["IP SAN of 5 bytes", "sanInvalidIp", () => sanCsr(tlv(0x87, Uint8Array.of(1, 2, 3, 4, 5)))],
    ["101 SANs", "sanTooMany", () => opensslCsr({ key: "P-256", addext: ["subjectAltName=" + Array.from({ length: 101 }, (_, i) => `DNS:h${i}.example.com`).join(",")] })],
    ["empty SAN extension", "sanEmpty", () => buildCsr({ key: "P-256", extensions: [extensionDer("2.5.29.17", false, sequence())] })],
    ["empty subject, no SAN", "emptySubjectNoSan", () => opensslCsr({ key: "P-256", subj: "/" })],
    ["extensionRequest not a SEQUENCE", "badExtensionRequest", () => buildCsr({ key: "P-256", attributesContent: sequence(oid("1.2.840.113549.1.9.14"), set(tlv(0x04, Uint8Array.of(1)))) })],
    ["SAN value not GeneralNames", "badExtensionRequest", () => buildCsr({ key: "P-256", extensions: [extensionDer("2.5.29.17", false, Uint8Array.of(0x04, 0x01, 0x00))] })],
    ["SAN listed twice", "duplicateExtension", () => buildCsr({ key: "P-256", extensions: [extensionDer("2.5.29.17", false, sequence(tlv(0x82, Buffer.from("a.example.com")))), extensionDer("2.5.29.17", false, sequence(tlv(0x82, Buffer.from("b.example.com"))))] })],
  ];
  for (const [name, code, make] of cases) {
    test(`400/${CsrErrors[code]} ${code}: ${name}`, () => expectCode(make(), code));
  }

  test("every CsrErrors code except issuance-only ones is exercised above", () => {
    const used = new Set(cases.map((c) => c[1]));
    const issuanceOnly: CsrErrorName[] = ["validityDaysOutOfRange", "notAfterPastCa", "lintFailed"];
    for (const name of Object.keys(CsrErrors) as CsrErrorName[]) {
      if (!issuanceOnly.includes(name)) assert.ok(used.has(name), `no test case for ${name}`);
    }
  });

  test("codes are unique and in 1100–1199", () => {
    const codes = Object.values(CsrErrors);
    assert.equal(new Set(codes).size, codes.length);
    for (const c of codes) assert.ok(c >= 1100 && c <= 1199);
  });
});

function sanCsr(generalName: Uint8Array): string {
  return buildCsr({ key: "P-256", extensions: [extensionDer("2.5.29.17", false, sequence(generalName))] });
}

function offCurveSpki(): Uint8Array {
  const spki = Buffer.from(createPublicKey(createPrivateKey(testKeyPem("P-256"))).export({ type: "spki", format: "der" }));
  spki[spki.length - 1] ^= 0x01; // y no longer matches x
  return spki;
}

function truncateAttributes(pem: string): string {
  // Rebuild the CSR with its CertificationRequestInfo lacking the attributes [0] field.
  const der = pemToDer(pem, "CERTIFICATE REQUEST");
  const outer = readTlv(der, 0, der.length);
  const cri = readTlv(der, outer.valueStart, outer.end);
  const criContent = der.subarray(cri.valueStart, cri.end);
  assert.deepEqual([...criContent.subarray(-2)], [0xa0, 0x00]);
  return derToPem(sequence(sequence(criContent.subarray(0, -2)), der.subarray(cri.end, outer.end)), "CERTIFICATE REQUEST");
}
