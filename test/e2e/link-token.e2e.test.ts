// The bundled handler behind the local server, called over HTTP, against loopback stand-ins of
// Plaid, Secrets Manager and the tenants' identity providers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { functionLogs, startE2eStack, type E2eStack, type SeenResponse } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const HMAC_KEY = 'e2e-client-user-id-key-0123456789abcdef0123456789';
const ACME = { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-sandbox-secret-v1' };
const GLOBEX = { secretId: 'plaid/globex', clientId: 'globex-client-id', secret: 'globex-sandbox-secret-v1' };
const INITECH = { secretId: 'plaid/initech', clientId: 'initech-client-id', secret: 'initech-sandbox-secret-v1' };
const HOOLI = { secretId: 'plaid/hooli', clientId: 'hooli-client-id', secret: 'hooli-sandbox-secret-v1' };
const ACME_ORIGIN = 'https://app.acme.test';
const GLOBEX_ORIGIN = 'https://globex.test';

let stack: E2eStack;
let acmeIssuer: OidcIssuer;
let sharedIssuer: OidcIssuer;
const minted: string[] = [];
const linkTokens: string[] = [];

const acmeToken = (claims: Record<string, unknown> = {}, opts = {}) =>
  remember(acmeIssuer.mint({ sub: 'user-123', aud: 'acme-web', ...claims }, opts));
const sharedToken = (tenant: string, claims: Record<string, unknown> = {}) =>
  remember(sharedIssuer.mint({ sub: 'user-777', aud: 'portal', tenant, ...claims }));
function remember(token: string): string {
  minted.push(token);
  return token;
}
async function linkToken(res: SeenResponse) {
  assert.equal(res.status, 200, res.text);
  const body = res.json();
  linkTokens.push(body.link_token);
  return body;
}
const lastPlaidBody = () => stack.plaid.requests.at(-1)!.body as Record<string, any>;

before(async () => {
  stack = await startE2eStack({
    issuerCount: 2,
    plaidCredentials: {
      [ACME.clientId]: ACME.secret,
      [GLOBEX.clientId]: GLOBEX.secret,
      [INITECH.clientId]: INITECH.secret,
      [HOOLI.clientId]: HOOLI.secret,
    },
    secrets: {
      [KEY_SECRET_ID]: HMAC_KEY,
      [ACME.secretId]: JSON.stringify({ client_id: ACME.clientId, secret: ACME.secret }),
      [GLOBEX.secretId]: JSON.stringify({ client_id: GLOBEX.clientId, secret: GLOBEX.secret }),
      [INITECH.secretId]: JSON.stringify({ client_id: INITECH.clientId, secret: INITECH.secret }),
      [HOOLI.secretId]: JSON.stringify({ client_id: HOOLI.clientId, secret: HOOLI.secret }),
    },
    // Two issuers: init prefetches nothing (runtime/prefetch-at-init.ts), each tenant's first
    // request reads its secrets, which the Secrets Manager failure test relies on for Hooli.
    env: { REQUEST_BUDGET_MS: '2000', RATE_LIMIT_RETRY_AFTER_SECONDS: '17' },
    tenants: ([a, b]) => ({
      client_user_id_key_secret_id: KEY_SECRET_ID,
      tenants: {
        acme: {
          client_name: 'Acme Budgeting',
          plaid: { environment: 'sandbox', secret_id: ACME.secretId },
          auth: { issuer: a!.issuer, audience: ['acme-web', 'acme-mobile'], token_use: 'access' },
          allowed_origins: [ACME_ORIGIN],
          client_user_id: { strategy: 'hmac-sha256' },
          prefill: { email_address: true, phone_number: true },
          languages: { default: 'en', allowed: ['en', 'fr'] },
          country_codes: ['US', 'CA'],
          profiles: {
            default: {
              products: ['transactions'],
              optional_products: ['liabilities'],
              webhook: 'https://hooks.acme.test/plaid',
              redirect_uri: 'https://app.acme.test/oauth-return',
              android_package_name: 'com.acme.budget',
              transactions: { days_requested: 365 },
            },
            payments: {
              products: ['auth'],
              account_filters: { depository: { account_subtypes: ['checking'] } },
              redirect_uri: 'https://app.acme.test/oauth-return',
            },
          },
        },
        globex: {
          client_name: 'Globex',
          plaid: { environment: 'sandbox', secret_id: GLOBEX.secretId },
          auth: {
            issuer: b!.issuer,
            audience: ['portal'],
            token_use: 'access',
            tenant_claim: { name: 'tenant', value: 'globex' },
          },
          allowed_origins: [GLOBEX_ORIGIN],
          client_user_id: { strategy: 'hmac-sha256' },
          prefill: { email_address: false, phone_number: false },
          languages: { default: 'es', allowed: ['es'] },
          country_codes: ['US'],
          profiles: { default: { products: ['auth'] } },
        },
        initech: {
          client_name: 'Initech',
          plaid: { environment: 'sandbox', secret_id: INITECH.secretId },
          auth: {
            issuer: b!.issuer,
            audience: ['portal'],
            token_use: 'access',
            tenant_claim: { name: 'tenant', value: 'initech' },
          },
          allowed_origins: [],
          client_user_id: { strategy: 'subject' },
          prefill: { email_address: false, phone_number: false },
          languages: { default: 'en', allowed: ['en'] },
          country_codes: ['GB'],
          profiles: { default: { products: ['identity'] } },
        },
        hooli: {
          client_name: 'Hooli',
          plaid: { environment: 'sandbox', secret_id: HOOLI.secretId },
          auth: {
            issuer: b!.issuer,
            audience: ['portal'],
            token_use: 'access',
            tenant_claim: { name: 'tenant', value: 'hooli' },
          },
          allowed_origins: [],
          client_user_id: { strategy: 'hmac-sha256' },
          prefill: { email_address: false, phone_number: false },
          languages: { default: 'en', allowed: ['en'] },
          country_codes: ['US'],
          profiles: { default: { products: ['auth'] } },
        },
      },
    }),
  });
  [acmeIssuer, sharedIssuer] = stack.issuers as [OidcIssuer, OidcIssuer];
});

after(async () => {
  await stack?.close();
});

describe('a link token for each platform', () => {
  test('web: the tenant profile, the redirect_uri, the derived user, credentials in headers', async () => {
    const res = await stack.call({ token: acmeToken(), origin: ACME_ORIGIN, body: { platform: 'web' } });
    const body = await linkToken(res);
    assert.deepEqual(Object.keys(body).sort(), ['expiration', 'link_token']);
    assert.match(body.link_token, /^link-sandbox-[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('access-control-allow-origin'), ACME_ORIGIN);

    const sent = stack.plaid.requests.at(-1)!;
    assert.equal(sent.headers['plaid-client-id'], ACME.clientId);
    assert.equal(sent.headers['plaid-secret'], ACME.secret);
    assert.equal(sent.headers['plaid-version'], '2020-09-14');
    assert.deepEqual(sent.body, {
      client_name: 'Acme Budgeting',
      language: 'en',
      country_codes: ['US', 'CA'],
      user: {
        client_user_id: deriveClientUserId({
          strategy: 'hmac-sha256',
          tenantId: 'acme',
          subject: 'user-123',
          key: HMAC_KEY,
        }),
      },
      products: ['transactions'],
      optional_products: ['liabilities'],
      webhook: 'https://hooks.acme.test/plaid',
      redirect_uri: 'https://app.acme.test/oauth-return',
      transactions: { days_requested: 365 },
    });
  });

  test('ios gets the redirect_uri and no package name', async () => {
    await linkToken(await stack.call({ token: acmeToken(), body: { platform: 'ios' } }));
    assert.equal(lastPlaidBody().redirect_uri, 'https://app.acme.test/oauth-return');
    assert.equal(lastPlaidBody().android_package_name, undefined);
  });

  test('android gets the package name and no redirect_uri', async () => {
    await linkToken(await stack.call({ token: acmeToken({ aud: 'acme-mobile' }), body: { platform: 'android' } }));
    assert.equal(lastPlaidBody().android_package_name, 'com.acme.budget');
    assert.equal(lastPlaidBody().redirect_uri, undefined);
  });

  test('android on a profile without a package name is a 400 naming platform', async () => {
    const res = await stack.call({ token: acmeToken(), body: { platform: 'android', profile: 'payments' } });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.json().errors.map((e: { field: string }) => e.field),
      ['platform'],
    );
  });

  test('the client picks a profile and a language within the tenant limits', async () => {
    await linkToken(
      await stack.call({ token: acmeToken(), body: { platform: 'web', profile: 'payments', language: 'fr' } }),
    );
    assert.deepEqual(lastPlaidBody().products, ['auth']);
    assert.equal(lastPlaidBody().language, 'fr');
    assert.deepEqual(lastPlaidBody().account_filters, { depository: { account_subtypes: ['checking'] } });

    const badLanguage = await stack.call({ token: acmeToken(), body: { platform: 'web', language: 'de' } });
    assert.equal(badLanguage.status, 400);
    assert.equal(badLanguage.json().errors[0].field, 'language');
    const badProfile = await stack.call({ token: acmeToken(), body: { platform: 'web', profile: 'premium' } });
    assert.equal(badProfile.status, 400);
    assert.equal(badProfile.json().errors[0].field, 'profile');
  });

  test('verified email and phone are prefilled only when verified and enabled', async () => {
    const claims = {
      email: 'pat@example.com',
      email_verified: true,
      phone_number: '+14155550123',
      phone_number_verified: 'true',
    };
    await linkToken(await stack.call({ token: acmeToken(claims), body: { platform: 'web' } }));
    assert.equal(lastPlaidBody().user.email_address, 'pat@example.com');
    assert.equal(lastPlaidBody().user.phone_number, '+14155550123');

    await linkToken(
      await stack.call({
        token: acmeToken({ ...claims, email_verified: false, phone_number_verified: false }),
        body: { platform: 'web' },
      }),
    );
    assert.deepEqual(Object.keys(lastPlaidBody().user), ['client_user_id']);

    await linkToken(await stack.call({ token: sharedToken('globex', claims), body: { platform: 'web' } }));
    assert.deepEqual(Object.keys(lastPlaidBody().user), ['client_user_id'], 'globex does not enable prefill');
  });

  test('tenants sharing an issuer are told apart by the verified tenant claim', async () => {
    await linkToken(
      await stack.call({ token: sharedToken('globex'), origin: GLOBEX_ORIGIN, body: { platform: 'web' } }),
    );
    assert.equal(stack.plaid.requests.at(-1)!.headers['plaid-client-id'], GLOBEX.clientId);
    assert.equal(lastPlaidBody().language, 'es');

    await linkToken(await stack.call({ token: sharedToken('initech'), body: { platform: 'ios' } }));
    assert.equal(stack.plaid.requests.at(-1)!.headers['plaid-client-id'], INITECH.clientId);
    assert.equal(
      lastPlaidBody().user.client_user_id,
      'user-777',
      "initech's strategy passes the opaque subject through",
    );
  });

  test('client_user_id is stable per user and differs between tenants', async () => {
    await linkToken(await stack.call({ token: sharedToken('globex'), body: { platform: 'web' } }));
    const first = lastPlaidBody().user.client_user_id;
    await linkToken(await stack.call({ token: sharedToken('globex'), body: { platform: 'web' } }));
    assert.equal(lastPlaidBody().user.client_user_id, first);
    await linkToken(await stack.call({ token: acmeToken({ sub: 'user-777' }), body: { platform: 'web' } }));
    assert.notEqual(lastPlaidBody().user.client_user_id, first);
  });
});

describe('authentication', () => {
  const expectInvalidToken = async (token: string, why: RegExp) => {
    const before = stack.plaid.calls;
    const res = await stack.call({ token: remember(token), body: { platform: 'web' } });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="link-token", error="invalid_token"/);
    assert.match(res.json().detail, why);
    assert.equal(stack.plaid.calls, before, 'a refused token never reaches Plaid');
  };

  test('a missing token is 401 with a bearer challenge', async () => {
    const res = await stack.call({ body: { platform: 'web' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="link-token"');
  });
  test('a tampered token', () =>
    expectInvalidToken(acmeIssuer.tamper(acmeToken(), { sub: 'someone-else' }), /signature/));
  test('an expired token', () => expectInvalidToken(acmeToken({}, { expiresInSeconds: -120 }), /expired/));
  test('a token not valid yet', () => expectInvalidToken(acmeToken({}, { notBeforeSeconds: 600 }), /not valid yet/));
  test('a token for another audience', () =>
    expectInvalidToken(acmeToken({ aud: 'someone-else' }), /not issued for this service/));
  test('alg none', () => expectInvalidToken(acmeIssuer.forgeAlgNone({ sub: 'user-123', aud: 'acme-web' }), /./));
  test('HS256 signed with the public key', () =>
    expectInvalidToken(acmeIssuer.forgeHs256WithPublicKey({ sub: 'user-123', aud: 'acme-web' }), /algorithm|key/));
  // Before the unknown-key test: after an unknown kid, aws-jwt-verify waits 10 s before refetching.
  test('a rotated signing key is picked up on its first unknown kid', async () => {
    acmeIssuer.rotateKey();
    await linkToken(await stack.call({ token: acmeToken(), body: { platform: 'web' } }));
  });
  test('a key the issuer never published', () =>
    expectInvalidToken(acmeIssuer.mintWithUnpublishedKey({ sub: 'user-123', aud: 'acme-web' }), /unknown key/));
  test('an issuer no tenant trusts', async () => {
    const { startOidcIssuer } = await import('../../local/standins/oidc-issuer.ts');
    const stranger = await startOidcIssuer();
    try {
      await expectInvalidToken(stranger.mint({ sub: 'user-123', aud: 'acme-web' }), /trusted identity provider/);
    } finally {
      await stranger.close();
    }
  });
  test('not a JWT, or not a bearer header', async () => {
    await expectInvalidToken('not.a.jwt', /well-formed/);
    const res = await stack.call({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, body: { platform: 'web' } });
    assert.equal(res.status, 401);
  });
});

describe('tenant and origin', () => {
  test('a verified token whose tenant claim matches no tenant is 403', async () => {
    const res = await stack.call({ token: sharedToken('umbrella'), body: { platform: 'web' } });
    assert.equal(res.status, 403);
    assert.equal(res.json().title, 'Unknown tenant');
  });
  test("another tenant's token from this tenant's site is 403", async () => {
    const res = await stack.call({ token: sharedToken('globex'), origin: ACME_ORIGIN, body: { platform: 'web' } });
    assert.equal(res.status, 403);
    assert.equal(res.json().title, 'Origin not allowed');
    assert.equal(
      res.headers.get('access-control-allow-origin'),
      null,
      "globex's answer is not readable from acme's site",
    );
  });
  test('an origin no tenant allows is 403', async () => {
    const res = await stack.call({ token: acmeToken(), origin: 'https://evil.test', body: { platform: 'web' } });
    assert.equal(res.status, 403);
  });
  test('CORS preflight: allowed origin gets 204 with the CORS headers, others 403', async () => {
    const ok = await stack.call({
      method: 'OPTIONS',
      origin: GLOBEX_ORIGIN,
      headers: {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), GLOBEX_ORIGIN);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    const denied = await stack.call({
      method: 'OPTIONS',
      origin: 'https://evil.test',
      headers: { 'access-control-request-method': 'POST' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  });
});

describe('the request', () => {
  test('other methods are 405, other paths 404', async () => {
    const get = await stack.call({ method: 'GET', token: acmeToken() });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    const other = await stack.call({ path: '/link/token/create', token: acmeToken(), body: { platform: 'web' } });
    assert.equal(other.status, 404);
  });
  test('fields the client may not set are refused by name', async () => {
    for (const field of [
      'webhook',
      'redirect_uri',
      'access_token',
      'user',
      'client_id',
      'secret',
      'products',
      'android_package_name',
      'user_token',
    ]) {
      const res = await stack.call({
        token: acmeToken(),
        body: { platform: 'web', [field]: field === 'user' ? { client_user_id: 'x' } : 'x' },
      });
      assert.equal(res.status, 400, field);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.deepEqual(
        res.json().errors.map((e: { field: string }) => e.field),
        [field],
      );
    }
  });
  test('a missing or unknown platform is 400 naming platform', async () => {
    for (const body of [{}, { platform: 'windows' }]) {
      const res = await stack.call({ token: acmeToken(), body });
      assert.equal(res.status, 400);
      assert.equal(res.json().errors[0].field, 'platform');
    }
  });
  test('over 16 KiB is 413, not JSON is 415, malformed JSON is 400', async () => {
    const big = await stack.call({
      token: acmeToken(),
      rawBody: JSON.stringify({ platform: 'web', pad: 'x'.repeat(17_000) }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    const text = await stack.call({
      token: acmeToken(),
      rawBody: 'platform=web',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(text.status, 415);
    const malformed = await stack.call({
      token: acmeToken(),
      rawBody: '{"platform": "web"',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(malformed.status, 400);
    assert.match(malformed.json().detail, /not valid JSON/);
  });
});

describe('upstream failures are bounded and mapped', () => {
  const call = () => stack.call({ token: acmeToken(), origin: ACME_ORIGIN, body: { platform: 'web' } });

  test('a Plaid 400 caused by config is 502, with Plaid error_code and request_id logged', async () => {
    stack.plaid.failNext(1, {
      kind: 'error',
      status: 400,
      error_type: 'INVALID_REQUEST',
      error_code: 'INVALID_FIELD',
      error_message: 'webhook is bad',
    });
    const res = await call();
    assert.equal(res.status, 502);
    assert.doesNotMatch(res.text, /INVALID_FIELD|webhook is bad/, "Plaid's error body is never forwarded");
    assert.equal(res.headers.get('access-control-allow-origin'), ACME_ORIGIN, 'the browser can read the error');
    const log = functionLogs(stack).findLast((l) => l.event === 'plaid.link_token_failed');
    assert.equal(log?.plaid_error_code, 'INVALID_FIELD');
    assert.equal(typeof log?.plaid_request_id, 'string');
    assert.equal(log?.correlation_id, res.json().correlation_id);
  });
  test('RATE_LIMIT_EXCEEDED (after one retry) is 429 with Retry-After', async () => {
    const before = stack.plaid.calls;
    stack.plaid.failNext(2, {
      kind: 'error',
      status: 429,
      error_type: 'RATE_LIMIT_EXCEEDED',
      error_code: 'RATE_LIMIT_EXCEEDED',
    });
    const res = await call();
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '17');
    assert.equal(stack.plaid.calls - before, 2, 'one retry, not more');
  });
  test('one Plaid 500 is retried and the user gets a token', async () => {
    stack.plaid.failNext(1, {
      kind: 'error',
      status: 500,
      error_type: 'API_ERROR',
      error_code: 'INTERNAL_SERVER_ERROR',
    });
    await linkToken(await call());
  });
  test('Plaid 5xx twice is 503', async () => {
    stack.plaid.failNext(2, { kind: 'error', status: 503, error_type: 'API_ERROR', error_code: 'PLANNED_MAINTENANCE' });
    assert.equal((await call()).status, 503);
  });
  test('a network failure twice is 503', async () => {
    stack.plaid.failNext(2, { kind: 'network' });
    assert.equal((await call()).status, 503);
  });
  test('Plaid slower than the budget is 504, on time', async () => {
    stack.plaid.failNext(1, { kind: 'delay', ms: 3500 });
    const started = Date.now();
    const res = await call();
    assert.equal(res.status, 504);
    assert.ok(Date.now() - started < 3000, 'answered within the 2 s budget plus overhead');
  });
});

describe('credentials from Secrets Manager', () => {
  test('warm requests make no Secrets Manager call', async () => {
    await linkToken(await stack.call({ token: acmeToken(), body: { platform: 'web' } }));
    stack.secrets.resetCalls();
    for (let i = 0; i < 5; i += 1) await linkToken(await stack.call({ token: acmeToken(), body: { platform: 'web' } }));
    assert.equal(stack.secrets.calls.GetSecretValue, 0);
  });
  test('rotated Plaid keys: INVALID_API_KEYS refetches the secret once and succeeds', async () => {
    stack.secrets.putSecret(
      GLOBEX.secretId,
      JSON.stringify({ client_id: GLOBEX.clientId, secret: 'globex-sandbox-secret-v2' }),
    );
    stack.plaid.setCredentials(GLOBEX.clientId, 'globex-sandbox-secret-v2');
    stack.secrets.resetCalls();
    const before = stack.plaid.calls;
    await linkToken(await stack.call({ token: sharedToken('globex'), body: { platform: 'web' } }));
    assert.equal(stack.secrets.calls.GetSecretValue, 1);
    assert.equal(stack.plaid.calls - before, 2);
    assert.equal(stack.plaid.requests.at(-1)!.headers['plaid-secret'], 'globex-sandbox-secret-v2');
  });
  test('keys Plaid refuses and Secrets Manager has not changed: one refetch, then 502', async () => {
    stack.plaid.setCredentials(INITECH.clientId, 'initech-rotated-elsewhere');
    stack.secrets.resetCalls();
    const res = await stack.call({ token: sharedToken('initech'), body: { platform: 'web' } });
    assert.equal(res.status, 502);
    assert.equal(stack.secrets.calls.GetSecretValue, 1, 'refetched once, not in a loop');
  });
  test('Secrets Manager failing on a secret not cached yet is 503', async () => {
    // Hooli has not been called yet, so its secret must be fetched now; the SDK tries twice.
    stack.secrets.failNext(2, 'internal');
    const res = await stack.call({ token: sharedToken('hooli'), body: { platform: 'web' } });
    assert.equal(res.status, 503);
    assert.equal(res.json().title, 'Credentials unavailable');
    await linkToken(await stack.call({ token: sharedToken('hooli'), body: { platform: 'web' } }));
  });
});

describe('nothing secret leaves', () => {
  test('no secret, JWT or full link token in any response or log line', () => {
    const secrets = [HMAC_KEY, ACME.secret, GLOBEX.secret, INITECH.secret, HOOLI.secret, 'globex-sandbox-secret-v2'];
    const logs = stack.logLines.join('\n');
    const responses = stack.transcripts.join('\n');
    assert.ok(minted.length > 20 && linkTokens.length > 10, 'the suite exercised tokens');
    for (const value of [...secrets, ...minted]) {
      assert.ok(!logs.includes(value), 'a secret or JWT reached a log line');
      assert.ok(!responses.includes(value), 'a secret or JWT reached a response');
    }
    for (const token of linkTokens) assert.ok(!logs.includes(token), 'a full link token reached a log line');
    assert.ok(functionLogs(stack).length > 20, 'the function logged');
  });
});
