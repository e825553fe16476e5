// Support look-up: computes the user.client_user_id the service sends to Plaid for a tenant and
// an identity-provider subject, so a support engineer can find that user's Link sessions in the
// Plaid Dashboard. Reads the tenants file and the key secret exactly as the function does.
//
//   npm run client-user-id -- --tenant acme-budget --subject 3f9c…            (the prod stage's tenants file)
//   npm run client-user-id -- --stage dev --tenant acme-budget --subject 3f9c…
//
// The key comes from Secrets Manager (standard AWS credentials, region and endpoint variables),
// or from the CLIENT_USER_ID_KEY environment variable with --key-from-env.
import { deriveClientUserId } from '../lambda/domain/client-user-id.ts';
import { createSecretsManagerReader } from '../lambda/secrets/secrets-manager.ts';
import {
  HELP_OPTION,
  parseCli,
  runCli,
  TENANTS_HELP,
  TENANTS_OPTIONS,
  TENANTS_USAGE,
  tenantOf,
  UsageError,
} from './cli.ts';

export const USAGE = [
  `usage: npm run client-user-id -- ${TENANTS_USAGE} --tenant <id> --subject <sub> [--key-from-env]`,
  '',
  "Prints the client_user_id the service sends to Plaid for this tenant's user (the subject of their token).",
  TENANTS_HELP,
  'The HMAC key is read from the secret the tenants file names (client_user_id_key_secret_id) with the',
  'standard AWS credentials, or from CLIENT_USER_ID_KEY with --key-from-env.',
].join('\n');

async function main(): Promise<void> {
  const values = parseCli(
    {
      args: process.argv.slice(2),
      options: {
        ...TENANTS_OPTIONS,
        tenant: { type: 'string' },
        subject: { type: 'string' },
        'key-from-env': { type: 'boolean', default: false },
        ...HELP_OPTION,
      },
    },
    USAGE,
  );
  if (!values) return;
  if (!values.tenant || !values.subject) throw new UsageError(`--tenant and --subject are required.\n${USAGE}`);
  const { file, tenant } = tenantOf(values);

  let key = '';
  if (tenant.client_user_id.strategy === 'hmac-sha256') {
    if (values['key-from-env']) {
      key = process.env.CLIENT_USER_ID_KEY ?? '';
      if (!key) throw new UsageError('CLIENT_USER_ID_KEY is not set');
    } else {
      const read = createSecretsManagerReader({ requestTimeoutMs: 5000, connectionTimeoutMs: 5000, maxAttempts: 3 });
      key = await read(file.client_user_id_key_secret_id);
    }
  }
  process.stdout.write(
    `${deriveClientUserId({ strategy: tenant.client_user_id.strategy, tenantId: tenant.id, subject: values.subject, key })}\n`,
  );
}

runCli(main);
