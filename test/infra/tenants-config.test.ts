// The tenants file and stage settings are checked at synth: a mistake fails `cdk synth` with
// a message that says where (stage setting, or tenant, profile and field), before anything is
// bundled or deployed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLinkTokenApp } from '../../infra/app.ts';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { STAGE_NAMES, STAGES } from '../../infra/stages.ts';
import { readTenantsFile } from '../../lambda/config/load-tenants.ts';
import { CDK_JSON_CONTEXT } from './synth.ts';

const workDir = mkdtempSync(join(tmpdir(), 'link-token-tenants-'));
const devTenants = () => JSON.parse(readFileSync(join(PROJECT_ROOT, STAGES.dev.tenantsFile), 'utf8'));

/** A copy of the dev tenants file with one change, written to disk. */
function tenantsFileWith(name: string, change: (file: any) => void): string {
  const file = devTenants();
  change(file);
  const path = join(workDir, `${name}.json`);
  writeFileSync(path, JSON.stringify(file, null, 2));
  return path;
}

const synthWith = (context: Record<string, unknown>) => () =>
  createLinkTokenApp({
    context: { ...CDK_JSON_CONTEXT, ...context },
    outdir: mkdtempSync(join(tmpdir(), 'link-token-cdk-')),
  }).app.synth();

describe('the committed tenants files', () => {
  for (const stage of STAGE_NAMES) {
    test(`${stage}: valid, and pointing editors at the JSON Schema`, () => {
      const path = join(PROJECT_ROOT, STAGES[stage].tenantsFile);
      const file = readTenantsFile(path);
      assert.equal(file.$schema, '../tenants.schema.json');
      assert.ok(Object.keys(file.tenants).length > 0);
    });
  }

  test('dev is a sandbox tenant behind a Cognito user pool, with https origins; prod is production', () => {
    const dev = readTenantsFile(join(PROJECT_ROOT, STAGES.dev.tenantsFile));
    for (const tenant of Object.values(dev.tenants)) {
      assert.equal(tenant.plaid.environment, 'sandbox');
      assert.match(tenant.auth.issuer, /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[a-z0-9-]+_[A-Za-z0-9]+$/);
      for (const origin of tenant.allowed_origins) assert.match(origin, /^https:\/\//);
    }
    const prod = readTenantsFile(join(PROJECT_ROOT, STAGES.prod.tenantsFile));
    for (const tenant of Object.values(prod.tenants)) assert.equal(tenant.plaid.environment, 'production');
  });
});

describe('an invalid tenants file fails synth', () => {
  test('naming tenant, profile and field', () => {
    const path = tenantsFileWith('bad-product', (file) => {
      file.tenants['acme-budget'].profiles.default.products = ['transactionz'];
    });
    assert.throws(synthWith({ stage: 'dev', tenantsFile: path }), (error: Error) => {
      assert.equal(error.name, 'TenantConfigError');
      assert.match(
        error.message,
        /tenant 'acme-budget', profile 'default', field 'products\[0\]': must be a Plaid product name/,
      );
      return true;
    });
  });

  test('with every problem at once, rules across fields included', () => {
    const path = tenantsFileWith('two-problems', (file) => {
      file.tenants['acme-budget'].languages.default = 'de';
      file.tenants['acme-budget'].allowed_origins = ['https://dev.acme-budget.example.com/'];
    });
    assert.throws(synthWith({ stage: 'dev', tenantsFile: path }), (error: Error) => {
      assert.match(
        error.message,
        /tenant 'acme-budget', field 'languages\.default': "de" must also be listed in languages\.allowed/,
      );
      assert.match(error.message, /tenant 'acme-budget', field 'allowed_origins\[0\]': must be a bare origin/);
      return true;
    });
  });

  test('when a secret reference is neither a secret name nor a secret ARN', () => {
    const path = tenantsFileWith('bad-secret', (file) => {
      file.tenants['acme-budget'].plaid.secret_id = 'arn:aws:s3:::not-a-secret';
    });
    assert.throws(
      synthWith({ stage: 'dev', tenantsFile: path }),
      /tenant 'acme-budget', field 'plaid\.secret_id': must be a Secrets Manager secret ARN/,
    );
  });

  test('when a Plaid secret is the client_user_id key secret', () => {
    const path = tenantsFileWith('shared-secret', (file) => {
      file.tenants['acme-budget'].plaid.secret_id = file.client_user_id_key_secret_id;
    });
    assert.throws(
      synthWith({ stage: 'dev', tenantsFile: path }),
      /tenant 'acme-budget', field 'plaid\.secret_id': must not be the client_user_id key secret/,
    );
  });

  test('through the CDK CLI: exit code 1 and the message, no stack trace', () => {
    const path = tenantsFileWith('cli', (file) => {
      delete file.tenants['acme-budget'].profiles.default;
    });
    const result = spawnSync(
      process.execPath,
      [
        join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
        'synth',
        '--no-notices',
        '--quiet',
        '-c',
        'stage=dev',
        '-c',
        `tenantsFile=${path}`,
        '-o',
        join(workDir, 'cdk.out'),
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1' }, encoding: 'utf8' },
    );
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, new RegExp(`Invalid tenants file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(result.stderr, /tenant 'acme-budget', field 'profiles': must define a "default" profile/);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, 'a configuration mistake should not print a stack trace');
  });
});

describe('stage settings', () => {
  test('the stage must be named', () => {
    assert.throws(synthWith({}), /Choose the stage with -c stage=<dev\|prod> \(got none\)/);
    assert.throws(synthWith({ stage: 'staging' }), /Choose the stage with -c stage=<dev\|prod> \(got "staging"\)/);
  });

  test('a context override is checked like the setting it replaces', () => {
    assert.throws(
      synthWith({ stage: 'dev', throttleRateLimit: 'lots' }),
      /Context value throttleRateLimit="lots" must be a whole number/,
    );
    assert.throws(
      synthWith({ stage: 'dev', throttleRateLimit: '500' }),
      /burst \(20\) must be at least the rate \(500\)/,
    );
    assert.throws(
      synthWith({ stage: 'dev', alarmEmail: 'ops' }),
      /Context value alarmEmail="ops" must be an email address/,
    );
    assert.throws(
      synthWith({ stage: 'dev', createMissingSecrets: 'yes' }),
      /Context value createMissingSecrets="yes" must be true or false/,
    );
    assert.throws(synthWith({ stage: 'dev', logLevel: 'warn' }), /Context value logLevel="warn" must be debug or info/);
  });
});

describe('a deprecated field is accepted with a synth warning', () => {
  test('naming the field and its replacement', async () => {
    const { Annotations, Match } = await import('aws-cdk-lib/assertions');
    const path = tenantsFileWith('deprecated-auth-flow', (file) => {
      file.tenants['acme-budget'].profiles.default.auth = { flow_type: 'FLEXIBLE_AUTH' };
    });
    const { stack } = createLinkTokenApp({
      context: { ...CDK_JSON_CONTEXT, stage: 'dev', tenantsFile: path },
      outdir: mkdtempSync(join(tmpdir(), 'link-token-cdk-')),
    });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('auth\\.flow_type'));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    const { data } = warnings[0]!.entry;
    assert.ok(typeof data === 'string', JSON.stringify(data));
    assert.match(data, /tenant 'acme-budget', profile 'default', field 'auth\.flow_type'.*auth_type_select_enabled/);
  });
});
