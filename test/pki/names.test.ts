import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readTlv } from "../../src/pki/der-reader.js";
import { oid, printableString, sequence, set, tlv, utf8String } from "../../src/pki/der.js";
import { escapeRfc4514, formatDnLegacy, formatDnRfc4514 } from "../../src/pki/names.js";
import { pemToDer } from "../../src/pki/pem.js";
import { openssl, opensslCsr } from "../helpers/openssl.js";

/** subjectDerOf extracts the subject Name DER from a CSR PEM. */
function subjectDerOf(pem: string): Uint8Array {
  const der = pemToDer(pem, "CERTIFICATE REQUEST");
  const outer = readTlv(der, 0, der.length);
  const cri = readTlv(der, outer.valueStart, outer.end);
  const version = readTlv(der, cri.valueStart, cri.end);
  const subject = readTlv(der, version.end, cri.end);
  return der.slice(subject.start, subject.end);
}

function opensslSubject(pem: string, nameopt: string): string {
  return openssl(["req", "-noout", "-subject", "-nameopt", nameopt], pem).replace(/^subject=/, "").replace(/\n$/, "");
}

describe("DN formatting: one formatter for the API and the edge headers", () => {
  const subjects = [
    "/C=US/ST=California/L=San Francisco/O=Example Inc./OU=Devices/CN=device-001",
    "/C=US/ST=Cal,if\\+ornia/L= lead#/O=#Hash \"q\" <a>;b\\\\c/OU=Zoë/CN=ctl\u0001x ",
    "/DC=com/DC=example/CN=trailing\\\\",
    "/CN=日本語",
  ];
  for (const subj of subjects) {
    test(`RFC 4514 and legacy forms agree with openssl (-nameopt RFC2253 / compat): ${JSON.stringify(subj)}`, () => {
      const pem = opensslCsr({ key: "P-256", subj });
      const name = subjectDerOf(pem);
      assert.equal(formatDnRfc4514(name), opensslSubject(pem, "RFC2253"));
      assert.equal(formatDnLegacy(name), opensslSubject(pem, "compat"));
    });
  }

  test("RFC 4514: most specific first, ASCII only, no CR/LF/NUL can survive", () => {
    const name = sequence(
      set(sequence(oid("2.5.4.6"), printableString("US"))),
      set(sequence(oid("2.5.4.3"), utf8String("evil\r\nX-Injected: 1\u0000é"))),
    );
    const s = formatDnRfc4514(name);
    assert.equal(s, "CN=evil\\0D\\0AX-Injected: 1\\00\\C3\\A9,C=US");
    assert.match(s, /^[\x20-\x7e]*$/);
    assert.match(formatDnLegacy(name), /^[\x20-\x7e]*$/);
    assert.equal(formatDnLegacy(name), "/C=US/CN=evil\\x0D\\x0AX-Injected: 1\\x00\\xC3\\xA9");
  });

  test("multi-valued RDN joined with +, unknown types as dotted OID=#hex of the DER value", () => {
    const name = sequence(
      set(sequence(oid("2.5.4.3"), utf8String("a")), sequence(oid("2.5.4.10"), utf8String("b"))),
      set(sequence(oid("1.2.840.113549.1.9.1"), tlv(0x16, Buffer.from("x@y")))),
    );
    assert.equal(formatDnRfc4514(name), "1.2.840.113549.1.9.1=#1603784079,CN=a+O=b");
    assert.equal(formatDnLegacy(name), "/CN=a/O=b/emailAddress=x@y");
  });

  test("BMPString values are converted to UTF-8 before escaping", () => {
    const bmp = Buffer.from("Zoë", "utf16le").swap16();
    const name = sequence(set(sequence(oid("2.5.4.3"), tlv(0x1e, bmp))));
    assert.equal(formatDnRfc4514(name), "CN=Zo\\C3\\AB");
  });

  test("escapeRfc4514: leading #, leading and trailing spaces, specials", () => {
    assert.equal(escapeRfc4514(Buffer.from("#a b ")), "\\#a b\\ ");
    assert.equal(escapeRfc4514(Buffer.from(" x")), "\\ x");
    assert.equal(escapeRfc4514(Buffer.from('a,b+c"d\\e<f>g;h=i')), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h=i');
  });

  test("empty Name formats as empty strings; malformed DER throws", () => {
    assert.equal(formatDnRfc4514(sequence()), "");
    assert.equal(formatDnLegacy(sequence()), "");
    assert.throws(() => formatDnRfc4514(Uint8Array.of(0x30, 0x02, 0x31, 0x00)));
    assert.throws(() => formatDnRfc4514(Uint8Array.of(0x30, 0x00, 0x00)));
  });
});
