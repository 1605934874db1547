/**
 * names.ts reads X.501 Names (RFC 5280 §4.1.2.4) and formats them for people and headers:
 * RFC 4514 (most specific RDN first, `CN=…,OU=…,O=…,L=…,ST=…,C=…`) and OpenSSL's legacy
 * one-line form (`/C=US/ST=…/CN=…`). One formatter for the API and the mTLS edge headers: every
 * byte that is not printable ASCII is written as an escape, so a hostile certificate cannot put
 * a CR, LF or NUL into a header.
 *
 *   Name ::= SEQUENCE OF RelativeDistinguishedName
 *   RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 *   AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
 */
import { DerCursor, DerError, rawOf, readOid, readWhole, type Tlv } from "./der-reader.js";
import { Tag } from "./der.js";
import { DN_SHORT_NAMES, LEGACY_SHORT_NAMES } from "./oids.js";

/** Ava: one attribute of a Name, with its value's tag and content octets. */
export interface Ava {
  oid: string;
  tag: number;
  value: Uint8Array;
  /** The whole value TLV (for `#hex` output). */
  raw: Uint8Array;
}

/** parseName decodes a Name's DER into its RDNs, each a list of AVAs, in encoded order. Throws DerError. */
export function parseName(nameDer: Uint8Array): Ava[][] {
  return parseNameAt(nameDer, readWhole(nameDer, Tag.sequence));
}

