// Every Link session ends with its Items in the vault exactly once, and a user can leave: the
// exchange is idempotent for the caller (in sequence and at once), a token another user exchanged
// is refused as a spent one, Hosted Link and Multi-Item sessions are completed from Plaid's LINK
// webhooks or, when those never come, by GET /items through /link/token/get; identical webhooks
// at once are handed on once; the service's own events reach the bus without a token; DELETE /me
// erases a user, resumably; items.max_per_user caps new Items. Through the local stack over HTTP.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { EVENT_SOURCES } from '../../lambda/config/events.ts';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { startE2eStack, type E2eStack } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const HMAC_KEY = 'sessions-e2e-client-user-id-key-0123456789abcdef';
const ACME = { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-sessions-secret' };
const PLATYPUS = 'ins_109508';
const GINGHAM = 'ins_109509';
const TARTAN = 'ins_109511';

let stack: E2eStack;
let issuer: OidcIssuer;

const token = (tenant: string, sub: string) => issuer.mint({ sub, aud: 'sessions-app', tenant });
const publicToken = (institutionId = PLATYPUS) =>
  stack.plaid.createPublicToken({ clientId: ACME.clientId, institutionId, products: ['transactions'] });
const post = (tenant: string, sub: string, publicTokenValue: string) =>
  stack.call({ path: '/items', token: token(tenant, sub), body: { public_token: publicTokenValue } });
const list = async (tenant: string, sub: string) => {
  const res = await stack.call({ method: 'GET', path: '/items', token: token(tenant, sub) });
  assert.equal(res.status, 200, res.text);
  return res.json().items as Array<Record<string, any>>;
};
const linkToken = async (tenant: string, sub: string, body: Record<string, unknown> = {}) =>
  stack.call({ token: token(tenant, sub), body: { platform: 'web', ...body } });
const eraseMe = (tenant: string, sub: string) =>
  stack.call({ method: 'DELETE', path: '/me', token: token(tenant, sub) });
const itemEvents = (type: string) =>
  stack.events.events.filter((e) => e.Source === EVENT_SOURCES.item_lifecycle && e.DetailType === type);

before(async () => {
  stack = await startE2eStack({
    issuerCount: 1,
    plaidCredentials: { [ACME.clientId]: ACME.secret },
    secrets: {
      [KEY_SECRET_ID]: HMAC_KEY,
      [ACME.secretId]: JSON.stringify({ client_id: ACME.clientId, secret: ACME.secret }),
    },
    tenants: ([a]) => {
      const base = (id: string) => ({
        client_name: `Sessions ${id}`,
        plaid: { environment: 'sandbox' as const, secret_id: ACME.secretId },
        auth: { issuer: a!.issuer, audience: ['sessions-app'], tenant_claim: { name: 'tenant', value: id } },
        languages: { default: 'en' as const, allowed: ['en' as const] },
        country_codes: ['US' as const],
        profiles: {
          default: { products: ['transactions' as const], webhook: 'service' },
          hosted: { products: ['transactions' as const], hosted_link: {} },
          multi: { products: ['transactions' as const], enable_multi_item_link: true },
        },
      });
      return {
        client_user_id_key_secret_id: KEY_SECRET_ID,
        tenants: {
          acme: base('acme'),
          globex: base('globex'),
          capped: { ...base('capped'), items: { duplicates: 'allow' as const, max_per_user: 2 } },
        },
      };
    },
  });
  issuer = stack.issuers[0]!;
});
after(() => stack?.close());
beforeEach(() => stack.events.clearFaults());

describe('one exchange per public token', () => {
  test('a retry after a lost answer gets the same Item; Plaid exchanges once', async () => {
    const value = publicToken();
    const exchanges = stack.plaid.callsTo('/item/public_token/exchange');
    const first = await post('acme', 'retry', value);
    assert.equal(first.status, 201, first.text);
    const again = await post('acme', 'retry', value);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json(), first.json());
    assert.equal(stack.plaid.callsTo('/item/public_token/exchange'), exchanges + 1);
    assert.equal((await list('acme', 'retry')).length, 1);
  });

  test('two taps at once: both 2xx with one item_id, one exchange, one item.created', async () => {
    const value = publicToken(GINGHAM);
    const exchanges = stack.plaid.callsTo('/item/public_token/exchange');
    const answers = await Promise.all([
      post('acme', 'taps', value),
      post('acme', 'taps', value),
      post('acme', 'taps', value),
    ]);
    for (const res of answers) assert.ok(res.status === 200 || res.status === 201, res.text);
    assert.equal(new Set(answers.map((r) => r.json().item_id)).size, 1);
    assert.equal(stack.plaid.callsTo('/item/public_token/exchange'), exchanges + 1);
    const itemId = answers[0].json().item_id;
    assert.equal(itemEvents('item.created').filter((e) => (e.Detail as any).item_id === itemId).length, 1);
  });

  test("another user's exchanged token is refused exactly as a spent one, revealing nothing", async () => {
    const value = publicToken(TARTAN);
    assert.equal((await post('acme', 'owner', value)).status, 201);
    const thief = await post('acme', 'thief', value);
    const spent = await post('acme', 'thief', publicToken().replace(/.{4}$/, '0000'));
    assert.equal(thief.status, 400, thief.text);
    assert.equal(thief.json().errors[0].field, 'public_token');
    assert.ok(!thief.text.includes('item'), 'no item_id in the answer');
    assert.equal(thief.json().detail, spent.json().detail);
    assert.deepEqual(await list('acme', 'thief'), []);
    assert.equal((await list('acme', 'owner')).length, 1);
  });
});

