// The function against tokens that moto's Cognito issues (an implementation nobody on the team
// wrote): user pools, app clients and a user made through the real SDK, tokens from a real
// password sign-in (InitiateAuth / AdminInitiateAuth), keys from moto's JWKS endpoint through each
// tenant's jwks_uri, because the function cannot reach cognito-idp.amazonaws.com from here.
// moto signs every pool's tokens with one and the same key (kid "dummy"): only the issuer check
// keeps one pool's users out of another's tenants, which the last case relies on.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { TenantsFileInput } from '../../lambda/config/tenant-schema.ts';
import { functionLogFor, startE2eStack, type E2eStack } from '../support/e2e-harness.ts';
import { MOTO_ABSENT, motoOnPath, startMoto, type Moto } from '../support/moto.ts';

const REGION = 'us-east-1';
const KEY_SECRET_ID = 'interop/client-user-id-key';
const HMAC_KEY = 'interop-cognito-client-user-id-key-0123456789';
const PLAID = { clientId: 'interop-cognito-client', secret: 'interop-cognito-sandbox-secret' };
const USER = { name: 'pat', password: 'Correct-Horse-Battery-9', email: 'pat@example.com' };

type TenantInput = TenantsFileInput['tenants'][string];

interface Pool {
  id: string;
  issuer: string;
  jwksUri: string;
}
interface Tokens {
  access: string;
  id: string;
}

