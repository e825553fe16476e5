// The item vault on DynamoDB, with every access token and Plaid user token encrypted by the
// function with KMS before it is written (on top of the table's own encryption at rest).
//
// Isolation is structural: the partition key is `<tenant_id>#<client_user_id>`, so a query can
// only return one user's records, and IAM's dynamodb:LeadingKeys can confine a tenant's backend
// to `<tenant_id>#*`. The KMS encryption context is the owner and the item id, taken from the
// request, never from the record: a record copied into another user's partition fails to decrypt.
//
// Loaded only by the items routes and update mode (a dynamic import in handler.ts), so the
// link-token cold start never evaluates the DynamoDB and KMS clients.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DecryptCommand, EncryptCommand, InvalidCiphertextException, KMSClient } from '@aws-sdk/client-kms';
import { ServiceFailure } from '../domain/failure.ts';
import {
  ITEM_STATUSES,
  type ItemOwner,
  type ItemStatus,
  type ItemVault,
  type PlaidUser,
  type StoredItem,
  type Logger,
} from '../domain/ports.ts';

export interface VaultOptions {
  readonly tableName: string;
  readonly kmsKeyId: string;
  /** Per attempt; the SDK enforces it only with throwOnRequestTimeout. */
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly logger: Logger;
}

/**
 * Webhook replay records live in a partition no user's can be: tenant ids and the table's user
 * partitions start with [a-z0-9], this one with '~'. Not under `<tenant_id>#`, so a tenant's
 * reader policy (LeadingKeys `<tenant_id>#*`) does not reach it.
 */
const webhookPartition = (tenantId: string) => `~webhook#${tenantId}`;

/** The sort key of the user's Plaid user record, and its item_id in the encryption context. */
const PLAID_USER_SK = 'plaid_user';
const ITEM_SK_PREFIX = 'item#';
const ITEM_INDEX = 'by-item';

export const partitionKey = (owner: ItemOwner) => `${owner.tenantId}#${owner.clientUserId}`;
export const itemIndexKey = (tenantId: string, itemId: string) => `${tenantId}#${itemId}`;

// AWS errors no retry heals: a missing table or key, a disabled key, a role without the grant.
const NEEDS_AN_OPERATOR: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'UnrecognizedClientException',
]);