describe('update mode', () => {
  test("update mode's public token exchanges for the Item the caller holds: 200 with it, nothing removed at Plaid", async () => {
    const first = await post('acme', 'updater', publicToken());
    assert.equal(first.status, 201, first.text);
    const itemId = first.json().item_id;
    const update = await linkToken('acme', 'updater', { mode: 'update', item_id: itemId });
    assert.equal(update.status, 200, update.text);
    const repaired = stack.plaid.completeUpdateMode(update.json().link_token);
    const removals = stack.plaid.callsTo('/item/remove');
    const res = await post('acme', 'updater', repaired);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().item_id, itemId);
    assert.equal(stack.plaid.callsTo('/item/remove'), removals, 'nothing removed at Plaid');
    assert.equal((await list('acme', 'updater')).length, 1);
  });
});

describe('Hosted Link and Multi-Item sessions, completed by the service', () => {
  test('Hosted Link: SESSION_FINISHED puts the Item in the vault; the tokens never reach the bus', async () => {
    const created = await linkToken('acme', 'hosted-user', { profile: 'hosted' });
    assert.equal(created.status, 200, created.text);
    assert.ok(created.json().hosted_link_url);
    const run = await stack.plaid.runLinkSession(created.json().link_token);
    assert.ok(
      run.deliveries.every((d) => d.status === 200),
      JSON.stringify(run.deliveries.map((d) => d.status)),
    );
    const items = await list('acme', 'hosted-user');
    assert.deepEqual(
      items.map((i) => i.institution.institution_id),
      [PLATYPUS],
    );
    // The app posting the same public token too: the same Item, no second exchange.
    const exchanges = stack.plaid.callsTo('/item/public_token/exchange');
    const posted = await post('acme', 'hosted-user', run.items[0]!.public_token);
    assert.equal(posted.json().item_id, items[0]!.item_id);
    assert.equal(stack.plaid.callsTo('/item/public_token/exchange'), exchanges);
    const bus = JSON.stringify(stack.events.events);
    assert.ok(!bus.includes('public-sandbox') && !bus.includes('link-sandbox') && !bus.includes('access-sandbox'));
  });

  test('Multi-Item with two institutions: two Items; a replayed ITEM_ADD_RESULT adds none', async () => {
    const created = await linkToken('acme', 'multi-user', { profile: 'multi' });
    assert.equal(created.status, 200, created.text);
    const run = await stack.plaid.runLinkSession(created.json().link_token, { institutionIds: [PLATYPUS, GINGHAM] });
    assert.equal((await list('acme', 'multi-user')).length, 2);
    const first = run.deliveries[0]!;
    const replay = await stack.plaid.deliverWebhook(first.url, first.body, first.headers['plaid-verification']!);
    assert.equal(replay.status, 200, replay.body);
    assert.equal((await list('acme', 'multi-user')).length, 2);
  });

  test('webhooks withheld: GET /items completes the session through /link/token/get, once', async () => {
    const created = await linkToken('acme', 'quiet-user', { profile: 'hosted' });
    await stack.plaid.runLinkSession(created.json().link_token, { webhooks: false });
    const asked = stack.plaid.callsTo('/link/token/get');
    assert.equal((await list('acme', 'quiet-user')).length, 1);
    assert.equal(stack.plaid.callsTo('/link/token/get'), asked + 1);
    assert.equal((await list('acme', 'quiet-user')).length, 1);
    assert.equal(stack.plaid.callsTo('/link/token/get'), asked + 1, 'a finished session is not asked about again');
  });

  test("a session webhook on another tenant's path, or for a link token the service did not record, changes nothing", async () => {
    const created = await linkToken('acme', 'cross-user', { profile: 'hosted' });
    const run = await stack.plaid.runLinkSession(created.json().link_token, { webhooks: false });
    const body = JSON.stringify({
      webhook_type: 'LINK',
      webhook_code: 'ITEM_ADD_RESULT',
      link_token: created.json().link_token,
      public_token: run.items[0]!.public_token,
      environment: 'sandbox',
    });
    const elsewhere = `${stack.apiUrl}/webhooks/plaid/globex`;
    const res = await stack.plaid.deliverWebhook(elsewhere, body, stack.plaid.signWebhook(body));
    assert.equal(res.status, 200, res.body);
    const unknown = body.replace(created.json().link_token, 'link-sandbox-00000000-0000-4000-8000-000000000000');
    const res2 = await stack.plaid.deliverWebhook(
      `${stack.apiUrl}/webhooks/plaid/acme`,
      unknown,
      stack.plaid.signWebhook(unknown),
    );
    assert.equal(res2.status, 200, res2.body);
    const exchanges = stack.plaid.requestsTo('/item/public_token/exchange');
    assert.ok(!exchanges.some((r) => (r.body as any).public_token === run.items[0]!.public_token));
  });

  test('identical webhooks at once are handed on once', async () => {
    const created = await linkToken('acme', 'twice-user', { profile: 'hosted' });
    const run = await stack.plaid.runLinkSession(created.json().link_token, { webhooks: false });
    const body = JSON.stringify({
      webhook_type: 'LINK',
      webhook_code: 'SESSION_FINISHED',
      status: 'SUCCESS',
      link_token: created.json().link_token,
      public_tokens: [run.items[0]!.public_token],
      environment: 'sandbox',
    });
    const header = stack.plaid.signWebhook(body);
    const url = `${stack.apiUrl}/webhooks/plaid/acme`;
    const answers = await Promise.all([1, 2, 3].map(() => stack.plaid.deliverWebhook(url, body, header)));
    assert.ok(answers.some((a) => a.status === 200));
    const handedOn = stack.events.events.filter(
      (e) => e.Source === EVENT_SOURCES.plaid_webhook && e.DetailType === 'LINK.SESSION_FINISHED',
    );
    const ids = handedOn.map((e) => (e.Detail as any).event_id);
    assert.equal(ids.length, new Set(ids).size, 'no event_id twice on the bus');
    assert.equal((await list('acme', 'twice-user')).length, 1);
  });
});

