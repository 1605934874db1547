import { createHash } from "node:crypto";
import type { Change } from "../db/changes.js";
import { casNeedingCrl, findCrl, findCrlNumber, findCrlState, lockCaForCrl, recordCrlChange, storeCrl, type StoredCrl } from "../db/crls.js";
import { revokedWithoutEntry, setCrlEntry, streamCrlEntries } from "../db/revocations.js";
import type { TxSql } from "../db/sql.js";
import { GatehouseError } from "../errors.js";
import { CrlBuilder, encodeCrlEntry, type CrlReason } from "../pki/crl.js";
import { wholeSeconds } from "../pki/der.js";
import { derToPem } from "../pki/pem.js";
import type { ServiceContext } from "./context.js";
import { PkiErrors } from "./pki-errors.js";
import { pkiSettings, type PkiSettings } from "./pki-settings.js";
import type { PublishingCaCache } from "./publishing-cas.js";

/** REVOCATION_TOPIC: bus notices `{id: "<ca_id>/<serial hex>"}`, published with every status change. */
export const REVOCATION_TOPIC = "revocation";
/** CRL_TOPIC: bus notices `{id: ca_id}`, published when a CA's CRL is replaced. */
export const CRL_TOPIC = "crl";

/** COALESCE_MS: a burst of notices arriving together starts one build, a moment after the first. */
const COALESCE_MS = 50;
/** RETRY_MS: after a failed build, try again after this long. */
const RETRY_MS = 30_000;
/** REVALIDATE_MS: a served CRL is re-checked against the database at least this often. */
const REVALIDATE_MS = 10_000;
/** FIRST_CRL_WAIT_MS: how long a request waits for a CA's first CRL that another process is building. */
const FIRST_CRL_WAIT_MS = 15_000;

/**
 * recordStatusChange is called inside the transaction that revokes or reactivates a certificate:
 * it stores the certificate's encoded CRL entry (or clears it), bumps its CA's change counter, and
 * announces the (CA, serial) so OCSP caches drop their answer and CRL publishers wake up.
 */
export async function recordStatusChange(
  ctx: ServiceContext,
  tx: TxSql,
  cert: { id: string; ca_id: string; serial: Uint8Array },
  next: { status: "active" | "revoked"; reason: string | null; revokedOn: Date | null },
): Promise<void> {
  const entry = next.status === "revoked" ? encodeCrlEntry(cert.serial, next.revokedOn!, next.reason as CrlReason) : null;
  await setCrlEntry(tx, cert.id, entry);
  await recordCrlChange(tx, cert.ca_id);
  await ctx.bus.publish(tx, { topic: REVOCATION_TOPIC, id: `${cert.ca_id}/${Buffer.from(cert.serial).toString("hex")}` });
}

/** parseRevocationNotice splits a REVOCATION_TOPIC id into CA id and serial hex. */
export function parseRevocationNotice(change: Change): { caId: string; serialHex: string } | undefined {
  if (change.topic !== REVOCATION_TOPIC) return undefined;
  const [caId, serialHex] = change.id.split("/");
  return caId && serialHex ? { caId, serialHex } : undefined;
}

/** BuildOutcome: what one attempt to publish a CA's CRL did. */
export type BuildOutcome =
  | { kind: "built"; crlNumber: bigint; entries: number; bytes: number; ms: number }
  | { kind: "fresh" }
  | { kind: "debounced"; retryAt: number }
  | { kind: "busy" }
  | { kind: "notManaged" };

/**
 * CrlPublisher keeps every managed CA's CRL current. Revocation notices wake it (a burst becomes one
 * build; a CA gets at most one CRL per debounce interval, counted from the database so it holds
 * across processes); a sweep refreshes CRLs at half their validity and catches changes whose
 * notice was lost. Builds run under the CA row's lock: when another process holds it, this one
 * backs off and checks again later, finding nothing to do if the other build covered its change.
 */
