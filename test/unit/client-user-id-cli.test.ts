// The support command computes the same id the function sends, reading the key from a real
// (stand-in) Secrets Manager through the AWS SDK, as an operator would; without a file named it
// reads the tenants file the prod stage deploys, and it answers --help and mistyped flags.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import { STAGES } from '../../infra/stages.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const run = promisify(execFile);
const CLI = 'tools/client-user-id.ts';
const KEY = 'cli-test-client-user-id-key-0123456789abcdef';
const offline = { PATH: process.env.PATH, CLIENT_USER_ID_KEY: KEY };
const failureOf = (args: string[]) =>
  run(process.execPath, [CLI, ...args], { env: offline }).then(
    () => assert.fail(`accepted ${args.join(' ')}`),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

test('npm run client-user-id prints the id the function sends to Plaid', async () => {
  const secrets = await startSecretsManagerStandIn({ secrets: { 'svc/key': KEY } });
  try {
    const file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'tenants.json');
    writeFileSync(file, JSON.stringify(tenantsFileOf({ acme: minimalTenantConfig() }, 'svc/key')));
    const { stdout } = await run(
      process.execPath,
      [CLI, '--tenants-file', file, '--tenant', 'acme', '--subject', 'user-42'],
      {
        env: {
          PATH: process.env.PATH,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
        },
      },
    );
    assert.equal(
      stdout.trim(),
      deriveClientUserId({ strategy: 'hmac-sha256', tenantId: 'acme', subject: 'user-42', key: KEY }),
    );
    assert.equal(secrets.calls.GetSecretValue, 1);
  } finally {
    await secrets.close();
  }
});

test("without --tenants-file it reads the prod stage's tenants file, or the --stage named; the documented example's tenant is in it", async () => {
  const example = /npm run client-user-id -- --tenant (\S+) --subject/.exec(readFileSync(CLI, 'utf8'));
  assert.ok(example, 'the header comment shows an example');
  const tenant = example[1]!;
  assert.ok(
    tenant in JSON.parse(readFileSync(STAGES.prod.tenantsFile, 'utf8')).tenants,
    `${tenant} is a tenant of ${STAGES.prod.tenantsFile}`,
  );
  const expected = deriveClientUserId({ strategy: 'hmac-sha256', tenantId: tenant, subject: 'user-42', key: KEY });
  for (const stage of [[], ['--stage', 'prod'], ['--stage', 'dev']]) {
    const { stdout } = await run(
      process.execPath,
      [CLI, ...stage, '--tenant', tenant, '--subject', 'user-42', '--key-from-env'],
      { env: offline },
    );
    assert.equal(stdout.trim(), expected, stage.join(' '));
  }
  const missing = await failureOf(['--tenant', 'acme', '--subject', 'user-42', '--key-from-env']);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    `No tenant 'acme' in ${join(process.cwd(), STAGES.prod.tenantsFile)} (tenants: acme-budget, northwind-lending)`,
  );
  const badStage = await failureOf(['--stage', 'staging', '--tenant', tenant, '--subject', 'u']);
  assert.match(badStage.stderr, /^--stage must be one of dev, prod \(got 'staging'\)\./);
});

test('--help prints the usage and exits 0; an unknown option, a flag without its value or a missing flag is named with the usage, exit 1', async () => {
  const { stdout, stderr } = await run(process.execPath, [CLI, '--help'], { env: offline });
  assert.match(
    stdout,
    /^usage: npm run client-user-id -- \[--stage <dev\|prod> \| --tenants-file <file>\] --tenant <id> --subject <sub>/,
  );
  assert.match(stdout, /prod: infra\/tenants\/prod\.json/);
  assert.equal(stderr, '');
  for (const [args, message] of [
    [
      ['--tenant-id', 'acme-budget', '--subject', 'u'],
      /^Unknown option '--tenant-id'\.\nusage: npm run client-user-id/,
    ],
    [
      ['--tenant', 'acme-budget', '--subject'],
      /^Option '--subject <value>' argument missing\.\nusage: npm run client-user-id/,
    ],
    [['--tenant', 'acme-budget'], /^--tenant and --subject are required\.\nusage: npm run client-user-id/],
    [
      ['acme-budget'],
      /^Unexpected argument 'acme-budget'\. This command does not take positional arguments\.\nusage: npm run client-user-id/,
    ],
  ] as const) {
    const failed = await failureOf([...args]);
    assert.equal(failed.code, 1, args.join(' '));
    assert.match(failed.stderr, message, args.join(' '));
    assert.equal(failed.stdout, '');
  }
});
