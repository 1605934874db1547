/**
 * LoadingCache is the edge's read-through cache: a bounded map whose misses load once (concurrent
 * callers share the load), whose entries expire after a TTL (the safety net should a change
 * notice be lost, e.g. while the LISTEN connection reconnects), and whose invalidation can never
 * be undone by a load that was already running: every invalidation bumps a generation, and a
 * load that started before it is returned to its callers but not stored.
 */
export class LoadingCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number }>();
  private readonly loading = new Map<K, Promise<V>>();
  private generation = 0;

  constructor(
    private readonly load: (key: K) => Promise<V>,
    private readonly opts: { max: number; ttlMs: (value: V) => number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** peek returns a fresh cached value without loading (the synchronous fast path). */
  peek(key: K): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** get returns the cached value or loads it. */
  get(key: K): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let pending = this.loading.get(key);
    if (pending) return pending;
    const started = this.generation;
    pending = this.load(key).then(
      (value) => {
        if (this.loading.get(key) === pending) this.loading.delete(key);
        if (started === this.generation) this.store(key, value);
        return value;
      },
      (err) => {
        if (this.loading.get(key) === pending) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, pending);
    return pending;
  }

  private store(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.opts.ttlMs(value) });
    if (this.entries.size > this.opts.max) {
      // Map iteration is insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** delete drops one key (and lets no running load store it). */
  delete(key: K): void {
    this.generation++;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** clear drops everything. */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
