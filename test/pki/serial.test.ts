import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import * as asn1js from "asn1js";
import { sequence, tlv } from "../../src/pki/der.js";
import { isValidSerial, newSerial, serialFromHex, serialToDecimal, serialToHex } from "../../src/pki/serial.js";
import { openssl, tempDir } from "../helpers/openssl.js";

const N = 10_000;

describe("serial numbers (RFC 5280 §4.1.2.2, PROFILE.md)", () => {
  const serials = Array.from({ length: N }, () => newSerial());

  test(`${N} serials: positive, 1–16 octets, minimal DER content, unique`, () => {
    let stripped = 0;
    for (const s of serials) {
      assert.ok(s.length >= 1 && s.length <= 16, "1–16 octets");
      assert.equal(s[0] & 0x80, 0, "positive");
      if (s.length > 1) assert.ok(!(s[0] === 0 && (s[1] & 0x80) === 0), "no redundant leading zero");
      assert.ok(isValidSerial(s));
      if (s.length < 16) stripped++;
    }
    assert.equal(new Set(serials.map(serialToHex)).size, N, "unique");
    // About 1 in 256 draws starts with 0x00 followed by a byte < 0x80 and is shortened; all are ≥ 8 bits of entropy below.
    assert.ok(stripped < N / 50, `shortened serials are rare (${stripped})`);
  });

  test(`${N} serials parse as positive INTEGERs with openssl asn1parse (no BAD INTEGER)`, () => {
    const dir = tempDir();
    after(() => dir.remove());
    const der = sequence(...serials.map((s) => tlv(0x02, s)));
    const out = openssl(["asn1parse", "-inform", "DER", "-in", dir.file("serials.der", der)]);
    const ints = out.split("\n").filter((l) => l.includes("prim: INTEGER"));
    assert.equal(ints.length, N);
    assert.ok(!out.includes("BAD INTEGER"));
    for (let i = 0; i < N; i++) {
      const v = ints[i].split(":").pop()!;
      assert.ok(!v.startsWith("-"), "positive");
      assert.equal(v.toLowerCase().replace(/^0+(?=.)/, ""), serialToHex(serials[i]).replace(/^0+(?=.)/, ""));
    }
  });

  test("the openssl check has teeth: a non-minimal and a negative INTEGER are flagged", () => {
    const dir = tempDir();
    after(() => dir.remove());
    const out = openssl(["asn1parse", "-inform", "DER", "-in", dir.file("bad.der", sequence(tlv(0x02, Uint8Array.of(0, 5)), tlv(0x02, Uint8Array.of(0x85))))]);
    assert.match(out, /BAD INTEGER/);
    assert.match(out, /INTEGER\s+:-/);
  });

  test("asn1js reads the same unsigned values", () => {
    for (const s of serials.slice(0, 500)) {
      const int = asn1js.fromBER(tlv(0x02, s)).result as asn1js.Integer;
      assert.equal(int.toBigInt(), BigInt("0x" + serialToHex(s)));
    }
  });

  test("serialToHex: lowercase, even length, no sign pad; serialToDecimal; serialFromHex round trip", () => {
    assert.equal(serialToHex(Uint8Array.of(0x00, 0x85, 0x01)), "8501");
    assert.equal(serialToHex(Uint8Array.of(0x0a)), "0a");
    assert.equal(serialToDecimal(Uint8Array.of(0x00, 0x85, 0x01)), String(0x8501));
    assert.equal(serialToDecimal(Uint8Array.from(Buffer.from("3bb94ff144ac567b9f75ad664b6c55f8d5e48182", "hex"))), BigInt("0x3bb94ff144ac567b9f75ad664b6c55f8d5e48182").toString());
    assert.deepEqual([...serialFromHex("8501")], [0x00, 0x85, 0x01]);
    assert.deepEqual([...serialFromHex("000a")], [0x0a]);
    for (const s of serials.slice(0, 1000)) {
      const h = serialToHex(s);
      assert.match(h, /^([0-9a-f]{2})+$/);
      assert.ok(!h.startsWith("00"));
      assert.deepEqual(serialFromHex(h), s);
    }
  });

  test("isValidSerial refuses zero, negative, non-minimal and over 20 octets", () => {
    assert.equal(isValidSerial(Uint8Array.of(0)), false);
    assert.equal(isValidSerial(Uint8Array.of(0x80)), false);
    assert.equal(isValidSerial(Uint8Array.of(0, 0x01)), false);
    assert.equal(isValidSerial(new Uint8Array(21).fill(1)), false);
    assert.equal(isValidSerial(new Uint8Array(0)), false);
    assert.equal(isValidSerial(Uint8Array.of(0, 0x80)), true);
    assert.equal(isValidSerial(new Uint8Array(20).fill(1)), true);
  });
});