describe("moto_server's Cognito user pools", { skip: motoOnPath() ? false : MOTO_ABSENT }, () => {
  let moto: Moto;
  let cognito: CognitoIdentityProviderClient;
  let stack: E2eStack;
  /** Two tenants (one takes access tokens, one ID tokens) on `shared`; one access-only tenant on `strict`; none on `unconfigured`. */
  let shared: Pool, strict: Pool, unconfigured: Pool;
  let clientA: string, clientB: string, strictClient: string, unconfiguredClient: string;
  let userSub: string;
  let fromA: Tokens, fromAAgain: Tokens, fromStrict: Tokens, fromUnconfigured: Tokens;
  let accessFromB: string;
  const minted: string[] = [];

  async function createPool(name: string): Promise<Pool> {
    const pool = (await cognito.send(new CreateUserPoolCommand({ PoolName: name }))).UserPool!;
    return {
      id: pool.Id!,
      issuer: `https://cognito-idp.${REGION}.amazonaws.com/${pool.Id}`,
      jwksUri: `${moto.url}/${pool.Id}/.well-known/jwks.json`,
    };
  }
  async function createClient(pool: Pool, name: string): Promise<string> {
    const out = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: pool.id,
        ClientName: name,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        ReadAttributes: ['email', 'email_verified'],
      }),
    );
    return out.UserPoolClient!.ClientId!;
  }
  async function createUser(pool: Pool): Promise<void> {
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: pool.id,
        Username: USER.name,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: USER.email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: pool.id,
        Username: USER.name,
        Password: USER.password,
        Permanent: true,
      }),
    );
  }
  /** The user's own sign-in, as an app does it (USER_PASSWORD_AUTH, no AWS credentials needed). */
  async function signIn(clientId: string): Promise<Tokens> {
    const out = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: USER.name, PASSWORD: USER.password },
      }),
    );
    const result = out.AuthenticationResult!;
    minted.push(result.AccessToken!, result.IdToken!);
    return { access: result.AccessToken!, id: result.IdToken! };
  }

  before(async () => {
    moto = (await startMoto())!;
    cognito = new CognitoIdentityProviderClient({
      endpoint: moto.url,
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    // moto answers in threads: the setup calls that do not depend on each other run at once.
    [shared, strict, unconfigured] = (await Promise.all(
      ['interop-shared', 'interop-strict', 'interop-unconfigured'].map(createPool),
    )) as [Pool, Pool, Pool];
    [clientA, clientB, strictClient, unconfiguredClient] = (await Promise.all([
      createClient(shared, 'app-a'),
      createClient(shared, 'app-b'),
      createClient(strict, 'strict-app'),
      createClient(unconfigured, 'other-app'),
      ...[shared, strict, unconfigured].map(async (pool) => (await createUser(pool), '')),
    ])) as [string, string, string, string];
    userSub = (
      await cognito.send(new AdminGetUserCommand({ UserPoolId: shared.id, Username: USER.name }))
    ).UserAttributes!.find((a) => a.Name === 'sub')!.Value!;

    let asB;
    [fromA, fromAAgain, fromStrict, fromUnconfigured, asB] = await Promise.all([
      signIn(clientA),
      signIn(clientA),
      signIn(strictClient),
      signIn(unconfiguredClient),
      // The server-side sign-in (AWS credentials) of app client B.
      cognito.send(
        new AdminInitiateAuthCommand({
          UserPoolId: shared.id,
          ClientId: clientB,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: USER.name, PASSWORD: USER.password },
        }),
      ),
    ]);
    accessFromB = asB.AuthenticationResult!.AccessToken!;
    minted.push(accessFromB);

    const tenant = (auth: TenantInput['auth']): TenantInput => ({
      client_name: 'Interop Cognito',
      plaid: { environment: 'sandbox', secret_id: 'interop/plaid' },
      auth,
      languages: { default: 'en', allowed: ['en'] },
      country_codes: ['US'],
      profiles: { default: { products: ['auth'] } },
      prefill: { email_address: true },
    });
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
          // One pool, one app client, two tenants: told apart by the kind of token they take.
          'pool-access': tenant({
            issuer: shared.issuer,
            jwks_uri: shared.jwksUri,
            audience: [clientA],
            token_use: 'access',
            tenant_claim: { name: 'token_use', value: 'access' },
          }),
          'pool-id': tenant({
            issuer: shared.issuer,
            jwks_uri: shared.jwksUri,
            audience: [clientA],
            token_use: 'id',
            tenant_claim: { name: 'token_use', value: 'id' },
          }),
          'strict-access': tenant({
            issuer: strict.issuer,
            jwks_uri: strict.jwksUri,
            audience: [strictClient],
            token_use: 'access',
          }),
        },
      }),
    });
  });
  after(async () => {
    await stack?.close();
    cognito?.destroy();
    await moto?.close();
  });

  const post = (token: string) => stack.call({ token, body: { platform: 'web' } });
  const lastPlaidUser = () => (stack.plaid.requests.at(-1)!.body as { user: Record<string, unknown> }).user;
  /** The documented default: base64url HMAC-SHA256 of "<tenant>:<sub>" under the key secret. */
  const expectedClientUserId = (tenant: string) =>
    createHmac('sha256', HMAC_KEY).update(`${tenant}:${userSub}`).digest('base64url');

  async function accepted(token: string): Promise<Record<string, unknown>> {
    const before = stack.plaid.calls;
    const res = await post(token);
    assert.equal(res.status, 200, res.text);
    assert.equal(stack.plaid.calls - before, 1);
    return lastPlaidUser();
  }
  async function refused(token: string, detail: RegExp, cause: string): Promise<void> {
    const before = stack.plaid.calls;
    const res = await post(token);
    assert.equal(res.status, 401, res.text);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(res.json().detail, detail);
    assert.equal(stack.plaid.calls, before, 'Plaid was called for a refused token');
    const logged = await functionLogFor(stack, res, 'request.rejected');
    assert.equal(logged?.cause, cause);
  }

  test("moto's tokens carry what the function requires: its issuer form, sub, exp, iat, kid", () => {
    for (const [token, use] of [
      [fromA.access, 'access'],
      [fromA.id, 'id'],
    ] as const) {
      const [header, claims] = token
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
      assert.equal(header.alg, 'RS256');
      assert.equal(typeof header.kid, 'string');
      assert.equal(claims.iss, shared.issuer);
      assert.equal(claims.sub, userSub);
      assert.equal(claims.token_use, use);
      assert.equal(typeof claims.exp, 'number');
      assert.ok(claims.exp - claims.iat <= 86_400, 'within the default max_token_lifetime_seconds');
    }
  });

  test("app client A's access token is accepted by the tenant of audience [A] and token_use access", async () => {
    const user = await accepted(fromA.access);
    assert.equal(user.client_user_id, expectedClientUserId('pool-access'));
    assert.equal(user.email_address, undefined, 'an access token carries no email to prefill');
  });

  test("app client A's ID token is accepted by the tenant of token_use id, its verified email prefilled", async () => {
    const user = await accepted(fromA.id);
    assert.equal(user.client_user_id, expectedClientUserId('pool-id'));
    // Cognito (and moto) write email_verified as the string "true".
    assert.equal(user.email_address, USER.email);
  });

  test('client_user_id is stable for the user: a second sign-in gives new tokens and the same ids', async () => {
    assert.notEqual(fromAAgain.access, fromA.access);
    assert.equal((await accepted(fromAAgain.access)).client_user_id, expectedClientUserId('pool-access'));
    assert.equal((await accepted(fromAAgain.id)).client_user_id, expectedClientUserId('pool-id'));
  });

  test("app client B's access token is 401 for the tenant of client A (same pool, same user, same key)", async () => {
    await refused(accessFromB, /not issued for this service/, 'CognitoJwtInvalidClientIdError');
  });

  test('an ID token sent where an access token is expected is 401', async () => {
    await accepted(fromStrict.access);
    await refused(fromStrict.id, /expected kind/, 'CognitoJwtInvalidTokenUseError');
  });

  test("another pool's token is 401 though moto signed it with the very same key", async () => {
    const header = JSON.parse(Buffer.from(fromUnconfigured.access.split('.')[0]!, 'base64url').toString('utf8'));
    const sharedHeader = JSON.parse(Buffer.from(fromA.access.split('.')[0]!, 'base64url').toString('utf8'));
    assert.equal(header.kid, sharedHeader.kid, 'moto signs every pool with one key');
    const before = stack.plaid.calls;
    const res = await post(fromUnconfigured.access);
    assert.equal(res.status, 401, res.text);
    assert.match(res.json().detail, /not issued by a trusted identity provider/);
    assert.equal(stack.plaid.calls, before);
  });

  test('no token reaches a response or a log line', () => {
    const logs = stack.logLines.join('\n');
    const responses = stack.transcripts.join('\n');
    assert.ok(minted.length >= 9);
    for (const token of minted) {
      assert.ok(!logs.includes(token), 'a JWT reached a log line');
      assert.ok(!responses.includes(token), 'a JWT reached a response');
    }
  });
});
