/**
 * crl.ts builds X.509 v2 CRLs (RFC 5280 §5) by streaming hand-encoded DER: each revoked entry is
 * encoded once, at revocation, and stored; a CRL is those stored bytes framed by a header and the
 * CRL extensions, signed while it is fed to the signer. Nothing here holds a parsed object per
 * entry, so a million entries cost their DER size (about 35 bytes each) and one pass.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier,
 *                                  signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE {
 *     version INTEGER (v2 = 1), signature AlgorithmIdentifier, issuer Name,
 *     thisUpdate Time, nextUpdate Time,
 *     revokedCertificates SEQUENCE OF SEQUENCE {
 *       userCertificate CertificateSerialNumber, revocationDate Time, crlEntryExtensions Extensions OPTIONAL
 *     } OPTIONAL,                                  -- absent when empty (§5.1.2.6)
 *     crlExtensions [0] EXPLICIT Extensions }      -- authorityKeyIdentifier, cRLNumber (§5.2.1, §5.2.3)
 */
import { concat, integer, integerFromUnsigned, lengthBytes, sequence, time, tlv, wholeSeconds } from "./der.js";
import { authorityKeyIdentifierExt, extension } from "./extensions.js";
import type { StreamSigner } from "./stream-signer.js";

/** CrlReason: the RFC 5280 §5.3.1 reasons Gatehouse writes (certificateHold = a reversible hold). */
export type CrlReason =
  | "unspecified"
  | "keyCompromise"
  | "cACompromise"
  | "affiliationChanged"
  | "superseded"
  | "cessationOfOperation"
  | "certificateHold";

/** CRL_REASON_CODES: CRLReason ENUMERATED values (RFC 5280 §5.3.1). */
export const CRL_REASON_CODES: Readonly<Record<CrlReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
};

/** CRL_OIDS: the CRL extension identifiers (RFC 5280 §5.2.3, §5.3.1). */
export const CRL_OIDS = { cRLNumber: "2.5.29.20", reasonCode: "2.5.29.21" } as const;

/** reasonCodeExtension: the non-critical reasonCode entry extension, extnValue = ENUMERATED. */
export function reasonCodeExtension(reason: CrlReason): Uint8Array {
  return extension(CRL_OIDS.reasonCode, false, Uint8Array.of(0x0a, 0x01, CRL_REASON_CODES[reason]));
}
const REASON_EXTENSIONS = new Map<CrlReason, Uint8Array>(
  (Object.keys(CRL_REASON_CODES) as CrlReason[]).map((r) => [r, sequence(reasonCodeExtension(r))]),
);

/**
 * encodeCrlEntry encodes one revokedCertificates element. `serial` is the unsigned big-endian
 * serial (as stored); the revocation date is truncated to whole seconds. `unspecified` is written
 * with no reasonCode extension (RFC 5280 §5.3.1: SHOULD be absent rather than unspecified).
 */
export function encodeCrlEntry(serial: Uint8Array, revocationDate: Date, reason: CrlReason): Uint8Array {
  if (serial.length === 0 || serial.length > 20) throw new RangeError("serial must be 1 to 20 octets");
  const ext = REASON_EXTENSIONS.get(reason);
  if (!ext) throw new RangeError("unknown CRL reason");
  const head = [integerFromUnsigned(serial), time(wholeSeconds(revocationDate))];
  return reason === "unspecified" ? sequence(...head) : sequence(...head, ext);
}

/** CrlParams: everything one CRL depends on (no clock is read here). */
export interface CrlParams {
  /** The CA certificate's subject DER, copied byte for byte as the CRL issuer. */
  issuerSubjectDer: Uint8Array;
  /** The CA's subjectKeyIdentifier, written as the CRL's authorityKeyIdentifier keyIdentifier. */
  authorityKeyIdentifier: Uint8Array;
  signer: StreamSigner;
  /** cRLNumber: non-negative, at most 20 octets (RFC 5280 §5.2.3); strictly increasing per CA. */
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
}

