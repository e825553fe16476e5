// The EventBridge stand-in through the real @aws-sdk/client-eventbridge. The first block runs the
// same PutEvents assertions against the stand-in and against moto_server; the rest covers what
// only the stand-in offers (recorded events, faults).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClientConfig, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { startEventBridgeStandIn } from '../../local/standins/eventbridge.ts';
import { MOTO_ABSENT, startMoto } from '../support/moto.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const clients: EventBridgeClient[] = [];
function ebClient(endpoint: string, extra: EventBridgeClientConfig = {}): EventBridgeClient {
  const c = new EventBridgeClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...extra,
  });
  clients.push(c);
  return c;
}

const standIn = await startEventBridgeStandIn();
const moto = await startMoto();
after(async () => {
  for (const c of clients) c.destroy();
  await standIn.close();
  await moto?.close();
});

const itemLinked = (itemId: string): PutEventsRequestEntry => ({
  Source: 'plaid-link-token-service',
  DetailType: 'item.linked',
  Detail: JSON.stringify({ tenant_id: 'acme', item_id: itemId }),
});

for (const target of [
  { name: 'stand-in', url: standIn.url, skip: false as const },
  { name: 'moto_server', url: moto?.url, skip: moto ? (false as const) : MOTO_ABSENT },
]) {
  describe(`EventBridge PutEvents (${target.name})`, { skip: target.skip }, () => {
    let eb: EventBridgeClient;
    before(() => {
      eb = ebClient(target.url as string);
    });

    test('accepted entries get an EventId each and FailedEntryCount 0', async () => {
      const out = await eb.send(new PutEventsCommand({ Entries: [itemLinked('item-1'), itemLinked('item-2')] }));
      assert.equal(out.FailedEntryCount, 0);
      assert.equal(out.Entries?.length, 2);
      for (const entry of out.Entries ?? []) {
        assert.match(String(entry.EventId), UUID);
        assert.equal(entry.ErrorCode, undefined);
      }
      assert.notEqual(out.Entries?.[0]?.EventId, out.Entries?.[1]?.EventId);
    });

    test('a bad entry fails on its own, in a 200 answer, while the others are accepted', async () => {
      const out = await eb.send(
        new PutEventsCommand({
          Entries: [
            itemLinked('item-3'),
            { Source: 'plaid-link-token-service', DetailType: 'item.linked' },
            { ...itemLinked('item-4'), Detail: '{not json' },
          ],
        }),
      );
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.equal(out.FailedEntryCount, 2);
      assert.match(String(out.Entries?.[0]?.EventId), UUID);
      assert.equal(out.Entries?.[1]?.ErrorCode, 'InvalidArgument');
      assert.match(String(out.Entries?.[1]?.ErrorMessage), /Detail/);
      assert.equal(out.Entries?.[2]?.ErrorCode, 'MalformedDetail');
    });

    test('more than 10 entries is a ValidationException', async () => {
      const entries = Array.from({ length: 11 }, (_, i) => itemLinked(`item-${i}`));
      await assert.rejects(
        eb.send(new PutEventsCommand({ Entries: entries })),
        (err: unknown) =>
          err instanceof EventBridgeServiceException &&
          err.name === 'ValidationException' &&
          err.$metadata.httpStatusCode === 400,
      );
    });
  });
}

