// prefetchAtInit at its edges: the JWKS side and Secrets Manager are fakes here (the e2e tests
// run it against the stand-ins); what is checked is the plan (bounded whatever the tenant count)
// and what an operator reads in the log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateTenantsFile } from '../../lambda/config/load-tenants.ts';
import { directoryOf } from '../../lambda/config/tenant-directory.ts';
import { createLogger } from '../../lambda/log/logger.ts';
import { INIT_PREFETCH_BOUNDS, planInitPrefetch, prefetchAtInit } from '../../lambda/runtime/prefetch-at-init.ts';
import { createSecretCache } from '../../lambda/secrets/secret-cache.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }) };
}

/** `count` tenants t0…, spread over `issuers` issuers (tenants sharing one told apart by a claim). */
function directory(count: number, issuers: number, secretOf = (i: number) => `plaid/t${i}`) {
  const tenants = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `t${i}`,
      minimalTenantConfig({
        plaid: { environment: 'production', secret_id: secretOf(i) },
        auth: {
          issuer: `https://idp${i % issuers}.example.com`,
          audience: ['web'],
          tenant_claim: { name: 'tenant', value: `t${i}` },
        },
      }),
    ]),
  );
  const { file, warnings } = validateTenantsFile(tenantsFileOf(tenants, 'key'));
  return directoryOf(file, warnings);
}

test('tenants of one issuer: its keys, the shared key first, then tenants in file order, within the bounds', () => {
  assert.deepEqual(planInitPrefetch(directory(5, 1), 20), {
    issuers: ['https://idp0.example.com'],
    secretIds: ['key', 'plaid/t0', 'plaid/t1'],
    tenantsNotPrefetched: 3,
  });
  assert.equal(INIT_PREFETCH_BOUNDS.secretReads, 3, 'INIT_PREFETCH_MAX_SECRETS above the bound reads no more');
  assert.deepEqual(
    planInitPrefetch(directory(5, 1), 2)?.secretIds,
    ['key', 'plaid/t0'],
    'INIT_PREFETCH_MAX_SECRETS below it reads fewer',
  );
  assert.deepEqual(
    planInitPrefetch(
      directory(5, 1, () => 'plaid/shared'),
      3,
    ),
    {
      issuers: ['https://idp0.example.com'],
      secretIds: ['key', 'plaid/shared'],
      tenantsNotPrefetched: 0,
    },
    'a secret several tenants share is read once',
  );
  assert.deepEqual(
    planInitPrefetch(directory(2, 1), 0),
    { issuers: ['https://idp0.example.com'], secretIds: [], tenantsNotPrefetched: 2 },
    'maxSecrets 0 still fetches the keys',
  );
});

test('tenants of several issuers: nothing at init (no tenant waits on another tenant’s identity provider), whatever the count', () => {
  assert.equal(planInitPrefetch(directory(2, 2), 20), undefined);
  assert.equal(planInitPrefetch(directory(1000, 1000), 20), undefined);
});

test('an issuer whose keys cannot be fetched is named in a warning; init still completes', async () => {
  const { lines, logger } = logged();
  const reads: string[] = [];
  const secrets = createSecretCache({
    fetch: async (id) => (reads.push(id), `value-of-${id}`),
    ttlMs: 60_000,
    staleIfErrorMs: 0,
  });
  const asked: string[][] = [];
  await prefetchAtInit({
    plan: { issuers: ['https://idp.example.com'], secretIds: ['key', 'plaid/a', 'plaid/b'], tenantsNotPrefetched: 4 },
    keys: {
      prefetchKeys: async (issuers) => (
        asked.push([...issuers]),
        [{ issuer: 'https://idp.example.com', error_name: 'JwksFetchError' }]
      ),
    },
    secrets,
    logger,
  });
  assert.deepEqual(asked, [['https://idp.example.com']]);
  assert.deepEqual(reads, ['key', 'plaid/a', 'plaid/b']);
  assert.deepEqual(
    lines
      .filter((l) => l.event === 'init.prefetch_failed')
      .map(({ what, issuer, error_name }) => ({ what, issuer, error_name })),
    [{ what: 'jwks', issuer: 'https://idp.example.com', error_name: 'JwksFetchError' }],
  );
  const done = lines.find((l) => l.event === 'init.prefetched');
  assert.equal(done?.failures, 1);
  assert.equal(done?.secrets, 3);
  assert.equal(done?.issuers, 1);
  assert.equal(done?.tenants_not_prefetched, 4);
  assert.equal(await secrets.get('plaid/b'), 'value-of-plaid/b');
  assert.equal(reads.length, 3, 'served from the cache the prefetch filled');
});
