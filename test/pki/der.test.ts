import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as asn1js from "asn1js";
import { bitStringBytes, checkInteger, DerCursor, DerError, oidToString, readBoolean, readTlv, readWhole, timeToDate } from "../../src/pki/der-reader.js";
import * as der from "../../src/pki/der.js";
import { derToPem, normalisePem, PemError, pemBlocks, pemToDer } from "../../src/pki/pem.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ""), "hex"));

describe("DER writer", () => {
  test("lengths: short form below 128, minimal long form above", () => {
    assert.equal(hex(der.lengthBytes(0)), "00");
    assert.equal(hex(der.lengthBytes(127)), "7f");
    assert.equal(hex(der.lengthBytes(128)), "8180");
    assert.equal(hex(der.lengthBytes(255)), "81ff");
    assert.equal(hex(der.lengthBytes(256)), "820100");
    assert.equal(hex(der.lengthBytes(65536)), "83010000");
    assert.equal(der.tlv(0x04, new Uint8Array(300)).length, 304);
  });

  test("INTEGER: minimal, sign octet only when needed", () => {
    assert.equal(hex(der.integer(0)), "020100");
    assert.equal(hex(der.integer(127)), "02017f");
    assert.equal(hex(der.integer(128)), "02020080");
    assert.equal(hex(der.integer(65537)), "0203010001");
    assert.equal(hex(der.integerFromUnsigned(bytes("0000ff"))), "020200ff");
    assert.equal(hex(der.integerFromUnsigned(bytes("000001"))), "020101");
  });

  test("OID, strings, BOOLEAN, NULL, BIT STRING, tags", () => {
    assert.equal(hex(der.oid("1.2.840.113549.1.1.11")), "06092a864886f70d01010b");
    assert.equal(hex(der.oid("2.5.29.19")), "0603551d13");
    assert.equal(hex(der.oid("2.999.3")), "0603883703");
    assert.equal(hex(der.utf8String("é")), "0c02c3a9");
    assert.equal(hex(der.printableString("US")), "13025553");
    assert.equal(hex(der.ia5String("a@b")), "1603614062");
    assert.equal(hex(der.boolean(true)), "0101ff");
    assert.equal(hex(der.NULL), "0500");
    assert.equal(hex(der.bitString(bytes("80"), 7)), "03020780");
    assert.equal(hex(der.explicit(3, der.NULL)), "a0020500".replace("a0", "a3"));
    assert.equal(hex(der.implicit(2, bytes("6162"))), "82026162");
    for (const d of ["1.2.840.10045.4.3.2", "1.3.101.112", "2.5.4.3", "0.9.2342.19200300.100.1.25"]) {
      const t = der.oid(d);
      assert.equal(oidToString(t, 2, t.length), d);
      assert.equal((asn1js.fromBER(t).result as asn1js.ObjectIdentifier).valueBlock.toString(), d);
    }
  });

  test("times: UTCTime through 2049, GeneralizedTime from 2050, whole seconds", () => {
    assert.equal(Buffer.from(der.time(new Date("2049-12-31T23:58:00Z"))).toString("latin1").slice(2), "491231235800Z");
    assert.equal(der.time(new Date("2049-12-31T23:58:00Z"))[0], 0x17);
    assert.equal(Buffer.from(der.time(new Date("2050-01-01T00:00:00Z"))).toString("latin1").slice(2), "20500101000000Z");
    assert.equal(der.time(new Date("2050-01-01T00:00:00Z"))[0], 0x18);
    assert.equal(Buffer.from(der.time(new Date("1950-01-01T00:00:00Z"))).toString("latin1").slice(2), "500101000000Z");
    assert.equal(der.time(new Date("1949-12-31T23:59:59Z"))[0], 0x18);
    assert.equal(Buffer.from(der.time(new Date("2030-05-06T07:08:09.999Z"))).toString("latin1").slice(2), "300506070809Z");
    assert.throws(() => der.utcTime(new Date("2050-01-01T00:00:00Z")), RangeError);
    assert.equal(der.wholeSeconds(new Date("2030-01-01T00:00:00.999Z")).toISOString(), "2030-01-01T00:00:00.000Z");
    for (const iso of ["2049-12-31T23:58:00Z", "2050-01-01T00:00:00Z", "2099-02-28T12:00:00Z"]) {
      const t = der.time(new Date(iso));
      assert.equal(timeToDate(t, readWhole(t, t[0])).toISOString(), new Date(iso).toISOString());
    }
  });
});

