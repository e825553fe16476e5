// The vault's loopback stand-ins (DynamoDB through dynalite, KMS) with the items table and a key,
// and the function's environment that points at them: for tests that run the function outside
// the e2e harness (a bundle in this process, or a cold start in a child process).
import { createItemsTable, startDynamoDbStandIn } from '../../local/standins/dynamodb.ts';
import { startKmsStandIn } from '../../local/standins/kms.ts';

export interface VaultStandIns {
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function startVaultStandIns(): Promise<VaultStandIns> {
  const [dynamodb, kms] = await Promise.all([startDynamoDbStandIn(), startKmsStandIn()]);
  const table = await createItemsTable(dynamodb.url);
  return {
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      ITEMS_TABLE_NAME: table,
      VAULT_KMS_KEY_ID: kms.keyArn,
    },
    close: () => Promise.all([dynamodb.close(), kms.close()]).then(() => undefined),
  };
}
