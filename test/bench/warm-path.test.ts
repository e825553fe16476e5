// The warm path makes no Secrets Manager call and no JWKS fetch: after the cold start, every
// further request is served from what the execution environment already holds, as counted by
// the stand-ins themselves. The bundled handler (built as the deploy builds it) runs in this
// process behind the local API Gateway emulator (test/support/bundled-function.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBundledFunction, type BundledFunction } from '../support/bundled-function.ts';

const WARM_REQUESTS = 40;

let fn: BundledFunction;

before(async () => {
  fn = await startBundledFunction({
    env: () => ({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', LOG_LEVEL: 'error' }),
  });
});

after(async () => {
  await fn?.close();
});

async function linkToken(user: number): Promise<void> {
  const res = await fn.linkTokenRequest(`user-${user}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(JSON.parse(text).link_token, /^link-sandbox-/);
}

test('a cold start (init, then the first request) fetches the JWKS once and each secret once', async () => {
  await linkToken(0);
  assert.equal(fn.issuer.jwksFetches, 1);
  assert.equal(fn.secrets.calls.GetSecretValue, 2, 'the Plaid credentials and the client_user_id key');
  assert.equal(fn.plaid.calls, 1);
});

test('warm requests, one after another and concurrent, make no Secrets Manager call and fetch no JWKS', async () => {
  fn.issuer.resetCounters();
  fn.secrets.resetCalls();
  fn.plaid.reset();
  for (let user = 1; user <= WARM_REQUESTS / 2; user++) await linkToken(user);
  await Promise.all(Array.from({ length: WARM_REQUESTS / 2 }, (_, i) => linkToken(1000 + i)));
  assert.equal(fn.plaid.calls, WARM_REQUESTS, 'every warm request reached Plaid');
  assert.equal(fn.secrets.calls.GetSecretValue, 0, 'no Secrets Manager call on a warm request');
  assert.equal(fn.issuer.jwksFetches, 0, 'no JWKS fetch on a warm request');
});
