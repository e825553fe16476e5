// The rest of Link's server side, end to end: the public_token exchange into the vault, the
// user's Items, update mode for one of them, removal; another user's or tenant's Item is a 404;
// every Plaid, DynamoDB and KMS failure is mapped and leaves nothing half-done. Through the
// local stack over HTTP, with dynalite and the KMS stand-in behind the real AWS SDK clients.
import assert from 'node:assert/strict';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { after, before, beforeEach, describe, test } from 'node:test';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { functionLogs, startE2eStack, type E2eStack, type SeenResponse } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const HMAC_KEY = 'items-e2e-client-user-id-key-0123456789abcdef';
const ACME = { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-items-secret' };
const GLOBEX = { secretId: 'plaid/globex', clientId: 'globex-client-id', secret: 'globex-items-secret' };
const PLATYPUS = 'ins_109508';
const GINGHAM = 'ins_109509';
const TARTAN = 'ins_109511';

let stack: E2eStack;
let issuer: OidcIssuer;
const minted: string[] = [];
const publicTokens: string[] = [];

const token = (tenant: string, sub = 'alice') => {
  const jwt = issuer.mint({ sub, aud: 'items-app', tenant });
  minted.push(jwt);
  return jwt;
};
const publicToken = (clientId = ACME.clientId, institutionId = PLATYPUS) => {
  const value = stack.plaid.createPublicToken({ clientId, institutionId, products: ['transactions'] });
  publicTokens.push(value);
  return value;
};
const clientUserId = (tenant: string, sub: string) =>
  deriveClientUserId({ strategy: 'hmac-sha256', tenantId: tenant, subject: sub, key: HMAC_KEY });

async function link(tenant: string, sub: string, institutionId = PLATYPUS): Promise<SeenResponse> {
  const clientId = tenant === 'globex' ? GLOBEX.clientId : ACME.clientId;
  return stack.call({
    path: '/items',
    token: token(tenant, sub),
    body: { public_token: publicToken(clientId, institutionId) },
  });
}
async function linked(tenant: string, sub: string, institutionId?: string): Promise<string> {
  const res = await link(tenant, sub, institutionId);
  assert.equal(res.status, 201, res.text);
  return res.json().item_id;
}
const list = async (tenant: string, sub: string) => {
  const res = await stack.call({ method: 'GET', path: '/items', token: token(tenant, sub) });
  assert.equal(res.status, 200, res.text);
  return res.json().items as Array<Record<string, any>>;
};
const updateMode = (tenant: string, sub: string, body: Record<string, unknown>) =>
  stack.call({ token: token(tenant, sub), body: { platform: 'web', mode: 'update', ...body } });
const remove = (tenant: string, sub: string, itemId: string) =>
  stack.call({ method: 'DELETE', path: `/items/${itemId}`, token: token(tenant, sub) });

/** Every access token Plaid issued, as the function sent them back to Plaid. */
function accessTokensSeen(): string[] {
  return stack.plaid.requests.flatMap((r) => {
    const body = r.body as { access_token?: unknown } | undefined;
    return typeof body?.access_token === 'string' ? [body.access_token] : [];
  });
}

before(async () => {
  stack = await startE2eStack({
    issuerCount: 1,
    plaidCredentials: { [ACME.clientId]: ACME.secret, [GLOBEX.clientId]: GLOBEX.secret },
    secrets: {
      [KEY_SECRET_ID]: HMAC_KEY,
      [ACME.secretId]: JSON.stringify({ client_id: ACME.clientId, secret: ACME.secret }),
      [GLOBEX.secretId]: JSON.stringify({ client_id: GLOBEX.clientId, secret: GLOBEX.secret }),
    },
    env: { REQUEST_BUDGET_MS: '4000' },
    tenants: ([a]) => {
      const base = (id: string, secretId: string) => ({
        client_name: `Items ${id}`,
        plaid: { environment: 'sandbox' as const, secret_id: secretId },
        auth: { issuer: a!.issuer, audience: ['items-app'], tenant_claim: { name: 'tenant', value: id } },
        allowed_origins: ['https://items.example'],
        languages: { default: 'en' as const, allowed: ['en' as const, 'fr' as const] },
        country_codes: ['US' as const],
        profiles: {
          default: {
            products: ['transactions' as const],
            webhook: 'https://hooks.items.example/plaid',
            redirect_uri: 'https://items.example/oauth-return',
            android_package_name: 'com.items.app',
          },
        },
      });
      return {
        client_user_id_key_secret_id: KEY_SECRET_ID,
        tenants: {
          acme: {
            ...base('acme', ACME.secretId),
            items: { duplicates: 'refuse' as const, update_account_selection: true },
          },
          globex: base('globex', GLOBEX.secretId),
          replacer: { ...base('replacer', ACME.secretId), items: { duplicates: 'replace' as const } },
          allower: { ...base('allower', ACME.secretId), items: { duplicates: 'allow' as const } },
          // Multi-Item Link needs a Plaid user.
          multi: {
            ...base('multi', ACME.secretId),
            profiles: { default: { products: ['transactions' as const], enable_multi_item_link: true } },
          },
        },
      };
    },
  });
  issuer = stack.issuers[0]!;
});
after(() => stack?.close());
beforeEach(() => {
  stack.dynamodb.clearFaults();
  stack.kms.clearFaults();
});

describe('the whole loop', () => {
  for (const platform of ['web', 'ios', 'android'] as const) {
    test(`${platform}: link, list, update mode, remove`, async () => {
      const sub = `loop-${platform}`;
      const created = await link('acme', sub, GINGHAM);
      assert.equal(created.status, 201, created.text);
      const item = created.json();
      assert.deepEqual(Object.keys(item).sort(), ['created_at', 'institution', 'item_id', 'status']);
      assert.deepEqual(item.institution, { institution_id: GINGHAM, name: 'First Gingham Credit Union' });
      assert.equal(item.status, 'healthy');
      assert.equal(created.headers.get('location'), `/items/${item.item_id}`);

      const items = await list('acme', sub);
      assert.deepEqual(items, [
        { ...item, action: 'none', consent_expiration_time: null, updated_at: item.created_at },
      ]);

      const res = await stack.call({
        token: token('acme', sub),
        body: { platform, mode: 'update', item_id: item.item_id },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.json()).sort(), ['expiration', 'link_token']);
      const session = stack.plaid.linkSessions.at(-1)!;
      assert.equal(session.update?.item_id, item.item_id, 'Plaid got the access token of this Item');
      // Plaid: update-mode link tokens live 30 minutes; passed through as Plaid gave it.
      assert.equal(res.json().expiration, session.expiration);
      const sent = stack.plaid.requestsTo('/link/token/create').at(-1)!.body as Record<string, any>;
      assert.equal(sent.products, undefined, 'no products in update mode');
      assert.equal(sent.webhook, undefined, 'webhook has no effect in update mode and is not sent');
      assert.equal(sent.user.client_user_id, clientUserId('acme', sub));
      assert.equal(sent.update, undefined);
      if (platform === 'android') {
        assert.equal(sent.android_package_name, 'com.items.app');
        assert.equal(sent.redirect_uri, undefined);
      } else {
        assert.equal(sent.redirect_uri, 'https://items.example/oauth-return');
        assert.equal(sent.android_package_name, undefined);
      }

      const removed = await remove('acme', sub, item.item_id);
      assert.equal(removed.status, 204, removed.text);
      assert.equal(stack.plaid.item(item.item_id)?.removed, true);
      assert.deepEqual(await list('acme', sub), []);
    });
  }
  test('update mode with Account Select where the tenant allows it, refused where it does not', async () => {
    const itemId = await linked('acme', 'selector', TARTAN);
    assert.equal((await updateMode('acme', 'selector', { item_id: itemId, account_selection: true })).status, 200);
    const sent = stack.plaid.requestsTo('/link/token/create').at(-1)!.body as Record<string, any>;
    assert.deepEqual(sent.update, { account_selection_enabled: true });

    const globexItem = await linked('globex', 'selector');
    const refused = await updateMode('globex', 'selector', { item_id: globexItem, account_selection: true });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().errors[0].field, 'account_selection');
  });
  test('update mode needs item_id; item_id and account_selection belong to update mode only', async () => {
    for (const [body, field] of [
      [{ mode: 'update' }, 'item_id'],
      [{ mode: 'new', item_id: 'abc' }, 'item_id'],
      [{ account_selection: true }, 'account_selection'],
      [{ mode: 'repair', item_id: 'abc' }, 'mode'],
    ] as const) {
      const res = await stack.call({ token: token('acme', 'shape'), body: { platform: 'web', ...body } });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        res.json().errors.some((e: { field: string }) => e.field === field),
        `${JSON.stringify(body)}: ${res.text}`,
      );
    }
  });
});

