// Plaid's webhooks, end to end: the Plaid stand-in signs them as Plaid does and delivers them to
// the URL the service put in its link tokens; the service verifies each one, keeps the Item's
// health, and publishes it to the EventBridge stand-in. Every forgery is a 401 that changes and
// publishes nothing; an outage of the bus is an answer that makes Plaid retry, and nothing is lost.
import assert from 'node:assert/strict';
import { WEBHOOK_EVENT_SOURCE } from '../../infra/webhooks.ts';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { E2E_BUS, functionLogs, startE2eStack, type E2eStack } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const HMAC_KEY = 'webhooks-e2e-client-user-id-key-0123456789abcdef';
const ACME = { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-hooks-secret' };
const GLOBEX = { secretId: 'plaid/globex', clientId: 'globex-client-id', secret: 'globex-hooks-secret' };

let stack: E2eStack;
let issuer: OidcIssuer;

const token = (tenant: string, sub: string) => issuer.mint({ sub, aud: 'hooks-app', tenant });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hookUrl = (tenant: string) => `${stack.apiUrl}/webhooks/plaid/${tenant}`;

/** Links an Item the way an app does: a link token, Link (the stand-in), then POST /items. */
async function linkedItem(sub: string, tenant = 'acme'): Promise<{ itemId: string; accessToken: string }> {
  assert.equal((await stack.call({ token: token(tenant, sub), body: { platform: 'web' } })).status, 200);
  const linkToken = stack.plaid.linkSessions.at(-1)!.link_token;
  const publicToken = stack.plaid.createPublicToken({ linkToken });
  const res = await stack.call({ path: '/items', token: token(tenant, sub), body: { public_token: publicToken } });
  assert.equal(res.status, 201, res.text);
  const itemId = res.json().item_id as string;
  const accessToken = (stack.plaid.requestsTo('/item/get').at(-1)!.body as { access_token: string }).access_token;
  return { itemId, accessToken };
}
async function itemOf(sub: string, itemId: string, tenant = 'acme') {
  const res = await stack.call({ method: 'GET', path: '/items', token: token(tenant, sub) });
  assert.equal(res.status, 200, res.text);
  return (res.json().items as Array<Record<string, any>>).find((i) => i.item_id === itemId)!;
}
async function plaidCall(path: string, body: Record<string, unknown>) {
  const res = await fetch(`${stack.plaid.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: ACME.clientId, secret: ACME.secret, ...body }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await stack.plaid.awaitDeliveries();
}
const lastDelivery = () => stack.plaid.deliveries.at(-1)!;
const rejectedReasons = () =>
  functionLogs(stack)
    .filter((l) => l.event === 'webhook.rejected')
    .map((l) => l.reason);

function itemWebhook(code: string, itemId: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    { environment: 'sandbox', item_id: itemId, webhook_code: code, webhook_type: 'ITEM', ...extra },
    null,
    2,
  );
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
    tenants: ([a]) => {
      const base = (id: string, secretId: string) => ({
        client_name: `Hooks ${id}`,
        plaid: { environment: 'sandbox' as const, secret_id: secretId },
        auth: { issuer: a!.issuer, audience: ['hooks-app'], tenant_claim: { name: 'tenant', value: id } },
        languages: { default: 'en' as const, allowed: ['en' as const] },
        country_codes: ['US' as const],
        profiles: { default: { products: ['transactions' as const], webhook: 'service' } },
      });
      return {
        client_user_id_key_secret_id: KEY_SECRET_ID,
        tenants: {
          acme: base('acme', ACME.secretId),
          globex: base('globex', GLOBEX.secretId),
          initech: base('initech', GLOBEX.secretId),
        },
      };
    },
  });
  issuer = stack.issuers[0]!;
});
after(() => stack?.close());
beforeEach(() => stack.events.clearFaults());

/** The events the function handed on from Plaid's webhooks (the bus also carries its own Item events). */
const plaidEvents = () => stack.events.events.filter((event) => event.Source === WEBHOOK_EVENT_SOURCE);

describe('the loop: link, login required, update mode, healthy', () => {
  test('link tokens of a "service" profile carry this tenant\'s receiver URL', async () => {
    await stack.call({ token: token('acme', 'url'), body: { platform: 'web' } });
    assert.equal(stack.plaid.linkSessions.at(-1)!.webhook, hookUrl('acme'));
    const sent = stack.plaid.requestsTo('/link/token/create').at(-1)!.body as Record<string, unknown>;
    assert.equal(sent.webhook, hookUrl('acme'));
  });

  test('ITEM ERROR (ITEM_LOGIN_REQUIRED) → login_required and "update"; the event reaches the bus; update mode heals it', async () => {
    const { itemId, accessToken } = await linkedItem('pat');
    const before = plaidEvents().length;
    await plaidCall('/sandbox/item/reset_login', { access_token: accessToken });
    const delivery = lastDelivery();
    assert.equal(delivery.url, hookUrl('acme'));
    assert.equal(delivery.status, 200);

    const item = await itemOf('pat', itemId);
    assert.equal(item.status, 'login_required');
    assert.equal(item.action, 'update');

    assert.equal(plaidEvents().length, before + 1);
    const event = plaidEvents().at(-1)!;
    assert.equal(event.EventBusName, E2E_BUS);
    assert.equal(event.Source, 'link-token-service.plaid');
    assert.equal(event.DetailType, 'ITEM.ERROR');
    const detail = event.Detail as Record<string, any>;
    assert.equal(detail.tenant_id, 'acme');
    assert.equal(detail.item_id, itemId);
    assert.equal(
      detail.client_user_id,
      deriveClientUserId({ strategy: 'hmac-sha256', tenantId: 'acme', subject: 'pat', key: HMAC_KEY }),
    );
    assert.equal(detail.event_id, sha256(delivery.body), 'the event id is the body hash');
    assert.deepEqual(detail.webhook, JSON.parse(delivery.body));

    // The user fixes it in update mode: Plaid sends no webhook for that; the list asks Plaid.
    const res = await stack.call({
      token: token('acme', 'pat'),
      body: { platform: 'web', mode: 'update', item_id: itemId },
    });
    assert.equal(res.status, 200);
    stack.plaid.completeUpdateMode(res.json().link_token);
    const healed = await itemOf('pat', itemId);
    assert.equal(healed.status, 'healthy');
    assert.equal(healed.action, 'none');
    assert.equal((await itemOf('pat', itemId)).status, 'healthy', 'stored, not only shown');
  });

  for (const [code, status, action] of [
    ['NEW_ACCOUNTS_AVAILABLE', 'new_accounts_available', 'update_with_account_selection'],
    ['PENDING_DISCONNECT', 'pending_disconnect', 'update'],
    ['USER_PERMISSION_REVOKED', 'revoked', 'relink'],
  ] as const) {
    test(`ITEM ${code} → ${status}, action ${action}`, async () => {
      const { itemId, accessToken } = await linkedItem(`fire-${code}`);
      await plaidCall('/sandbox/item/fire_webhook', {
        access_token: accessToken,
        webhook_type: 'ITEM',
        webhook_code: code,
      });
      assert.equal(lastDelivery().status, 200);
      const item = await itemOf(`fire-${code}`, itemId);
      assert.equal(item.status, status);
      assert.equal(item.action, action);
      assert.equal(plaidEvents().at(-1)!.DetailType, `ITEM.${code}`);
    });
  }

  test('LOGIN_REPAIRED (the bank fixed it without update mode) → healthy', async () => {
    const { itemId, accessToken } = await linkedItem('repaired');
    await plaidCall('/sandbox/item/reset_login', { access_token: accessToken });
    assert.equal((await itemOf('repaired', itemId)).status, 'login_required');
    stack.plaid.repairLoginElsewhere(itemId);
    await stack.plaid.awaitDeliveries();
    assert.equal((await itemOf('repaired', itemId)).status, 'healthy');
  });

  test('PENDING_EXPIRATION → pending_expiration with the consent expiry time', async () => {
    const { itemId } = await linkedItem('expiring');
    const body = itemWebhook('PENDING_EXPIRATION', itemId, { consent_expiration_time: '2027-01-15T00:00:00Z' });
    const res = await stack.plaid.deliverWebhook(hookUrl('acme'), body, stack.plaid.signWebhook(body));
    assert.equal(res.status, 200, res.body);
    const item = await itemOf('expiring', itemId);
    assert.equal(item.status, 'pending_expiration');
    assert.equal(item.consent_expiration_time, '2027-01-15T00:00:00Z');
    assert.equal(item.action, 'update');
  });

  test('a product webhook (TRANSACTIONS) is published, and changes no Item status', async () => {
    const { itemId, accessToken } = await linkedItem('transactions');
    await plaidCall('/sandbox/item/fire_webhook', {
      access_token: accessToken,
      webhook_type: 'TRANSACTIONS',
      webhook_code: 'SYNC_UPDATES_AVAILABLE',
    });
    assert.equal(plaidEvents().at(-1)!.DetailType, 'TRANSACTIONS.SYNC_UPDATES_AVAILABLE');
    assert.equal((await itemOf('transactions', itemId)).status, 'healthy');
  });

  test('last writer wins by the JWT iat: an older webhook arriving late changes nothing', async () => {
    const { itemId } = await linkedItem('ordering');
    const now = Math.floor(Date.now() / 1000);
    const repaired = itemWebhook('LOGIN_REPAIRED', itemId);
    const broken = itemWebhook('ERROR', itemId, {
      error: { error_type: 'ITEM_ERROR', error_code: 'ITEM_LOGIN_REQUIRED', error_message: 'x', display_message: null },
    });
    assert.equal(
      (await stack.plaid.deliverWebhook(hookUrl('acme'), repaired, stack.plaid.signWebhook(repaired, { iat: now })))
        .status,
      200,
    );
    assert.equal(
      (await stack.plaid.deliverWebhook(hookUrl('acme'), broken, stack.plaid.signWebhook(broken, { iat: now - 60 })))
        .status,
      200,
    );
    assert.equal((await itemOf('ordering', itemId)).status, 'healthy');
  });
});

describe('anything unverified: 401, nothing stored or published, one log line with the reason', () => {
  let itemId: string;
  let body: string;
  before(async () => {
    ({ itemId } = await linkedItem('target'));
    body = itemWebhook('USER_PERMISSION_REVOKED', itemId);
  });

  async function expectRefused(header: string | undefined, reason: string, sentBody = body, url = hookUrl('acme')) {
    const events = plaidEvents().length;
    const reasons = rejectedReasons().length;
    const res =
      header === undefined
        ? await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sentBody }).then(
            async (r) => ({ status: r.status, body: await r.text() }),
          )
        : await stack.plaid.deliverWebhook(url, sentBody, header);
    assert.equal(res.status, 401, res.body);
    assert.equal(JSON.parse(res.body).title, 'Webhook not verified');
    assert.equal(plaidEvents().length, events, 'nothing published');
    assert.deepEqual(rejectedReasons().slice(reasons), [reason], 'one log line with the reason');
    assert.equal((await itemOf('target', itemId)).status, 'healthy', 'nothing stored');
  }

  test('no Plaid-Verification header', () => expectRefused(undefined, 'MissingVerificationHeader'));
  test('a header that is not a JWT', () => expectRefused('not-a-jwt', 'MalformedVerificationHeader'));
  test('alg none', () => expectRefused(stack.plaid.signWebhook(body, { alg: 'none' }), 'AlgorithmNotES256'));
  test('HS256 keyed with the public key', () =>
    expectRefused(stack.plaid.signWebhook(body, { alg: 'HS256-public-key' }), 'AlgorithmNotES256'));
  test("a forged signature: a stranger's key under the real kid", () =>
    expectRefused(
      stack.plaid.signWebhook(body, { key: 'unknown', kid: stack.plaid.webhookKeyId }),
      'SignatureInvalid',
    ));
  test('an unknown kid, sent many times, costs Plaid one key lookup', async () => {
    const lookups = stack.plaid.callsTo('/webhook_verification_key/get');
    const header = stack.plaid.signWebhook(body, { key: 'unknown' });
    await expectRefused(header, 'UnknownKid');
    for (let i = 0; i < 5; i++) await expectRefused(header, 'UnknownKid');
    assert.equal(stack.plaid.callsTo('/webhook_verification_key/get') - lookups, 1);
  });
  test('random kids cannot make the function hammer Plaid: a cap per tenant and minute, other tenants unaffected', async () => {
    const lookups = stack.plaid.callsTo('/webhook_verification_key/get');
    for (let i = 0; i < 30; i++) {
      const res = await stack.plaid.deliverWebhook(
        hookUrl('initech'),
        body,
        stack.plaid.signWebhook(body, { key: 'unknown', kid: `forged-${i}` }),
      );
      assert.equal(res.status, 401);
    }
    assert.equal(
      stack.plaid.callsTo('/webhook_verification_key/get') - lookups,
      10,
      'at most 10 new-kid lookups a minute',
    );
    assert.ok(rejectedReasons().includes('KeyFetchBudgetExhausted'));
    // acme's webhooks still verify.
    const fine = JSON.stringify({
      webhook_type: 'TRANSACTIONS',
      webhook_code: 'SYNC_UPDATES_AVAILABLE',
      item_id: itemId,
      environment: 'sandbox',
    });
    assert.equal((await stack.plaid.deliverWebhook(hookUrl('acme'), fine, stack.plaid.signWebhook(fine))).status, 200);
  });
  test('a stale iat (older than 5 minutes)', () =>
    expectRefused(stack.plaid.signWebhook(body, { iat: Math.floor(Date.now() / 1000) - 6 * 60 }), 'JwtTooOld'));
  test('the body changed by one byte after signing', () =>
    expectRefused(stack.plaid.signWebhook(body), 'BodyHashMismatch', body.replace('"sandbox"', '"sandbox "')));
  test('the same body re-serialised with other whitespace', () =>
    expectRefused(stack.plaid.signWebhook(body), 'BodyHashMismatch', JSON.stringify(JSON.parse(body))));
  test('a webhook for a tenant that does not exist', () =>
    expectRefused(stack.plaid.signWebhook(body), 'UnknownTenant', body, hookUrl('nobody')));
  test('a key Plaid has expired (rotation)', async () => {
    stack.plaid.rotateWebhookKey();
    // The new key verifies at once.
    const fresh = itemWebhook('WEBHOOK_UPDATE_ACKNOWLEDGED', itemId, { new_webhook_url: hookUrl('acme'), error: null });
    assert.equal(
      (await stack.plaid.deliverWebhook(hookUrl('acme'), fresh, stack.plaid.signWebhook(fresh))).status,
      200,
    );
    await expectRefused(stack.plaid.signWebhook(body, { key: 'expired' }), 'KeyExpired');
  });
});

describe('replays, other tenants, malformed input', () => {
  test('a replay of a processed webhook is acknowledged and not processed twice', async () => {
    const { itemId } = await linkedItem('replay');
    const body = itemWebhook('NEW_ACCOUNTS_AVAILABLE', itemId);
    const header = stack.plaid.signWebhook(body);
    const events = plaidEvents().length;
    const first = await stack.plaid.deliverWebhook(hookUrl('acme'), body, header);
    const second = await stack.plaid.deliverWebhook(hookUrl('acme'), body, header);
    assert.deepEqual([first.status, JSON.parse(first.body).status], [200, 'processed']);
    assert.deepEqual([second.status, JSON.parse(second.body).status], [200, 'replayed']);
    assert.equal(plaidEvents().length, events + 1);
  });

  test("a webhook on another tenant's path changes no record of the Item's tenant", async () => {
    const { itemId } = await linkedItem('cross');
    const body = itemWebhook('USER_PERMISSION_REVOKED', itemId);
    const res = await stack.plaid.deliverWebhook(hookUrl('globex'), body, stack.plaid.signWebhook(body));
    assert.equal(res.status, 200, res.body);
    assert.equal((await itemOf('cross', itemId)).status, 'healthy');
    const detail = plaidEvents().at(-1)!.Detail as Record<string, unknown>;
    assert.equal(detail.tenant_id, 'globex');
    assert.equal(detail.client_user_id, undefined, 'no owner is named for an Item the tenant does not have');
  });

  test('no 5xx for malformed headers or bodies', async () => {
    const signedNotJson = stack.plaid.signWebhook('not json');
    const cases: Array<[string, string | undefined]> = [
      ['{}', 'eyJhbGciOiJFUzI1NiJ9.e30.'],
      ['', stack.plaid.signWebhook('')],
      ['not json', signedNotJson],
      ['[]', stack.plaid.signWebhook('[]')],
      ['{"webhook_type":1}', stack.plaid.signWebhook('{"webhook_type":1}')],
      ['{}', 'a.b.c.d'],
      ['{}', `${'x'.repeat(5000)}.y.z`],
      ['\u0000\uFFFF', 'eyJ.eyJ.'],
    ];
    for (const [body, header] of cases) {
      const res = await stack.plaid.deliverWebhook(hookUrl('acme'), body, header ?? '');
      assert.ok(
        res.status >= 400 && res.status < 500,
        `${JSON.stringify(body)} / ${header?.slice(0, 20)}: ${res.status} ${res.body}`,
      );
    }
    const huge = JSON.stringify({ webhook_type: 'ITEM', webhook_code: 'X', pad: 'x'.repeat(70 * 1024) });
    assert.equal((await stack.plaid.deliverWebhook(hookUrl('acme'), huge, stack.plaid.signWebhook(huge))).status, 413);
    const get = await fetch(hookUrl('acme'));
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('access-control-allow-origin'), null, 'no CORS');
  });
});

describe('the bus failing', () => {
  test('EventBridge down: 503 so that Plaid retries; the retry is processed and published once', async () => {
    const { itemId } = await linkedItem('outage');
    const body = itemWebhook('NEW_ACCOUNTS_AVAILABLE', itemId);
    const header = stack.plaid.signWebhook(body);
    stack.events.failNext(4, 'internal');
    const events = plaidEvents().length;
    const failed = await stack.plaid.deliverWebhook(hookUrl('acme'), body, header);
    assert.equal(failed.status, 503, failed.body);
    assert.ok(functionLogs(stack).some((l) => l.event === 'webhook.publish_failed'));
    stack.events.clearFaults();
    const retried = await stack.plaid.deliverWebhook(hookUrl('acme'), body, header);
    assert.deepEqual([retried.status, JSON.parse(retried.body).status], [200, 'processed']);
    assert.equal(plaidEvents().length, events + 1);
  });
  test('a partial failure (FailedEntryCount) is a failure too', async () => {
    const { itemId } = await linkedItem('partial');
    const body = itemWebhook('NEW_ACCOUNTS_AVAILABLE', itemId);
    stack.events.failNextEntries(1, 'InternalFailure');
    assert.equal((await stack.plaid.deliverWebhook(hookUrl('acme'), body, stack.plaid.signWebhook(body))).status, 503);
  });
});

test('no access token or verification header in any response or log line', () => {
  const logs = stack.logLines.join('\n');
  const accessTokens = stack.plaid
    .requestsTo('/item/get')
    .map((r) => (r.body as { access_token: string }).access_token);
  const headers = stack.plaid.deliveries
    .map((d) => d.headers['plaid-verification'])
    .filter((h): h is string => typeof h === 'string');
  assert.ok(accessTokens.length > 5 && headers.length > 3);
  for (const value of [...accessTokens, ...headers])
    assert.ok(!logs.includes(value), `${value.slice(0, 12)}… reached a log line`);
  for (const value of accessTokens) assert.ok(!stack.transcripts.join('\n').includes(value));
});
