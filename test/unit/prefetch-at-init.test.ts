// prefetchAtInit at its edges: the JWKS side and Secrets Manager are fakes here (the e2e test
// runs it against the stand-ins); what is checked is what an operator reads in the log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../lambda/log/logger.ts';
import { prefetchAtInit } from '../../lambda/runtime/prefetch-at-init.ts';
import { createSecretCache } from '../../lambda/secrets/secret-cache.ts';

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }) };
}

test('an issuer whose keys cannot be fetched is named in a warning; init still completes', async () => {
  const { lines, logger } = logged();
  const reads: string[] = [];
  const secrets = createSecretCache({ fetch: async (id) => (reads.push(id), `value-of-${id}`), ttlMs: 60_000, staleIfErrorMs: 0 });
  await prefetchAtInit({
    keys: async () => [{ issuer: 'https://idp.example.com', error_name: 'JwksFetchError' }],
    secrets,
    secretIds: ['key', 'plaid/a', 'key', 'plaid/b'],
    maxSecrets: 10,
    logger,
  });
  assert.deepEqual(reads, ['key', 'plaid/a', 'plaid/b'], 'each secret read once, the duplicate dropped');
  assert.deepEqual(
    lines.filter((l) => l.event === 'init.prefetch_failed').map(({ what, issuer, error_name }) => ({ what, issuer, error_name })),
    [{ what: 'jwks', issuer: 'https://idp.example.com', error_name: 'JwksFetchError' }],
  );
  const done = lines.find((l) => l.event === 'init.prefetched');
  assert.equal(done?.failures, 1);
  assert.equal(done?.secrets, 3);
  assert.equal(await secrets.get('plaid/b'), 'value-of-plaid/b');
  assert.equal(reads.length, 3, 'served from the cache the prefetch filled');
});

test('maxSecrets 0 reads no secret but still fetches the keys', async () => {
  const { lines, logger } = logged();
  let keyFetches = 0;
  const secrets = createSecretCache({ fetch: async () => assert.fail('no read expected'), ttlMs: 60_000, staleIfErrorMs: 0 });
  await prefetchAtInit({ keys: async () => (keyFetches++, []), secrets, secretIds: ['key', 'plaid/a'], maxSecrets: 0, logger });
  assert.equal(keyFetches, 1);
  assert.equal(lines.find((l) => l.event === 'init.prefetched')?.secrets_not_prefetched, 2);
});