describe("another user's or tenant's Item is a 404, like one that does not exist", () => {
  let alicesItem: string;
  before(async () => {
    alicesItem = await linked('acme', 'alice');
  });
  const expect404 = async (res: SeenResponse) => {
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json().title, 'Item not found');
  };
  test("another user's item_id: update mode and delete", async () => {
    const plaidCalls = stack.plaid.callsTo('/link/token/create');
    await expect404(await updateMode('acme', 'mallory', { item_id: alicesItem }));
    await expect404(await remove('acme', 'mallory', alicesItem));
    assert.equal(stack.plaid.callsTo('/link/token/create'), plaidCalls);
    assert.equal(stack.plaid.item(alicesItem)?.removed, false);
    assert.equal((await list('acme', 'alice')).length, 1);
  });
  test("another tenant's token for the same subject: update mode and delete", async () => {
    await expect404(await updateMode('globex', 'alice', { item_id: alicesItem }));
    await expect404(await remove('globex', 'alice', alicesItem));
    assert.equal(stack.plaid.item(alicesItem)?.removed, false);
  });
  test('an item_id that never existed, and one that is not an id at all', async () => {
    const missing = await remove('acme', 'alice', 'no-such-item-0000');
    const unknown = await updateMode('acme', 'alice', { item_id: 'no-such-item-0000' });
    await expect404(missing);
    await expect404(unknown);
    assert.deepEqual(
      Object.keys(missing.json()).sort(),
      Object.keys((await remove('acme', 'mallory', alicesItem)).json()).sort(),
    );
    assert.equal((await remove('acme', 'alice', '..%2F..%2Fetc')).status, 404);
  });
  test("a record copied into another user's partition does not decrypt there: 404, never Alice's token", async () => {
    const db = new DynamoDBClient({
      endpoint: stack.dynamodb.directUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    try {
      const alicePk = `acme#${clientUserId('acme', 'alice')}`;
      const { Item } = await db.send(
        new GetItemCommand({
          TableName: stack.itemsTable,
          Key: { pk: { S: alicePk }, sk: { S: `item#${alicesItem}` } },
        }),
      );
      assert.ok(Item?.access_token_ct?.B, 'the record holds ciphertext');
      assert.ok(!JSON.stringify(Item).includes('access-sandbox'), 'no plaintext token in the table');
      await db.send(
        new PutItemCommand({
          TableName: stack.itemsTable,
          Item: { ...Item, pk: { S: `acme#${clientUserId('acme', 'mallory')}` } },
        }),
      );
    } finally {
      db.destroy();
    }
    const plaidCalls = stack.plaid.callsTo('/link/token/create');
    await expect404(await updateMode('acme', 'mallory', { item_id: alicesItem }));
    await expect404(await remove('acme', 'mallory', alicesItem));
    assert.equal(
      stack.plaid.callsTo('/link/token/create'),
      plaidCalls,
      "Alice's token never reached Plaid for Mallory",
    );
    assert.ok(
      functionLogs(stack).some((l) => l.event === 'vault.decrypt_refused' && l.item_id === alicesItem),
      'an operator hears of it',
    );
    assert.equal(stack.plaid.item(alicesItem)?.removed, false);
  });
});

describe('duplicates: a second Item at the same institution', () => {
  test('refuse (default): the new Item is removed at Plaid, 409 names the existing one', async () => {
    const first = await linked('acme', 'dup-refuse', TARTAN);
    const res = await link('acme', 'dup-refuse', TARTAN);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.json().existing_item_id, first);
    const newItem = stack.plaid.requestsTo('/item/public_token/exchange').length;
    assert.ok(newItem > 0);
    const removedAtPlaid = stack.plaid.requestsTo('/item/remove').at(-1)!.body as { access_token: string };
    assert.notEqual(removedAtPlaid.access_token, undefined);
    assert.deepEqual(
      (await list('acme', 'dup-refuse')).map((i) => i.item_id),
      [first],
    );
    assert.equal(stack.plaid.item(first)?.removed, false);
  });
  test('replace: the old Item goes, at Plaid and in the store', async () => {
    const first = await linked('replacer', 'dup-replace', TARTAN);
    const second = await linked('replacer', 'dup-replace', TARTAN);
    assert.deepEqual(
      (await list('replacer', 'dup-replace')).map((i) => i.item_id),
      [second],
    );
    assert.equal(stack.plaid.item(first)?.removed, true);
    assert.equal(stack.plaid.item(second)?.removed, false);
  });
  test('allow: both are kept', async () => {
    const first = await linked('allower', 'dup-allow', TARTAN);
    const second = await linked('allower', 'dup-allow', TARTAN);
    assert.deepEqual((await list('allower', 'dup-allow')).map((i) => i.item_id).sort(), [first, second].sort());
  });
  test('another institution is never a duplicate', async () => {
    await linked('acme', 'dup-other', TARTAN);
    await linked('acme', 'dup-other', GINGHAM);
    assert.equal((await list('acme', 'dup-other')).length, 2);
  });
});

