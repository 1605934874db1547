/**
 * The edge's read-through cache: one load per key for concurrent callers, TTL expiry, a bound on
 * entries, and the rule revocation depends on: an invalidation that arrives while a load is
 * running wins (the stale result is returned to its callers but never stored).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LoadingCache } from "../../src/edge/cache.js";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("LoadingCache", () => {
  test("concurrent gets share one load; peek serves the stored value", async () => {
    let loads = 0;
    const d = deferred<string>();
    const cache = new LoadingCache<string, string>(async () => {
      loads++;
      return d.promise;
    }, { max: 10, ttlMs: () => 60_000 });
    const a = cache.get("k");
    const b = cache.get("k");
    assert.equal(cache.peek("k"), undefined);
    d.resolve("v1");
    assert.deepEqual(await Promise.all([a, b]), ["v1", "v1"]);
    assert.equal(loads, 1);
    assert.equal(cache.peek("k"), "v1");
  });

  test("an invalidation during a load keeps the loaded (stale) value out of the cache", async () => {
    const answers = [deferred<string>(), deferred<string>()];
    let n = 0;
    const cache = new LoadingCache<string, string>(() => answers[n++].promise, { max: 10, ttlMs: () => 60_000 });
    const stale = cache.get("cert");
    cache.delete("cert"); // the change notice arrives while the first read is in flight
    const fresh = cache.get("cert");
    answers[0].resolve("active");
    answers[1].resolve("revoked");
    assert.equal(await stale, "active", "the caller that asked before the change gets what was read");
    assert.equal(await fresh, "revoked");
    assert.equal(cache.peek("cert"), "revoked");
    // clear() behaves the same for every key.
    const d = deferred<string>();
    const other = new LoadingCache<string, string>(() => d.promise, { max: 10, ttlMs: () => 60_000 });
    const p = other.get("x");
    other.clear();
    d.resolve("old");
    await p;
    assert.equal(other.peek("x"), undefined);
  });

  test("entries expire after their TTL and the oldest goes first past the bound", async () => {
    let now = 1_000;
    const cache = new LoadingCache<string, string>(async (k) => `v-${k}`, { max: 2, ttlMs: (v) => (v === "v-short" ? 10 : 1_000), now: () => now });
    await cache.get("short");
    await cache.get("a");
    now += 11;
    assert.equal(cache.peek("short"), undefined);
    assert.equal(cache.peek("a"), "v-a");
    await cache.get("b");
    await cache.get("c");
    assert.equal(cache.size, 2);
    assert.equal(cache.peek("a"), undefined, "oldest dropped");
    assert.equal(cache.peek("c"), "v-c");
  });

  test("a failed load is not cached and the next get tries again", async () => {
    let n = 0;
    const cache = new LoadingCache<string, string>(async () => {
      if (n++ === 0) throw new Error("database down");
      return "ok";
    }, { max: 10, ttlMs: () => 60_000 });
    await assert.rejects(cache.get("k"), /database down/);
    assert.equal(await cache.get("k"), "ok");
  });
});
