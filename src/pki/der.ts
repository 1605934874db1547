/**
 * der.ts is a tiny DER writer (ITU-T X.690 §10): every function returns the complete TLV bytes
 * of one value, so a structure is built bottom-up by nesting calls. It is the hot path of
 * issuance, so it works on Uint8Array with one allocation per TLV and never re-parses.
 * Shared by certificates, CRLs and OCSP responses.
 */

const utf8 = new TextEncoder();

/** Tag numbers of the universal types and the context-specific classes Gatehouse writes. */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** lengthBytes returns the DER length octets for `len` (short form below 128, else minimal long form). */
export function lengthBytes(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  if (len < 0x100) return Uint8Array.of(0x81, len);
  if (len < 0x10000) return Uint8Array.of(0x82, len >> 8, len & 0xff);
  if (len < 0x1000000) return Uint8Array.of(0x83, len >> 16, (len >> 8) & 0xff, len & 0xff);
  return Uint8Array.of(0x84, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
}

function headerLength(len: number): number {
  return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6;
}

/** writeHeader writes tag and length at `at` and returns the offset after them. */
function writeHeader(out: Uint8Array, at: number, tag: number, len: number): number {
  out[at++] = tag;
  if (len < 0x80) {
    out[at++] = len;
  } else {
    const n = len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
    out[at++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) out[at++] = (len >>> (8 * i)) & 0xff;
  }
  return at;
}

/** tlv returns tag ‖ length ‖ the concatenation of `parts` (single-byte tags only). */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(headerLength(len) + len);
  let off = writeHeader(out, 0, tag, len);
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** concat joins byte arrays into one new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** sequence: SEQUENCE { parts… } (tag 0x30). */
export const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.sequence, ...parts);

/** set: SET { parts… } (tag 0x31). The caller supplies DER order (SET OF members sorted). */
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.set, ...parts);

/**
 * integerFromUnsigned: INTEGER whose value is the unsigned big-endian `bytes`, minimally encoded
 * (leading zero octets stripped, one 0x00 added when the top bit would read as a sign).
 */
export function integerFromUnsigned(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = bytes.subarray(i);
  if (body.length === 0) return Uint8Array.of(Tag.integer, 1, 0);
  return (body[0] & 0x80) !== 0 ? tlv(Tag.integer, Uint8Array.of(0), body) : tlv(Tag.integer, body);
}

/** integer: INTEGER of a non-negative safe integer or bigint. */
export function integer(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  if (v < 0n) throw new RangeError("der.integer: negative values are not used by Gatehouse");
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return integerFromUnsigned(Uint8Array.from(bytes));
}

/** boolean: BOOLEAN, TRUE encoded as 0xFF (X.690 §11.1). */
export const boolean = (b: boolean): Uint8Array => Uint8Array.of(Tag.boolean, 1, b ? 0xff : 0);

/** NULL (05 00). */
export const NULL: Uint8Array = Uint8Array.of(Tag.null, 0);

/** oidContent returns the content octets of an OBJECT IDENTIFIER given in dotted form. */
export function oidContent(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError("der.oid: at least two arcs");
  const out: number[] = [];
  const push = (v: bigint): void => {
    const tmp: number[] = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      tmp.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...tmp);
  };
  push(arcs[0] * 40n + arcs[1]);
  for (let i = 2; i < arcs.length; i++) push(arcs[i]);
  return Uint8Array.from(out);
}

/** oid: OBJECT IDENTIFIER TLV from dotted form (callers cache the result; this is not hot). */
export const oid = (dotted: string): Uint8Array => tlv(Tag.oid, oidContent(dotted));

/** utf8String: UTF8String of `s`. */
export const utf8String = (s: string): Uint8Array => tlv(Tag.utf8String, utf8.encode(s));

/** printableString: PrintableString of `s`; the caller has checked the character set. */
export const printableString = (s: string): Uint8Array => tlv(Tag.printableString, asciiBytes(s));

/** ia5String: IA5String of `s`; the caller has checked it is ASCII. */
export const ia5String = (s: string): Uint8Array => tlv(Tag.ia5String, asciiBytes(s));

/** asciiBytes: one byte per UTF-16 unit; only for strings already checked to be ASCII. */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** bitString: BIT STRING with `unusedBits` (0–7) unused bits in the last octet. */
export const bitString = (bytes: Uint8Array, unusedBits = 0): Uint8Array => tlv(Tag.bitString, Uint8Array.of(unusedBits), bytes);

