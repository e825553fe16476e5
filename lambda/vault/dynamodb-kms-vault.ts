// The item vault on DynamoDB, with every access token, Plaid user token and recorded link token
// encrypted by the function with KMS before it is written (on top of the table's own encryption
// at rest).
//
// Isolation is structural: the partition key is `<tenant_id>#<client_user_id>`, so a query can
// only return one user's records, and IAM's dynamodb:LeadingKeys can confine a tenant's backend
// to `<tenant_id>#*`. The KMS encryption context is the owner and the record's id, taken from the
// request, never from the record: a record copied into another user's partition fails to decrypt.
//
// Records keyed by something other than the user (a webhook body's hash, a public or link
// token's hash) live in partitions no user's can be: tenant ids start with [a-z0-9], these with
// '~'. They are not under `<tenant_id>#`, so a tenant's reader policy does not reach them, and
// each carries expires_at, the table's TTL attribute.
//
// Loaded only by the routes that need it (a dynamic import in handler.ts), so the link-token
// cold start of a plain profile never evaluates the DynamoDB and KMS clients.
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
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ServiceFailure } from '../domain/failure.ts';
import {
  ITEM_STATUSES,
  type ExchangeClaim,
  type ExchangeOutcome,
  type ItemOwner,
  type ItemStatus,
  type ItemVault,
  type Logger,
  type PlaidUser,
  type StoredItem,
  type UserRecords,
} from '../domain/ports.ts';

export interface VaultOptions {
  readonly tableName: string;
  readonly kmsKeyId: string;
  /** Per attempt; the SDK enforces it only with throwOnRequestTimeout. */
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly logger: Logger;
}

const webhookPartition = (tenantId: string) => `~webhook#${tenantId}`;
const exchangePartition = (tenantId: string) => `~exchange#${tenantId}`;
const sessionPartition = (tenantId: string) => `~session#${tenantId}`;

/** The sort key of the user's Plaid user record, and its item_id in the encryption context. */
const PLAID_USER_SK = 'plaid_user';
const ERASURE_SK = 'erasure';
const ITEM_SK_PREFIX = 'item#';
const SESSION_SK_PREFIX = 'session#';
const EXCHANGE_SK_PREFIX = 'exchange#';
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

type Key = { pk: string; sk: string };
type DbRecord = Record<string, unknown>;

const epochSeconds = (ms: number) => Math.floor(ms / 1000);

