/**
 * rate-limit.ts is a per-address token bucket for EST, which is reachable without an API token
 * (DESIGN.md "Hardening": unauthenticated endpoints are rate-limited per client address). It is
 * per process: with N workers an address gets up to N times the rate, which still bounds abuse.
 */
export interface RateLimitOptions {
  /** burst: requests an address may make at once. */
  burst: number;
  /** perSecond: the sustained rate an address regains. */
  perSecond: number;
  /** maxAddresses bounds memory: past it, the oldest buckets are dropped. */
  maxAddresses?: number;
}

export const DEFAULT_EST_RATE_LIMIT: RateLimitOptions = { burst: 200, perSecond: 50 };

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  private readonly max: number;

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.max = opts.maxAddresses ?? 100_000;
  }

  /** take spends one token of `address`; false when its bucket is empty. */
  take(address: string): boolean {
    const now = this.clock();
    let b = this.buckets.get(address);
    if (b) {
      b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.perSecond);
      b.at = now;
      this.buckets.delete(address); // re-insert: Map order is then least recently used first
    } else {
      b = { tokens: this.opts.burst, at: now };
      if (this.buckets.size >= this.max) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(address, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
