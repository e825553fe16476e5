// Holes found by running the service against identity providers and a Secrets Manager nobody on
// the team wrote: tokens without sub or exp (or living too long), Cognito keys served from a
// configured jwks_uri, credentials secrets of every wrong shape. Each case goes through the
// local stack over HTTP, with real signatures and the real Secrets Manager client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { functionLogFor, startE2eStack, type E2eStack, type SeenResponse } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const PLAID = { clientId: 'hardening-client', secret: 'hardening-sandbox-secret' };
const GOOD_SECRET = JSON.stringify({ client_id: PLAID.clientId, secret: PLAID.secret });
const COGNITO_ACCESS_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LoopBack1';
const COGNITO_ID_ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_LoopBack2';

// Tenants of the shared "secrets" issuer, each reading a credentials secret of another shape.
const WRONG_SECRETS = {
  'sm-binary': { secretId: 'plaid/binary', cause: 'SecretIsBinary' },
  'sm-not-json': { secretId: 'plaid/not-json' },
  'sm-missing-field': { secretId: 'plaid/missing-field' },
  'sm-wrong-types': { secretId: 'plaid/wrong-types' },
  'sm-absent': { secretId: 'plaid/never-created', cause: 'ResourceNotFoundException' },
} as const;
const HEALING = { throttled: 'plaid/throttled', decryption: 'plaid/decryption' } as const;

let stack: E2eStack;
let oidc: OidcIssuer;
let brief: OidcIssuer;
let cognitoKeys: OidcIssuer;
let secretsIssuer: OidcIssuer;
const minted: string[] = [];

const remember = (token: string) => (minted.push(token), token);
const acmeToken = (claims: Record<string, unknown> = {}, opts = {}) =>
  remember(oidc.mint({ sub: 'user-1', aud: 'acme-web', ...claims }, opts));
const secretsToken = (tenant: string) => remember(secretsIssuer.mint({ sub: 'user-9', aud: 'secrets-app', tenant }));
const post = (token: string) => stack.call({ token, body: { platform: 'web' } });

before(async () => {
  stack = await startE2eStack({
    issuerCount: 4,
    plaidCredentials: { [PLAID.clientId]: PLAID.secret },
    secrets: {
      [KEY_SECRET_ID]: 'hardening-client-user-id-key-0123456789abcdef',
      'plaid/good': GOOD_SECRET,
      'plaid/not-json': 'client_id=hardening-client secret=hardening-sandbox-secret',
      'plaid/missing-field': JSON.stringify({ client_id: PLAID.clientId }),
      'plaid/wrong-types': JSON.stringify({ client_id: 42, secret: ['hardening-sandbox-secret'] }),
      [HEALING.throttled]: GOOD_SECRET,
      [HEALING.decryption]: GOOD_SECRET,
    },
    // Secrets are read on each tenant's first request, where the tests script their faults.
    env: { INIT_PREFETCH: 'off' },
    beforeStart: ({ secrets }) => {
      secrets.putSecret('plaid/binary', { binary: Buffer.from(GOOD_SECRET) });
    },
    tenants: ([a, b, c, d]) => {
      const base = {
        client_name: 'Hardening',
        allowed_origins: [],
        languages: { default: 'en', allowed: ['en'] },
        country_codes: ['US'],
        profiles: { default: { products: ['auth'] } },
      } as const;
      const plaid = (secretId: string) => ({ environment: 'sandbox' as const, secret_id: secretId });
      return {
        client_user_id_key_secret_id: KEY_SECRET_ID,
        tenants: {
          acme: { ...base, plaid: plaid('plaid/good'), auth: { issuer: a!.issuer, audience: ['acme-web'] } },
          brief: {
            ...base,
            plaid: plaid('plaid/good'),
            auth: { issuer: b!.issuer, audience: ['brief-web'], max_token_lifetime_seconds: 900 },
          },
          // Cognito user pools whose keys are served from a loopback mirror (issuer c's JWKS).
          'cognito-access': {
            ...base,
            plaid: plaid('plaid/good'),
            auth: {
              issuer: COGNITO_ACCESS_ISSUER,
              jwks_uri: c!.jwksUri,
              audience: ['access-app-client'],
              token_use: 'access',
            },
          },
          'cognito-id': {
            ...base,
            plaid: plaid('plaid/good'),
            auth: { issuer: COGNITO_ID_ISSUER, jwks_uri: c!.jwksUri, audience: ['id-app-client'], token_use: 'id' },
          },
          ...Object.fromEntries(
            [
              ...Object.entries(WRONG_SECRETS).map(([id, { secretId }]) => [id, secretId]),
              ['sm-throttled', HEALING.throttled],
              ['sm-decryption', HEALING.decryption],
            ].map(([id, secretId]) => [
              id,
              {
                ...base,
                plaid: plaid(secretId!),
                auth: { issuer: d!.issuer, audience: ['secrets-app'], tenant_claim: { name: 'tenant', value: id! } },
              },
            ]),
          ),
        },
      };
    },
  });
  [oidc, brief, cognitoKeys, secretsIssuer] = stack.issuers as [OidcIssuer, OidcIssuer, OidcIssuer, OidcIssuer];
});
after(() => stack?.close());

