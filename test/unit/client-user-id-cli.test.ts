// The support command computes the same id the function sends, reading the key from a real
// (stand-in) Secrets Manager through the AWS SDK, as an operator would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const run = promisify(execFile);
const KEY = 'cli-test-client-user-id-key-0123456789abcdef';

test('npm run client-user-id prints the id the function sends to Plaid', async () => {
  const secrets = await startSecretsManagerStandIn({ secrets: { 'svc/key': KEY } });
  try {
    const file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'tenants.json');
    writeFileSync(file, JSON.stringify(tenantsFileOf({ acme: minimalTenantConfig() }, 'svc/key')));
    const { stdout } = await run(process.execPath, ['lambda/cli/client-user-id.ts', '--tenants-file', file, '--tenant', 'acme', '--subject', 'user-42'], {
      env: { PATH: process.env.PATH, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
    });
    assert.equal(stdout.trim(), deriveClientUserId({ strategy: 'hmac-sha256', tenantId: 'acme', subject: 'user-42', key: KEY }));
    assert.equal(secrets.calls.GetSecretValue, 1);
  } finally {
    await secrets.close();
  }
});
