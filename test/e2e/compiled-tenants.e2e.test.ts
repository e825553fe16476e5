// The deploy's asset carries the tenants file in the form the build validated
// (tenants.compiled.json): a cold start reads it without running the tenants schema, and refuses
// it if it changed after the build. Each cold start here is a fresh Node process importing the
// bundle as Lambda does, against loopback stand-ins.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LAMBDA_BUNDLING } from '../../infra/lambda-bundling.ts';
import { buildLambdaBundle, type BuiltBundle } from '../../local/build.ts';
import { startOidcIssuer, type OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { startVaultStandIns, type VaultStandIns } from '../support/vault-standins.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const ORIGIN = 'https://app.example.com';
let dir: string;
let issuer: OidcIssuer;
let plaid: PlaidStandIn;
let secrets: SecretsManagerStandIn;
let vault: VaultStandIns;
let bundle: BuiltBundle;
let compiledPath: string;
let compiled: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'compiled-tenants-'));
  issuer = await startOidcIssuer();
  plaid = await startPlaidStandIn({});
  vault = await startVaultStandIns();
  const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  secrets = await startSecretsManagerStandIn({
    secrets: {
      'plaid/acme': JSON.stringify({ client_id: clientId, secret }),
      key: 'compiled-tenants-client-user-id-key-0123456789',
    },
  });
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(
    tenantsFile,
    JSON.stringify(
      tenantsFileOf(
        {
          acme: minimalTenantConfig({
            plaid: { environment: 'sandbox', secret_id: 'plaid/acme' },
            auth: { issuer: issuer.issuer, audience: ['web'] },
            allowed_origins: [ORIGIN],
          }),
        },
        'key',
      ),
    ),
  );
  bundle = await buildLambdaBundle({ outdir: join(dir, 'asset'), tenantsFile });
  compiledPath = join(bundle.dir, LAMBDA_BUNDLING.tenantsFileName);
  compiled = readFileSync(compiledPath, 'utf8');
});
after(async () => {
  await Promise.all([issuer?.close(), plaid?.close(), secrets?.close(), vault?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh process imports the bundle (its cold start) and sends it one POST /link-token. */
function coldStart(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle.handlerFile).href)});
    const body = JSON.stringify({ platform: 'web' });
    const res = await handler({
      version: '2.0', routeKey: '$default', rawPath: '/link-token', rawQueryString: '', body, isBase64Encoded: false,
      headers: { authorization: 'Bearer ' + process.env.TOKEN, 'content-type': 'application/json', origin: ${JSON.stringify(ORIGIN)} },
      requestContext: { requestId: 'r1', http: { method: 'POST', path: '/link-token', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' }, domainName: 'api.example.com', stage: '$default' },
    }, { awsRequestId: 'a1', getRemainingTimeInMillis: () => 10000 });
    console.log('STATUS ' + res.statusCode);
    process.exit(0);`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        TOKEN: issuer.mint({ sub: 'user-1', aud: 'web' }),
        PLAID_BASE_URL: plaid.url,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        ...vault.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the compiled tenants form beside the bundle', () => {
  test('serves without the tenants schema: the schema is not in index.mjs, and its lazy module may be missing', async () => {
    const inputs = Object.keys(Object.values(bundle.metafile.outputs).find((o) => o.entryPoint)!.inputs);
    for (const schemaFile of [
      'lambda/config/tenant-schema.ts',
      'lambda/config/tenant-rules.ts',
      'lambda/config/load-tenants.ts',
    ]) {
      assert.ok(!inputs.includes(schemaFile), `${schemaFile} is in index.mjs`);
    }
    const lazy = join(bundle.dir, LAMBDA_BUNDLING.lazyDir, 'tenants-validation.mjs');
    const lazyText = readFileSync(lazy);
    rmSync(lazy);
    try {
      const run = await coldStart();
      assert.match(run.stdout, /STATUS 200/, run.stderr);
    } finally {
      writeFileSync(lazy, lazyText);
    }
  });

  test('edited after the build: refused at cold start, never served', async () => {
    writeFileSync(compiledPath, compiled.replace('"client_name\\":\\"Acme\\"', '"client_name\\":\\"Acme edited\\"'));
    assert.notEqual(readFileSync(compiledPath, 'utf8'), compiled, 'the edit applied');
    try {
      const run = await coldStart();
      assert.notEqual(run.code, 0);
      assert.doesNotMatch(run.stdout, /STATUS/);
      assert.match(run.stderr, /Refusing the compiled tenants form .*content changed after the build/);
    } finally {
      writeFileSync(compiledPath, compiled);
    }
  });

  test('validated by another schema: refused, even with its digest recomputed', async () => {
    const [headerLine, ...rest] = compiled.split('\n');
    const other = { ...JSON.parse(headerLine!), schema: '0'.repeat(64) };
    writeFileSync(compiledPath, [JSON.stringify(other), ...rest].join('\n'));
    try {
      const run = await coldStart();
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /Refusing the compiled tenants form .*another version of the tenants schema/);
    } finally {
      writeFileSync(compiledPath, compiled);
    }
  });

  test('a tenants file the schema rejects fails the build: no compiled form exists for it', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify(tenantsFileOf({ acme: minimalTenantConfig({ languages: { default: 'xx', allowed: ['xx'] } }) })),
    );
    await assert.rejects(buildLambdaBundle({ outdir: join(dir, 'bad-asset'), tenantsFile: bad }), (error: Error) => {
      assert.equal(error.name, 'TenantConfigError');
      assert.match(error.message, /tenant 'acme'.*languages/);
      return true;
    });
  });
});