/** parseNameAt decodes the Name TLV `t` found inside `buf`. */
export function parseNameAt(buf: Uint8Array, t: Tlv): Ava[][] {
  if (t.tag !== Tag.sequence) throw new DerError("Name must be a SEQUENCE");
  const rdns: Ava[][] = [];
  const c = DerCursor.inside(buf, t);
  while (!c.atEnd) {
    const rdn = DerCursor.inside(buf, c.expect(Tag.set));
    const avas: Ava[] = [];
    while (!rdn.atEnd) {
      const seq = DerCursor.inside(buf, rdn.expect(Tag.sequence));
      const oid = readOid(seq);
      const v = seq.next();
      seq.finish();
      avas.push({ oid, tag: v.tag, value: buf.subarray(v.valueStart, v.end), raw: rawOf(buf, v) });
    }
    if (avas.length === 0) throw new DerError("empty RDN");
    rdns.push(avas);
  }
  return rdns;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

function isPrintableStringChar(b: number): boolean {
  // X.680 PrintableString: A–Z a–z 0–9 space ' ( ) + , - . / : = ?
  return (
    (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
    b === 0x20 || b === 0x27 || b === 0x28 || b === 0x29 || b === 0x2b || b === 0x2c ||
    b === 0x2d || b === 0x2e || b === 0x2f || b === 0x3a || b === 0x3d || b === 0x3f
  );
}

/**
 * decodeDirectoryString strictly decodes a string attribute value; undefined when the type is not
 * a string type Gatehouse accepts (UTF8String, PrintableString, IA5String, BMPString) or the
 * contents are invalid for the type (bad UTF-8, characters outside the set, lone surrogates).
 */
export function decodeDirectoryString(tag: number, v: Uint8Array): string | undefined {
  switch (tag) {
    case Tag.utf8String:
      try {
        return fatalUtf8.decode(v);
      } catch {
        return undefined;
      }
    case Tag.printableString:
      for (let i = 0; i < v.length; i++) if (!isPrintableStringChar(v[i])) return undefined;
      return latin1(v);
    case Tag.ia5String:
      for (let i = 0; i < v.length; i++) if (v[i] > 0x7f) return undefined;
      return latin1(v);
    case Tag.bmpString: {
      if (v.length % 2 !== 0) return undefined;
      let s = "";
      for (let i = 0; i < v.length; i += 2) {
        const u = (v[i] << 8) | v[i + 1];
        if (u >= 0xd800 && u <= 0xdfff) return undefined; // UCS-2 has no surrogates
        s += String.fromCharCode(u);
      }
      return s;
    }
    default:
      return undefined;
  }
}

function latin1(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("latin1");
}

/** displayBytes: the value as UTF-8 bytes for formatting, or undefined when it is not a string type. */
function displayBytes(a: Ava): Uint8Array | undefined {
  switch (a.tag) {
    case Tag.utf8String:
    case Tag.printableString:
    case Tag.ia5String:
      return a.value;
    case Tag.teletexString: // T.61 read as Latin-1, as most toolkits do
      return Buffer.from(latin1(a.value), "utf8");
    case Tag.bmpString: {
      let s = "";
      for (let i = 0; i + 1 < a.value.length; i += 2) s += String.fromCharCode((a.value[i] << 8) | a.value[i + 1]);
      return Buffer.from(s, "utf8");
    }
    case Tag.universalString: {
      let s = "";
      for (let i = 0; i + 3 < a.value.length; i += 4) {
        const cp = ((a.value[i] << 24) | (a.value[i + 1] << 16) | (a.value[i + 2] << 8) | a.value[i + 3]) >>> 0;
        s += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : "\ufffd";
      }
      return Buffer.from(s, "utf8");
    }
    default:
      return undefined;
  }
}

const HEX = "0123456789ABCDEF";
const hex2 = (b: number): string => HEX[b >> 4] + HEX[b & 15];

/** escapeRfc4514 escapes one value per RFC 4514 §2.4; every byte outside printable ASCII becomes \XX. */
export function escapeRfc4514(bytes: Uint8Array): string {
  let out = "";
  const last = bytes.length - 1;
  for (let i = 0; i <= last; i++) {
    const b = bytes[i];
    if (b < 0x20 || b >= 0x7f) out += "\\" + hex2(b);
    else if (b === 0x22 || b === 0x2b || b === 0x2c || b === 0x3b || b === 0x3c || b === 0x3e || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if ((b === 0x23 && i === 0) || (b === 0x20 && (i === 0 || i === last))) out += "\\" + String.fromCharCode(b);
    else out += String.fromCharCode(b);
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * formatDnRfc4514 formats a Name's DER per RFC 4514: RDNs most specific first, AVAs of one RDN
 * joined by `+`, known types by short name (CN, L, ST, O, OU, C, STREET, DC, UID, SERIALNUMBER,
 * POSTALCODE), others as dotted OID with `#` and the value's DER in hex. The result is ASCII.
 */
export function formatDnRfc4514(nameDer: Uint8Array): string {
  const rdns = parseName(nameDer);
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    parts.push(
      rdns[i]
        .map((a) => {
          const short = DN_SHORT_NAMES[a.oid];
          const bytes = short === undefined ? undefined : displayBytes(a);
          if (short === undefined || bytes === undefined) return `${a.oid}=#${toHex(a.raw)}`;
          return `${short}=${escapeRfc4514(bytes)}`;
        })
        .join("+"),
    );
  }
  return parts.join(",");
}

/**
 * formatDnLegacy formats a Name's DER as OpenSSL's X509_NAME_oneline does: `/type=value` per
 * attribute in encoded order (least specific first for most certificates); bytes outside
 * printable ASCII are written \xHH, and `/` and `+` are backslash-escaped (OpenSSL 3.0 behaviour).
 */
export function formatDnLegacy(nameDer: Uint8Array): string {
  let out = "";
  for (const rdn of parseName(nameDer)) {
    for (const a of rdn) {
      const bytes = displayBytes(a) ?? a.value;
      let v = "";
      for (const b of bytes) {
        if (b < 0x20 || b > 0x7e) v += "\\x" + hex2(b);
        else if (b === 0x2f || b === 0x2b) v += "\\" + String.fromCharCode(b); // '/' and '+', as OpenSSL 3 does
        else v += String.fromCharCode(b);
      }
      out += `/${LEGACY_SHORT_NAMES[a.oid] ?? a.oid}=${v}`;
    }
  }
  return out;
}
