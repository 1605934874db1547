/**
 * TokenBuckets is a per-key token bucket (key: a client address): `ratePerSecond` tokens flow in,
 * at most `burst` are kept. Memory is bounded: full buckets are forgotten on a periodic sweep, and
 * past `maxKeys` the map is cleared (every client then starts with a full bucket, which is lenient
 * but never wrong). ratePerSecond 0 means unlimited.
 */
export class TokenBuckets {
  private buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** take spends one token of `key`; false when none is left. */
  take(key: string, nowMs = Date.now()): boolean {
    if (this.ratePerSecond <= 0) return true;
    if (nowMs - this.lastSweep > 60_000) this.sweep(nowMs);
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.buckets.clear();
      b = { tokens: this.burst, at: nowMs };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerSecond);
      b.at = nowMs;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** retryAfterSeconds: when the next token of an empty bucket arrives (whole seconds, at least 1). */
  retryAfterSeconds(): number {
    return this.ratePerSecond > 0 ? Math.max(1, Math.ceil(1 / this.ratePerSecond)) : 1;
  }

  private sweep(nowMs: number): void {
    this.lastSweep = nowMs;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((nowMs - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(k);
    }
  }
}
