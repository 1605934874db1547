import { createHash } from "node:crypto";
import { findStatusBySerial } from "../db/revocations.js";
import type { CrlReason } from "../pki/crl.js";
import { wholeSeconds } from "../pki/der.js";
import {
  buildOcspResponse,
  ocspErrorResponse,
  OcspRequestError,
  OcspResponseStatus,
  parseOcspRequest,
  type CertStatus,
  type OcspCertId,
} from "../pki/ocsp.js";
import type { ServiceContext } from "./context.js";
import { parseRevocationNotice } from "./crl.js";
import { pkiSettings, type PkiSettings } from "./pki-settings.js";
import type { PublishingCa, PublishingCaCache } from "./publishing-cas.js";
import { TokenBuckets } from "./token-buckets.js";

/** OcspAnswer: the DER OCSPResponse, and for cacheable answers the times HTTP caching headers use. */
export interface OcspAnswer {
  der: Uint8Array;
  cache?: { producedAt: Date; thisUpdate: Date; nextUpdate: Date; refreshAt: number; etag: string };
}

interface CachedResponse {
  der: Uint8Array;
  status: CertStatus;
  producedAt: Date;
  thisUpdate: Date;
  nextUpdate: Date;
  /** refreshAt: half the validity; after it the entry is signed again. */
  refreshAt: number;
  etag: string;
  serialKey: string;
}

const MALFORMED = ocspErrorResponse(OcspResponseStatus.malformedRequest);
const UNAUTHORIZED = ocspErrorResponse(OcspResponseStatus.unauthorized);
const TRY_LATER = ocspErrorResponse(OcspResponseStatus.tryLater);

/** MAX_CACHED bounds the response cache (a response with the CA certificate is under 2 KiB). */
const MAX_CACHED = 100_000;
/** TOMBSTONE_MS: how long a status change is remembered against fills that began before it. */
const TOMBSTONE_MS = 120_000;

/**
 * OcspResponder answers OCSP requests for managed CAs. Responses are signed once per (CA, CertID)
 * and served from memory until half their validity has passed or the certificate's status changes
 * (a `revocation` notice, delivered to every process). A request with a nonce is signed fresh,
 * nonce included, only while its client address has budget left; past it the cached response is
 * served without the nonce, so an anonymous client cannot make Gatehouse sign at line rate.
 */
