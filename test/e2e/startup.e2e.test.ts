// A tenants-file mistake stops the local stack at start, with the message the function would
// also fail its cold start with: tenant, profile and field named.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const run = promisify(execFile);

test('npm start refuses an invalid tenants file, naming tenant, profile and field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-tenants-'));
  const file = join(dir, 'tenants.json');
  const acme = minimalTenantConfig({ profiles: { default: { products: ['auth'], redirect_uri: 'https://acme.com/oauth?next=home' } } });
  writeFileSync(file, JSON.stringify(tenantsFileOf({ acme })));
  const result = await run(process.execPath, ['local/start.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', TENANTS_FILE: file, LOCAL_WORK_DIR: dir },
  }).then(
    () => assert.fail('the local stack started with an invalid tenants file'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Invalid tenants file ${file}:`));
  assert.match(result.stderr, /tenant 'acme', profile 'default', field 'redirect_uri': must not contain a query string/);
});

test('npm start pointed at a Secrets Manager without credentials in the environment refuses, saying how to export them', async () => {
  const result = await run(process.execPath, ['local/start.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://secretsmanager.us-east-1.amazonaws.com', AWS_PROFILE: 'dev' },
  }).then(
    () => assert.fail('the local stack started without environment credentials'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY are not/);
  assert.match(result.stderr, /aws configure export-credentials --format env/);
});
