// The warm path makes no Secrets Manager call and no JWKS fetch: after the first (cold)
// request, every further request is served from what the execution environment already holds,
// as counted by the stand-ins themselves. The bundled handler (built as the deploy builds it)
// runs in this process behind the local API Gateway emulator; the stand-ins count every call.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildLambdaBundle } from '../../local/build.ts';
import { DEMO_AUDIENCE, DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID, demoTenantsFile } from '../../local/demo-tenants.ts';
import { startLocalApiServer, type LambdaHandler, type LocalApiServer } from '../../local/server.ts';
import { startOidcIssuer, type OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';

const ORIGIN = 'https://app.example.com';
const WARM_REQUESTS = 40;

let dir: string;
let issuer: OidcIssuer;
let plaid: PlaidStandIn;
let secrets: SecretsManagerStandIn;
let server: LocalApiServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warm-path-'));
  issuer = await startOidcIssuer();
  plaid = await startPlaidStandIn({});
  const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  secrets = await startSecretsManagerStandIn({
    secrets: {
      [DEMO_PLAID_SECRET_ID]: JSON.stringify({ client_id: clientId, secret }),
      [DEMO_KEY_SECRET_ID]: 'warm-path-test-client-user-id-key-0123456789abcdef',
    },
  });
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify(demoTenantsFile({ issuer: issuer.issuer, origins: [ORIGIN], withOAuthRedirect: true })));
  // The handler reads its settings when it is imported (its cold start), as in Lambda.
  Object.assign(process.env, {
    TENANTS_FILE: tenantsFile,
    PLAID_BASE_URL: plaid.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    LOG_LEVEL: 'error',
  });
  const bundle = await buildLambdaBundle({ outdir: join(dir, 'lambda') });
  const { handler } = (await import(pathToFileURL(bundle.handlerFile).href)) as { handler: LambdaHandler };
  server = await startLocalApiServer({ handler, functionTimeoutMs: 12_000 });
});

after(async () => {
  await server?.close();
  await Promise.all([issuer?.close(), plaid?.close(), secrets?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function linkToken(user: number): Promise<void> {
  const token = issuer.mint({ sub: `user-${user}`, aud: DEMO_AUDIENCE, email: `user.${user}@example.com`, email_verified: true });
  const res = await fetch(`${server.url}/link-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: ORIGIN },
    body: JSON.stringify({ platform: 'web' }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(JSON.parse(text).link_token, /^link-sandbox-/);
}

test('the cold request fetches the JWKS once and each secret once', async () => {
  await linkToken(0);
  assert.equal(issuer.jwksFetches, 1);
  assert.equal(secrets.calls.GetSecretValue, 2, 'the Plaid credentials and the client_user_id key');
  assert.equal(plaid.calls, 1);
});

test('warm requests, one after another and concurrent, make no Secrets Manager call and fetch no JWKS', async () => {
  issuer.resetCounters();
  secrets.resetCalls();
  plaid.reset();
  for (let user = 1; user <= WARM_REQUESTS / 2; user++) await linkToken(user);
  await Promise.all(Array.from({ length: WARM_REQUESTS / 2 }, (_, i) => linkToken(1000 + i)));
  assert.equal(plaid.calls, WARM_REQUESTS, 'every warm request reached Plaid');
  assert.equal(secrets.calls.GetSecretValue, 0, 'no Secrets Manager call on a warm request');
  assert.equal(issuer.jwksFetches, 0, 'no JWKS fetch on a warm request');
});
