/**
 * serial.ts makes certificate serial numbers (RFC 5280 §4.1.2.2, PROFILE.md "Serial numbers"):
 * 16 CSPRNG bytes with the top bit cleared, so the INTEGER is positive and at most 16 octets,
 * then stripped of leading zero octets so the bytes are the minimal DER content.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 16 * 256;
const pool = new Uint8Array(POOL_SIZE);
let poolAt = POOL_SIZE;

/** newSerial returns the DER content octets of a fresh positive, minimal serial number (1–16 bytes). */
export function newSerial(): Uint8Array {
  for (;;) {
    if (poolAt === POOL_SIZE) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const raw = pool.slice(poolAt, poolAt + 16);
    poolAt += 16;
    raw[0] &= 0x7f;
    let i = 0;
    while (i < 15 && raw[i] === 0 && (raw[i + 1] & 0x80) === 0) i++;
    // An all-zero draw (2^-127) would be serial 0, which RFC 5280 forbids: draw again.
    if (i === 15 && raw[15] === 0) continue;
    return i === 0 ? raw : raw.slice(i);
  }
}

/** isValidSerial: 1–20 content octets, positive, minimal (no redundant leading 0x00), non-zero. */
export function isValidSerial(s: Uint8Array): boolean {
  if (s.length < 1 || s.length > 20) return false;
  if ((s[0] & 0x80) !== 0) return false;
  if (s.length > 1 && s[0] === 0 && (s[1] & 0x80) === 0) return false;
  return !(s.length === 1 && s[0] === 0);
}

function unsignedHex(s: Uint8Array): string {
  let i = 0;
  while (i < s.length - 1 && s[i] === 0) i++;
  return Buffer.from(s.buffer, s.byteOffset + i, s.length - i).toString("hex");
}

/** serialToHex: lowercase hex of the unsigned value, even length, no sign pad (API `serial_number`). */
export const serialToHex = (s: Uint8Array): string => unsignedHex(s);

/** serialToDecimal: the value in decimal, as Cloudflare shows mTLS certificate serials. */
export const serialToDecimal = (s: Uint8Array): string => BigInt("0x" + (unsignedHex(s) || "0")).toString(10);

/** serialFromHex: the minimal DER content octets for a lowercase or uppercase hex serial. */
export function serialFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new RangeError("serial must be hex");
  const even = hex.length % 2 === 1 ? "0" + hex : hex;
  let bytes = Uint8Array.from(Buffer.from(even, "hex"));
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.slice(i);
  return (bytes[0] & 0x80) !== 0 ? Uint8Array.of(0, ...bytes) : bytes;
}
