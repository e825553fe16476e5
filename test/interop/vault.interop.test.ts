// The function's vault adapter (DynamoDB + KMS through the real SDK clients), run against our
// stand-ins (dynalite behind a proxy, the KMS stand-in) and against moto_server's DynamoDB and
// KMS, with the same assertions: what the items routes and webhooks rely on holds on both.
import assert from 'node:assert/strict';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetItemCommand, PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { after, describe, test } from 'node:test';
import type { ItemOwner, ItemVault, StoredItem } from '../../lambda/domain/ports.ts';
import { createLogger } from '../../lambda/log/logger.ts';
import { createDynamoDbKmsVault, partitionKey } from '../../lambda/vault/dynamodb-kms-vault.ts';
import { createItemsTable, startDynamoDbStandIn } from '../../local/standins/dynamodb.ts';
import { startKmsStandIn } from '../../local/standins/kms.ts';
import { MOTO_ABSENT, startMoto } from '../support/moto.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });

const [dynamodb, kms, moto] = await Promise.all([startDynamoDbStandIn(), startKmsStandIn(), startMoto()]);
after(async () => {
  await Promise.all([dynamodb.close(), kms.close(), moto?.close()]);
});

const ALICE: ItemOwner = { tenantId: 'acme', clientUserId: 'alice-cuid' };
const MALLORY: ItemOwner = { tenantId: 'acme', clientUserId: 'mallory-cuid' };
const OTHER_TENANT: ItemOwner = { tenantId: 'globex', clientUserId: 'alice-cuid' };
const TOKEN = 'access-sandbox-00000000-0000-4000-8000-000000000004';
const item = (itemId: string, institutionId = 'ins_109508'): StoredItem => ({
  itemId,
  institutionId,
  institutionName: 'First Platypus Bank',
  status: 'healthy',
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
});

