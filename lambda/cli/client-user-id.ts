// Support look-up: computes the user.client_user_id the service sends to Plaid for a tenant and
// an identity-provider subject, so a support engineer can find that user's Link sessions in the
// Plaid Dashboard. Reads the tenants file and the key secret exactly as the function does.
//
//   npm run client-user-id -- --tenants-file infra/tenants/prod.json --tenant acme --subject 3f9c…
//
// The key comes from Secrets Manager (standard AWS credentials, region and endpoint variables),
// or from the CLIENT_USER_ID_KEY environment variable with --key-from-env.
import { parseArgs } from 'node:util';
import { readTenantsFile, tenantsById } from '../config/load-tenants.ts';
import { deriveClientUserId } from '../domain/client-user-id.ts';
import { createSecretsManagerReader } from '../secrets/secrets-manager.ts';

const USAGE = 'usage: npm run client-user-id -- --tenants-file <file> --tenant <id> --subject <sub> [--key-from-env]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'tenants-file': { type: 'string' },
      tenant: { type: 'string' },
      subject: { type: 'string' },
      'key-from-env': { type: 'boolean', default: false },
    },
  });
  const file = values['tenants-file'];
  if (!file || !values.tenant || !values.subject) throw new Error(USAGE);
  const tenantsFile = readTenantsFile(file);
  const tenant = tenantsById(tenantsFile).get(values.tenant);
  if (!tenant) throw new Error(`No tenant '${values.tenant}' in ${file}`);

  let key = '';
  if (tenant.client_user_id.strategy === 'hmac-sha256') {
    if (values['key-from-env']) {
      key = process.env.CLIENT_USER_ID_KEY ?? '';
      if (!key) throw new Error('CLIENT_USER_ID_KEY is not set');
    } else {
      const read = createSecretsManagerReader({ requestTimeoutMs: 5000, connectionTimeoutMs: 5000, maxAttempts: 3 });
      key = await read(tenantsFile.client_user_id_key_secret_id);
    }
  }
  process.stdout.write(`${deriveClientUserId({ strategy: tenant.client_user_id.strategy, tenantId: tenant.id, subject: values.subject, key })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
