// The support command lists what the vault holds of one user, found by subject or by item_id,
// through the real DynamoDB client against dynalite, and never prints a token or ciphertext.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import { createLogger } from '../../lambda/log/logger.ts';
import { createDynamoDbKmsVault } from '../../lambda/vault/dynamodb-kms-vault.ts';
import { createItemsTable, startDynamoDbStandIn, type DynamoDbStandIn } from '../../local/standins/dynamodb.ts';
import { startKmsStandIn, type KmsStandIn } from '../../local/standins/kms.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const run = promisify(execFile);
const KEY = 'cli-test-client-user-id-key-0123456789abcdef';
const ACCESS_TOKEN = 'access-sandbox-00000000-0000-4000-8000-000000000006';
let dynamodb: DynamoDbStandIn;
let kms: KmsStandIn;
let table: string;
let file: string;
const env = () => ({
  PATH: process.env.PATH,
  AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  CLIENT_USER_ID_KEY: KEY,
});
const clientUserId = deriveClientUserId({ strategy: 'hmac-sha256', tenantId: 'acme', subject: 'user-42', key: KEY });

before(async () => {
  [dynamodb, kms] = await Promise.all([startDynamoDbStandIn(), startKmsStandIn()]);
  table = await createItemsTable(dynamodb.url, { tableName: 'cli-items' });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    AWS_ENDPOINT_URL_KMS: kms.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
  });
  const vault = createDynamoDbKmsVault({
    tableName: table,
    kmsKeyId: kms.keyArn,
    requestTimeoutMs: 2000,
    maxAttempts: 2,
    logger: createLogger({ write: () => {} }),
  });
  const at = '2026-12-01T10:00:00.000Z';
  await vault.putItem(
    { tenantId: 'acme', clientUserId },
    {
      itemId: 'item-cli-1',
      institutionId: 'ins_109508',
      institutionName: 'First Platypus Bank',
      status: 'healthy',
      createdAt: at,
      updatedAt: at,
    },
    ACCESS_TOKEN,
  );
  file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'tenants.json');
  writeFileSync(file, JSON.stringify(tenantsFileOf({ acme: minimalTenantConfig() }, 'svc/key')));
});
after(async () => {
  await Promise.all([dynamodb?.close(), kms?.close()]);
});

for (const [how, args] of [
  ['by subject', ['--subject', 'user-42', '--key-from-env']],
  ['by item_id', ['--item-id', 'item-cli-1']],
] as const) {
  test(`npm run items lists a user's Items ${how}, without a token`, async () => {
    const { stdout } = await run(
      process.execPath,
      ['tools/list-items.ts', '--tenants-file', file, '--tenant', 'acme', '--table', table, ...args],
      { env: env() },
    );
    const out = JSON.parse(stdout);
    assert.equal(out.client_user_id, clientUserId);
    assert.deepEqual(
      out.items.map((i: { item_id: string; status: string; action: string }) => [i.item_id, i.status, i.action]),
      [['item-cli-1', 'healthy', 'none']],
    );
    // The tenant's limit (the default, 10) against the user's live Items.
    assert.deepEqual([out.live_items, out.max_per_user, out.at_limit], [1, 10, false]);
    assert.ok(
      !stdout.includes('access-sandbox') && !stdout.includes('access_token_ct'),
      'no token or ciphertext printed',
    );
  });
}

test('npm run items refuses an unknown tenant, naming the ones that exist, --help prints the usage and an unknown option is named', async () => {
  const failed = await run(
    process.execPath,
    ['tools/list-items.ts', '--tenants-file', file, '--tenant', 'acme-budget', '--table', table, '--item-id', 'x'],
    { env: env() },
  ).then(
    () => assert.fail('accepted an unknown tenant'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /No tenant 'acme-budget' .*\(tenants: acme\)/);
  const { stdout } = await run(process.execPath, ['tools/list-items.ts', '--help'], { env: env() });
  assert.match(stdout, /^usage: npm run items/);
  const unknown = await run(process.execPath, ['tools/list-items.ts', '--tenant', 'acme', '--user', 'u'], {
    env: env(),
  }).then(
    () => assert.fail('accepted an unknown option'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^Unknown option '--user'\.\nusage: npm run items/);
});