/** octetString: OCTET STRING. */
export const octetString = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.octetString, ...parts);

/** explicit: [n] EXPLICIT — a constructed context-specific tag around one complete TLV. */
export const explicit = (n: number, ...inner: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...inner);

/** implicit: [n] IMPLICIT — context-specific tag replacing the universal one; `contents` are the content octets. */
export const implicit = (n: number, contents: Uint8Array, constructed = false): Uint8Array =>
  tlv((constructed ? 0xa0 : 0x80) | n, contents);

function two(n: number, out: Uint8Array, at: number): void {
  out[at] = 0x30 + ((n / 10) | 0);
  out[at + 1] = 0x30 + (n % 10);
}

/** wholeSeconds truncates a Date to whole seconds (RFC 5280 §4.1.2.5.2 forbids fractions). */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** utcTime: UTCTime YYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.1); only for years 1950–2049. */
export function utcTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError("UTCTime covers 1950–2049 only");
  const out = new Uint8Array(15);
  out[0] = Tag.utcTime;
  out[1] = 13;
  two(y % 100, out, 2);
  writeTail(d, out, 4);
  return out;
}

/** generalizedTime: GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.2), whole seconds. */
export function generalizedTime(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError("GeneralizedTime covers years 0000–9999");
  const out = new Uint8Array(17);
  out[0] = Tag.generalizedTime;
  out[1] = 15;
  two((y / 100) | 0, out, 2);
  two(y % 100, out, 4);
  writeTail(d, out, 6);
  return out;
}

function writeTail(d: Date, out: Uint8Array, at: number): void {
  two(d.getUTCMonth() + 1, out, at);
  two(d.getUTCDate(), out, at + 2);
  two(d.getUTCHours(), out, at + 4);
  two(d.getUTCMinutes(), out, at + 6);
  two(d.getUTCSeconds(), out, at + 8);
  out[at + 10] = 0x5a; // 'Z'
}

/** time: RFC 5280 Time — UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(d) : generalizedTime(d);
}

/**
 * DerNode: a value to be encoded later in one pass — complete TLV bytes, a constructed value
 * (`node`), or a string written straight into the output (`textNode`). Building a structure from
 * nodes allocates one output buffer instead of one array per TLV, which is what the issuance hot
 * path needs; the bytes are identical to nesting `tlv` calls.
 */
export type DerNode = Uint8Array | DerTree | DerText;

/** DerTree: tag (or -1 for a bare concatenation) over children, with the content length precomputed. */
export interface DerTree {
  readonly kind: 1;
  readonly tag: number;
  readonly children: readonly DerNode[];
  readonly len: number;
}

/** DerText: a string value whose content octets are written in place (UTF-8, or one byte per char). */
export interface DerText {
  readonly kind: 2;
  readonly tag: number;
  readonly text: string;
  readonly encoding: "utf8" | "latin1";
  readonly len: number;
}

function sizeOf(n: DerNode): number {
  if (n instanceof Uint8Array) return n.length;
  return n.tag < 0 ? n.len : headerLength(n.len) + n.len;
}

/** node: a constructed (or, with tag −1, headerless) value over `children`. */
export function node(tag: number, children: readonly DerNode[]): DerTree {
  let len = 0;
  for (const c of children) len += sizeOf(c);
  return { kind: 1, tag, children, len };
}

/** textNode: a string TLV; `latin1` writes one byte per UTF-16 unit (for strings already checked to be ASCII). */
export function textNode(tag: number, text: string, encoding: "utf8" | "latin1"): DerText {
  return { kind: 2, tag, text, encoding, len: encoding === "utf8" ? Buffer.byteLength(text, "utf8") : text.length };
}

function writeNode(out: Buffer, off: number, n: DerNode): number {
  if (n instanceof Uint8Array) {
    out.set(n, off);
    return off + n.length;
  }
  if (n.tag >= 0) off = writeHeader(out, off, n.tag, n.len);
  if (n.kind === 2) return off + out.write(n.text, off, n.len, n.encoding);
  for (const c of n.children) off = writeNode(out, off, c);
  return off;
}

/** encode writes a DerNode into one new buffer. */
export function encode(n: DerNode): Uint8Array {
  const out = Buffer.allocUnsafeSlow(sizeOf(n));
  const end = writeNode(out, 0, n);
  if (end !== out.length) throw new Error("der.encode: length mismatch");
  // A plain Uint8Array view: Buffer's subarray is slower, and callers expect Uint8Array.
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