export class CrlPublisher {
  readonly settings: PkiSettings;
  private timers = new Map<string, NodeJS.Timeout>();
  private runs = new Map<string, Promise<BuildOutcome>>();
  private rerun = new Set<string>();
  private sweepTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private stopped = false;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly cas: PublishingCaCache,
  ) {
    this.settings = pkiSettings(ctx.pkiSettings);
  }

  start(): void {
    this.unsubscribe = this.ctx.bus.subscribe((change) => {
      const notice = parseRevocationNotice(change);
      if (notice) this.schedule(notice.caId);
    });
    this.sweepTimer = setInterval(() => void this.sweep(), this.settings.sweepSeconds * 1000);
    this.sweepTimer.unref();
  }

  /** stop cancels timers and waits for builds in flight (before the database closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.runs.values()]);
  }

  /** schedule asks for a check of `caId` after `delayMs` (a pending check is not moved). */
  schedule(caId: string, delayMs = COALESCE_MS): void {
    if (this.stopped || this.timers.has(caId)) return;
    const t = setTimeout(() => {
      this.timers.delete(caId);
      void this.run(caId).catch(() => {});
    }, Math.max(0, delayMs));
    t.unref();
    this.timers.set(caId, t);
  }

  /** sweep schedules every CA whose CRL is due for refresh or behind its changes. */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    try {
      const halfLife = (this.settings.crlValidityHours * 3600_000) / 2;
      const due = await casNeedingCrl(this.ctx.sql, new Date(this.ctx.now().getTime() - halfLife));
      for (const caId of due) this.schedule(caId, 0);
    } catch (err) {
      this.ctx.log.warn({ err }, "CRL sweep failed");
    }
  }

  /**
   * run checks `caId` now (one check per CA at a time in this process: a caller arriving during a
   * check shares it, and another check follows; a forced caller waits and builds). Debounced or busy outcomes reschedule themselves.
   */
  run(caId: string, opts: { force?: boolean } = {}): Promise<BuildOutcome> {
    const running = this.runs.get(caId);
    if (running) {
      // A forced build is not satisfied by an unforced check in flight (which may answer
      // "fresh"): wait for it, then build.
      if (opts.force) return running.catch(() => undefined).then(() => this.run(caId, opts));
      this.rerun.add(caId);
      return running;
    }
    const p = this.buildIfNeeded(caId, opts).then(
      (outcome) => {
        if (outcome.kind === "notManaged") this.cas.forget(caId);
        else if (outcome.kind === "debounced") this.schedule(caId, outcome.retryAt - Date.now());
        else if (outcome.kind === "busy") this.schedule(caId, Math.max(1000, this.settings.crlDebounceSeconds * 1000));
        else if (outcome.kind === "built") {
          this.ctx.log.info({ ca_id: caId, crl_number: outcome.crlNumber.toString(), entries: outcome.entries, bytes: outcome.bytes, ms: outcome.ms }, "CRL published");
        }
        return outcome;
      },
      (err) => {
        this.ctx.log.error({ err, ca_id: caId }, "CRL build failed");
        this.schedule(caId, RETRY_MS);
        throw err;
      },
    );
    this.runs.set(caId, p);
    const done = () => {
      this.runs.delete(caId);
      if (this.rerun.delete(caId)) this.schedule(caId, 0);
    };
    p.then(done, done);
    return p;
  }

  /**
   * buildIfNeeded publishes a new CRL for `caId` when it has none, when changes are pending (and
   * the debounce interval since the last build has passed), when half its validity is gone, or
   * when forced. One transaction: lock the CA row, read the change counter, encode entries left
   * from before migration 0020, stream the revoked set into the builder, sign, store number + 1.
   */
  async buildIfNeeded(caId: string, opts: { force?: boolean } = {}): Promise<BuildOutcome> {
    const pub = await this.cas.get(caId);
    if (!pub) return { kind: "notManaged" };
    const s = this.settings;
    return (await this.ctx.sql.begin(async (tx) => {
      const lock = await lockCaForCrl(tx, caId);
      if (lock !== "locked") return { kind: lock === "busy" ? "busy" : "notManaged" } as BuildOutcome;
      const state = await findCrlState(tx, caId);
      const now = wholeSeconds(this.ctx.now());
      const built = state && state.crl_number !== "0" ? state : undefined;
      const pending = state ? BigInt(state.changes) > BigInt(state.built_through) : false;
      const stale = !built || now.getTime() >= built.this_update!.getTime() + (s.crlValidityHours * 3600_000) / 2;
      if (!opts.force && !stale && !pending) return { kind: "fresh" } as BuildOutcome;
      if (!opts.force && built && !stale) {
        const retryAt = built.built_on!.getTime() + s.crlDebounceSeconds * 1000;
        if (this.ctx.now().getTime() < retryAt) return { kind: "debounced", retryAt } as BuildOutcome;
      }
      const started = performance.now();
      for (const row of await revokedWithoutEntry(tx, caId)) {
        await setCrlEntry(tx, row.id, encodeCrlEntry(row.serial, row.revoked_on, row.revocation_reason as CrlReason));
      }
      const crlNumber = (built ? BigInt(built.crl_number) : 0n) + 1n;
      const validityMs = s.crlValidityHours * 3600_000;
      const builder = new CrlBuilder({
        issuerSubjectDer: pub.ca.subject_der,
        authorityKeyIdentifier: pub.ca.ski,
        signer: pub.streamSigner,
        crlNumber,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + validityMs),
      });
      // An entry stays until one scheduled CRL after its certificate's notAfter: CRLs are
      // refreshed within every validity period, so keeping it for one period past notAfter does.
      const cutoff = new Date(now.getTime() - validityMs);
      await streamCrlEntries(tx, caId, cutoff, (entry) => builder.add(entry));
      const { parts, length, entries } = await builder.finishParts();
      const sha256 = createHash("sha256");
      for (const part of parts) sha256.update(part);
      await storeCrl(
        tx,
        {
          caId,
          builtThrough: state?.changes ?? "0",
          crlNumber,
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + validityMs),
          builtOn: this.ctx.now(),
          entries,
          sha256: sha256.digest(),
          der: parts,
        },
        { copyIn: s.copyIn },
      );
      await this.ctx.bus.publish(tx, { topic: CRL_TOPIC, id: caId });
      return { kind: "built", crlNumber, entries, bytes: length, ms: Math.round(performance.now() - started) } as BuildOutcome;
    })) as BuildOutcome;
  }
}

