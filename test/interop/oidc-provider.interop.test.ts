// The function against a generic OpenID provider nobody on the team wrote: oidc-provider, a
// certified OpenID Provider, in this process on a loopback port (plain http is allowed for
// sandbox tenants on loopback hosts). Its tokens come from its own flows (authorization code
// with PKCE and a resource indicator, client credentials); its signing keys are rotated by
// restarting it on the same port while the function keeps running.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { functionLogFor, startE2eStack, type E2eStack, type SeenResponse } from '../support/e2e-harness.ts';
import {
  APP_CLIENT,
  signingKey,
  startOidcProvider,
  SUBJECTLESS_CLIENT,
  type RealOidcProvider,
} from './oidc-provider-issuer.ts';

const AUDIENCE = 'https://link-token.interop.test/api';
const TENANT = 'oidc';
const KEY_SECRET_ID = 'interop/client-user-id-key';
const HMAC_KEY = 'interop-oidc-client-user-id-key-0123456789abcdef';
const PLAID = { clientId: 'interop-oidc-client', secret: 'interop-oidc-sandbox-secret' };
const KEY_A = signingKey('key-a');
const KEY_B = signingKey('key-b');

let op: RealOidcProvider;
let stack: E2eStack;
const minted: string[] = [];
const remember = (token: string) => (minted.push(token), token);
const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const post = (token: string) => stack.call({ token, body: { platform: 'web' } });
/** The documented default: base64url HMAC-SHA256 of "<tenant>:<sub>" under the key secret. */
const clientUserIdOf = (subject: string) =>
  createHmac('sha256', HMAC_KEY).update(`${TENANT}:${subject}`).digest('base64url');

before(async () => {
  op = await startOidcProvider({ keys: [KEY_A], audience: AUDIENCE });
  stack = await startE2eStack({
    issuerCount: 0,
    plaidCredentials: { [PLAID.clientId]: PLAID.secret },
    secrets: {
      [KEY_SECRET_ID]: HMAC_KEY,
      'interop/plaid': JSON.stringify({ client_id: PLAID.clientId, secret: PLAID.secret }),
    },
    tenants: () => ({
      client_user_id_key_secret_id: KEY_SECRET_ID,
      tenants: {
        [TENANT]: {
          client_name: 'Interop OIDC',
          plaid: { environment: 'sandbox', secret_id: 'interop/plaid' },
          // oidc-provider serves its keys at /jwks, not at the /.well-known/jwks.json the function would guess.
          auth: { issuer: op.issuer, jwks_uri: op.jwksUri, audience: [AUDIENCE] },
          languages: { default: 'en', allowed: ['en'] },
          country_codes: ['US'],
          profiles: { default: { products: ['auth'] } },
        },
      },
    }),
  });
});
after(async () => {
  await stack?.close();
  await op?.close();
});

async function accepted(token: string): Promise<Record<string, unknown>> {
  const before = stack.plaid.calls;
  const res = await post(remember(token));
  assert.equal(res.status, 200, res.text);
  assert.equal(stack.plaid.calls - before, 1);
  return (stack.plaid.requests.at(-1)!.body as { user: Record<string, unknown> }).user;
}
async function refused(token: string, detail: RegExp, cause: string): Promise<SeenResponse> {
  const before = stack.plaid.calls;
  const res = await post(remember(token));
  assert.equal(res.status, 401, res.text);
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.match(res.json().detail, detail);
  assert.equal(stack.plaid.calls, before, 'Plaid was called for a refused token');
  const logged = await functionLogFor(stack, res, 'request.rejected');
  assert.equal(logged?.cause, cause);
  return res;
}