describe("strict DER reader", () => {
  const refuses = (h: string, tag = 0x30): void => assert.throws(() => readWhole(bytes(h), tag), DerError, h);
  test("refuses non-minimal lengths, indefinite length, truncation, trailing bytes, high tags, wrong tags", () => {
    refuses("30810100"); // long form for a length < 128
    refuses("3082000100"); // leading zero length octet
    refuses("3080 0000"); // indefinite
    refuses("3003 0101"); // truncated
    refuses("3000 00"); // trailing byte
    refuses("1f2200"); // high tag number
    refuses("3100"); // wrong tag
    readWhole(bytes("3000"), 0x30);
  });

  test("INTEGER minimality, BOOLEAN DER form, BIT STRING unused bits, OID arcs", () => {
    const chk = (h: string): unknown => { const b = bytes(h); return checkInteger(b, readTlv(b, 0, b.length)); };
    assert.throws(() => chk("02020001"), DerError);
    assert.throws(() => chk("0202ff80"), DerError);
    assert.throws(() => chk("0200"), DerError);
    assert.deepEqual(chk("02020080"), { negative: false });
    assert.deepEqual(chk("020180"), { negative: true });
    assert.throws(() => readBoolean(new DerCursor(bytes("010101"), 0, 3)), DerError);
    assert.equal(readBoolean(new DerCursor(bytes("0101ff"), 0, 3)), true);
    const bs = bytes("03020780");
    assert.throws(() => bitStringBytes(bs, readTlv(bs, 0, bs.length)), DerError);
    const o = bytes("0603808001");
    assert.throws(() => oidToString(o, 2, o.length), DerError);
  });

  test("times: only YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ, real calendar dates", () => {
    const t = (tag: number, s: string): Uint8Array => der.tlv(tag, Buffer.from(s, "latin1"));
    const read = (b: Uint8Array): Date => timeToDate(b, readTlv(b, 0, b.length));
    assert.throws(() => read(t(0x17, "4912312358Z")), DerError); // no seconds
    assert.throws(() => read(t(0x18, "20500101000000.5Z")), DerError); // fraction
    assert.throws(() => read(t(0x17, "491231235800+0100")), DerError); // offset
    assert.throws(() => read(t(0x17, "490230000000Z")), DerError); // 30 Feb
    assert.equal(read(t(0x17, "500101000000Z")).getUTCFullYear(), 1950);
  });
});

describe("PEM", () => {
  const body = Buffer.alloc(100, 7);
  test("derToPem: 64-column lines, LF, final newline; round trip", () => {
    const pem = derToPem(body, "CERTIFICATE");
    const lines = pem.split("\n");
    assert.equal(lines[0], "-----BEGIN CERTIFICATE-----");
    assert.equal(lines[1].length, 64);
    assert.equal(lines.at(-1), "");
    assert.deepEqual(Buffer.from(pemToDer(pem, "CERTIFICATE")), body);
  });

  test("parsing tolerates CRLF and whitespace, refuses other labels, text outside, bad base64", () => {
    const pem = derToPem(body, "CERTIFICATE");
    assert.deepEqual(Buffer.from(pemToDer("\r\n " + pem.replace(/\n/g, "\r\n") + "\n\n", "CERTIFICATE")), body);
    assert.throws(() => pemToDer(pem, "CERTIFICATE REQUEST"), PemError);
    assert.throws(() => pemToDer("junk\n" + pem, "CERTIFICATE"), PemError);
    assert.throws(() => pemToDer(pem + "junk", "CERTIFICATE"), PemError);
    assert.throws(() => pemToDer(pem.replace("BwcH", "Bw*H"), "CERTIFICATE"), PemError);
    assert.throws(() => pemToDer(pem.replace("-----END CERTIFICATE-----", "-----END X509 CRL-----"), "CERTIFICATE"), PemError);
    assert.throws(() => pemToDer("-----BEGIN CERTIFICATE-----\nAB==\n-----END CERTIFICATE-----", "CERTIFICATE"), PemError, "non-canonical padding bits");
    assert.throws(() => pemToDer("", "CERTIFICATE"), PemError);
  });

  test("pemBlocks reads a chain in order; normalisePem rewrites one block", () => {
    const a = derToPem(Uint8Array.of(1), "CERTIFICATE");
    const b = derToPem(Uint8Array.of(2), "CERTIFICATE");
    assert.deepEqual(pemBlocks(a + "\n" + b).map((x) => [x.label, [...x.der]]), [["CERTIFICATE", [1]], ["CERTIFICATE", [2]]]);
    assert.throws(() => pemToDer(a + b, "CERTIFICATE"), PemError);
    const messy = "-----BEGIN CERTIFICATE-----\r\n" + Buffer.from(body).toString("base64").replace(/(.{10})/g, "$1\r\n") + "\r\n-----END CERTIFICATE-----";
    assert.equal(normalisePem(messy), derToPem(body, "CERTIFICATE"));
    assert.equal(normalisePem(messy, "TRUSTED CERTIFICATE").split("\n")[0], "-----BEGIN TRUSTED CERTIFICATE-----");
  });
});