/** 401 with the bearer challenge, the reason logged by name, and Plaid never called. */
async function expectRefused(token: string, detail: RegExp, cause: string) {
  const plaidCalls = stack.plaid.calls;
  const res = await post(token);
  assert.equal(res.status, 401, res.text);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="link-token", error="invalid_token"/);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.match(res.json().detail, detail);
  assert.equal(stack.plaid.calls, plaidCalls, 'Plaid was called for a refused token');
  const logged = await lastLogOf(res, 'request.rejected');
  assert.equal(logged.cause, cause);
}

async function lastLogOf(res: SeenResponse, event: string): Promise<Record<string, unknown>> {
  const line = await functionLogFor(stack, res, event);
  assert.ok(line, `no ${event} log line for ${res.headers.get('x-correlation-id')}`);
  return line;
}

describe('tokens without sub', () => {
  test('a validly signed token without sub is 401, not a shared client_user_id', () =>
    expectRefused(acmeToken({ sub: undefined }), /subject/, 'JwtWithoutSubject'));
  test('an empty sub is 401', () => expectRefused(acmeToken({ sub: '' }), /subject/, 'JwtWithoutSubject'));
  test('a blank sub is 401', () => expectRefused(acmeToken({ sub: '   ' }), /subject/, 'JwtWithoutSubject'));
  test('a sub that is not a string is 401', async () => {
    for (const sub of [42, ['user-1'], { id: 'user-1' }, true]) {
      const res = await post(acmeToken({ sub }));
      assert.equal(res.status, 401, `sub ${JSON.stringify(sub)}: ${res.text}`);
    }
  });
});

describe('tokens without exp, or living too long', () => {
  test('a validly signed token without exp is 401: it would never expire', () =>
    expectRefused(acmeToken({ exp: undefined }), /no expiry/, 'JwtWithoutExpiry'));
  test('an exp that is not a number is 401', async () => {
    for (const exp of ['4102444800', null, [4102444800]]) {
      const res = await post(acmeToken({ exp }));
      assert.equal(res.status, 401, `exp ${JSON.stringify(exp)}: ${res.text}`);
    }
  });
  test('a token living longer than the default day is 401, even unexpired', () =>
    expectRefused(acmeToken({}, { expiresInSeconds: 86_400 + 60 }), /lives longer/, 'JwtLifetimeTooLong'));
  test('a token living exactly the default day is accepted', async () => {
    assert.equal((await post(acmeToken({}, { expiresInSeconds: 86_400 }))).status, 200);
  });
  test('without iat the lifetime counts from now: exp a year away is 401', () =>
    expectRefused(
      acmeToken({ iat: undefined, exp: Math.floor(Date.now() / 1000) + 365 * 86_400 }),
      /lives longer/,
      'JwtLifetimeTooLong',
    ));
  test('an iat in the future (which would shorten the counted lifetime) is 401; a few seconds of skew are fine', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      acmeToken({ iat: now + 30 * 86_400, exp: now + 31 * 86_400 }),
      /issued in the future/,
      'JwtIssuedInFuture',
    );
    assert.equal((await post(acmeToken({ iat: now + 20, exp: now + 3600 }))).status, 200);
  });
  test('a tenant with a shorter maximum (900 s) refuses a one-hour token and accepts a ten-minute one', async () => {
    await expectRefused(
      remember(brief.mint({ sub: 'u', aud: 'brief-web' }, { expiresInSeconds: 3600 })),
      /900 s/,
      'JwtLifetimeTooLong',
    );
    assert.equal(
      (await post(remember(brief.mint({ sub: 'u', aud: 'brief-web' }, { expiresInSeconds: 600 })))).status,
      200,
    );
  });
});

