/**
 * pem.ts converts between PEM (RFC 7468 strict textual encoding) and DER. Parsing accepts LF or
 * CRLF line ends, surrounding whitespace and any base64 line length; it refuses text outside the
 * blocks, bad base64 and mismatched labels. Output is RFC 7468 strict: 64-character lines, LF,
 * a final newline.
 */

/** PemError: the text is not the PEM the caller asked for. Callers map it to their own code. */
export class PemError extends Error {
  override name = "PemError";
}

/** PemBlock is one decoded block. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** pemBlocks decodes every PEM block of `text`, in order; only whitespace may separate blocks. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let last = 0;
  BLOCK.lastIndex = 0;
  for (let m = BLOCK.exec(text); m !== null; m = BLOCK.exec(text)) {
    if (text.slice(last, m.index).trim() !== "") throw new PemError("text outside PEM blocks");
    if (m[1] !== m[3]) throw new PemError("BEGIN and END labels differ");
    blocks.push({ label: m[1], der: decodeBase64Strict(m[2]) });
    last = m.index + m[0].length;
  }
  if (text.slice(last).trim() !== "") throw new PemError("text outside PEM blocks");
  if (blocks.length === 0) throw new PemError("no PEM block");
  return blocks;
}

function decodeBase64Strict(body: string): Uint8Array {
  const b64 = body.replace(/[ \t\r\n]+/g, "");
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64_BODY.test(b64)) throw new PemError("bad base64");
  const der = Buffer.from(b64, "base64");
  // Non-canonical trailing bits would round-trip differently; refuse them.
  if (der.toString("base64") !== b64) throw new PemError("non-canonical base64");
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/**
 * pemToDer decodes a text holding exactly one PEM block whose label is `label` (or one of the
 * labels given) and returns its DER bytes.
 */
export function pemToDer(pem: string, label: string | readonly string[]): Uint8Array {
  const blocks = pemBlocks(pem);
  if (blocks.length !== 1) throw new PemError("expected exactly one PEM block");
  const labels = typeof label === "string" ? [label] : label;
  if (!labels.includes(blocks[0].label)) throw new PemError("unexpected PEM label");
  return blocks[0].der;
}

/** derToPem encodes DER as an RFC 7468 strict PEM block with a trailing newline. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + "\n";
  return out + `-----END ${label}-----\n`;
}

/** normalisePem re-encodes one PEM block in the strict form (label kept unless `label` renames it). */
export function normalisePem(pem: string, label?: string): string {
  const blocks = pemBlocks(pem);
  if (blocks.length !== 1) throw new PemError("expected exactly one PEM block");
  return derToPem(blocks[0].der, label ?? blocks[0].label);
}