describe('bad input never reaches Plaid', () => {
  test('fields other than public_token, a malformed token, a token of another environment', async () => {
    const exchanges = stack.plaid.callsTo('/item/public_token/exchange');
    for (const [body, field] of [
      [{ public_token: publicToken(), access_token: 'access-sandbox-x' }, 'access_token'],
      [{ public_token: 'link-sandbox-00000000-0000-0000-0000-000000000000' }, 'public_token'],
      [{ public_token: 42 }, 'public_token'],
      [{}, 'public_token'],
      [{ public_token: 'public-production-00000000-0000-0000-0000-000000000000' }, 'public_token'],
    ] as const) {
      const res = await stack.call({ path: '/items', token: token('acme', 'input'), body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        res.json().errors.some((e: { field: string }) => e.field === field),
        res.text,
      );
    }
    assert.equal(stack.plaid.callsTo('/item/public_token/exchange'), exchanges);
  });
  test('other methods are 405 with Allow; no token is 401', async () => {
    const put = await stack.call({ method: 'PUT', path: '/items', token: token('acme', 'input') });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, OPTIONS');
    const patch = await stack.call({ method: 'PATCH', path: '/items/abc', token: token('acme', 'input') });
    assert.equal(patch.headers.get('allow'), 'DELETE, OPTIONS');
    assert.equal((await stack.call({ method: 'GET', path: '/items' })).status, 401);
  });
  test('CORS preflight names the methods of each path', async () => {
    const res = await stack.call({
      method: 'OPTIONS',
      path: '/items/abc',
      origin: 'https://items.example',
      headers: { 'access-control-request-method': 'DELETE' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-methods'), 'DELETE, OPTIONS');
  });
});

describe("Plaid's errors, mapped", () => {
  test('a spent public token is a 400 that says so', async () => {
    const spent = publicToken();
    assert.equal(
      (await stack.call({ path: '/items', token: token('acme', 'spent'), body: { public_token: spent } })).status,
      201,
    );
    const again = await stack.call({ path: '/items', token: token('acme', 'spent2'), body: { public_token: spent } });
    assert.equal(again.status, 400);
    assert.match(again.json().detail, /invalid or has expired/);
    assert.equal(again.json().errors[0].field, 'public_token');
  });
  test('an expired public token (over 30 minutes) is a 400', async () => {
    const old = publicToken();
    stack.plaid.advanceClock(31 * 60_000);
    try {
      const res = await stack.call({ path: '/items', token: token('acme', 'late'), body: { public_token: old } });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json().errors[0].field, 'public_token');
    } finally {
      stack.plaid.advanceClock(-31 * 60_000);
    }
  });
  test('Plaid failing the exchange is 503; nothing stored', async () => {
    stack.plaid.failNext(
      1,
      { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
      '/item/public_token/exchange',
    );
    const res = await link('acme', 'exchange-fails');
    assert.equal(res.status, 503, res.text);
    assert.deepEqual(await list('acme', 'exchange-fails'), []);
  });
  test('/item/get failing after the exchange: 503, and the new Item is removed at Plaid again', async () => {
    stack.plaid.failNext(
      2,
      { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
      '/item/get',
    );
    const removals = stack.plaid.callsTo('/item/remove');
    const res = await link('acme', 'get-fails');
    assert.equal(res.status, 503, res.text);
    assert.equal(stack.plaid.callsTo('/item/remove'), removals + 1, 'undone at Plaid');
    assert.deepEqual(await list('acme', 'get-fails'), []);
  });
  test('Plaid rate limiting the exchange is 429 with Retry-After', async () => {
    stack.plaid.failNext(
      1,
      { kind: 'error', status: 429, error_type: 'RATE_LIMIT_EXCEEDED', error_code: 'RATE_LIMIT' },
      '/item/public_token/exchange',
    );
    const res = await link('acme', 'limited');
    assert.equal(res.status, 429);
    assert.ok(res.headers.get('retry-after'));
  });
  test('removing an Item Plaid already forgot is still 204, and the record goes', async () => {
    const itemId = await linked('acme', 'forgotten');
    stack.plaid.failNext(
      1,
      { kind: 'error', status: 400, error_type: 'ITEM_ERROR', error_code: 'ITEM_NOT_FOUND' },
      '/item/remove',
    );
    assert.equal((await remove('acme', 'forgotten', itemId)).status, 204);
    assert.deepEqual(await list('acme', 'forgotten'), []);
  });
  test('Plaid failing /item/remove on delete: 503 and the record (with its token) is kept for a retry', async () => {
    const itemId = await linked('acme', 'remove-fails');
    stack.plaid.failNext(
      2,
      { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
      '/item/remove',
    );
    assert.equal((await remove('acme', 'remove-fails', itemId)).status, 503);
    assert.equal((await list('acme', 'remove-fails')).length, 1);
    assert.equal((await remove('acme', 'remove-fails', itemId)).status, 204);
  });
});

/** A PutItem of an Item record (not a claim or a session). */
const itemRecord = (body: Record<string, unknown>) =>
  String((body.Item as { sk?: { S?: string } } | undefined)?.sk?.S).startsWith('item#');

describe('DynamoDB and KMS outages: a bounded 503, nothing orphaned', () => {
  test('DynamoDB failing the write: 503, and the new Item is removed at Plaid', async () => {
    stack.dynamodb.failNext(5, 'internal', 'PutItem', itemRecord);
    const removals = stack.plaid.callsTo('/item/remove');
    const res = await link('acme', 'ddb-put-fails');
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json().title, 'Item store unavailable');
    assert.equal(stack.plaid.callsTo('/item/remove'), removals + 1);
    stack.dynamodb.clearFaults();
    assert.deepEqual(await list('acme', 'ddb-put-fails'), []);
  });
  test('KMS failing the encryption: 503, and the new Item is removed at Plaid', async () => {
    stack.kms.failNext(5, 'internal', 'Encrypt');
    const removals = stack.plaid.callsTo('/item/remove');
    const res = await link('acme', 'kms-fails');
    assert.equal(res.status, 503, res.text);
    assert.equal(stack.plaid.callsTo('/item/remove'), removals + 1);
    stack.kms.clearFaults();
    assert.deepEqual(await list('acme', 'kms-fails'), []);
  });
  test('DynamoDB hanging on a list: a bounded 503', async () => {
    stack.dynamodb.failNext(5, 'hang', 'Query');
    const started = Date.now();
    const res = await stack.call({ method: 'GET', path: '/items', token: token('acme', 'hang') });
    assert.equal(res.status, 503, res.text);
    assert.ok(Date.now() - started < 6000, 'bounded by the vault timeout and attempts');
  });
  test('KMS failing a decrypt in update mode: 503, not a 404', async () => {
    const itemId = await linked('acme', 'kms-decrypt');
    stack.kms.failNext(5, 'internal', 'Decrypt');
    const res = await updateMode('acme', 'kms-decrypt', { item_id: itemId });
    assert.equal(res.status, 503, res.text);
  });
  test('the store and the undo both failing: 503, and the orphan is logged by item id for an operator', async () => {
    stack.dynamodb.failNext(5, 'internal', 'PutItem', itemRecord);
    stack.plaid.failNext(
      2,
      { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
      '/item/remove',
    );
    const res = await link('acme', 'orphan');
    assert.equal(res.status, 503);
    const orphan = functionLogs(stack).findLast((l) => l.event === 'items.orphan_removal_failed');
    assert.ok(orphan, 'items.orphan_removal_failed was logged');
    assert.equal(typeof orphan.item_id, 'string');
    assert.equal(stack.plaid.item(orphan.item_id as string)?.removed, false, 'the orphan is real, and named');
  });
});

describe('Plaid users', () => {
  const userCreates = () => stack.plaid.requestsTo('/user/create');
  const lastLinkBody = () => stack.plaid.requestsTo('/link/token/create').at(-1)!.body as Record<string, any>;
  test('created once per tenant and user, on the first link token that needs one, then reused', async () => {
    const before = userCreates().length;
    assert.equal((await stack.call({ token: token('multi', 'pat'), body: { platform: 'web' } })).status, 200);
    assert.equal(userCreates().length, before + 1);
    assert.equal(
      (userCreates().at(-1)!.body as { client_user_id: string }).client_user_id,
      clientUserId('multi', 'pat'),
    );
    const first = lastLinkBody();
    assert.ok(first.user_token || first.user_id, 'the link token carries the Plaid user');
    assert.equal((await stack.call({ token: token('multi', 'pat'), body: { platform: 'ios' } })).status, 200);
    assert.equal(userCreates().length, before + 1, 'not created again');
    assert.equal(lastLinkBody().user_token ?? lastLinkBody().user_id, first.user_token ?? first.user_id);
    assert.equal((await stack.call({ token: token('multi', 'sam'), body: { platform: 'web' } })).status, 200);
    assert.equal(userCreates().length, before + 2, 'another user gets their own');
    assert.notEqual(lastLinkBody().user_token ?? lastLinkBody().user_id, first.user_token ?? first.user_id);
  });
  test('profiles that need no Plaid user never create one', async () => {
    const before = userCreates().length;
    assert.equal((await stack.call({ token: token('acme', 'plain'), body: { platform: 'web' } })).status, 200);
    assert.equal(userCreates().length, before);
    assert.equal(lastLinkBody().user_token, undefined);
  });
  test('/user/create failing is a mapped 503 and stores nothing; the next request creates it', async () => {
    stack.plaid.failNext(
      1,
      { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
      '/user/create',
    );
    assert.equal((await stack.call({ token: token('multi', 'flaky'), body: { platform: 'web' } })).status, 503);
    assert.equal((await stack.call({ token: token('multi', 'flaky'), body: { platform: 'web' } })).status, 200);
  });
});

test('no access token, public token, user token, JWT or secret in any response or log line', () => {
  const logs = stack.logLines.join('\n');
  const responses = stack.transcripts.join('\n');
  const accessTokens = accessTokensSeen();
  const userTokens = stack.plaid.requestsTo('/link/token/create').flatMap((r) => {
    const t = (r.body as { user_token?: unknown }).user_token;
    return typeof t === 'string' ? [t] : [];
  });
  assert.ok(userTokens.length > 0, 'user tokens were exercised');
  assert.ok(accessTokens.length > 10 && publicTokens.length > 10 && minted.length > 20, 'the suite exercised tokens');
  for (const value of [
    ...accessTokens,
    ...userTokens,
    ...publicTokens,
    ...minted,
    ACME.secret,
    GLOBEX.secret,
    HMAC_KEY,
  ]) {
    assert.ok(!logs.includes(value), `a secret reached a log line: ${value.slice(0, 14)}…`);
    assert.ok(!responses.includes(value), `a secret reached a response: ${value.slice(0, 14)}…`);
  }
});
