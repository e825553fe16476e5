// Cold start of tenants sharing one issuer: the function fetches its signing keys and the secrets
// a first request needs during init, all at once (at most three secrets), so the first user's
// request goes straight to Plaid. Counted by the stand-ins themselves, through the local stack
// started as a user starts it. (Tenants of several issuers: test/e2e/tenant-scale.e2e.test.ts.)
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { functionLogs, startE2eStack, type E2eStack } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const HMAC_KEY = 'init-prefetch-client-user-id-key-0123456789abcdef';
const TENANTS = {
  acme: { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-sandbox-secret' },
  globex: { secretId: 'plaid/globex', clientId: 'globex-client-id', secret: 'globex-sandbox-secret' },
} as const;

let stack: E2eStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function start(env: Record<string, string> = {}, beforeStart?: Parameters<typeof startE2eStack>[0]['beforeStart']) {
  return startE2eStack({
    issuerCount: 1,
    plaidCredentials: Object.fromEntries(Object.values(TENANTS).map((t) => [t.clientId, t.secret])),
    secrets: {
      [KEY_SECRET_ID]: HMAC_KEY,
      ...Object.fromEntries(
        Object.values(TENANTS).map((t) => [t.secretId, JSON.stringify({ client_id: t.clientId, secret: t.secret })]),
      ),
    },
    env,
    beforeStart,
    tenants: ([issuer]) => ({
      client_user_id_key_secret_id: KEY_SECRET_ID,
      tenants: Object.fromEntries(
        Object.entries(TENANTS).map(([id, t]) => [
          id,
          {
            client_name: id,
            plaid: { environment: 'sandbox', secret_id: t.secretId },
            auth: {
              issuer: issuer!.issuer,
              audience: ['portal'],
              token_use: 'access',
              tenant_claim: { name: 'tenant', value: id },
            },
            allowed_origins: ['https://app.example.com'],
            client_user_id: { strategy: 'hmac-sha256' },
            prefill: { email_address: false, phone_number: false },
            languages: { default: 'en', allowed: ['en'] },
            country_codes: ['US'],
            profiles: { default: { products: ['auth'] } },
          },
        ]),
      ),
    }),
  });
}

const requestFor = (s: E2eStack, tenant: keyof typeof TENANTS) =>
  s.call({ token: s.issuers[0]!.mint({ sub: 'user-1', aud: 'portal', tenant }), body: { platform: 'web' } });
const eventsNamed = (s: E2eStack, event: string) => functionLogs(s).filter((line) => line.event === event);

describe('prefetch at init', () => {
  test('keys and secrets are read before the first request, which then makes no such call', async () => {
    stack = await start();
    assert.equal(stack.secrets.calls.GetSecretValue, 3, 'the client_user_id key and both tenants’ Plaid secrets');
    assert.equal(stack.issuers[0]!.jwksFetches, 1);
    const [done] = eventsNamed(stack, 'init.prefetched');
    assert.equal(done?.secrets, 3);
    assert.equal(done?.issuers, 1);
    assert.equal(done?.failures, 0);
    assert.equal(typeof done?.duration_ms, 'number');

    stack.secrets.resetCalls();
    stack.issuers[0]!.resetCounters();
    for (const tenant of ['acme', 'globex'] as const) assert.equal((await requestFor(stack, tenant)).status, 200);
    assert.equal(stack.secrets.calls.GetSecretValue, 0);
    assert.equal(stack.issuers[0]!.jwksFetches, 0);
  });

  test('Secrets Manager failing during init: the stack still starts and the first request reads the secrets', async () => {
    // Three reads, each tried twice by the SDK: every read at init fails.
    stack = await start({}, ({ secrets }) => secrets.failNext(6, 'internal'));
    const failed = eventsNamed(stack, 'init.prefetch_failed');
    assert.deepEqual(
      failed.map((l) => l.secret_id).sort(),
      [KEY_SECRET_ID, TENANTS.acme.secretId, TENANTS.globex.secretId].sort(),
    );
    assert.ok(
      failed.every((l) => l.what === 'secret' && l.error_name === 'InternalServiceError'),
      JSON.stringify(failed),
    );
    assert.equal(eventsNamed(stack, 'init.prefetched')[0]?.failures, 3);

    stack.secrets.resetCalls();
    assert.equal((await requestFor(stack, 'acme')).status, 200);
    assert.equal(stack.secrets.calls.GetSecretValue, 2, 'the key and acme’s secret, read on demand');
    const logs = stack.logLines.join('\n');
    for (const value of [HMAC_KEY, TENANTS.acme.secret, TENANTS.globex.secret])
      assert.ok(!logs.includes(value), 'a secret reached a log line');
  });

  test('INIT_PREFETCH_MAX_SECRETS caps the reads: the shared key first, then tenants in file order', async () => {
    stack = await start({ INIT_PREFETCH_MAX_SECRETS: '2' });
    assert.equal(stack.secrets.calls.GetSecretValue, 2);
    assert.equal(eventsNamed(stack, 'init.prefetched')[0]?.tenants_not_prefetched, 1);
    stack.secrets.resetCalls();
    assert.equal((await requestFor(stack, 'acme')).status, 200);
    assert.equal(stack.secrets.calls.GetSecretValue, 0, 'acme was within the cap');
    assert.equal((await requestFor(stack, 'globex')).status, 200);
    assert.equal(stack.secrets.calls.GetSecretValue, 1, 'globex was past it');
  });

  test('INIT_PREFETCH=off leaves every read to the first request', async () => {
    stack = await start({ INIT_PREFETCH: 'off' });
    assert.equal(stack.secrets.calls.GetSecretValue, 0);
    assert.equal(stack.issuers[0]!.jwksFetches, 0);
    assert.equal(eventsNamed(stack, 'init.prefetched').length, 0);
    assert.equal((await requestFor(stack, 'acme')).status, 200);
    assert.equal(stack.secrets.calls.GetSecretValue, 2);
    assert.equal(stack.issuers[0]!.jwksFetches, 1);
  });
});
