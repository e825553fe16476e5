// A thousand tenants, each with its own issuer: a cold start fetches only what its first request
// needs (that tenant's keys and secrets, concurrently), and an identity provider that answers
// after seconds delays only its own tenants. Counted at the stand-ins, through the local stack.
// The issuers are written as distinct URLs; their jwks_uri points at one of two local issuers
// (even tenants at A, odd at B), which mint the tokens with each tenant's own iss.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { functionLogs, startE2eStack, type E2eStack } from '../support/e2e-harness.ts';

const TENANTS = 1000;
const KEY_SECRET_ID = 'scale/client-user-id-key';
const CLIENT_ID = 'scale-client-id';
const PLAID_SECRET = 'scale-sandbox-secret';
const issuerOf = (i: number) => `https://idp-${i}.scale.example.com`;

let stack: E2eStack;
before(async () => {
  stack = await startE2eStack({
    issuerCount: 2,
    plaidCredentials: { [CLIENT_ID]: PLAID_SECRET },
    secrets: {
      [KEY_SECRET_ID]: 'scale-client-user-id-key-0123456789abcdef0123456789',
      ...Object.fromEntries(
        Array.from({ length: TENANTS }, (_, i) => [
          `scale/plaid/t${i}`,
          JSON.stringify({ client_id: CLIENT_ID, secret: PLAID_SECRET }),
        ]),
      ),
    },
    // Long enough for the slow identity provider below to answer rather than time out.
    env: { JWKS_TIMEOUT_MS: '8000' },
    tenants: ([a, b]) => ({
      client_user_id_key_secret_id: KEY_SECRET_ID,
      tenants: Object.fromEntries(
        Array.from({ length: TENANTS }, (_, i) => [
          `t${i}`,
          {
            client_name: `Tenant ${i}`,
            plaid: { environment: 'sandbox', secret_id: `scale/plaid/t${i}` },
            auth: {
              issuer: issuerOf(i),
              jwks_uri: (i % 2 === 0 ? a! : b!).jwksUri,
              audience: ['portal'],
              token_use: 'access',
            },
            allowed_origins: ['https://app.example.com'],
            client_user_id: { strategy: 'hmac-sha256' },
            languages: { default: 'en', allowed: ['en'] },
            country_codes: ['US'],
            profiles: { default: { products: ['auth'] } },
          },
        ]),
      ),
    }),
  });
});
after(() => stack?.close());

const jwksFetches = () => stack.issuers[0]!.jwksFetches + stack.issuers[1]!.jwksFetches;
const firstRequestOf = (i: number) =>
  stack.call({
    token: stack.issuers[i % 2]!.mint({ iss: issuerOf(i), sub: `user-${i}`, aud: 'portal' }),
    body: { platform: 'web' },
  });

/** When each counter first reached its target, sampled every 2 ms while `during` runs. */
async function firstTimes<T>(
  during: Promise<T>,
  counters: Record<string, () => boolean>,
): Promise<{ result: T; at: Record<string, number> }> {
  const at: Record<string, number> = {};
  const timer = setInterval(() => {
    for (const [name, reached] of Object.entries(counters))
      if (at[name] === undefined && reached()) at[name] = performance.now();
  }, 2);
  try {
    return { result: await during, at };
  } finally {
    clearInterval(timer);
  }
}

describe('a thousand tenants, one issuer each', () => {
  test('init fetches nothing; the first request reads its own tenant’s keys and secrets, all at once', async () => {
    assert.equal(jwksFetches(), 0, 'no JWKS fetched at init');
    assert.equal(stack.secrets.calls.GetSecretValue, 0, 'no secret read at init');
    const init = functionLogs(stack).find((l) => l.event === 'function.initialised');
    assert.equal(init?.tenants, TENANTS);

    // Each answer takes 800 ms: fetched one after the other, the secret reads would reach
    // Secrets Manager only after the JWKS answer, 800 ms after the JWKS request.
    const latency = 800;
    stack.issuers[0]!.setJwksLatency(latency);
    stack.secrets.setLatency(latency);
    try {
      const tenant = 2 * Math.floor(Math.random() * (TENANTS / 2)); // an even tenant: issuer A
      const { result, at } = await firstTimes(firstRequestOf(tenant), {
        jwks: () => stack.issuers[0]!.jwksFetches >= 1,
        secrets: () => stack.secrets.calls.GetSecretValue >= 2,
      });
      assert.equal(result.status, 200, result.text);
      assert.equal(typeof result.json().link_token, 'string');
      assert.equal(jwksFetches(), 1, 'its issuer’s keys only');
      assert.equal(stack.secrets.calls.GetSecretValue, 2, 'its Plaid secret and the client_user_id key');
      assert.ok(at.jwks !== undefined && at.secrets !== undefined);
      assert.ok(
        Math.abs(at.secrets - at.jwks) < latency / 2,
        `the secrets were read while the keys were being fetched (${Math.round(at.secrets - at.jwks)} ms apart)`,
      );
    } finally {
      stack.issuers[0]!.setJwksLatency(0);
      stack.secrets.setLatency(0);
    }
  });

  test('an identity provider answering after seconds delays only its own tenant', async () => {
    stack.issuers[1]!.setJwksLatency(3000);
    try {
      let slowSettled = false;
      const slow = firstRequestOf(1).finally(() => (slowSettled = true)); // odd: issuer B, slow
      // Another tenant's first request, sent while the slow provider has not answered yet.
      while (stack.issuers[1]!.jwksFetches === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const fast = await firstRequestOf(4); // even: issuer A
      assert.equal(fast.status, 200, fast.text);
      assert.equal(slowSettled, false, 'answered while the slow provider’s tenant was still waiting for its keys');
      assert.equal((await slow).status, 200, 'the slow provider’s tenant is served once its keys arrive');
    } finally {
      stack.issuers[1]!.setJwksLatency(0);
    }
  });

  test('an issuer no tenant trusts triggers no fetch and no secret read', async () => {
    const [jwksBefore, readsBefore] = [jwksFetches(), stack.secrets.calls.GetSecretValue];
    const res = await stack.call({
      token: stack.issuers[0]!.mint({ iss: 'https://idp-unknown.scale.example.com', sub: 'x', aud: 'portal' }),
      body: { platform: 'web' },
    });
    assert.equal(res.status, 401);
    assert.equal(jwksFetches(), jwksBefore);
    assert.equal(stack.secrets.calls.GetSecretValue, readsBefore);
  });
});