describe('Cognito keys from a configured jwks_uri', () => {
  const cognitoAccess = (claims: Record<string, unknown> = {}) =>
    remember(
      cognitoKeys.mint({
        iss: COGNITO_ACCESS_ISSUER,
        sub: '5f3c1e0a-7d1b-4c9e-9a55-0c3b2f4e6a11',
        token_use: 'access',
        client_id: 'access-app-client',
        scope: 'aws.cognito.signin.user.admin',
        username: 'pat',
        ...claims,
      }),
    );
  const cognitoId = (claims: Record<string, unknown> = {}) =>
    remember(
      cognitoKeys.mint({
        iss: COGNITO_ID_ISSUER,
        sub: '00000000-0000-4000-8000-000000000004',
        token_use: 'id',
        aud: 'id-app-client',
        'cognito:username': 'pat',
        email: 'pat@example.com',
        email_verified: true,
        ...claims,
      }),
    );

  test('a Cognito access token verifies against the mirror, not cognito-idp.amazonaws.com', async () => {
    const fetches = cognitoKeys.jwksFetches;
    const res = await post(cognitoAccess());
    assert.equal(res.status, 200, res.text);
    assert.ok(cognitoKeys.jwksFetches > fetches, 'the keys came from the configured jwks_uri');
  });
  test('a Cognito ID token verifies against the mirror', async () => {
    assert.equal((await post(cognitoId())).status, 200);
  });
  test("Cognito's own checks still apply: client_id of access tokens", () =>
    expectRefused(
      cognitoAccess({ client_id: 'another-app-client' }),
      /not issued for this service/,
      'CognitoJwtInvalidClientIdError',
    ));
  test("Cognito's own checks still apply: token_use", () =>
    expectRefused(
      cognitoAccess({ token_use: 'id', aud: 'access-app-client' }),
      /expected kind/,
      'CognitoJwtInvalidTokenUseError',
    ));
  test("Cognito's own checks still apply: aud of ID tokens", async () => {
    const res = await post(cognitoId({ aud: 'another-app-client' }));
    assert.equal(res.status, 401);
  });
  test('a token signed by a key the mirror does not publish is refused', async () => {
    const res = await post(
      remember(
        cognitoKeys.mintWithUnpublishedKey({
          iss: COGNITO_ACCESS_ISSUER,
          sub: 's',
          token_use: 'access',
          client_id: 'access-app-client',
        }),
      ),
    );
    assert.equal(res.status, 401);
  });
});

describe('credentials secrets of every wrong shape', () => {
  for (const [tenant, { secretId, ...rest }] of Object.entries(WRONG_SECRETS)) {
    test(`${secretId} is 500 "misconfigured", not a 503 the client would retry forever`, async () => {
      const plaidCalls = stack.plaid.calls;
      const res = await post(secretsToken(tenant));
      assert.equal(res.status, 500, res.text);
      assert.equal(res.json().title, 'Service misconfigured');
      assert.equal(res.headers.get('retry-after'), null);
      assert.equal(stack.plaid.calls, plaidCalls);
      const logged = await lastLogOf(res, 'request.failed');
      assert.equal(logged.kind, 'misconfigured');
      if ('cause' in rest) assert.equal(logged.cause, rest.cause);
    });
  }
  test('throttling heals: 503, then the next request succeeds', async () => {
    stack.secrets.failNext(2, 'throttle');
    const res = await post(secretsToken('sm-throttled'));
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json().title, 'Credentials unavailable');
    assert.equal((await post(secretsToken('sm-throttled'))).status, 200);
  });
  test('a decryption failure (KMS unavailable) heals: 503, then the next request succeeds', async () => {
    const before = stack.secrets.calls.GetSecretValue;
    stack.secrets.failNext(1, 'decryption');
    const res = await post(secretsToken('sm-decryption'));
    assert.equal(res.status, 503, res.text);
    assert.equal(stack.secrets.calls.GetSecretValue - before, 1, 'DecryptionFailure is not retried by the SDK');
    assert.equal((await lastLogOf(res, 'request.failed')).cause, 'DecryptionFailure');
    assert.equal((await post(secretsToken('sm-decryption'))).status, 200);
  });
});

test('no token reaches a response or a log line', () => {
  const logs = stack.logLines.join('\n');
  const responses = stack.transcripts.join('\n');
  assert.ok(minted.length > 20);
  for (const token of minted) {
    assert.ok(!logs.includes(token), 'a JWT reached a log line');
    assert.ok(!responses.includes(token), 'a JWT reached a response');
  }
  assert.ok(!logs.includes(PLAID.secret) && !responses.includes(PLAID.secret));
});