describe('stand-in only', () => {
  let eb: EventBridgeClient;
  before(() => {
    eb = ebClient(standIn.url);
  });
  beforeEach(() => {
    standIn.reset();
    standIn.clearFaults();
    standIn.setLatency(0);
  });

  test('the SDK finds the stand-in through AWS_ENDPOINT_URL_EVENTBRIDGE, and accepted events are recorded', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = standIn.url;
    let out;
    try {
      const c = new EventBridgeClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      clients.push(c);
      out = await c.send(
        new PutEventsCommand({ Entries: [{ ...itemLinked('item-r'), Resources: ['arn:aws:x'] }, { Source: 's' }] }),
      );
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
      else process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = saved;
    }
    assert.equal(out.FailedEntryCount, 1);
    assert.equal(standIn.calls.PutEvents, 1);
    assert.equal(standIn.events.length, 1);
    const [event] = standIn.events;
    assert.equal(event?.EventId, out.Entries?.[0]?.EventId);
    assert.equal(event?.EventBusName, 'default');
    assert.equal(event?.Source, 'plaid-link-token-service');
    assert.equal(event?.DetailType, 'item.linked');
    assert.deepEqual(event?.Detail, { tenant_id: 'acme', item_id: 'item-r' });
    assert.deepEqual(event?.Resources, ['arn:aws:x']);
    assert.ok(Math.abs((event?.Time ?? 0) - Date.now() / 1000) < 60);
  });

  test('a named bus must exist (by name or ARN); an unknown one accepts nothing', async () => {
    const other = await startEventBridgeStandIn({ eventBuses: ['items'] });
    try {
      const c = ebClient(other.url);
      const byArn = 'arn:aws:events:us-east-1:000000000000:event-bus/items';
      const out = await c.send(
        new PutEventsCommand({
          Entries: [
            { ...itemLinked('a'), EventBusName: 'items' },
            { ...itemLinked('b'), EventBusName: byArn },
          ],
        }),
      );
      assert.equal(out.FailedEntryCount, 0);
      assert.deepEqual(
        other.events.map((e) => e.EventBusName),
        ['items', 'items'],
      );
      await assert.rejects(
        c.send(new PutEventsCommand({ Entries: [itemLinked('c'), { ...itemLinked('d'), EventBusName: 'nope' }] })),
        (err: unknown) => err instanceof EventBridgeServiceException && err.name === 'ResourceNotFoundException',
      );
      assert.equal(other.events.length, 2);
    } finally {
      await other.close();
    }
  });

  test('failNextEntries makes healthy entries fail one by one, as in a partial outage', async () => {
    standIn.failNextEntries(1);
    standIn.failNextEntries(1, 'ThrottlingException');
    const out = await eb.send(
      new PutEventsCommand({ Entries: [itemLinked('p1'), itemLinked('p2'), itemLinked('p3')] }),
    );
    assert.equal(out.FailedEntryCount, 2);
    assert.deepEqual(
      out.Entries?.map((e) => e.ErrorCode),
      ['InternalFailure', 'ThrottlingException', undefined],
    );
    assert.deepEqual(
      standIn.events.map((e) => (e.Detail as { item_id: string }).item_id),
      ['p3'],
    );
  });

  test("failNext('internal') answers 500 InternalException, which the SDK retries; 'throttle' answers ThrottlingException", async () => {
    standIn.failNext(1, 'internal');
    const out = await eb.send(new PutEventsCommand({ Entries: [itemLinked('f')] }));
    assert.equal(out.$metadata.attempts, 2);
    assert.equal(standIn.calls.PutEvents, 2);
    assert.equal(standIn.events.length, 1);

    standIn.failNext(1, 'internal');
    await assert.rejects(
      ebClient(standIn.url, { maxAttempts: 1 }).send(new PutEventsCommand({ Entries: [itemLinked('g')] })),
      (err: unknown) => {
        assert.ok(err instanceof EventBridgeServiceException);
        assert.equal(err.name, 'InternalException');
        assert.equal(err.$metadata.httpStatusCode, 500);
        return true;
      },
    );
    standIn.failNext(1, 'throttle');
    await assert.rejects(
      ebClient(standIn.url, { maxAttempts: 1 }).send(new PutEventsCommand({ Entries: [itemLinked('h')] })),
      (err: unknown) => err instanceof EventBridgeServiceException && err.name === 'ThrottlingException',
    );
    assert.equal(standIn.events.length, 1);
  });

  test("failNext('hang') never answers, so the client's timeout fires", async () => {
    standIn.failNext(1, 'hang');
    const c = ebClient(standIn.url, {
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    await assert.rejects(
      c.send(new PutEventsCommand({ Entries: [itemLinked('t')] })),
      (err: unknown) => err instanceof Error && err.name === 'TimeoutError',
    );
    assert.equal(standIn.events.length, 0);
  });
});