/** ServedCrl: the current CRL of a CA as the HTTP layer sends it. */
export interface ServedCrl {
  crlNumber: string;
  thisUpdate: Date;
  nextUpdate: Date;
  der: Buffer;
  /** pem is made on first use and kept. */
  pem(): string;
  etag: string;
}

interface CachedCrl {
  served: ServedCrl;
  checkedAt: number;
}

/**
 * CrlStore serves stored CRLs from memory: loaded once per CRL number, dropped on a `crl` notice,
 * and re-checked against the database every few seconds in case a notice was lost. Never signs
 * per request: a CA with no CRL yet gets its first one built once, then served.
 */
export class CrlStore {
  private cache = new Map<string, CachedCrl>();
  private loading = new Map<string, Promise<ServedCrl | undefined>>();
  private generation = 0;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly cas: PublishingCaCache,
    private readonly publisher: CrlPublisher,
  ) {
    ctx.bus.subscribe((change) => {
      if (change.topic === CRL_TOPIC) {
        this.generation++;
        this.cache.delete(change.id);
      }
    });
  }

  /** clear drops every cached CRL. */
  clear(): void {
    this.generation++;
    this.cache.clear();
  }

  /** current returns the CA's CRL, or undefined when `caId` is not a managed CA. */
  async current(caId: string): Promise<ServedCrl | undefined> {
    const hit = this.cache.get(caId);
    if (hit) {
      const expired = this.ctx.now().getTime() >= hit.served.nextUpdate.getTime();
      if (!expired && Date.now() - hit.checkedAt < REVALIDATE_MS) return hit.served;
      if (!expired && (await findCrlNumber(this.ctx.sql, caId)) === hit.served.crlNumber) {
        hit.checkedAt = Date.now();
        return hit.served;
      }
      this.cache.delete(caId);
    }
    let p = this.loading.get(caId);
    if (!p) {
      p = this.load(caId).finally(() => this.loading.delete(caId));
      this.loading.set(caId, p);
    }
    return p;
  }

  private async load(caId: string): Promise<ServedCrl | undefined> {
    if (!(await this.cas.get(caId))) return undefined;
    const generation = this.generation;
    let row = await findCrl(this.ctx.sql, caId);
    if (!row || this.ctx.now().getTime() >= row.next_update.getTime()) {
      // No CRL yet (or every process was down past nextUpdate): build one now, once. When another
      // process holds the CA's lock it is building: wait for its CRL.
      const deadline = Date.now() + FIRST_CRL_WAIT_MS;
      for (;;) {
        const outcome = await this.publisher.run(caId);
        row = await findCrl(this.ctx.sql, caId);
        if (row && (outcome.kind !== "busy" || this.ctx.now().getTime() < row.next_update.getTime())) break;
        if (Date.now() > deadline) throw new GatehouseError(PkiErrors.crlUnavailable, 503, "the CRL of this CA is being built; retry in a few seconds");
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const served = toServed(row);
    if (generation === this.generation) this.cache.set(caId, { served, checkedAt: Date.now() });
    return served;
  }
}

function toServed(row: StoredCrl): ServedCrl {
  let pem: string | undefined;
  return {
    crlNumber: row.crl_number,
    thisUpdate: row.this_update,
    nextUpdate: row.next_update,
    der: row.der,
    pem: () => (pem ??= derToPem(row.der, "X509 CRL")),
    etag: `"${row.crl_number}-${row.sha256.subarray(0, 8).toString("hex")}"`,
  };
}