describe("tokens from oidc-provider's own flows", () => {
  test("a user's JWT access token (authorization code, PKCE, resource indicator) is accepted", async () => {
    const { accessToken } = await op.signIn('pat');
    assert.deepEqual(
      [kidOf(accessToken), claimsOf(accessToken).aud, claimsOf(accessToken).sub],
      [KEY_A.kid, AUDIENCE, 'pat'],
    );
    const user = await accepted(accessToken);
    assert.equal(user.client_user_id, clientUserIdOf('pat'));
  });

  test('the ID token of the same sign-in is 401: it is addressed to the app (aud = client_id), not to the service', async () => {
    const { idToken } = await op.signIn('pat');
    assert.equal(claimsOf(idToken).aud, APP_CLIENT.id);
    await refused(idToken, /not issued for this service/, 'JwtInvalidAudienceError');
  });

  test('a client credentials token issued without sub is 401: no user to derive a client_user_id from', async () => {
    const token = await op.clientCredentials(SUBJECTLESS_CLIENT);
    assert.equal(claimsOf(token).sub, undefined);
    await refused(token, /does not name its subject/, 'JwtWithoutSubject');
  });

  // oidc-provider follows RFC 9068 §2.2: a client credentials token carries sub = client_id. It has
  // no end user: accepted, every holder of that client's secret would share one client_user_id.
  test('a client credentials token (no user; sub is the client id) is refused', async () => {
    const token = await op.clientCredentials(APP_CLIENT);
    assert.equal(claimsOf(token).sub, claimsOf(token).client_id);
    await refused(token, /application, not to a signed-in user/, 'JwtWithoutEndUser');
  });
});

describe('signing keys rotated while the function runs', () => {
  let tokenOfKeyA: string;

  test('a token of key A, before the rotation, is accepted from the keys cached at init', async () => {
    tokenOfKeyA = (await op.signIn('sam')).accessToken;
    const fetches = op.jwksRequests;
    await accepted(tokenOfKeyA);
    assert.equal(op.jwksRequests, fetches, 'no JWKS request for a known key');
  });

  test('restarted with keys [B, A]: a token of key B makes the function refetch the JWKS once and accept it', async () => {
    await op.restart([KEY_B, KEY_A]);
    const { accessToken } = await op.signIn('sam');
    assert.equal(kidOf(accessToken), KEY_B.kid);
    const fetches = op.jwksRequests;
    const user = await accepted(accessToken);
    assert.equal(op.jwksRequests - fetches, 1, 'one refetch on the unknown kid');
    assert.equal(user.client_user_id, clientUserIdOf('sam'), 'the same user keeps the same client_user_id across keys');
    // Key A is still published: its tokens stay valid, with no further request.
    await accepted(tokenOfKeyA);
    await accepted((await op.signIn('sam')).accessToken);
    assert.equal(op.jwksRequests - fetches, 1);
  });

  test('a token whose kid is in neither key set is 401, after one refetch; the next one costs the provider nothing', async () => {
    // An impostor claiming the issuer, signing with a key the real provider never published.
    const impostor = await startOidcProvider({ keys: [signingKey('key-c')], audience: AUDIENCE, issuer: op.issuer });
    try {
      const forged = await impostor.clientCredentials(APP_CLIENT);
      assert.deepEqual([claimsOf(forged).iss, kidOf(forged)], [op.issuer, 'key-c']);
      const fetches = op.jwksRequests;
      await refused(forged, /unknown key/, 'KidNotFoundInJwksError');
      assert.equal(op.jwksRequests - fetches, 1, 'the unknown kid was looked up once');
      // aws-jwt-verify waits (10 s) before looking up the same issuer's keys again after a miss,
      // so a flood of forged kids does not become a flood of JWKS requests.
      await refused(await impostor.clientCredentials(APP_CLIENT), /unknown key/, 'WaitPeriodNotYetEndedJwkError');
      assert.equal(op.jwksRequests - fetches, 1);
    } finally {
      await impostor.close();
    }
  });
});

test('no token reaches a response or a log line', () => {
  const logs = stack.logLines.join('\n');
  const responses = stack.transcripts.join('\n');
  assert.ok(minted.length >= 8);
  for (const token of minted) {
    assert.ok(!logs.includes(token), 'a JWT reached a log line');
    assert.ok(!responses.includes(token), 'a JWT reached a response');
  }
});