export class OcspResponder {
  readonly settings: PkiSettings;
  private cache = new Map<string, CachedResponse>();
  private bySerial = new Map<string, Set<string>>();
  private inflight = new Map<string, Promise<CachedResponse>>();
  /** epoch counts status changes; tombstones remember, per (CA, serial), the epoch of its last change. */
  private epoch = 0;
  private tombstones = new Map<string, { epoch: number; at: number }>();
  private nonceBudget!: TokenBuckets;
  private unsubscribe?: () => void;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly cas: PublishingCaCache,
  ) {
    this.settings = pkiSettings(ctx.pkiSettings);
    this.nonceBudget = this.newBudget();
  }

  private newBudget(): TokenBuckets {
    const perMinute = this.settings.ocspNoncePerMinute;
    // 0 per minute: never sign fresh (TokenBuckets treats rate 0 as unlimited, so use an empty one)
    return perMinute > 0 ? new TokenBuckets(perMinute / 60, perMinute) : new TokenBuckets(1e-9, 0);
  }

  start(): void {
    this.unsubscribe = this.ctx.bus.subscribe((change) => {
      const notice = parseRevocationNotice(change);
      if (notice) this.invalidate(`${notice.caId}/${notice.serialHex}`);
      else if (change.topic === "ca") this.clear();
    });
    this.pruneTimer = setInterval(() => this.prune(), 30_000);
    this.pruneTimer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  /** clear drops every cached response and nonce budget (tests that empty the database call it). */
  clear(): void {
    this.nonceBudget = this.newBudget();
    this.cache.clear();
    this.bySerial.clear();
    this.epoch++;
  }

  /** cachedCount: how many responses are held (for tests and benchmarks). */
  get cachedCount(): number {
    return this.cache.size;
  }

  /** respond answers one OCSPRequest DER for the CA in the URL, from `client` (its address). */
  async respond(caId: string, body: Uint8Array, client: string): Promise<OcspAnswer> {
    let req;
    try {
      req = parseOcspRequest(body);
    } catch (err) {
      if (err instanceof OcspRequestError) return { der: MALFORMED };
      throw err;
    }
    const pub = await this.cas.get(caId);
    if (!pub || !req.certIds.every((c) => pub.ocsp.matches(c))) return { der: UNAUTHORIZED };
    if (req.certIds.length === 1 && !(req.nonce && this.nonceBudget.take(client))) {
      const entry = await this.cachedResponse(pub, req.certIds[0]);
      return { der: entry.der, cache: entry };
    }
    if (req.certIds.length > 1 && !this.nonceBudget.take(client)) return { der: TRY_LATER };
    // Signed fresh (a nonce, or several certificates): the status comes from the cache, which a
    // status change invalidates, so no database round trip either.
    const entries = await Promise.all(req.certIds.map((c) => this.cachedResponse(pub, c)));
    const now = wholeSeconds(this.ctx.now());
    const nextUpdate = new Date(now.getTime() + this.settings.ocspValidityHours * 3600_000);
    const responses = req.certIds.map((c, i) => ({ certIdRaw: c.raw, status: entries[i].status, thisUpdate: now, nextUpdate }));
    return { der: await buildOcspResponse({ issuer: pub.ocsp, signer: pub.signer, producedAt: now, responses, nonce: req.nonce }) };
  }

  private async cachedResponse(pub: PublishingCa, certId: OcspCertId): Promise<CachedResponse> {
    const key = pub.ca.id + Buffer.from(certId.raw.buffer, certId.raw.byteOffset, certId.raw.byteLength).toString("latin1");
    const hit = this.cache.get(key);
    if (hit && Date.now() < hit.refreshAt) return hit;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fill(pub, certId, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fill(pub: PublishingCa, certId: OcspCertId, key: string): Promise<CachedResponse> {
    const startEpoch = this.epoch;
    const serialKey = `${pub.ca.id}/${certId.serial ? Buffer.from(certId.serial).toString("hex") : "-"}`;
    const status = await this.status(pub, certId);
    const now = wholeSeconds(this.ctx.now());
    const validityMs = this.settings.ocspValidityHours * 3600_000;
    const nextUpdate = new Date(now.getTime() + validityMs);
    const der = await buildOcspResponse({
      issuer: pub.ocsp,
      signer: pub.signer,
      producedAt: now,
      responses: [{ certIdRaw: certId.raw, status, thisUpdate: now, nextUpdate }],
    });
    const entry: CachedResponse = {
      der,
      status,
      producedAt: now,
      thisUpdate: now,
      nextUpdate,
      refreshAt: Date.now() + validityMs / 2,
      etag: `"${createHash("sha1").update(der).digest("hex")}"`,
      serialKey,
    };
    // A status change noticed while this fill was reading or signing makes its answer suspect:
    // serve it to this caller (it was true when read) but do not keep it.
    const changed = this.tombstones.get(serialKey);
    if (!changed || changed.epoch <= startEpoch) this.store(key, entry);
    return entry;
  }

  private store(key: string, entry: CachedResponse): void {
    const old = this.cache.get(key);
    if (old) this.bySerial.get(old.serialKey)?.delete(key);
    if (this.cache.size >= MAX_CACHED) {
      const oldest = this.cache.keys().next().value as string;
      const o = this.cache.get(oldest)!;
      this.cache.delete(oldest);
      this.bySerial.get(o.serialKey)?.delete(oldest);
    }
    this.cache.delete(key);
    this.cache.set(key, entry);
    let keys = this.bySerial.get(entry.serialKey);
    if (!keys) this.bySerial.set(entry.serialKey, (keys = new Set()));
    keys.add(key);
  }

  private invalidate(serialKey: string): void {
    this.epoch++;
    this.tombstones.set(serialKey, { epoch: this.epoch, at: Date.now() });
    const keys = this.bySerial.get(serialKey);
    if (!keys) return;
    for (const k of keys) this.cache.delete(k);
    this.bySerial.delete(serialKey);
  }

  private prune(): void {
    const cutoff = Date.now() - TOMBSTONE_MS;
    for (const [k, t] of this.tombstones) if (t.at < cutoff) this.tombstones.delete(k);
    for (const [k, keys] of this.bySerial) if (keys.size === 0) this.bySerial.delete(k);
  }

  private async status(pub: PublishingCa, certId: OcspCertId): Promise<CertStatus> {
    if (!certId.serial) return { kind: "unknown" };
    const row = await findStatusBySerial(this.ctx.sql, pub.ca.id, certId.serial);
    if (!row) return { kind: "unknown" };
    if (row.status === "active") return { kind: "good" };
    return { kind: "revoked", revokedAt: row.revoked_on!, reason: row.revocation_reason as CrlReason };
  }
}
