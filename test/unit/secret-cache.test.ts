import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSecretCache } from '../../lambda/secrets/secret-cache.ts';

function harness(opts: { ttlMs?: number; staleIfErrorMs?: number } = {}) {
  let clock = 0;
  let fetches = 0;
  let value = 'v1';
  let failing = false;
  const stale: string[] = [];
  const cache = createSecretCache({
    ttlMs: opts.ttlMs ?? 1000,
    staleIfErrorMs: opts.staleIfErrorMs ?? 500,
    now: () => clock,
    onStaleServed: (id) => stale.push(id),
    fetch: async () => {
      fetches += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (failing) throw new Error('Secrets Manager down');
      return value;
    },
  });
  return {
    cache,
    advance: (ms: number) => (clock += ms),
    rotate: (v: string) => (value = v),
    fail: (on: boolean) => (failing = on),
    get fetches() {
      return fetches;
    },
    stale,
  };
}

test('within the TTL a value is served from memory', async () => {
  const h = harness();
  assert.equal(await h.cache.get('s'), 'v1');
  h.advance(999);
  assert.equal(await h.cache.get('s'), 'v1');
  assert.equal(h.fetches, 1);
  h.rotate('v2');
  h.advance(1);
  assert.equal(await h.cache.get('s'), 'v2');
  assert.equal(h.fetches, 2);
});

test('concurrent misses share one fetch', async () => {
  const h = harness();
  const values = await Promise.all(Array.from({ length: 20 }, () => h.cache.get('s')));
  assert.deepEqual(new Set(values), new Set(['v1']));
  assert.equal(h.fetches, 1);
});

test('invalidate forces a refetch and never serves the dropped value', async () => {
  const h = harness();
  await h.cache.get('s');
  h.cache.invalidate('s');
  h.fail(true);
  await assert.rejects(h.cache.get('s'), /down/);
  assert.equal(h.stale.length, 0);
});

test('a failed refresh serves the stale value for a bounded time only', async () => {
  const h = harness({ ttlMs: 1000, staleIfErrorMs: 500 });
  await h.cache.get('s');
  h.fail(true);
  h.advance(1200);
  assert.equal(await h.cache.get('s'), 'v1');
  assert.deepEqual(h.stale, ['s']);
  h.advance(400);
  await assert.rejects(h.cache.get('s'), /down/);
});

test('a failed first fetch is not cached', async () => {
  const h = harness();
  h.fail(true);
  await assert.rejects(h.cache.get('s'));
  h.fail(false);
  assert.equal(await h.cache.get('s'), 'v1');
});
