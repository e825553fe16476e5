// The DynamoDB stand-in (dynalite behind our fault-injecting proxy) through the real
// @aws-sdk/client-dynamodb. The first block runs the same behavioural assertions against the
// stand-in and against moto_server, on the items table as the vault design gives it; the rest
// covers what only the stand-in offers.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  ITEMS_TABLE_GSI,
  createItemsTable,
  itemsTableDefinition,
  startDynamoDbStandIn,
} from '../../local/standins/dynamodb.ts';
import { MOTO_ABSENT, startMoto } from '../support/moto.ts';

const clients: DynamoDBClient[] = [];
function ddbClient(endpoint: string, extra: DynamoDBClientConfig = {}): DynamoDBClient {
  const c = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...extra,
  });
  clients.push(c);
  return c;
}

const standIn = await startDynamoDbStandIn();
const moto = await startMoto();
after(async () => {
  for (const c of clients) c.destroy();
  await standIn.close();
  await moto?.close();
});

const CIPHERTEXT = Uint8Array.from([1, 2, 3, 250, 251, 252]);

/** An Item record as the vault stores it. */
function itemRecord(
  tenant: string,
  user: string,
  itemId: string,
  extra: Record<string, AttributeValue> = {},
): Record<string, AttributeValue> {
  return {
    pk: { S: `${tenant}#${user}` },
    sk: { S: `item#${itemId}` },
    item_key: { S: `${tenant}#${itemId}` },
    item_id: { S: itemId },
    institution_id: { S: 'ins_109508' },
    institution_name: { S: 'First Platypus Bank' },
    status: { S: 'active' },
    created_at: { S: '2025-01-01T00:00:00Z' },
    updated_at: { S: '2025-01-01T00:00:00Z' },
    access_token_ct: { B: CIPHERTEXT },
    ...extra,
  };
}

function plaidUserRecord(tenant: string, user: string): Record<string, AttributeValue> {
  return {
    pk: { S: `${tenant}#${user}` },
    sk: { S: 'plaid_user' },
    user_id: { S: 'usr_1' },
    user_token_ct: { B: CIPHERTEXT },
    created_at: { S: '2025-01-01T00:00:00Z' },
  };
}

