/**
 * directory.ts is what the edge knows about hostnames, zones and certificates, read from the
 * database and cached in memory so a handshake or a request on a known hostname costs a map
 * lookup:
 *
 *  - a hostname's route: the zone that owns it (longest suffix) and the CAs associated with it;
 *  - a zone's edge settings (origin, policy);
 *  - a managed-CA certificate's revocation status, by (CA, serial).
 *
 * Every entry is dropped when the change bus says its source changed (LISTEN/NOTIFY on a server,
 * the in-process bus when embedded), so an association, a CA upload or a revocation made through
 * the API applies to the next handshake or request on every edge process. A TTL bounds how long
 * an entry can outlive a lost notice.
 */
import { X509Certificate } from "node:crypto";
import type { ChangeBus } from "../db/changes.js";
import { findEdgeSettings, findRevocation, type EdgePolicy } from "../db/edge-settings.js";
import { trustForHostname, type HostnameTrust } from "../db/hostname-associations.js";
import type { Sql } from "../db/sql.js";
import { derToPem } from "../pki/pem.js";
import { LoadingCache } from "./cache.js";
import { readCertificateFields, type CertificateFields } from "./certificate-fields.js";

/** TrustedCa is one CA a hostname accepts, with what the TLS context and the verdict need of it. */
export interface TrustedCa {
  caId: string;
  kind: "managed" | "byoca";
  pem: string;
  fields: CertificateFields;
  /** Parsed lazily, for the rare issuer match that the raw bytes cannot settle. */
  x509(): X509Certificate;
}

/** HostRoute: a hostname's zone (when a zone owns it) and the CAs it trusts (none: no mTLS). */
export interface HostRoute {
  hostname?: string;
  zone?: { id: string; accountId: string; name: string };
  cas: TrustedCa[];
  /** Identifies the CA set: "" for none, else the sorted CA ids. Connections compare it with the Host's. */
  caKey: string;
}

/** ZoneSettings: a zone's edge settings, parsed. */
export interface ZoneSettings {
  origin?: URL;
  policy: EdgePolicy;
}

/** Revocation: a managed-CA certificate's status at the edge. */
export interface Revocation {
  revoked: boolean;
  /** certificateHold, a final RFC 5280 reason, or "unknown" for a serial the CA never recorded. */
  reason?: string;
}

/** TrustLookup resolves a hostname's zone and CAs (issue 3's trustForHostname by default). */
export type TrustLookup = (hostname: string) => Promise<HostnameTrust | undefined>;

export interface DirectoryOptions {
  sql: Sql;
  bus: ChangeBus;
  trustLookup?: TrustLookup;
  /** TTLs (ms): a hostname route, a hostname no zone owns, settings, a revocation status. */
  ttl?: Partial<{ route: number; unknownHost: number; settings: number; revocation: number }>;
  maxEntries?: number;
}

const NO_ROUTE: HostRoute = { cas: [], caKey: "" };
const DEFAULT_TTL = { route: 60_000, unknownHost: 5_000, settings: 60_000, revocation: 30_000 };

/** Topics whose changes can alter any hostname's route: dropped wholesale (they are rare). */
const ROUTE_TOPICS = new Set(["association", "ca", "mtls_certificate", "zone"]);

