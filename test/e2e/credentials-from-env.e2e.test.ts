// The bundle takes its AWS credentials from the environment only, as Lambda provides them
// (lambda/runtime/aws-credentials-from-env.ts). The bundled handler runs in this process behind
// the local API Gateway emulator, against the stand-ins, first without credentials, then with.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildLambdaBundle, type BuiltBundle } from '../../local/build.ts';
import { DEMO_AUDIENCE, DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID, demoTenantsFile } from '../../local/demo-tenants.ts';
import { startLocalApiServer, type LambdaHandler, type LocalApiServer } from '../../local/server.ts';
import { startOidcIssuer, type OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';

const ORIGIN = 'https://app.example.com';

let dir: string;
let issuer: OidcIssuer;
let plaid: PlaidStandIn;
let secrets: SecretsManagerStandIn;
let server: LocalApiServer;
let bundle: BuiltBundle;
const logLines: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'credentials-from-env-'));
  issuer = await startOidcIssuer();
  plaid = await startPlaidStandIn({});
  const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  secrets = await startSecretsManagerStandIn({
    secrets: {
      [DEMO_PLAID_SECRET_ID]: JSON.stringify({ client_id: clientId, secret }),
      [DEMO_KEY_SECRET_ID]: 'credentials-test-client-user-id-key-0123456789abcdef',
    },
  });
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify(demoTenantsFile({ issuer: issuer.issuer, origins: [ORIGIN], withOAuthRedirect: true })));
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[name];
  Object.assign(process.env, {
    TENANTS_FILE: tenantsFile,
    PLAID_BASE_URL: plaid.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    // A shared credentials file the full chain would use: the bundle must not.
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
  });
  writeFileSync(join(dir, 'credentials'), '[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = fromfile\n');
  bundle = await buildLambdaBundle({ outdir: join(dir, 'lambda') });
  // The function's log lines go to stdout; keep them for the assertions (and pass them on).
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    logLines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  const { handler } = (await import(pathToFileURL(bundle.handlerFile).href)) as { handler: LambdaHandler };
  server = await startLocalApiServer({ handler, functionTimeoutMs: 12_000 });
});

after(async () => {
  await server?.close();
  await Promise.all([issuer?.close(), plaid?.close(), secrets?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const call = () =>
  fetch(`${server.url}/link-token`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${issuer.mint({ sub: 'user-1', aud: DEMO_AUDIENCE, email: 'user.1@example.com', email_verified: true })}`,
      'content-type': 'application/json',
      origin: ORIGIN,
    },
    body: JSON.stringify({ platform: 'web' }),
  });

test('the bundle carries the environment credential provider, not the default chain', () => {
  const inputs = Object.keys(bundle.metafile.inputs);
  assert.ok(inputs.some((path) => path.includes('@aws-sdk/credential-provider-env/')), 'the environment provider is bundled');
  for (const chainPart of ['credential-provider-node', 'credential-provider-ini', 'credential-provider-sso', 'nested-clients', 'credential-provider-imds']) {
    assert.ok(!inputs.some((path) => path.includes(chainPart)), `${chainPart} is bundled`);
  }
});

test('without credentials in the environment: a mapped 503, nothing sent unsigned, the reason logged by name', async () => {
  const res = await call();
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { title: string }).title, 'Credentials unavailable');
  assert.equal(secrets.calls.GetSecretValue, 0, 'no request reached Secrets Manager');
  const failures = logLines.flatMap((line) => line.split('\n')).filter((line) => line.includes('"init.prefetch_failed"')).map((line) => JSON.parse(line));
  assert.ok(failures.length > 0 && failures.every((f) => f.error_name === 'CredentialsProviderError'), JSON.stringify(failures));
});

test('with credentials in the environment, the next request reads the secrets and succeeds', async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'ASIAENVIRONMENT', AWS_SECRET_ACCESS_KEY: 'from-environment', AWS_SESSION_TOKEN: 'session' });
  const res = await call();
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(secrets.calls.GetSecretValue, 2);
});