for (const target of [
  { name: 'stand-in', url: standIn.url, skip: false as const },
  { name: 'moto_server', url: moto?.url, skip: moto ? (false as const) : MOTO_ABSENT },
]) {
  describe(`DynamoDB behaviour the vault relies on (${target.name})`, { skip: target.skip }, () => {
    let ddb: DynamoDBClient;
    let TableName: string;

    before(async () => {
      ddb = ddbClient(target.url as string);
      TableName = await createItemsTable(target.url as string, {
        tableName: `items-${target.name.replace(/[^a-z]/g, '')}`,
      });
    });

    const put = (Item: Record<string, AttributeValue>) =>
      ddb.send(new PutItemCommand({ TableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }));

    test('createItemsTable makes the table of the design: pk/sk, KEYS_ONLY GSI by-item on item_key, on demand', async () => {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName }));
      assert.equal(Table?.TableStatus, 'ACTIVE');
      assert.deepEqual(Table?.KeySchema, [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      assert.equal(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
      const sortedAttributes = [...(Table?.AttributeDefinitions ?? [])].sort((a, b) =>
        String(a.AttributeName).localeCompare(String(b.AttributeName)),
      );
      assert.deepEqual(sortedAttributes, [
        { AttributeName: 'item_key', AttributeType: 'S' },
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]);
      const [gsi, ...more] = Table?.GlobalSecondaryIndexes ?? [];
      assert.equal(more.length, 0);
      assert.equal(gsi?.IndexName, ITEMS_TABLE_GSI);
      assert.deepEqual(gsi?.KeySchema, [{ AttributeName: 'item_key', KeyType: 'HASH' }]);
      assert.equal(gsi?.Projection?.ProjectionType, 'KEYS_ONLY');
      assert.deepEqual(itemsTableDefinition(TableName).TableName, TableName);
    });

    test('a conditional put (attribute_not_exists) succeeds once, then ConditionalCheckFailedException, leaving the first record', async () => {
      await put(itemRecord('acme', 'u-put', 'item-put'));
      await assert.rejects(
        put(itemRecord('acme', 'u-put', 'item-put', { status: { S: 'overwritten' } })),
        (err: unknown) => {
          assert.ok(err instanceof ConditionalCheckFailedException, String(err));
          assert.equal(err.$metadata.httpStatusCode, 400);
          return true;
        },
      );
      const { Item } = await ddb.send(
        new GetItemCommand({
          TableName,
          Key: { pk: { S: 'acme#u-put' }, sk: { S: 'item#item-put' } },
          ConsistentRead: true,
        }),
      );
      assert.equal(Item?.status?.S, 'active');
      assert.deepEqual(Item?.access_token_ct?.B, CIPHERTEXT);
    });

    test('Query on pk returns only that partition; begins_with(sk, "item#") leaves out the plaid_user record', async () => {
      await put(itemRecord('acme', 'u-q1', 'item-a'));
      await put(itemRecord('acme', 'u-q1', 'item-b'));
      await put(plaidUserRecord('acme', 'u-q1'));
      await put(itemRecord('acme', 'u-q2', 'item-c'));
      await put(itemRecord('globex', 'u-q1', 'item-d')); // same client_user_id, other tenant

      const all = await ddb.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'acme#u-q1' } },
        }),
      );
      assert.deepEqual(
        all.Items?.map((i) => i.sk?.S),
        ['item#item-a', 'item#item-b', 'plaid_user'],
      );

      const items = await ddb.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: 'acme#u-q1' }, ':prefix': { S: 'item#' } },
        }),
      );
      assert.deepEqual(
        items.Items?.map((i) => i.item_id?.S),
        ['item-a', 'item-b'],
      );
      assert.equal(items.Count, 2);
    });

    test("the by-item index finds an Item's owner from tenant#item_id, with keys only", async () => {
      await put(itemRecord('acme', 'u-gsi', 'item-gsi'));
      await put(itemRecord('globex', 'u-gsi', 'item-gsi')); // same item_id under another tenant
      await put(plaidUserRecord('acme', 'u-gsi')); // no item_key: not in the index
      const { Items } = await ddb.send(
        new QueryCommand({
          TableName,
          IndexName: ITEMS_TABLE_GSI,
          KeyConditionExpression: 'item_key = :k',
          ExpressionAttributeValues: { ':k': { S: 'acme#item-gsi' } },
        }),
      );
      assert.equal(Items?.length, 1);
      const [owner] = Items ?? [];
      assert.deepEqual(Object.keys(owner ?? {}).sort(), ['item_key', 'pk', 'sk']);
      assert.equal(owner?.pk?.S, 'acme#u-gsi');
      assert.equal(owner?.sk?.S, 'item#item-gsi');
    });

    test('a conditional delete (attribute_exists) refuses a missing record and returns the deleted one', async () => {
      const Key = { pk: { S: 'acme#u-del' }, sk: { S: 'item#item-del' } };
      const del = () =>
        ddb.send(
          new DeleteItemCommand({
            TableName,
            Key,
            ConditionExpression: 'attribute_exists(pk)',
            ReturnValues: 'ALL_OLD',
          }),
        );
      await assert.rejects(del(), ConditionalCheckFailedException);
      await put(itemRecord('acme', 'u-del', 'item-del'));
      const deleted = await del();
      assert.equal(deleted.Attributes?.item_id?.S, 'item-del');
      assert.deepEqual(deleted.Attributes?.access_token_ct?.B, CIPHERTEXT);
      assert.equal((await ddb.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))).Item, undefined);
      await assert.rejects(del(), ConditionalCheckFailedException);
    });

    test('a conditional update applies only when the condition holds', async () => {
      const Key = { pk: { S: 'acme#u-upd' }, sk: { S: 'item#item-upd' } };
      await put(itemRecord('acme', 'u-upd', 'item-upd'));
      const update = (expected: string, next: string) =>
        ddb.send(
          new UpdateItemCommand({
            TableName,
            Key,
            UpdateExpression: 'SET #status = :next, updated_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND #status = :expected',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':next': { S: next },
              ':expected': { S: expected },
              ':now': { S: '2025-02-02T00:00:00Z' },
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
      await assert.rejects(update('login_required', 'active'), ConditionalCheckFailedException);
      const updated = await update('active', 'login_required');
      assert.equal(updated.Attributes?.status?.S, 'login_required');
      assert.equal(updated.Attributes?.updated_at?.S, '2025-02-02T00:00:00Z');
      assert.equal(updated.Attributes?.created_at?.S, '2025-01-01T00:00:00Z');

      // Updating a record that does not exist must not create it.
      const missing = { pk: { S: 'acme#u-upd' }, sk: { S: 'item#nope' } };
      await assert.rejects(
        ddb.send(
          new UpdateItemCommand({
            TableName,
            Key: missing,
            UpdateExpression: 'SET #status = :s',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':s': { S: 'active' } },
          }),
        ),
        ConditionalCheckFailedException,
      );
      assert.equal(
        (await ddb.send(new GetItemCommand({ TableName, Key: missing, ConsistentRead: true }))).Item,
        undefined,
      );
    });

    test('an unknown table is a ResourceNotFoundException', async () => {
      await assert.rejects(
        ddb.send(new GetItemCommand({ TableName: 'no-such-table', Key: { pk: { S: 'a' }, sk: { S: 'b' } } })),
        (err: unknown) =>
          err instanceof DynamoDBServiceException &&
          err.name === 'ResourceNotFoundException' &&
          err.$metadata.httpStatusCode === 400,
      );
    });
  });
}