export class EdgeDirectory {
  private readonly routes: LoadingCache<string, HostRoute>;
  private readonly settings: LoadingCache<string, ZoneSettings>;
  private readonly revocations: LoadingCache<string, Revocation & { id?: string }>;
  /** certificate row id → revocation cache key, so a "certificate" change drops exactly its entry. */
  private readonly revocationKeyOfId = new Map<string, string>();
  private readonly caCache = new Map<string, TrustedCa>();
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: DirectoryOptions) {
    const ttl = { ...DEFAULT_TTL, ...opts.ttl };
    const max = opts.maxEntries ?? 10_000;
    const lookup = opts.trustLookup ?? ((hostname: string) => trustForHostname(opts.sql, hostname));
    this.routes = new LoadingCache(async (hostname) => this.toRoute(hostname, await lookup(hostname)), {
      max,
      ttlMs: (r) => (r.zone ? ttl.route : ttl.unknownHost),
    });
    this.settings = new LoadingCache<string, ZoneSettings>(
      async (zoneId) => {
        const row = await findEdgeSettings(opts.sql, zoneId);
        return { origin: row.origin ? new URL(row.origin) : undefined, policy: row.policy };
      },
      { max, ttlMs: () => ttl.settings },
    );
    this.revocations = new LoadingCache<string, Revocation & { id?: string }>(
      async (key) => {
        const [caId, serialHex] = key.split(":");
        const row = await findRevocation(opts.sql, caId, Buffer.from(serialHex, "hex"));
        if (!row) return { revoked: true, reason: "unknown" };
        if (this.revocationKeyOfId.size >= max * 10) {
          // Bound the index: forgetting it means the next change clears every status instead of one.
          this.revocationKeyOfId.clear();
        }
        this.revocationKeyOfId.set(row.id, key);
        return { id: row.id, revoked: row.status === "revoked", reason: row.revocation_reason ?? undefined };
      },
      { max: max * 10, ttlMs: () => ttl.revocation },
    );
    this.unsubscribe = opts.bus.subscribe((change) => {
      if (ROUTE_TOPICS.has(change.topic)) this.routes.clear();
      if (change.topic === "edge_settings") this.settings.delete(change.id);
      if (change.topic === "zone") this.settings.clear();
      if (change.topic === "certificate") {
        const key = this.revocationKeyOfId.get(change.id);
        if (key !== undefined) {
          this.revocationKeyOfId.delete(change.id);
          this.revocations.delete(key);
        } else {
          // Not cached here, but a load may be running: make sure it is not stored.
          this.revocations.clear();
        }
      }
      if (change.topic === "ca") this.revocations.clear();
    });
  }

  private toRoute(hostname: string, trust: HostnameTrust | undefined): HostRoute {
    if (!trust) return { hostname, cas: [], caKey: "" };
    const cas = trust.cas.map((c) => this.trustedCa(c));
    return {
      hostname,
      zone: { id: trust.zoneId, accountId: trust.accountId, name: trust.zoneName },
      cas,
      caKey: cas.map((c) => c.caId).sort().join(","),
    };
  }

  /** trustedCa reuses the parsed form of a CA certificate across hostnames and reloads. */
  private trustedCa(c: HostnameTrust["cas"][number]): TrustedCa {
    const cached = this.caCache.get(c.caId);
    if (cached && cached.fields.der.equals(c.certificateDer)) return cached;
    let x509: X509Certificate | undefined;
    const der = Buffer.from(c.certificateDer);
    const ca: TrustedCa = {
      caId: c.caId,
      kind: c.kind,
      pem: derToPem(der, "CERTIFICATE"),
      fields: readCertificateFields(der),
      x509: () => (x509 ??= new X509Certificate(der)),
    };
    if (this.caCache.size > 10_000) this.caCache.clear();
    this.caCache.set(c.caId, ca);
    return ca;
  }

  /** peekRoute: the cached route of a hostname (undefined hostname: no SNI/Host name, no route). */
  peekRoute(hostname: string | undefined): HostRoute | undefined {
    return hostname === undefined ? NO_ROUTE : this.routes.peek(hostname);
  }

  route(hostname: string | undefined): Promise<HostRoute> {
    return hostname === undefined ? Promise.resolve(NO_ROUTE) : this.routes.get(hostname);
  }

  peekSettings(zoneId: string): ZoneSettings | undefined {
    return this.settings.peek(zoneId);
  }

  zoneSettings(zoneId: string): Promise<ZoneSettings> {
    return this.settings.get(zoneId);
  }

  /** revocationKey names a managed-CA certificate for peekRevocation/revocation (compute it once per connection). */
  revocationKey(caId: string, serial: Buffer): string {
    return `${caId}:${serial.toString("hex")}`;
  }

  peekRevocation(key: string): Revocation | undefined {
    return this.revocations.peek(key);
  }

  revocation(key: string): Promise<Revocation> {
    return this.revocations.get(key);
  }

  /** clear drops every cached entry (tests that empty the database call it). */
  clear(): void {
    this.routes.clear();
    this.settings.clear();
    this.revocations.clear();
    this.revocationKeyOfId.clear();
    this.caCache.clear();
  }

  close(): void {
    this.unsubscribe();
  }
}
