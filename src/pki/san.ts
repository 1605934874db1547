/**
 * san.ts reads, checks and writes subjectAltName GeneralNames (RFC 5280 §4.2.1.6) per PROFILE.md:
 * dNSName (ASCII LDH, optional leading `*.`), rfc822Name, URI (SPIFFE IDs included) and
 * iPAddress, at most 100; otherName, directoryName and registeredID are refused.
 *
 *   GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String,
 *     x400Address [3], directoryName [4], ediPartyName [5], uniformResourceIdentifier [6] IA5String,
 *     iPAddress [7] OCTET STRING, registeredID [8] OBJECT IDENTIFIER }
 */
import { DerCursor, readWhole } from "./der-reader.js";
import { encode, node, textNode, type DerNode, type DerTree } from "./der.js";
import { csrError } from "./errors.js";

/** SubjectAltName: one SAN entry as the API shows it. IPs are dotted IPv4 or RFC 5952 IPv6. */
export type SubjectAltName = { type: "dns" | "email" | "uri" | "ip"; value: string };

/** MAX_SANS: the most SAN entries a CSR may ask for. */
export const MAX_SANS = 100;

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const URI_CHARS = /^[\x21\x23-\x3b\x3d\x3f-\x5b\x5d\x5f\x61-\x7a\x7e]+$/; // printable ASCII minus " < > \ ^ ` { | }
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** isLdhName: dot-separated LDH labels of 1–63 characters, at most 253 in all, no trailing dot. */
export function isLdhName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  for (const label of name.split(".")) if (!LABEL.test(label)) return false;
  return true;
}

/** isValidDnsSan: an LDH name, optionally starting with one `*.` wildcard label. */
export function isValidDnsSan(name: string): boolean {
  return name.startsWith("*.") ? name.length <= 253 && isLdhName(name.slice(2)) : isLdhName(name);
}

/** isValidEmailSan: ASCII dot-atom local part (≤ 64) @ an LDH domain, ≤ 254 in all. */
export function isValidEmailSan(addr: string): boolean {
  if (addr.length > 254) return false;
  const at = addr.lastIndexOf("@");
  if (at <= 0 || at > 64) return false;
  return LOCAL_PART.test(addr.slice(0, at)) && isLdhName(addr.slice(at + 1));
}

/** isValidUriSan: absolute ASCII URI with a scheme; when it has an authority, its host is non-empty. */
export function isValidUriSan(uri: string): boolean {
  if (uri.length > 2048 || !URI_CHARS.test(uri)) return false;
  const scheme = URI_SCHEME.exec(uri);
  if (scheme === null) return false;
  const rest = uri.slice(scheme[0].length);
  if (rest.length === 0) return false;
  if (rest.startsWith("//")) {
    const authority = rest.slice(2).split(/[/?#]/, 1)[0];
    const host = authority.slice(authority.lastIndexOf("@") + 1).replace(/:\d*$/, "");
    if (host.length === 0) return false;
  }
  return true;
}

/** formatIp: dotted IPv4, or IPv6 in RFC 5952 form (lowercase, longest zero run as `::`). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** parseIp: the 4 or 16 bytes of a dotted IPv4 or an IPv6 text address; undefined if invalid. */
export function parseIp(s: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((n) => n <= 255) ? Uint8Array.from(parts) : undefined;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(groups[i])) return undefined;
    const g = parseInt(groups[i], 16);
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  return out;
}

function ascii(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("latin1");
}

/**
 * parseSanExtension reads the extnValue of a requested subjectAltName and returns its entries,
 * throwing the specific CsrErrors code for a refused or invalid entry.
 */
export function parseSanExtension(extnValue: Uint8Array): SubjectAltName[] {
  let c: DerCursor;
  try {
    c = DerCursor.inside(extnValue, readWhole(extnValue, 0x30));
  } catch (e) {
    throw csrError("badExtensionRequest", "subjectAltName", e);
  }
  const out: SubjectAltName[] = [];
  while (!c.atEnd) {
    let t;
    try {
      t = c.next();
    } catch (e) {
      throw csrError("badExtensionRequest", "subjectAltName", e);
    }
    if (out.length === MAX_SANS) throw csrError("sanTooMany");
    const v = extnValue.subarray(t.valueStart, t.end);
    switch (t.tag) {
      case 0xa0:
        throw csrError("sanOtherName");
      case 0xa4:
        throw csrError("sanDirectoryName");
      case 0x88:
        throw csrError("sanRegisteredId");
      case 0xa3:
      case 0xa5:
        throw csrError("sanUnsupportedType");
      case 0x81: {
        const s = ascii(v);
        if (!isValidEmailSan(s)) throw csrError("sanInvalidEmail");
        out.push({ type: "email", value: s });
        break;
      }
      case 0x82: {
        const s = ascii(v);
        if (!isValidDnsSan(s)) throw csrError("sanInvalidDns");
        out.push({ type: "dns", value: s });
        break;
      }
      case 0x86: {
        const s = ascii(v);
        if (!isValidUriSan(s)) throw csrError("sanInvalidUri");
        out.push({ type: "uri", value: s });
        break;
      }
      case 0x87:
        if (v.length !== 4 && v.length !== 16) throw csrError("sanInvalidIp");
        out.push({ type: "ip", value: formatIp(v) });
        break;
      default:
        throw csrError("badExtensionRequest", "subjectAltName");
    }
  }
  if (out.length === 0) throw csrError("sanEmpty");
  return out;
}

/** encodeGeneralNames writes the SAN extnValue (GeneralNames) for validated entries; re-checks each. */
export function encodeGeneralNames(sans: readonly SubjectAltName[]): Uint8Array {
  return encode(generalNamesNode(sans));
}

/** generalNamesNode is encodeGeneralNames as a DerNode, for building a TBS in one pass. */
export function generalNamesNode(sans: readonly SubjectAltName[]): DerTree {
  if (sans.length === 0) throw csrError("sanEmpty");
  if (sans.length > MAX_SANS) throw csrError("sanTooMany");
  const parts: DerNode[] = [];
  for (const s of sans) {
    switch (s.type) {
      case "dns":
        if (!isValidDnsSan(s.value)) throw csrError("sanInvalidDns");
        parts.push(textNode(0x82, s.value, "latin1"));
        break;
      case "email":
        if (!isValidEmailSan(s.value)) throw csrError("sanInvalidEmail");
        parts.push(textNode(0x81, s.value, "latin1"));
        break;
      case "uri":
        if (!isValidUriSan(s.value)) throw csrError("sanInvalidUri");
        parts.push(textNode(0x86, s.value, "latin1"));
        break;
      case "ip": {
        const b = parseIp(s.value);
        if (b === undefined) throw csrError("sanInvalidIp");
        parts.push(node(0x87, [b]));
        break;
      }
      default:
        throw csrError("sanUnsupportedType");
    }
  }
  return node(0x30, parts);
}