/** CHUNK_SIZE: entries are packed into buffers of this size, so the entry list is a few large blocks. */
const CHUNK_SIZE = 1 << 20;
const MAX_CRL_NUMBER = (1n << 159n) - 1n;

/**
 * CrlBuilder collects encoded entries (in arrival order: a cursor's rows) and then signs the CRL,
 * hashing header, entry blocks and extensions in turn without concatenating them first.
 */
export class CrlBuilder {
  private chunks: Buffer[] = [];
  private current: Buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  private used = 0;
  private entriesLength = 0;
  /** count is the number of entries added so far. */
  count = 0;

  constructor(private readonly p: CrlParams) {
    if (p.crlNumber < 0n || p.crlNumber > MAX_CRL_NUMBER) throw new RangeError("cRLNumber must be 0 to 2^159-1");
    if (wholeSeconds(p.nextUpdate) <= wholeSeconds(p.thisUpdate)) throw new RangeError("nextUpdate must be after thisUpdate");
  }

  /** add appends one entry made by encodeCrlEntry (or stored from it). */
  add(entry: Uint8Array): void {
    if (entry.length === 0 || entry[0] !== 0x30) throw new RangeError("a CRL entry is a DER SEQUENCE");
    if (this.used + entry.length > this.current.length) {
      this.chunks.push(this.current.subarray(0, this.used));
      this.current = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, entry.length));
      this.used = 0;
    }
    this.current.set(entry, this.used);
    this.used += entry.length;
    this.entriesLength += entry.length;
    this.count++;
  }

  /**
   * finishParts signs the CRL and returns its DER as consecutive parts (header, the entry blocks,
   * extensions, signature), so a caller can stream it without joining it.
   */
  async finishParts(): Promise<{ parts: Uint8Array[]; length: number; entries: number }> {
    const p = this.p;
    if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
    this.current = Buffer.alloc(0);
    const blocks = this.chunks;
    this.chunks = [];
    const alg = p.signer.algorithmIdentifierDer;
    const prefix = concat(
      Uint8Array.of(0x02, 0x01, 0x01), // version v2
      alg,
      p.issuerSubjectDer,
      time(wholeSeconds(p.thisUpdate)),
      time(wholeSeconds(p.nextUpdate)),
      this.count > 0 ? concat(Uint8Array.of(0x30), lengthBytes(this.entriesLength)) : new Uint8Array(0),
    );
    const extensions = tlv(0xa0, sequence(authorityKeyIdentifierExt(p.authorityKeyIdentifier), extension(CRL_OIDS.cRLNumber, false, integer(p.crlNumber))));
    const tbsContentLength = prefix.length + this.entriesLength + extensions.length;
    const tbsHeader = concat(Uint8Array.of(0x30), lengthBytes(tbsContentLength));

    const stream = p.signer.begin();
    stream.update(tbsHeader);
    stream.update(prefix);
    for (const b of blocks) stream.update(b);
    stream.update(extensions);
    const signatureValue = tlv(0x03, Uint8Array.of(0), await stream.final());

    const tbsLength = tbsHeader.length + tbsContentLength;
    const outerContentLength = tbsLength + alg.length + signatureValue.length;
    const outerHeader = concat(Uint8Array.of(0x30), lengthBytes(outerContentLength));
    const parts = [outerHeader, tbsHeader, prefix, ...blocks, extensions, alg, signatureValue];
    const length = outerHeader.length + outerContentLength;
    if (parts.reduce((n, x) => n + x.length, 0) !== length) throw new Error("CRL length bookkeeping is wrong");
    return { parts, length, entries: this.count };
  }

  /** finish signs the CRL and returns its DER in one buffer. */
  async finish(): Promise<{ der: Buffer; entries: number }> {
    const { parts, length, entries } = await this.finishParts();
    return { der: Buffer.concat(parts, length), entries };
  }
}

/** buildCrl is CrlBuilder for entries already in hand (tests, small CRLs). */
export async function buildCrl(p: CrlParams, entries: Iterable<Uint8Array>): Promise<{ der: Buffer; entries: number }> {
  const b = new CrlBuilder(p);
  for (const e of entries) b.add(e);
  return b.finish();
}