for (const target of [
  { name: 'stand-ins', dynamodbUrl: dynamodb.directUrl, kmsUrl: kms.url, skip: false as const },
  { name: 'moto_server', dynamodbUrl: moto?.url, kmsUrl: moto?.url, skip: moto ? (false as const) : MOTO_ABSENT },
]) {
  describe(`the vault on ${target.name}`, { skip: target.skip }, () => {
    let vault: ItemVault;
    let table: string;
    const logged: string[] = [];

    test('set up: the items table and a key, through the real SDK', async () => {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = target.dynamodbUrl;
      process.env.AWS_ENDPOINT_URL_KMS = target.kmsUrl;
      table = await createItemsTable(target.dynamodbUrl!, { tableName: `vault-${Date.now()}` });
      const kmsClient = new KMSClient({ endpoint: target.kmsUrl, region: 'us-east-1', credentials });
      const { KeyMetadata } = await kmsClient.send(new CreateKeyCommand({ Description: 'vault interop' }));
      kmsClient.destroy();
      vault = createDynamoDbKmsVault({
        tableName: table,
        kmsKeyId: KeyMetadata!.Arn!,
        requestTimeoutMs: 3000,
        maxAttempts: 2,
        logger: createLogger({ write: (line) => logged.push(line) }),
      });
    });

    test('an Item is stored once (conditional write), listed for its owner only, its token decrypted for its owner only', async () => {
      assert.equal(await vault.putItem(ALICE, item('item-a'), TOKEN), 'created');
      assert.equal(await vault.putItem(ALICE, item('item-a'), TOKEN), 'exists');
      assert.deepEqual(
        (await vault.listItems(ALICE)).map((i) => i.itemId),
        ['item-a'],
      );
      assert.deepEqual(await vault.listItems(MALLORY), []);
      assert.deepEqual(await vault.listItems(OTHER_TENANT), []);
      assert.equal(await vault.accessToken(ALICE, 'item-a'), TOKEN);
      assert.equal(await vault.accessToken(MALLORY, 'item-a'), undefined);
    });

    test("the ciphertext copied into another user's partition does not decrypt there", async () => {
      const db = new DynamoDBClient({ endpoint: target.dynamodbUrl, region: 'us-east-1', credentials });
      const { Item } = await db.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: partitionKey(ALICE) }, sk: { S: 'item#item-a' } } }),
      );
      assert.ok(!JSON.stringify(Item).includes(TOKEN), 'no plaintext token in the table');
      await db.send(new PutItemCommand({ TableName: table, Item: { ...Item, pk: { S: partitionKey(MALLORY) } } }));
      db.destroy();
      assert.equal(await vault.accessToken(MALLORY, 'item-a'), undefined);
      assert.ok(logged.some((l) => l.includes('vault.decrypt_refused')));
      await vault.deleteItem(MALLORY, 'item-a');
    });

    test('a webhook finds the owner through the index, within its tenant only', async () => {
      assert.deepEqual(await vault.findItemOwner('acme', 'item-a'), ALICE);
      assert.equal(await vault.findItemOwner('globex', 'item-a'), undefined);
      assert.equal(await vault.findItemOwner('acme', 'no-such-item'), undefined);
    });

    test('status changes: last writer by iat wins; a missing Item is reported as missing', async () => {
      const at = new Date().toISOString();
      assert.equal(
        await vault.applyItemStatus(ALICE, 'item-a', { status: 'login_required', at, iat: 2000 }),
        'applied',
      );
      assert.equal(await vault.applyItemStatus(ALICE, 'item-a', { status: 'healthy', at, iat: 1000 }), 'stale');
      assert.equal((await vault.listItems(ALICE)).find((i) => i.itemId === 'item-a')?.status, 'login_required');
      assert.equal(await vault.applyItemStatus(ALICE, 'gone', { status: 'healthy', at, iat: 3000 }), 'missing');
    });

    test('Plaid users: stored once, the user token decrypted for its owner', async () => {
      const user = { userId: 'user-id-1', userToken: 'user-sandbox-0a1b2c3d', createdAt: new Date().toISOString() };
      assert.equal(await vault.putPlaidUser(ALICE, user), 'created');
      assert.equal(await vault.putPlaidUser(ALICE, { ...user, userId: 'user-id-2' }), 'exists');
      assert.deepEqual(await vault.plaidUser(ALICE), user);
      assert.equal(await vault.plaidUser(MALLORY), undefined);
    });

    test('webhook claims: one claim per body and tenant, released for a retry, done for replays', async () => {
      const hash = 'a'.repeat(64);
      const nowMs = Date.now();
      const timing = { nowMs, leaseMs: 30_000, keepUntilEpochSeconds: Math.floor(nowMs / 1000) + 900 };
      assert.equal(await vault.claimWebhook('acme', hash, timing), 'claimed');
      assert.equal(await vault.claimWebhook('acme', hash, timing), 'busy');
      assert.equal(await vault.claimWebhook('globex', hash, timing), 'claimed');
      await vault.releaseWebhook('acme', hash);
      assert.equal(await vault.claimWebhook('acme', hash, timing), 'claimed');
      await vault.finishWebhook('acme', hash, timing.keepUntilEpochSeconds);
      assert.equal(await vault.claimWebhook('acme', hash, timing), 'done');
      // An abandoned claim (its lease over) is taken over; a finished one never is.
      assert.equal(await vault.claimWebhook('globex', hash, { ...timing, nowMs: nowMs + 31_000 }), 'claimed');
      assert.equal(await vault.claimWebhook('acme', hash, { ...timing, nowMs: nowMs + 31_000 }), 'done');
    });

    test('exchange claims: one owner per token hash and tenant, settled outcomes answered again', async () => {
      const hash = 'b'.repeat(64);
      const nowMs = Date.now();
      const timing = { nowMs, leaseMs: 30_000, keepUntilEpochSeconds: Math.floor(nowMs / 1000) + 3600 };
      assert.deepEqual(await vault.claimExchange(ALICE, hash, timing), { state: 'claimed' });
      assert.deepEqual(await vault.claimExchange(ALICE, hash, timing), { state: 'pending' });
      assert.deepEqual(await vault.claimExchange(MALLORY, hash, timing), { state: 'foreign' });
      // Another tenant's hash space is its own.
      assert.deepEqual(await vault.claimExchange(OTHER_TENANT, hash, timing), { state: 'claimed' });
      // Mallory never takes Alice's abandoned claim over; Alice's own retry does.
      const later = { ...timing, nowMs: nowMs + 31_000 };
      assert.deepEqual(await vault.claimExchange(MALLORY, hash, later), { state: 'foreign' });
      assert.deepEqual(await vault.claimExchange(ALICE, hash, later), { state: 'claimed' });
      await vault.settleExchange(ALICE, hash, { kind: 'stored', itemId: 'item-a' });
      assert.deepEqual(await vault.claimExchange(ALICE, hash, later), {
        state: 'settled',
        outcome: { kind: 'stored', itemId: 'item-a' },
      });
      // A settled claim is never released.
      await vault.releaseExchange(ALICE, hash);
      assert.equal((await vault.claimExchange(ALICE, hash, later)).state, 'settled');
      const released = 'c'.repeat(64);
      assert.equal((await vault.claimExchange(ALICE, released, timing)).state, 'claimed');
      await vault.releaseExchange(ALICE, released);
      assert.equal((await vault.claimExchange(ALICE, released, timing)).state, 'claimed');
      await vault.settleExchange(ALICE, released, { kind: 'over_limit', limit: 3 });
      assert.deepEqual(await vault.claimExchange(ALICE, released, timing), {
        state: 'settled',
        outcome: { kind: 'over_limit', limit: 3 },
      });
    });

    test('sessions: owner by link token hash within the tenant, the link token encrypted for its owner', async () => {
      const hash = 'd'.repeat(64);
      const linkToken = 'link-sandbox-00000000-0000-4000-8000-00000000000d';
      const expiresAtMs = Date.now() + 3600_000;
      await vault.recordSession(ALICE, { tokenHash: hash, linkToken, expiresAtMs });
      assert.deepEqual(await vault.sessionOwner('acme', hash), ALICE);
      assert.equal(await vault.sessionOwner('globex', hash), undefined);
      assert.equal(await vault.sessionLinkToken(ALICE, hash), linkToken);
      assert.equal(await vault.sessionLinkToken(MALLORY, hash), undefined);
      const records = await vault.userRecords(ALICE);
      assert.deepEqual(records.openSessions, [{ tokenHash: hash, expiresAtMs }]);
      assert.ok(records.sessionHashes.includes(hash));
      assert.ok(records.exchangeHashes.includes('b'.repeat(64)));
      await vault.finishSession(ALICE, hash);
      assert.deepEqual((await vault.userRecords(ALICE)).openSessions, []);
      assert.equal(await vault.sessionLinkToken(ALICE, hash), undefined, 'a finished session keeps no link token');
      assert.deepEqual(await vault.sessionOwner('acme', hash), ALICE, 'a late webhook still finds its user');
      await vault.forgetSession(ALICE, hash);
      assert.equal(await vault.sessionOwner('acme', hash), undefined);
      assert.ok(!(await vault.userRecords(ALICE)).sessionHashes.includes(hash));
      await vault.forgetExchange(ALICE, 'b'.repeat(64));
      assert.equal(
        (
          await vault.claimExchange(ALICE, 'b'.repeat(64), {
            nowMs: Date.now(),
            leaseMs: 1,
            keepUntilEpochSeconds: Math.floor(Date.now() / 1000) + 60,
          })
        ).state,
        'claimed',
        'a forgotten exchange record is gone',
      );
    });

    test('erasure marker: begun once, counts removed Items, ended', async () => {
      const started = await vault.beginErasure(MALLORY, '2026-12-07T00:00:00.000Z');
      assert.deepEqual(started, { startedAt: '2026-12-07T00:00:00.000Z', itemsRemoved: 0 });
      await vault.countErasedItem(MALLORY);
      await vault.countErasedItem(MALLORY);
      assert.deepEqual(await vault.beginErasure(MALLORY, '2026-12-08T00:00:00.000Z'), {
        startedAt: '2026-12-07T00:00:00.000Z',
        itemsRemoved: 2,
      });
      assert.deepEqual((await vault.userRecords(MALLORY)).erasure, {
        startedAt: '2026-12-07T00:00:00.000Z',
        itemsRemoved: 2,
      });
      await vault.endErasure(MALLORY);
      assert.equal((await vault.userRecords(MALLORY)).erasure, undefined);
    });

    test('delete removes the Item', async () => {
      await vault.deleteItem(ALICE, 'item-a');
      assert.deepEqual(await vault.listItems(ALICE), []);
    });
  });
}