export function createDynamoDbKmsVault(opts: VaultOptions): ItemVault {
  const requestHandler = {
    requestTimeout: opts.requestTimeoutMs,
    connectionTimeout: opts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
  const dynamodb = new DynamoDBClient({ maxAttempts: opts.maxAttempts, requestHandler });
  const kms = new KMSClient({ maxAttempts: opts.maxAttempts, requestHandler });
  const table = opts.tableName;

  const context = (owner: ItemOwner, itemId: string) => ({
    tenant_id: owner.tenantId,
    client_user_id: owner.clientUserId,
    item_id: itemId,
  });

  async function encrypt(owner: ItemOwner, itemId: string, token: string): Promise<Uint8Array> {
    const out = await guarded('kms.encrypt', () =>
      kms.send(
        new EncryptCommand({
          KeyId: opts.kmsKeyId,
          Plaintext: Buffer.from(token, 'utf8'),
          EncryptionContext: context(owner, itemId),
        }),
      ),
    );
    if (!out.CiphertextBlob) throw unavailable('EmptyCiphertext');
    return out.CiphertextBlob;
  }

  async function decrypt(owner: ItemOwner, itemId: string, blob: Uint8Array): Promise<string | undefined> {
    try {
      const out = await kms.send(
        new DecryptCommand({ KeyId: opts.kmsKeyId, CiphertextBlob: blob, EncryptionContext: context(owner, itemId) }),
      );
      return out.Plaintext ? Buffer.from(out.Plaintext).toString('utf8') : undefined;
    } catch (error) {
      if (error instanceof InvalidCiphertextException) {
        // Not encrypted for this owner and item: a record moved or forged. Nothing is returned,
        // and an operator hears of it (ids only).
        opts.logger.error('vault.decrypt_refused', { tenant: owner.tenantId, item_id: itemId });
        return undefined;
      }
      throw toFailure('kms.decrypt', error);
    }
  }

  async function guarded<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toFailure(operation, error);
    }
  }

  function toFailure(operation: string, error: unknown): ServiceFailure {
    const name = (error as { name?: unknown })?.name;
    const cause = { name: typeof name === 'string' ? name : 'Error' };
    if (NEEDS_AN_OPERATOR.has(cause.name)) {
      opts.logger.error('vault.misconfigured', { operation, error_name: cause.name });
      return new ServiceFailure(
        'misconfigured',
        'The service cannot reach its item store; the operator has been alerted.',
        { cause },
      );
    }
    opts.logger.error('vault.unavailable', { operation, error_name: cause.name });
    return unavailable(cause.name);
  }

  /** Writes a record that must not exist yet: whatever a client retries, one record per key. */
  async function putOnce(record: Record<string, AttributeValue>): Promise<'created' | 'exists'> {
    try {
      await dynamodb.send(
        new PutItemCommand({ TableName: table, Item: record, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'exists';
      throw toFailure('dynamodb.put', error);
    }
  }

  async function getRecord(owner: ItemOwner, sk: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await guarded('dynamodb.get', () =>
      dynamodb.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: partitionKey(owner) }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item;
  }

  return {
    async listItems(owner) {
      const items: StoredItem[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const out = await guarded('dynamodb.query', () =>
          dynamodb.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :items)',
              ExpressionAttributeValues: { ':pk': { S: partitionKey(owner) }, ':items': { S: ITEM_SK_PREFIX } },
              ConsistentRead: true,
              ExclusiveStartKey: startKey,
            }),
          ),
        );
        for (const record of out.Items ?? []) items.push(itemOf(record));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    async accessToken(owner, itemId) {
      const record = await getRecord(owner, `${ITEM_SK_PREFIX}${itemId}`);
      const blob = record?.access_token_ct?.B;
      return blob ? decrypt(owner, itemId, blob) : undefined;
    },

    async putItem(owner, item, accessToken) {
      const ciphertext = await encrypt(owner, item.itemId, accessToken);
      return putOnce({
        pk: { S: partitionKey(owner) },
        sk: { S: `${ITEM_SK_PREFIX}${item.itemId}` },
        item_key: { S: itemIndexKey(owner.tenantId, item.itemId) },
        item_id: { S: item.itemId },
        ...(item.institutionId === null ? {} : { institution_id: { S: item.institutionId } }),
        ...(item.institutionName === null ? {} : { institution_name: { S: item.institutionName } }),
        status: { S: item.status },
        created_at: { S: item.createdAt },
        updated_at: { S: item.updatedAt },
        access_token_ct: { B: ciphertext },
      });
    },

    async deleteItem(owner, itemId) {
      await guarded('dynamodb.delete', () =>
        dynamodb.send(
          new DeleteItemCommand({
            TableName: table,
            Key: { pk: { S: partitionKey(owner) }, sk: { S: `${ITEM_SK_PREFIX}${itemId}` } },
          }),
        ),
      );
    },

    async plaidUser(owner) {
      const record = await getRecord(owner, PLAID_USER_SK);
      const userId = record?.user_id?.S;
      if (!record || !userId) return undefined;
      const blob = record.user_token_ct?.B;
      if (!blob) return { userId, createdAt: record.created_at?.S ?? '' };
      const userToken = await decrypt(owner, PLAID_USER_SK, blob);
      return userToken === undefined ? undefined : { userId, userToken, createdAt: record.created_at?.S ?? '' };
    },

    async findItemOwner(tenantId, itemId) {
      const out = await guarded('dynamodb.query_index', () =>
        dynamodb.send(
          new QueryCommand({
            TableName: table,
            IndexName: ITEM_INDEX,
            KeyConditionExpression: 'item_key = :key',
            ExpressionAttributeValues: { ':key': { S: itemIndexKey(tenantId, itemId) } },
            Limit: 1,
          }),
        ),
      );
      const pk = out.Items?.[0]?.pk?.S;
      // The index key names the tenant, and the owner's partition must be that tenant's too.
      if (!pk || !pk.startsWith(`${tenantId}#`)) return undefined;
      return { tenantId, clientUserId: pk.slice(tenantId.length + 1) };
    },

    async applyItemStatus(owner, itemId, change) {
      try {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: partitionKey(owner) }, sk: { S: `${ITEM_SK_PREFIX}${itemId}` } },
            UpdateExpression:
              change.consentExpirationTime === undefined
                ? 'SET #status = :status, updated_at = :at, status_iat = :iat'
                : 'SET #status = :status, updated_at = :at, status_iat = :iat, consent_expiration_time = :consent',
            // Last writer by Plaid's clock wins: an older webhook arriving late changes nothing
            // (iat has one-second resolution: of two in the same second, the later arrival wins).
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(status_iat) OR status_iat <= :iat)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':status': { S: change.status },
              ':at': { S: change.at },
              ':iat': { N: String(change.iat) },
              ...(change.consentExpirationTime === undefined
                ? {}
                : {
                    ':consent':
                      change.consentExpirationTime === null ? { NULL: true } : { S: change.consentExpirationTime },
                  }),
            },
          }),
        );
        return 'applied';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw toFailure('dynamodb.update', error);
        const still = await getRecord(owner, `${ITEM_SK_PREFIX}${itemId}`);
        return still ? 'stale' : 'missing';
      }
    },

    async webhookProcessed(tenantId, bodySha256) {
      const out = await guarded('dynamodb.get', () =>
        dynamodb.send(
          new GetItemCommand({
            TableName: table,
            Key: { pk: { S: webhookPartition(tenantId) }, sk: { S: bodySha256 } },
            ConsistentRead: true,
          }),
        ),
      );
      const keepUntil = Number(out.Item?.expires_at?.N ?? 0);
      return out.Item !== undefined && keepUntil * 1000 > Date.now();
    },

    async markWebhookProcessed(tenantId, bodySha256, keepUntilEpochSeconds) {
      await guarded('dynamodb.put', () =>
        dynamodb.send(
          new PutItemCommand({
            TableName: table,
            // expires_at is the table's TTL attribute: DynamoDB deletes the record after it.
            Item: {
              pk: { S: webhookPartition(tenantId) },
              sk: { S: bodySha256 },
              expires_at: { N: String(keepUntilEpochSeconds) },
            },
          }),
        ),
      );
    },

    async putPlaidUser(owner, user: PlaidUser) {
      const ciphertext = user.userToken === undefined ? undefined : await encrypt(owner, PLAID_USER_SK, user.userToken);
      return putOnce({
        pk: { S: partitionKey(owner) },
        sk: { S: PLAID_USER_SK },
        user_id: { S: user.userId },
        created_at: { S: user.createdAt },
        ...(ciphertext ? { user_token_ct: { B: ciphertext } } : {}),
      });
    },
  };
}

function unavailable(causeName: string): ServiceFailure {
  return new ServiceFailure('vault_unavailable', 'The item store is temporarily unavailable; try again shortly.', {
    cause: { name: causeName },
  });
}

function itemOf(record: Record<string, AttributeValue>): StoredItem {
  const status = record.status?.S as ItemStatus | undefined;
  return {
    itemId: record.item_id?.S ?? '',
    institutionId: record.institution_id?.S ?? null,
    institutionName: record.institution_name?.S ?? null,
    status: status && (ITEM_STATUSES as readonly string[]).includes(status) ? status : 'healthy',
    createdAt: record.created_at?.S ?? '',
    updatedAt: record.updated_at?.S ?? record.created_at?.S ?? '',
    consentExpirationTime: record.consent_expiration_time?.S ?? null,
  };
}
