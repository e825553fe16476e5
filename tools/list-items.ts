// Support look-up: lists one user's Items as the service stores them (id, institution, status,
// the action the app offers, times), or finds the owner of an item_id, so a support engineer can
// answer "what does the service know of this user's banks" without ever seeing a token: the
// ciphertexts are not read, let alone decrypted.
//
//   npm run items -- --tenant acme-budget --subject 3f9c… --table <ItemsTableName>      (the prod stage's tenants file)
//   npm run items -- --stage dev --tenant acme-budget --item-id <item_id> --table <ItemsTableName>
//
// AWS credentials, region and endpoint come from the standard variables (AWS_ENDPOINT_URL_DYNAMODB
// for an emulator); the client_user_id key as for `npm run client-user-id`.
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { deriveClientUserId } from '../lambda/domain/client-user-id.ts';
import { actionFor } from '../lambda/domain/item-status.ts';
import { ITEM_STATUSES, type ItemStatus } from '../lambda/domain/ports.ts';
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
  `usage: npm run items -- ${TENANTS_USAGE} --tenant <id> (--subject <sub> | --client-user-id <id> | --item-id <item_id>) --table <name> [--key-from-env]`,
  '',
  "Lists one user's Items as the vault holds them (never a token), found by subject, client_user_id or item_id.",
  TENANTS_HELP,
  '--table is the stack output ItemsTableName. With --subject, the client_user_id key is read as by `npm run client-user-id`.',
].join('\n');

async function main(): Promise<void> {
  const values = parseCli(
    {
      args: process.argv.slice(2),
      options: {
        ...TENANTS_OPTIONS,
        tenant: { type: 'string' },
        subject: { type: 'string' },
        'client-user-id': { type: 'string' },
        'item-id': { type: 'string' },
        table: { type: 'string' },
        'key-from-env': { type: 'boolean', default: false },
        ...HELP_OPTION,
      },
    },
    USAGE,
  );
  if (!values) return;
  const lookups = [values.subject, values['client-user-id'], values['item-id']].filter((v) => v !== undefined);
  if (!values.tenant || !values.table || lookups.length !== 1) {
    throw new UsageError(
      `--tenant, --table and exactly one of --subject, --client-user-id, --item-id are required.\n${USAGE}`,
    );
  }
  const { file: tenantsFile, tenant } = tenantOf(values);
  const db = new DynamoDBClient({});
  try {
    let clientUserId = values['client-user-id'];
    if (values['item-id']) {
      const out = await db.send(
        new QueryCommand({
          TableName: values.table,
          IndexName: 'by-item',
          KeyConditionExpression: 'item_key = :key',
          ExpressionAttributeValues: { ':key': { S: `${tenant.id}#${values['item-id']}` } },
        }),
      );
      const pk = out.Items?.[0]?.pk?.S;
      if (!pk) throw new Error(`No Item ${values['item-id']} of tenant '${tenant.id}'`);
      clientUserId = pk.slice(tenant.id.length + 1);
    } else if (values.subject !== undefined) {
      let key = '';
      if (tenant.client_user_id.strategy === 'hmac-sha256') {
        key = values['key-from-env']
          ? (process.env.CLIENT_USER_ID_KEY ?? '')
          : await createSecretsManagerReader({ requestTimeoutMs: 5000, connectionTimeoutMs: 5000, maxAttempts: 3 })(
              tenantsFile.client_user_id_key_secret_id,
            );
        if (!key) throw new Error('CLIENT_USER_ID_KEY is not set');
      }
      clientUserId = deriveClientUserId({
        strategy: tenant.client_user_id.strategy,
        tenantId: tenant.id,
        subject: values.subject,
        key,
      });
    }
    const out = await db.send(
      new QueryCommand({
        TableName: values.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `${tenant.id}#${clientUserId}` } },
        // Never the ciphertexts: only what support may see.
        ProjectionExpression: 'sk, item_id, institution_id, institution_name, #status, created_at, updated_at, user_id',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    );
    const records = out.Items ?? [];
    const items = records
      .filter((r) => r.sk?.S?.startsWith('item#'))
      .map((r) => {
        const status = (ITEM_STATUSES as readonly string[]).includes(r.status?.S ?? '')
          ? (r.status!.S as ItemStatus)
          : 'healthy';
        return {
          item_id: r.item_id?.S,
          institution: `${r.institution_name?.S ?? '?'} (${r.institution_id?.S ?? '-'})`,
          status,
          action: actionFor(status),
          created_at: r.created_at?.S,
          updated_at: r.updated_at?.S,
        };
      });
    const plaidUser = records.find((r) => r.sk?.S === 'plaid_user')?.user_id?.S;
    // The limit counts live Items: a revoked one is not billed and does not take a place.
    const live = items.filter((item) => item.status !== 'revoked').length;
    const summary = {
      tenant: tenant.id,
      client_user_id: clientUserId,
      plaid_user_id: plaidUser ?? null,
      live_items: live,
      max_per_user: tenant.items.max_per_user,
      at_limit: live >= tenant.items.max_per_user,
      items,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    db.destroy();
  }
}

runCli(main);