describe('stand-in only', () => {
  let ddb: DynamoDBClient;
  let TableName: string;
  const key = { pk: { S: 'acme#u-f' }, sk: { S: 'item#item-f' } };
  const get = (client = ddb) => client.send(new GetItemCommand({ TableName, Key: key }));

  before(async () => {
    ddb = ddbClient(standIn.url);
    TableName = await createItemsTable(standIn.url, { tableName: 'items-faults' });
    await ddb.send(new PutItemCommand({ TableName, Item: itemRecord('acme', 'u-f', 'item-f') }));
  });
  beforeEach(() => {
    standIn.resetCalls();
    standIn.clearFaults();
    standIn.setLatency(0);
  });

  test('the SDK finds the stand-in through AWS_ENDPOINT_URL_DYNAMODB, and calls and requests are recorded', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = standIn.url;
    try {
      const c = new DynamoDBClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      clients.push(c);
      assert.equal((await get(c)).Item?.item_id?.S, 'item-f');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
    assert.deepEqual(standIn.calls, { GetItem: 1 });
    assert.deepEqual(standIn.requests, [{ operation: 'GetItem', body: { TableName, Key: key } }]);
  });

  test('directUrl reaches dynalite without counting', async () => {
    assert.equal((await get(ddbClient(standIn.directUrl))).Item?.item_id?.S, 'item-f');
    assert.deepEqual(standIn.calls, {});
  });

  test("failNext('internal') answers 500 InternalServerError, which the SDK retries", async () => {
    standIn.failNext(1, 'internal');
    await assert.rejects(get(ddbClient(standIn.url, { maxAttempts: 1 })), (err: unknown) => {
      assert.ok(err instanceof DynamoDBServiceException);
      assert.equal(err.name, 'InternalServerError');
      assert.equal(err.$metadata.httpStatusCode, 500);
      assert.equal(err.$fault, 'server');
      return true;
    });
    standIn.failNext(1, 'internal');
    const out = await get();
    assert.equal(out.Item?.item_id?.S, 'item-f');
    assert.equal(out.$metadata.attempts, 2);
  });

  test("failNext('throttle') and ('throughput') answer the throttling errors for the next n requests only", async () => {
    const c = ddbClient(standIn.url, { maxAttempts: 1 });
    standIn.failNext(1, 'throttle');
    standIn.failNext(1, 'throughput');
    for (const name of ['ThrottlingException', 'ProvisionedThroughputExceededException']) {
      await assert.rejects(
        get(c),
        (err: unknown) =>
          err instanceof DynamoDBServiceException && err.name === name && err.$metadata.httpStatusCode === 400,
      );
    }
    assert.equal((await get(c)).Item?.item_id?.S, 'item-f');
  });

  test('a fault for one operation leaves the others alone', async () => {
    standIn.failNext(1, 'internal', 'PutItem');
    const c = ddbClient(standIn.url, { maxAttempts: 1 });
    assert.equal((await get(c)).Item?.item_id?.S, 'item-f');
    await assert.rejects(
      c.send(new PutItemCommand({ TableName, Item: itemRecord('acme', 'u-f', 'item-g') })),
      (err: unknown) => err instanceof DynamoDBServiceException && err.name === 'InternalServerError',
    );
    await c.send(new PutItemCommand({ TableName, Item: itemRecord('acme', 'u-f', 'item-g') }));
    assert.deepEqual(standIn.calls, { GetItem: 1, PutItem: 2 });
  });

  test("failNext('hang') never answers, so the client's timeout fires; 'network' drops the connection", async () => {
    standIn.failNext(1, 'hang');
    const c = ddbClient(standIn.url, {
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    const started = Date.now();
    await assert.rejects(get(c), (err: unknown) => err instanceof Error && err.name === 'TimeoutError');
    assert.ok(Date.now() - started >= 190);

    standIn.failNext(1, 'network');
    await assert.rejects(
      get(ddbClient(standIn.url, { maxAttempts: 1 })),
      (err: unknown) => err instanceof Error && !(err instanceof DynamoDBServiceException),
    );
    assert.equal((await get(c)).Item?.item_id?.S, 'item-f');
  });

  test('setLatency delays answers', async () => {
    standIn.setLatency(150);
    const started = Date.now();
    await get();
    assert.ok(Date.now() - started >= 140);
  });

  test('close() returns promptly even with a hung request', async () => {
    const other = await startDynamoDbStandIn();
    other.failNext(1, 'hang');
    // Settled into a value at once: its rejection arrives during close(), before anything awaits it.
    const pending = get(ddbClient(other.url, { maxAttempts: 1 })).then(
      () => undefined,
      (err: unknown) => err,
    );
    while (other.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 2_000);
    assert.ok((await pending) instanceof Error);
  });
});
