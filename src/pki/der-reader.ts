/**
 * der-reader.ts is a strict DER reader (X.690 §10) for the few structures Gatehouse parses on
 * its hot path (CSRs, its own TBS for lint). It accepts DER only: single-byte tags, definite
 * minimal lengths, values that end exactly where their parent ends, no trailing bytes. Anything
 * else throws DerError, which callers turn into their own coded error.
 */

/** DerError marks input that is not the DER the caller expected; its message names the rule. */
export class DerError extends Error {
  override name = "DerError";
}

/** Tlv locates one value: `tag` byte, `start` of the tag, `valueStart`, `end` (exclusive). */
export interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  end: number;
}

/** readTlv reads the TLV at `pos`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError("truncated");
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not used");
  let len = buf[pos + 1];
  let valueStart = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError("indefinite length");
    if (n > 4) throw new DerError("length too large");
    if (valueStart + n > limit) throw new DerError("truncated");
    if (buf[valueStart] === 0) throw new DerError("non-minimal length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[valueStart + i];
    if (len < 0x80) throw new DerError("non-minimal length");
    valueStart += n;
  }
  const end = valueStart + len;
  if (end > limit) throw new DerError("truncated");
  return { tag, start: pos, valueStart, end };
}

/** readWhole reads one TLV that must span all of `buf` (no trailing bytes). */
export function readWhole(buf: Uint8Array, tag: number): Tlv {
  const t = readTlv(buf, 0, buf.length);
  if (t.tag !== tag) throw new DerError("unexpected tag");
  if (t.end !== buf.length) throw new DerError("trailing bytes");
  return t;
}

/** DerCursor walks the children of one constructed value in order. */
export class DerCursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** DerCursor.inside returns a cursor over the contents of `t`. */
  static inside(buf: Uint8Array, t: Tlv): DerCursor {
    return new DerCursor(buf, t.valueStart, t.end);
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** peekTag returns the next tag, or -1 at the end. */
  peekTag(): number {
    return this.pos < this.end ? this.buf[this.pos] : -1;
  }

  /** next reads any next value. */
  next(): Tlv {
    const t = readTlv(this.buf, this.pos, this.end);
    this.pos = t.end;
    return t;
  }

  /** expect reads the next value and requires its tag. */
  expect(tag: number): Tlv {
    if (this.peekTag() !== tag) throw new DerError(this.atEnd ? "missing element" : "unexpected tag");
    return this.next();
  }

  /** optional reads the next value only if it has `tag`. */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  /** finish requires that every child was consumed. */
  finish(): void {
    if (this.pos !== this.end) throw new DerError("unexpected extra element");
  }
}

/** bytesOf returns the content octets of `t` (a view, not a copy). */
export const bytesOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.valueStart, t.end);

/** rawOf returns the whole TLV of `t` (a view, not a copy). */
export const rawOf = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end);

/** oidToString decodes OBJECT IDENTIFIER content octets to dotted form, requiring minimal arcs. */
export function oidToString(buf: Uint8Array, start: number, end: number): string {
  if (start >= end) throw new DerError("empty OID");
  if ((buf[end - 1] & 0x80) !== 0) throw new DerError("truncated OID");
  let out = "";
  let v = 0;
  let first = true;
  let arcStart = true;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (arcStart && b === 0x80) throw new DerError("non-minimal OID arc");
    arcStart = false;
    if (v > 0x1ffffffffffff) throw new DerError("OID arc too large");
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) {
        out = v < 40 ? `0.${v}` : v < 80 ? `1.${v - 40}` : `2.${v - 80}`;
        first = false;
      } else {
        out += `.${v}`;
      }
      v = 0;
      arcStart = true;
    }
  }
  return out;
}

/** readOid reads an OBJECT IDENTIFIER at the cursor and returns it dotted. */
export function readOid(c: DerCursor): string {
  const t = c.expect(0x06);
  return oidToString(c.buf, t.valueStart, t.end);
}

/** checkInteger requires a minimally encoded INTEGER content (X.690 §8.3.2) and returns whether it is negative. */
export function checkInteger(buf: Uint8Array, t: Tlv): { negative: boolean } {
  const n = t.end - t.valueStart;
  if (n === 0) throw new DerError("empty INTEGER");
  if (n > 1) {
    const a = buf[t.valueStart];
    const b = buf[t.valueStart + 1];
    if ((a === 0 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0)) throw new DerError("non-minimal INTEGER");
  }
  return { negative: (buf[t.valueStart] & 0x80) !== 0 };
}

/** readSmallInteger reads a non-negative INTEGER that fits in 32 bits. */
export function readSmallInteger(c: DerCursor): number {
  const t = c.expect(0x02);
  const { negative } = checkInteger(c.buf, t);
  if (negative || t.end - t.valueStart > 5) throw new DerError("INTEGER out of range");
  let v = 0;
  for (let i = t.valueStart; i < t.end; i++) v = v * 256 + c.buf[i];
  return v;
}

/** readBoolean reads a BOOLEAN, whose content must be 0x00 or 0xFF. */
export function readBoolean(c: DerCursor): boolean {
  const t = c.expect(0x01);
  if (t.end - t.valueStart !== 1) throw new DerError("bad BOOLEAN length");
  const v = c.buf[t.valueStart];
  if (v !== 0 && v !== 0xff) throw new DerError("non-DER BOOLEAN");
  return v === 0xff;
}

/** bitStringBytes checks a BIT STRING with no unused bits and returns its bytes after the unused-bits octet. */
export function bitStringBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== 0x03) throw new DerError("expected BIT STRING");
  if (t.end - t.valueStart < 1 || buf[t.valueStart] !== 0) throw new DerError("BIT STRING with unused bits");
  return buf.subarray(t.valueStart + 1, t.end);
}

/** timeToDate decodes RFC 5280 Time in its only allowed forms: UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSSZ. */
export function timeToDate(buf: Uint8Array, t: Tlv): Date {
  const n = t.end - t.valueStart;
  const s = t.valueStart;
  let at: number;
  if (t.tag === 0x17 && n === 13) at = 2;
  else if (t.tag === 0x18 && n === 15) at = 4;
  else throw new DerError("time not in RFC 5280 form");
  if (buf[s + n - 1] !== 0x5a) throw new DerError("time not in UTC (Z)");
  for (let i = s; i < s + n - 1; i++) if (buf[i] < 0x30 || buf[i] > 0x39) throw new DerError("bad time digit");
  const two = (i: number): number => (buf[s + i] - 0x30) * 10 + (buf[s + i + 1] - 0x30);
  const year = at === 2 ? (two(0) >= 50 ? 1900 : 2000) + two(0) : two(0) * 100 + two(2);
  const mo = two(at), d = two(at + 2), h = two(at + 4), mi = two(at + 6), se = two(at + 8);
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (year < 100) date.setUTCFullYear(year);
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw new DerError("invalid calendar time");
  }
  return date;
}
