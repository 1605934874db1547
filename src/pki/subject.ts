/**
 * subject.ts applies PROFILE.md "Names" to a CSR subject and re-encodes the leaf subject:
 * order C, ST, L, O, OU, CN, at most one of each, one attribute per RDN; C as PrintableString
 * (two letters), the others UTF8String within RFC 5280's upper bounds (Appendix A.1: ub-common-name
 * 64, ub-organization-name 64, ub-organizational-unit-name 64, ub-locality-name 128,
 * ub-state-name 128).
 */
import type { Tlv } from "./der-reader.js";
import { encode, node, oid, textNode, type DerTree } from "./der.js";
import { csrError } from "./errors.js";
import { decodeDirectoryString, parseNameAt } from "./names.js";
import { LEGACY_SHORT_NAMES, Oid } from "./oids.js";

/** SubjectFields: the subject attributes a client certificate may carry. */
export interface SubjectFields {
  country?: string;
  state?: string;
  locality?: string;
  organization?: string;
  organizationalUnit?: string;
  commonName?: string;
}

type Field = keyof SubjectFields;

interface FieldRule {
  field: Field;
  oid: string;
  max: number;
  oidDer: Uint8Array;
}

/** The leaf subject's attributes in encoding order (least specific first). */
const RULES: readonly FieldRule[] = ([
  { field: "country", oid: Oid.countryName, max: 2 },
  { field: "state", oid: Oid.stateOrProvinceName, max: 128 },
  { field: "locality", oid: Oid.localityName, max: 128 },
  { field: "organization", oid: Oid.organizationName, max: 64 },
  { field: "organizationalUnit", oid: Oid.organizationalUnitName, max: 64 },
  { field: "commonName", oid: Oid.commonName, max: 64 },
] as const).map((r) => ({ field: r.field, oid: r.oid, max: r.max, oidDer: oid(r.oid) }));

const RULE_BY_OID = new Map(RULES.map((r) => [r.oid, r]));

// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const COUNTRY = /^[A-Za-z]{2}$/;

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** checkSubjectValue applies the per-value rules; throws the matching CsrErrors code. */
function checkSubjectValue(rule: FieldRule, value: string): void {
  if (value.length === 0) throw csrError("subjectEmptyValue", rule.field);
  if (CONTROL.test(value)) throw csrError("subjectControlCharacters", rule.field);
  if (rule.field === "country") {
    if (!COUNTRY.test(value)) throw csrError("subjectBadCountry");
  } else if (codePoints(value) > rule.max) {
    throw csrError("subjectTooLong", `${rule.field} allows ${rule.max}`);
  }
}

/**
 * parseCsrSubject reads the CSR's subject Name (the TLV `t` in `buf`) and returns its fields,
 * refusing anything the profile does not allow. DER errors are thrown as DerError.
 */
export function parseCsrSubject(buf: Uint8Array, t: Tlv): SubjectFields {
  const rdns = parseNameAt(buf, t);
  const out: SubjectFields = {};
  for (const rdn of rdns) {
    if (rdn.length !== 1) throw csrError("subjectMultiValuedRdn");
    const a = rdn[0];
    const rule = RULE_BY_OID.get(a.oid);
    if (rule === undefined) {
      const name = LEGACY_SHORT_NAMES[a.oid];
      throw csrError("subjectUnsupportedAttribute", name === undefined ? "unknown attribute type" : `${name} given`);
    }
    if (out[rule.field] !== undefined) throw csrError("subjectRepeatedAttribute", rule.field);
    const value = decodeDirectoryString(a.tag, a.value);
    if (value === undefined) throw csrError("subjectBadString", rule.field);
    checkSubjectValue(rule, value);
    out[rule.field] = value;
  }
  return out;
}

/** isEmptySubject: no attribute set. */
export function isEmptySubject(s: SubjectFields): boolean {
  for (const r of RULES) if (s[r.field] !== undefined) return false;
  return true;
}

/**
 * encodeSubject builds the leaf subject Name DER from `fields` in the order C, ST, L, O, OU, CN,
 * one AttributeTypeAndValue per RDN (an empty subject is `30 00`). Values are re-checked.
 */
export function encodeSubject(fields: SubjectFields): Uint8Array {
  return encode(subjectNode(fields));
}

/** subjectNode is encodeSubject as a DerNode, for building a TBS in one pass. */
export function subjectNode(fields: SubjectFields): DerTree {
  const rdns: DerTree[] = [];
  for (const r of RULES) {
    const v = fields[r.field];
    if (v === undefined) continue;
    checkSubjectValue(r, v);
    const value = r.field === "country" ? textNode(0x13, v, "latin1") : textNode(0x0c, v, "utf8");
    rdns.push(node(0x31, [node(0x30, [r.oidDer, value])]));
  }
  return node(0x30, rdns);
}