describe('DELETE /me', () => {
  test('erases every Item at Plaid and in the vault, the neighbour untouched; again is 204 without Plaid', async () => {
    for (const institution of [PLATYPUS, GINGHAM])
      assert.equal((await post('globex', 'leaver', publicToken(institution))).status, 201);
    assert.equal((await post('globex', 'neighbour', publicToken())).status, 201);
    const removals = stack.plaid.callsTo('/item/remove');
    const res = await eraseMe('globex', 'leaver');
    assert.equal(res.status, 204, res.text);
    assert.equal(stack.plaid.callsTo('/item/remove'), removals + 2);
    assert.deepEqual(await list('globex', 'leaver'), []);
    assert.equal((await list('globex', 'neighbour')).length, 1);
    const erased = stack.events.events.filter((e) => e.Source === EVENT_SOURCES.user_lifecycle);
    assert.equal(erased.length, 1);
    assert.equal(erased[0]!.DetailType, 'user.erased');
    assert.equal((erased[0]!.Detail as any).items_removed, 2);
    const calls = stack.plaid.calls;
    assert.equal((await eraseMe('globex', 'leaver')).status, 204);
    assert.equal(stack.plaid.calls, calls, 'nothing asked of Plaid the second time');
    // A fresh start afterwards.
    assert.equal((await post('globex', 'leaver', publicToken(TARTAN))).status, 201);
    assert.equal((await list('globex', 'leaver')).length, 1);
  });

  test("removes the user's Plaid user too", async () => {
    // A Multi-Item profile needs a Plaid user: its first link token creates one.
    assert.equal((await linkToken('globex', 'plaid-user', { profile: 'multi' })).status, 200);
    assert.equal((await post('globex', 'plaid-user', publicToken())).status, 201);
    const userRemovals = stack.plaid.callsTo('/user/remove');
    assert.equal((await eraseMe('globex', 'plaid-user')).status, 204);
    assert.equal(stack.plaid.callsTo('/user/remove'), userRemovals + 1);
  });

  test('Plaid failing half-way: 503 with Retry-After, nothing dropped that Plaid holds, the retry finishes', async () => {
    for (const institution of [PLATYPUS, GINGHAM, TARTAN]) {
      assert.equal((await post('globex', 'halfway', publicToken(institution))).status, 201);
    }
    // The second removal fails, and so does the Plaid client's one retry of it.
    for (const nth of [2, 3]) {
      stack.plaid.failCall(
        nth,
        { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
        '/item/remove',
      );
    }
    const failed = await eraseMe('globex', 'halfway');
    assert.equal(failed.status, 503, failed.text);
    assert.ok(failed.headers.get('retry-after'));
    const left = await list('globex', 'halfway');
    assert.equal(left.length, 2, 'the Items Plaid still holds stay listed');
    for (const item of left) assert.equal(stack.plaid.item(item.item_id)?.removed, false);
    assert.equal((await eraseMe('globex', 'halfway')).status, 204);
    assert.deepEqual(await list('globex', 'halfway'), []);
  });
});

describe('items.max_per_user', () => {
  test('refused at link-token time at the limit, not in update mode; at exchange time over it; freed by a removal', async () => {
    const kept = publicToken(TARTAN);
    for (const institution of [PLATYPUS, GINGHAM])
      assert.equal((await post('capped', 'collector', publicToken(institution))).status, 201);
    const refused = await linkToken('capped', 'collector');
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.json().max_per_user, 2);
    const items = await list('capped', 'collector');
    assert.equal((await linkToken('capped', 'collector', { mode: 'update', item_id: items[0]!.item_id })).status, 200);
    const removals = stack.plaid.callsTo('/item/remove');
    const over = await post('capped', 'collector', kept);
    assert.equal(over.status, 409, over.text);
    assert.equal(over.json().max_per_user, 2);
    assert.equal(stack.plaid.callsTo('/item/remove'), removals + 1, 'the new Item removed at Plaid');
    assert.equal((await list('capped', 'collector')).length, 2);
    const removed = await stack.call({
      method: 'DELETE',
      path: `/items/${items[0]!.item_id}`,
      token: token('capped', 'collector'),
    });
    assert.equal(removed.status, 204);
    assert.equal((await linkToken('capped', 'collector')).status, 200);
    assert.equal((await post('capped', 'collector', publicToken(TARTAN))).status, 201);
  });
});