export function createDynamoDbKmsVault(opts: VaultOptions): ItemVault {
  const requestHandler = {
    requestTimeout: opts.requestTimeoutMs,
    connectionTimeout: opts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
  const dynamodb = new DynamoDBClient({ maxAttempts: opts.maxAttempts, requestHandler });
  const kms = new KMSClient({ maxAttempts: opts.maxAttempts, requestHandler });
  const table = opts.tableName;
  const userKey = (owner: ItemOwner, sk: string): Key => ({ pk: partitionKey(owner), sk });

  const context = (owner: ItemOwner, recordId: string) => ({
    tenant_id: owner.tenantId,
    client_user_id: owner.clientUserId,
    item_id: recordId,
  });

  async function encrypt(owner: ItemOwner, recordId: string, token: string): Promise<Uint8Array> {
    const out = await guarded('kms.encrypt', () =>
      kms.send(
        new EncryptCommand({
          KeyId: opts.kmsKeyId,
          Plaintext: Buffer.from(token, 'utf8'),
          EncryptionContext: context(owner, recordId),
        }),
      ),
    );
    if (!out.CiphertextBlob) throw unavailable('EmptyCiphertext');
    return out.CiphertextBlob;
  }

  async function decrypt(owner: ItemOwner, recordId: string, blob: Uint8Array): Promise<string | undefined> {
    try {
      const out = await kms.send(
        new DecryptCommand({ KeyId: opts.kmsKeyId, CiphertextBlob: blob, EncryptionContext: context(owner, recordId) }),
      );
      return out.Plaintext ? Buffer.from(out.Plaintext).toString('utf8') : undefined;
    } catch (error) {
      if (error instanceof InvalidCiphertextException) {
        // Not encrypted for this owner and record: a record moved or forged. Nothing is returned,
        // and an operator hears of it (ids only).
        opts.logger.error('vault.decrypt_refused', { tenant: owner.tenantId, item_id: recordId });
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

  async function get(key: Key): Promise<DbRecord | undefined> {
    const out = await guarded('dynamodb.get', () =>
      dynamodb.send(new GetItemCommand({ TableName: table, Key: marshall(key), ConsistentRead: true })),
    );
    return out.Item ? unmarshall(out.Item) : undefined;
  }

  /** Writes a record; with a condition, false when the condition failed. */
  async function put(record: DbRecord, condition?: Conditional): Promise<boolean> {
    try {
      await dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: marshall(record, { removeUndefinedValues: true }),
          ...conditionOf(condition),
        }),
      );
      return true;
    } catch (error) {
      if (condition && error instanceof ConditionalCheckFailedException) return false;
      throw toFailure('dynamodb.put', error);
    }
  }

  async function update(key: Key, expression: string, values: DbRecord, condition?: Conditional): Promise<boolean> {
    try {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: marshall(key),
          UpdateExpression: expression,
          ...conditionOf(condition, values),
        }),
      );
      return true;
    } catch (error) {
      if (condition && error instanceof ConditionalCheckFailedException) return false;
      throw toFailure('dynamodb.update', error);
    }
  }

  async function remove(key: Key, condition?: Conditional): Promise<boolean> {
    try {
      await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: marshall(key), ...conditionOf(condition) }));
      return true;
    } catch (error) {
      if (condition && error instanceof ConditionalCheckFailedException) return false;
      throw toFailure('dynamodb.delete', error);
    }
  }

  async function queryPartition(pk: string, skPrefix?: string): Promise<DbRecord[]> {
    const records: DbRecord[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await guarded('dynamodb.query', () =>
        dynamodb.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
            ExpressionAttributeValues: marshall(skPrefix ? { ':pk': pk, ':prefix': skPrefix } : { ':pk': pk }),
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const record of out.Items ?? []) records.push(unmarshall(record));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  async function plaidUserOf(owner: ItemOwner, record: DbRecord | undefined): Promise<PlaidUser | undefined> {
    const userId = str(record?.user_id);
    if (!record || !userId) return undefined;
    const createdAt = str(record.created_at) ?? '';
    const blob = record.user_token_ct;
    if (!(blob instanceof Uint8Array)) return { userId, createdAt };
    const userToken = await decrypt(owner, PLAID_USER_SK, blob);
    return userToken === undefined ? undefined : { userId, userToken, createdAt };
  }

  /** A tenant-scoped record's owner: its client_user_id, within that tenant only. */
  const ownerIn = (tenantId: string, record: DbRecord | undefined): ItemOwner | undefined => {
    const clientUserId = str(record?.client_user_id);
    return clientUserId ? { tenantId, clientUserId } : undefined;
  };

  return {
    async listItems(owner) {
      const records = await queryPartition(partitionKey(owner), ITEM_SK_PREFIX);
      return records.map(itemOf).sort(byCreation);
    },

    async userRecords(owner): Promise<UserRecords> {
      const records = await queryPartition(partitionKey(owner));
      const items: StoredItem[] = [];
      const openSessions: { tokenHash: string; expiresAtMs: number }[] = [];
      const sessionHashes: string[] = [];
      const exchangeHashes: string[] = [];
      let plaidUserRecord: DbRecord | undefined;
      let erasure: UserRecords['erasure'];
      for (const record of records) {
        const sk = String(record.sk);
        if (sk.startsWith(ITEM_SK_PREFIX)) items.push(itemOf(record));
        else if (sk === PLAID_USER_SK) plaidUserRecord = record;
        else if (sk === ERASURE_SK)
          erasure = { startedAt: str(record.started_at) ?? '', itemsRemoved: Number(record.items_removed ?? 0) };
        else if (sk.startsWith(SESSION_SK_PREFIX)) {
          const tokenHash = sk.slice(SESSION_SK_PREFIX.length);
          sessionHashes.push(tokenHash);
          if (record.state === 'open') {
            openSessions.push({ tokenHash, expiresAtMs: Number(record.link_token_expires_at_ms ?? 0) });
          }
        } else if (sk.startsWith(EXCHANGE_SK_PREFIX)) exchangeHashes.push(sk.slice(EXCHANGE_SK_PREFIX.length));
      }
      return {
        items: items.sort(byCreation),
        // The Plaid user's token is decrypted only when there is one to remove.
        plaidUser: plaidUserRecord
          ? { userId: str(plaidUserRecord.user_id) ?? '', createdAt: str(plaidUserRecord.created_at) ?? '' }
          : undefined,
        openSessions: openSessions.sort((a, b) => a.expiresAtMs - b.expiresAtMs),
        sessionHashes,
        exchangeHashes,
        erasure,
      };
    },

    async accessToken(owner, itemId) {
      const record = await get(userKey(owner, `${ITEM_SK_PREFIX}${itemId}`));
      const blob = record?.access_token_ct;
      return blob instanceof Uint8Array ? decrypt(owner, itemId, blob) : undefined;
    },

    async getItem(owner, itemId) {
      const record = await get(userKey(owner, `${ITEM_SK_PREFIX}${itemId}`));
      return record ? itemOf(record) : undefined;
    },

    async putItem(owner, item, accessToken) {
      const ciphertext = await encrypt(owner, item.itemId, accessToken);
      const created = await put(
        {
          ...userKey(owner, `${ITEM_SK_PREFIX}${item.itemId}`),
          item_key: itemIndexKey(owner.tenantId, item.itemId),
          item_id: item.itemId,
          institution_id: item.institutionId ?? undefined,
          institution_name: item.institutionName ?? undefined,
          status: item.status,
          created_at: item.createdAt,
          updated_at: item.updatedAt,
          access_token_ct: ciphertext,
        },
        { expression: 'attribute_not_exists(pk)' },
      );
      return created ? 'created' : 'exists';
    },

    async deleteItem(owner, itemId) {
      await remove(userKey(owner, `${ITEM_SK_PREFIX}${itemId}`));
    },

    async plaidUser(owner) {
      return plaidUserOf(owner, await get(userKey(owner, PLAID_USER_SK)));
    },

    async putPlaidUser(owner, user: PlaidUser) {
      const ciphertext = user.userToken === undefined ? undefined : await encrypt(owner, PLAID_USER_SK, user.userToken);
      const created = await put(
        {
          ...userKey(owner, PLAID_USER_SK),
          user_id: user.userId,
          created_at: user.createdAt,
          user_token_ct: ciphertext,
        },
        { expression: 'attribute_not_exists(pk)' },
      );
      return created ? 'created' : 'exists';
    },

    async deletePlaidUser(owner) {
      await remove(userKey(owner, PLAID_USER_SK));
    },

    async findItemOwner(tenantId, itemId) {
      const out = await guarded('dynamodb.query_index', () =>
        dynamodb.send(
          new QueryCommand({
            TableName: table,
            IndexName: ITEM_INDEX,
            KeyConditionExpression: 'item_key = :key',
            ExpressionAttributeValues: marshall({ ':key': itemIndexKey(tenantId, itemId) }),
            Limit: 1,
          }),
        ),
      );
      const pk = out.Items?.[0] ? str(unmarshall(out.Items[0]).pk) : undefined;
      // The index key names the tenant, and the owner's partition must be that tenant's too.
      if (!pk || !pk.startsWith(`${tenantId}#`)) return undefined;
      return { tenantId, clientUserId: pk.slice(tenantId.length + 1) };
    },

    async applyItemStatus(owner, itemId, change) {
      const key = userKey(owner, `${ITEM_SK_PREFIX}${itemId}`);
      const withConsent = change.consentExpirationTime !== undefined;
      const applied = await update(
        key,
        withConsent
          ? 'SET #status = :status, updated_at = :at, status_iat = :iat, consent_expiration_time = :consent'
          : 'SET #status = :status, updated_at = :at, status_iat = :iat',
        {
          ':status': change.status,
          ':at': change.at,
          ':iat': change.iat,
          ...(withConsent ? { ':consent': change.consentExpirationTime } : {}),
        },
        {
          // Last writer by Plaid's clock wins: an older webhook arriving late changes nothing
          // (iat has one-second resolution: of two in the same second, the later arrival wins).
          expression: 'attribute_exists(pk) AND (attribute_not_exists(status_iat) OR status_iat <= :iat)',
          names: { '#status': 'status' },
        },
      );
      if (applied) return 'applied';
      return (await get(key)) ? 'stale' : 'missing';
    },

    async claimExchange(owner, tokenHash, timing): Promise<ExchangeClaim> {
      const key = { pk: exchangePartition(owner.tenantId), sk: tokenHash };
      // The pointer in the user's partition first: erasure finds every exchange record through it.
      await put({
        ...userKey(owner, `${EXCHANGE_SK_PREFIX}${tokenHash}`),
        expires_at: timing.keepUntilEpochSeconds,
      });
      const claimed = await put(
        {
          ...key,
          client_user_id: owner.clientUserId,
          state: 'pending',
          claimed_at_ms: timing.nowMs,
          expires_at: timing.keepUntilEpochSeconds,
        },
        {
          // Unclaimed, or this owner's claim whose request died (its lease ran out).
          expression:
            'attribute_not_exists(pk) OR (#state = :pending AND client_user_id = :owner AND claimed_at_ms < :stale)',
          names: { '#state': 'state' },
          values: { ':pending': 'pending', ':owner': owner.clientUserId, ':stale': timing.nowMs - timing.leaseMs },
        },
      );
      if (claimed) return { state: 'claimed' };
      const record = await get(key);
      if (!record) return { state: 'pending' }; // released between the two calls: the caller asks again
      if (record.client_user_id !== owner.clientUserId) return { state: 'foreign' };
      const outcome = exchangeOutcomeOf(record.outcome);
      return record.state === 'done' && outcome ? { state: 'settled', outcome } : { state: 'pending' };
    },

    async settleExchange(owner, tokenHash, outcome) {
      await update(
        { pk: exchangePartition(owner.tenantId), sk: tokenHash },
        'SET #state = :done, outcome = :outcome',
        { ':done': 'done', ':outcome': outcome, ':owner': owner.clientUserId },
        { expression: 'client_user_id = :owner', names: { '#state': 'state' } },
      );
    },

    async releaseExchange(owner, tokenHash) {
      await remove(
        { pk: exchangePartition(owner.tenantId), sk: tokenHash },
        {
          expression: 'client_user_id = :owner AND #state = :pending',
          names: { '#state': 'state' },
          values: { ':owner': owner.clientUserId, ':pending': 'pending' },
        },
      );
    },

    async forgetExchange(owner, tokenHash) {
      await remove(
        { pk: exchangePartition(owner.tenantId), sk: tokenHash },
        { expression: 'attribute_not_exists(pk) OR client_user_id = :owner', values: { ':owner': owner.clientUserId } },
      );
      await remove(userKey(owner, `${EXCHANGE_SK_PREFIX}${tokenHash}`));
    },

    async recordSession(owner, session) {
      const recordId = `${SESSION_SK_PREFIX}${session.tokenHash}`;
      const ciphertext = await encrypt(owner, recordId, session.linkToken);
      // Kept a day past the link token's expiry: Plaid reports a session for six hours after it ends.
      const expiresAt = epochSeconds(session.expiresAtMs) + 86_400;
      await put({
        ...userKey(owner, recordId),
        state: 'open',
        link_token_ct: ciphertext,
        link_token_expires_at_ms: session.expiresAtMs,
        expires_at: expiresAt,
      });
      await put({
        pk: sessionPartition(owner.tenantId),
        sk: session.tokenHash,
        client_user_id: owner.clientUserId,
        expires_at: expiresAt,
      });
    },

    async sessionOwner(tenantId, tokenHash) {
      return ownerIn(tenantId, await get({ pk: sessionPartition(tenantId), sk: tokenHash }));
    },

    async sessionLinkToken(owner, tokenHash) {
      const recordId = `${SESSION_SK_PREFIX}${tokenHash}`;
      const blob = (await get(userKey(owner, recordId)))?.link_token_ct;
      return blob instanceof Uint8Array ? decrypt(owner, recordId, blob) : undefined;
    },

    async finishSession(owner, tokenHash) {
      await update(
        userKey(owner, `${SESSION_SK_PREFIX}${tokenHash}`),
        'SET #state = :finished REMOVE link_token_ct',
        { ':finished': 'finished' },
        { expression: 'attribute_exists(pk)', names: { '#state': 'state' } },
      );
    },

    async forgetSession(owner, tokenHash) {
      await remove(
        { pk: sessionPartition(owner.tenantId), sk: tokenHash },
        { expression: 'attribute_not_exists(pk) OR client_user_id = :owner', values: { ':owner': owner.clientUserId } },
      );
      await remove(userKey(owner, `${SESSION_SK_PREFIX}${tokenHash}`));
    },

    async beginErasure(owner, startedAt) {
      const key = userKey(owner, ERASURE_SK);
      if (await put({ ...key, started_at: startedAt, items_removed: 0 }, { expression: 'attribute_not_exists(pk)' })) {
        return { startedAt, itemsRemoved: 0 };
      }
      const record = await get(key);
      return { startedAt: str(record?.started_at) ?? startedAt, itemsRemoved: Number(record?.items_removed ?? 0) };
    },

    async countErasedItem(owner) {
      await update(userKey(owner, ERASURE_SK), 'ADD items_removed :one', { ':one': 1 });
    },

    async endErasure(owner) {
      await remove(userKey(owner, ERASURE_SK));
    },

    async claimWebhook(tenantId, bodySha256, timing) {
      const key = { pk: webhookPartition(tenantId), sk: bodySha256 };
      const claimed = await put(
        { ...key, state: 'pending', claimed_at_ms: timing.nowMs, expires_at: timing.keepUntilEpochSeconds },
        {
          // Unclaimed, expired (TTL deletes late), or a claim whose request died.
          expression: 'attribute_not_exists(pk) OR expires_at < :now OR (#state = :pending AND claimed_at_ms < :stale)',
          names: { '#state': 'state' },
          values: {
            ':now': epochSeconds(timing.nowMs),
            ':pending': 'pending',
            ':stale': timing.nowMs - timing.leaseMs,
          },
        },
      );
      if (claimed) return 'claimed';
      const record = await get(key);
      return record?.state === 'done' ? 'done' : 'busy';
    },

    async releaseWebhook(tenantId, bodySha256) {
      await remove(
        { pk: webhookPartition(tenantId), sk: bodySha256 },
        { expression: '#state = :pending', names: { '#state': 'state' }, values: { ':pending': 'pending' } },
      );
    },

    async finishWebhook(tenantId, bodySha256, keepUntilEpochSeconds) {
      await put({ pk: webhookPartition(tenantId), sk: bodySha256, state: 'done', expires_at: keepUntilEpochSeconds });
    },
  };
}

interface Conditional {
  readonly expression: string;
  readonly names?: Record<string, string>;
  readonly values?: DbRecord;
}

function conditionOf(condition: Conditional | undefined, updateValues?: DbRecord) {
  const values = { ...updateValues, ...condition?.values };
  return {
    ...(condition ? { ConditionExpression: condition.expression } : {}),
    ...(condition?.names ? { ExpressionAttributeNames: condition.names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: marshall(values) } : {}),
  };
}

function unavailable(causeName: string): ServiceFailure {
  return new ServiceFailure('vault_unavailable', 'The item store is temporarily unavailable; try again shortly.', {
    cause: { name: causeName },
  });
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
const byCreation = (a: StoredItem, b: StoredItem) => a.createdAt.localeCompare(b.createdAt);

function exchangeOutcomeOf(value: unknown): ExchangeOutcome | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const outcome = value as Record<string, unknown>;
  switch (outcome.kind) {
    case 'stored':
      return typeof outcome.itemId === 'string' ? { kind: 'stored', itemId: outcome.itemId } : undefined;
    case 'duplicate':
      return typeof outcome.existingItemId === 'string'
        ? { kind: 'duplicate', existingItemId: outcome.existingItemId }
        : undefined;
    case 'over_limit':
      return { kind: 'over_limit', limit: Number(outcome.limit) };
    case 'undone':
      return { kind: 'undone' };
    default:
      return undefined;
  }
}

function itemOf(record: DbRecord): StoredItem {
  const status = record.status as ItemStatus | undefined;
  return {
    itemId: str(record.item_id) ?? '',
    institutionId: str(record.institution_id) ?? null,
    institutionName: str(record.institution_name) ?? null,
    status: status && (ITEM_STATUSES as readonly string[]).includes(status) ? status : 'healthy',
    createdAt: str(record.created_at) ?? '',
    updatedAt: str(record.updated_at) ?? str(record.created_at) ?? '',
    consentExpirationTime: str(record.consent_expiration_time) ?? null,
  };
}
