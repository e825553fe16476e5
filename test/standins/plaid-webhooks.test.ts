import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { startPlaidStandIn } from '../../local/standins/plaid.ts';
import type { PlaidStandIn } from '../../local/standins/plaid.ts';

const CLIENT_ID = 'client-hooks';
const SECRET = 'secret-hooks';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

let plaid: PlaidStandIn;
let receiver: Server;
let hookUrl: string;
const received: Received[] = [];
let receiverStatus = 200;
let receiverDelayMs = 0;

before(async () => {
  plaid = await startPlaidStandIn({ credentials: { [CLIENT_ID]: SECRET } });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks) });
      setTimeout(() => res.writeHead(receiverStatus).end('thanks'), receiverDelayMs);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/plaid/tenant-a`;
});
beforeEach(() => {
  plaid.reset();
  received.length = 0;
  receiverStatus = 200;
  receiverDelayMs = 0;
});
after(async () => {
  await plaid.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

async function call(
  path: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${plaid.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'plaid-client-id': CLIENT_ID, 'plaid-secret': SECRET },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Verdict = { ok: true; payload: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Plaid's webhook verification guide, step by step, against the stand-in over HTTP: read the JWT
 * header, accept only ES256, fetch the key by kid, verify the signature and a fresh iat, refuse a
 * key that had expired before iat, and compare the body hash in constant time.
 */
async function verifyPlaidWebhook(raw: Buffer, header: string | undefined): Promise<Verdict> {
  if (!header) return { ok: false, reason: 'missing header' };
  let protectedHeader;
  try {
    protectedHeader = decodeProtectedHeader(header);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (protectedHeader.alg !== 'ES256') return { ok: false, reason: 'alg' };
  if (typeof protectedHeader.kid !== 'string') return { ok: false, reason: 'kid' };
  const answer = await call('/webhook_verification_key/get', { key_id: protectedHeader.kid });
  if (answer.status !== 200) return { ok: false, reason: `key ${String(answer.body.error_code)}` };
  const jwk = answer.body.key as { expired_at: number | null } & Parameters<typeof importJWK>[0];
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(header, await importJWK(jwk, 'ES256'), {
      algorithms: ['ES256'],
      maxTokenAge: '5 min',
    }));
  } catch (err) {
    return { ok: false, reason: (err as { code?: string }).code ?? String(err) };
  }
  if (jwk.expired_at !== null && (payload.iat as number) > jwk.expired_at) return { ok: false, reason: 'key expired' };
  const expected = Buffer.from(createHash('sha256').update(raw).digest('hex'));
  const claimed = Buffer.from(String(payload.request_body_sha256));
  if (claimed.length !== expected.length || !timingSafeEqual(claimed, expected))
    return { ok: false, reason: 'body hash' };
  return { ok: true, payload };
}

/** An Item created through a link token that carries our receiver's URL, as Link would create it. */
async function itemViaLink(opts: { products?: string[]; userToken?: string } = {}) {
  const link = await call('/link/token/create', {
    client_name: 'Budget App',
    language: 'en',
    country_codes: ['US'],
    user: { client_user_id: 'user-hooks' },
    products: opts.products ?? ['transactions'],
    webhook: hookUrl,
    ...(opts.userToken && { user_token: opts.userToken }),
  });
  assert.equal(link.status, 200, JSON.stringify(link.body));
  const linkToken = String(link.body.link_token);
  const publicToken = plaid.createPublicToken({ linkToken });
  const exchanged = await call('/item/public_token/exchange', { public_token: publicToken });
  assert.equal(exchanged.status, 200);
  return { linkToken, access_token: String(exchanged.body.access_token), item_id: String(exchanged.body.item_id) };
}

async function onlyDelivery(): Promise<{ body: Record<string, unknown>; received: Received }> {
  await plaid.awaitDeliveries();
  assert.equal(received.length, 1, `expected one webhook, got ${received.length}`);
  const [got] = received as [Received];
  const verdict = await verifyPlaidWebhook(got.raw, got.headers['plaid-verification'] as string | undefined);
  assert.deepEqual(verdict.ok, true, JSON.stringify(verdict));
  return { body: JSON.parse(got.raw.toString('utf8')) as Record<string, unknown>, received: got };
}

test("reset_login sends a signed ITEM ERROR ITEM_LOGIN_REQUIRED webhook to the link token's URL, verifiable per Plaid's guide", async () => {
  const { access_token, item_id } = await itemViaLink();
  const answer = await call('/sandbox/item/reset_login', { access_token });
  assert.equal(answer.status, 200);

  const { body, received: got } = await onlyDelivery();
  assert.equal(got.path, '/webhooks/plaid/tenant-a');
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(body.webhook_type, 'ITEM');
  assert.equal(body.webhook_code, 'ERROR');
  assert.equal(body.item_id, item_id);
  assert.equal(body.environment, 'sandbox');
  assert.equal((body.error as Record<string, unknown>).error_code, 'ITEM_LOGIN_REQUIRED');
  assert.equal((body.error as Record<string, unknown>).error_type, 'ITEM_ERROR');
  assert.ok(!got.raw.toString().includes(access_token));

  // The JWS header is what Plaid sends; the hash covers the exact (pretty-printed) bytes, so a
  // receiver that re-serialises the JSON before hashing would fail.
  const header = String(got.headers['plaid-verification']);
  assert.deepEqual(decodeProtectedHeader(header), { alg: 'ES256', kid: plaid.webhookKeyId, typ: 'JWT' });
  assert.notEqual(JSON.stringify(body), got.raw.toString('utf8'));
  assert.equal(plaid.callsTo('/webhook_verification_key/get'), 1);

  const [delivery] = plaid.deliveries;
  assert.equal(delivery?.url, `${hookUrl}`);
  assert.equal(delivery?.status, 200);
  assert.equal(delivery?.body, got.raw.toString('utf8'));
  assert.equal(delivery?.headers['plaid-verification'], header);
});

test('the verification key is a P-256 JWK with created_at; an unknown key_id is INVALID_WEBHOOK_VERIFICATION_KEY_ID', async () => {
  const before = Math.floor(Date.now() / 1000);
  const { status, body } = await call('/webhook_verification_key/get', { key_id: plaid.webhookKeyId });
  assert.equal(status, 200);
  const key = body.key as Record<string, unknown>;
  assert.deepEqual(Object.keys(key).sort(), ['alg', 'created_at', 'crv', 'expired_at', 'kid', 'kty', 'use', 'x', 'y']);
  assert.deepEqual(
    { alg: key.alg, crv: key.crv, kty: key.kty, use: key.use, kid: key.kid, expired_at: key.expired_at },
    { alg: 'ES256', crv: 'P-256', kty: 'EC', use: 'sig', kid: plaid.webhookKeyId, expired_at: null },
  );
  assert.ok(Number.isInteger(key.created_at) && (key.created_at as number) <= before + 1);
  assert.match(String(body.request_id), /^[A-Za-z0-9]{15}$/);

  const unknown = await call('/webhook_verification_key/get', { key_id: crypto.randomUUID() });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error_type, 'INVALID_INPUT');
  assert.equal(unknown.body.error_code, 'INVALID_WEBHOOK_VERIFICATION_KEY_ID');
  assert.equal((await call('/webhook_verification_key/get', {})).body.error_code, 'MISSING_FIELDS');
  assert.equal(plaid.callsTo('/webhook_verification_key/get'), 3);
});

test('rotateWebhookKey: new deliveries use the new kid, the old key is still served with expired_at', async () => {
  const { access_token } = await itemViaLink();
  const oldKid = plaid.webhookKeyId;
  const newKid = plaid.rotateWebhookKey();
  assert.notEqual(newKid, oldKid);
  assert.equal(plaid.webhookKeyId, newKid);

  const old = await call('/webhook_verification_key/get', { key_id: oldKid });
  assert.equal(old.status, 200);
  const expiredAt = (old.body.key as { expired_at: unknown }).expired_at;
  assert.ok(Number.isInteger(expiredAt) && Math.abs((expiredAt as number) - Date.now() / 1000) < 5, String(expiredAt));
  assert.equal(
    ((await call('/webhook_verification_key/get', { key_id: newKid })).body.key as { expired_at: unknown }).expired_at,
    null,
  );

  await call('/sandbox/item/fire_webhook', { access_token, webhook_code: 'NEW_ACCOUNTS_AVAILABLE' });
  const { received: got } = await onlyDelivery();
  assert.equal(decodeProtectedHeader(String(got.headers['plaid-verification'])).kid, newKid);
});

test("fire_webhook sends each supported code's body to the Item's webhook and answers webhook_fired", async () => {
  const { access_token, item_id } = await itemViaLink();
  const cases: Array<[string | undefined, string, string, string[]]> = [
    [undefined, 'NEW_ACCOUNTS_AVAILABLE', 'ITEM', []],
    ['ITEM', 'PENDING_DISCONNECT', 'ITEM', ['reason', 'disconnect_time']],
    ['ITEM', 'USER_PERMISSION_REVOKED', 'ITEM', []],
    ['ITEM', 'USER_ACCOUNT_REVOKED', 'ITEM', ['account_id']],
    ['ITEM', 'LOGIN_REPAIRED', 'ITEM', []],
    [
      'TRANSACTIONS',
      'SYNC_UPDATES_AVAILABLE',
      'TRANSACTIONS',
      ['initial_update_complete', 'historical_update_complete'],
    ],
    [undefined, 'DEFAULT_UPDATE', 'TRANSACTIONS', ['new_transactions']],
  ];
  for (const [type, code, expectedType, fields] of cases) {
    received.length = 0;
    const answer = await call('/sandbox/item/fire_webhook', {
      access_token,
      webhook_code: code,
      ...(type && { webhook_type: type }),
    });
    assert.equal(answer.status, 200, `${code}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.webhook_fired, true);
    const { body } = await onlyDelivery();
    assert.equal(body.webhook_type, expectedType, code);
    assert.equal(body.webhook_code, code);
    assert.equal(body.item_id, item_id);
    assert.equal(body.environment, 'sandbox');
    for (const field of fields) assert.ok(body[field] !== undefined, `${code} carries ${field}`);
  }
  assert.equal(plaid.callsTo('/sandbox/item/fire_webhook'), cases.length);
});

test('fire_webhook refuses what Plaid refuses: no webhook, product not enabled, codes outside the enum', async () => {
  const bare = plaid.createItem({ clientId: CLIENT_ID });
  const noHook = await call('/sandbox/item/fire_webhook', {
    access_token: bare.access_token,
    webhook_code: 'NEW_ACCOUNTS_AVAILABLE',
  });
  assert.equal(noHook.status, 400);
  assert.equal(noHook.body.error_code, 'SANDBOX_WEBHOOK_INVALID');

  const { access_token } = await itemViaLink({ products: ['auth'] });
  const noProduct = await call('/sandbox/item/fire_webhook', {
    access_token,
    webhook_type: 'TRANSACTIONS',
    webhook_code: 'SYNC_UPDATES_AVAILABLE',
  });
  assert.equal(noProduct.body.error_code, 'SANDBOX_PRODUCT_NOT_ENABLED');
  // PENDING_EXPIRATION exists as a webhook but the sandbox cannot fire it.
  for (const body of [
    { webhook_code: 'PENDING_EXPIRATION' },
    { webhook_type: 'ITEM', webhook_code: 'SYNC_UPDATES_AVAILABLE' },
    { webhook_type: 'NOPE', webhook_code: 'LOGIN_REPAIRED' },
  ]) {
    const answer = await call('/sandbox/item/fire_webhook', { access_token, ...body });
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal(answer.body.error_code, 'INVALID_FIELD');
  }
  assert.equal((await call('/sandbox/item/fire_webhook', { access_token })).body.error_code, 'MISSING_FIELDS');
  await plaid.awaitDeliveries();
  assert.equal(received.length, 0);
});

test('resetLogin(item_id) does what /sandbox/item/reset_login does: the same error and the same signed ITEM ERROR webhook', async () => {
  const viaEndpoint = await itemViaLink();
  await call('/sandbox/item/reset_login', { access_token: viaEndpoint.access_token });
  const { body: fromEndpoint } = await onlyDelivery();
  received.length = 0;

  const viaHelper = await itemViaLink();
  plaid.resetLogin(viaHelper.item_id);
  const { body: fromHelper, received: got } = await onlyDelivery();
  assert.equal(got.path, '/webhooks/plaid/tenant-a');
  assert.equal(plaid.item(viaHelper.item_id)?.error_code, 'ITEM_LOGIN_REQUIRED');
  const item = await call('/item/get', { access_token: viaHelper.access_token });
  assert.equal((item.body.item as { error: { error_code: string } }).error.error_code, 'ITEM_LOGIN_REQUIRED');
  const withoutIds = (b: Record<string, unknown>) => ({
    ...b,
    item_id: undefined,
    error: { ...(b.error as object), request_id: undefined },
  });
  assert.equal(fromHelper.item_id, viaHelper.item_id);
  assert.deepEqual(withoutIds(fromHelper), withoutIds(fromEndpoint));

  await call('/item/remove', { access_token: viaHelper.access_token });
  assert.throws(() => plaid.resetLogin(viaHelper.item_id), /not a live Item/);
  assert.throws(() => plaid.resetLogin('no-such-item'), /not a live Item/);
});

test('update mode in this app repairs the Item silently; a repair elsewhere sends LOGIN_REPAIRED', async () => {
  const { access_token, item_id } = await itemViaLink();
  await call('/sandbox/item/reset_login', { access_token });
  await plaid.awaitDeliveries();
  received.length = 0;

  const update = await call('/link/token/create', {
    client_name: 'Budget App',
    language: 'en',
    country_codes: ['US'],
    user: { client_user_id: 'user-hooks' },
    access_token,
  });
  plaid.completeUpdateMode(String(update.body.link_token));
  await plaid.awaitDeliveries();
  assert.equal(plaid.item(item_id)?.error_code, null);
  assert.equal(received.length, 0, 'Plaid sends LOGIN_REPAIRED only for a repair outside update mode in your app');

  await call('/sandbox/item/reset_login', { access_token });
  await plaid.awaitDeliveries();
  received.length = 0;
  plaid.repairLoginElsewhere(item_id);
  const { body } = await onlyDelivery();
  assert.deepEqual([body.webhook_type, body.webhook_code, body.item_id], ['ITEM', 'LOGIN_REPAIRED', item_id]);
  assert.equal(plaid.item(item_id)?.error_code, null);
});

test('createPublicToken({ linkToken }) takes client, webhook, Plaid user and products from the link session', async () => {
  const user = await call('/user/create', { client_user_id: 'user-hooks' });
  const { item_id, linkToken } = await itemViaLink({ userToken: String(user.body.user_token) });
  const snapshot = plaid.item(item_id);
  assert.equal(snapshot?.webhook, hookUrl);
  assert.equal(snapshot?.client_id, CLIENT_ID);
  assert.equal(snapshot?.user_id, user.body.user_id);
  assert.deepEqual(snapshot?.billed_products, ['transactions']);
  assert.deepEqual(plaid.item((await itemViaLink({ products: ['auth'] })).item_id)?.billed_products, ['auth']);
  assert.equal(plaid.linkSessions[0]?.webhook, hookUrl);
  assert.throws(() => plaid.createPublicToken({ linkToken, webhook: 'https://elsewhere.example/hook' }), /webhook/);
  assert.throws(() => plaid.createPublicToken({ linkToken: 'link-sandbox-unknown' }), /not a link token/);

  const { access_token } = await itemViaLink();
  const update = await call('/link/token/create', {
    client_name: 'Budget App',
    language: 'en',
    country_codes: ['US'],
    user: { client_user_id: 'user-hooks' },
    access_token,
  });
  assert.throws(() => plaid.createPublicToken({ linkToken: String(update.body.link_token) }), /update-mode/);

  // An Item's webhook carries its Plaid user_id.
  const mine = plaid.createItem({ linkToken });
  await call('/sandbox/item/fire_webhook', {
    access_token: mine.access_token,
    webhook_code: 'USER_PERMISSION_REVOKED',
  });
  assert.equal((await onlyDelivery()).body.user_id, user.body.user_id);
});

test("/item/webhook/update moves the Item's webhooks to the new URL, which gets WEBHOOK_UPDATE_ACKNOWLEDGED", async () => {
  const { access_token, item_id } = await itemViaLink();
  const moved = `${hookUrl}-v2`;
  const answer = await call('/item/webhook/update', { access_token, webhook: moved });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal((answer.body.item as Record<string, unknown>).webhook, moved);
  const { body, received: got } = await onlyDelivery();
  assert.equal(got.path, '/webhooks/plaid/tenant-a-v2');
  assert.deepEqual(
    [body.webhook_code, body.new_webhook_url, body.item_id],
    ['WEBHOOK_UPDATE_ACKNOWLEDGED', moved, item_id],
  );

  assert.equal(
    (await call('/item/webhook/update', { access_token, webhook: 'not a url' })).body.error_code,
    'INVALID_FIELD',
  );
  assert.equal((await call('/item/webhook/update', { access_token, webhook: null })).status, 200);
  assert.equal(plaid.item(item_id)?.webhook, null);
});

test('deliveries go out after the API answer and awaitDeliveries waits for slow or failing receivers', async () => {
  const { access_token } = await itemViaLink();
  receiverDelayMs = 150;
  receiverStatus = 503;
  const answer = await call('/sandbox/item/fire_webhook', { access_token, webhook_code: 'NEW_ACCOUNTS_AVAILABLE' });
  assert.equal(answer.status, 200);
  assert.equal(plaid.deliveries[0]?.status, undefined, 'the API answered before the receiver did');
  await plaid.awaitDeliveries();
  assert.equal(plaid.deliveries[0]?.status, 503);

  await call('/item/webhook/update', { access_token, webhook: 'http://127.0.0.1:1/closed' });
  await plaid.awaitDeliveries();
  const failed = plaid.deliveries.at(-1);
  assert.equal(failed?.url, 'http://127.0.0.1:1/closed');
  assert.equal(failed?.status, undefined);
  assert.ok(failed?.error, 'a refused connection is recorded as an error');
});

test('forgery helpers: each forged header fails verification for its own reason, the genuine one passes', async () => {
  const body = JSON.stringify(
    { webhook_type: 'ITEM', webhook_code: 'USER_PERMISSION_REVOKED', item_id: 'x', environment: 'sandbox' },
    null,
    2,
  );
  const raw = Buffer.from(body);
  const reason = async (header: string) => {
    const verdict = await verifyPlaidWebhook(raw, header);
    return verdict.ok ? 'ok' : verdict.reason;
  };
  assert.equal(await reason(plaid.signWebhook(body)), 'ok');
  assert.equal(await reason(plaid.signWebhook(body, { alg: 'none' })), 'alg');
  assert.equal(await reason(plaid.signWebhook(body, { alg: 'HS256-public-key' })), 'alg');
  assert.equal(await reason(plaid.signWebhook(body, { key: 'unknown' })), 'key INVALID_WEBHOOK_VERIFICATION_KEY_ID');
  // A stranger's key presented under the real kid: the signature does not check out.
  assert.equal(
    await reason(plaid.signWebhook(body, { key: 'unknown', kid: plaid.webhookKeyId })),
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  );
  assert.equal(await reason(plaid.signWebhook(body, { iat: Math.floor(Date.now() / 1000) - 600 })), 'ERR_JWT_EXPIRED');
  assert.equal(await reason(plaid.signWebhook(body, { bodyHashOf: `${body} ` })), 'body hash');
  const fresh = await startPlaidStandIn();
  try {
    assert.throws(
      () => fresh.signWebhook(body, { key: 'expired' }),
      /rotateWebhookKey/,
      'no key has expired before any rotation',
    );
  } finally {
    await fresh.close();
  }

  const oldKid = plaid.webhookKeyId;
  const signedBefore = plaid.signWebhook(body);
  plaid.rotateWebhookKey();
  // expired_at has one-second resolution: wait until "now" is past it, so iat > expired_at.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal(await reason(plaid.signWebhook(body, { key: 'expired' })), 'key expired');
  assert.equal(decodeProtectedHeader(plaid.signWebhook(body, { key: 'expired' })).kid, oldKid);
  assert.equal(await reason(signedBefore), 'ok', 'a webhook signed before the rotation still verifies');

  const posted = await plaid.deliverWebhook(hookUrl, body, plaid.signWebhook(body, { alg: 'none' }));
  assert.deepEqual(posted, { status: 200, body: 'thanks' });
  assert.equal(received[0]?.raw.toString('utf8'), body);
  assert.equal(await reason(String(received[0]?.headers['plaid-verification'])), 'alg');
  assert.equal(plaid.deliveries.length, 0, "hand-made deliveries are not recorded as the stand-in's own");
});

// ---- Hosted Link and Multi-Item Link sessions: the LINK webhooks ----

const LINK_SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PUBLIC_TOKEN = /^public-sandbox-[0-9a-f-]{36}$/;

async function sessionToken(extra: Record<string, unknown>): Promise<string> {
  const link = await call('/link/token/create', {
    client_name: 'Budget App',
    language: 'en',
    country_codes: ['US'],
    user: { client_user_id: 'user-hooks' },
    products: ['transactions'],
    webhook: hookUrl,
    ...extra,
  });
  assert.equal(link.status, 200, JSON.stringify(link.body));
  return String(link.body.link_token);
}

/** Every webhook received so far, each verified per Plaid's guide, parsed. */
async function verifiedBodies(): Promise<Record<string, unknown>[]> {
  await plaid.awaitDeliveries();
  const bodies = [];
  for (const got of received) {
    const verdict = await verifyPlaidWebhook(got.raw, got.headers['plaid-verification'] as string | undefined);
    assert.deepEqual(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(got.path, '/webhooks/plaid/tenant-a');
    assert.equal(got.headers['content-type'], 'application/json');
    bodies.push(JSON.parse(got.raw.toString('utf8')) as Record<string, unknown>);
  }
  return bodies;
}

/** What ItemAddResultWebhook requires, field by field. */
function assertItemAddResult(body: Record<string, unknown>, linkToken: string, sessionId: string, publicToken: string) {
  assert.equal(body.webhook_type, 'LINK');
  assert.equal(body.webhook_code, 'ITEM_ADD_RESULT');
  assert.equal(body.link_session_id, sessionId);
  assert.equal(body.link_token, linkToken);
  assert.equal(body.public_token, publicToken);
  assert.match(String(body.public_token), PUBLIC_TOKEN);
  assert.equal(body.environment, 'sandbox');
}

/** What LinkSessionFinishedWebhook requires, field by field (public_tokens is what a SUCCESS carries). */
function assertSessionFinished(
  body: Record<string, unknown>,
  linkToken: string,
  sessionId: string,
  status: 'SUCCESS' | 'EXITED',
) {
  assert.equal(body.webhook_type, 'LINK');
  assert.equal(body.webhook_code, 'SESSION_FINISHED');
  assert.equal(body.status, status);
  assert.equal(body.link_session_id, sessionId);
  assert.match(String(body.link_session_id), LINK_SESSION_ID);
  assert.equal(body.link_token, linkToken);
  assert.equal(body.environment, 'sandbox');
  assert.equal(body.public_token, undefined, 'the deprecated single public_token is not sent');
}

test('a Hosted Link session sends a signed LINK ITEM_ADD_RESULT, then SESSION_FINISHED with public_tokens', async () => {
  const linkToken = await sessionToken({ hosted_link: {} });
  const outcome = await plaid.runLinkSession(linkToken, { institutionIds: ['ins_109510'] });
  assert.equal(outcome.status, 'SUCCESS');
  assert.equal(outcome.no_webhooks_because, undefined);
  assert.deepEqual(
    outcome.deliveries.map((d) => d.status),
    [200, 200],
    'both were answered before runLinkSession resolved',
  );
  const [added, finished, ...more] = await verifiedBodies();
  assert.deepEqual(more, []);
  assert.equal(outcome.items.length, 1);
  const publicToken = outcome.items[0]!.public_token;
  assertItemAddResult(added!, linkToken, outcome.link_session_id, publicToken);
  assert.deepEqual(Object.keys(added!).sort(), [
    'environment',
    'link_session_id',
    'link_token',
    'public_token',
    'webhook_code',
    'webhook_type',
  ]);
  assertSessionFinished(finished!, linkToken, outcome.link_session_id, 'SUCCESS');
  assert.deepEqual(finished!.public_tokens, [publicToken]);
  assert.equal(finished!.user_id, undefined, 'no Plaid user on this link token');
  // Pretty-printed with sorted keys, as every webhook body of the stand-in.
  assert.equal(received[1]!.raw.toString('utf8'), JSON.stringify(finished, Object.keys(finished!).sort(), 2));

  // The public token is one the API exchanges, for an Item that sends its webhooks to the same URL.
  const exchanged = await call('/item/public_token/exchange', { public_token: publicToken });
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
  const item = plaid.item(String(exchanged.body.item_id))!;
  assert.deepEqual([item.institution_id, item.webhook], ['ins_109510', hookUrl]);
});

test('a Multi-Item Link session sends one ITEM_ADD_RESULT per Item in order, then SESSION_FINISHED with them all and the user_id', async () => {
  const user = await call('/user/create', { client_user_id: 'user-multi-item' });
  assert.match(String(user.body.user_id), /^usr_/);
  const linkToken = await sessionToken({
    enable_multi_item_link: true,
    user: { client_user_id: 'user-multi-item' },
    user_id: user.body.user_id,
  });
  const outcome = await plaid.runLinkSession(linkToken, { institutionIds: ['ins_109508', 'ins_109509', 'ins_109511'] });
  const bodies = await verifiedBodies();
  assert.deepEqual(
    bodies.map((b) => b.webhook_code),
    ['ITEM_ADD_RESULT', 'ITEM_ADD_RESULT', 'ITEM_ADD_RESULT', 'SESSION_FINISHED'],
  );
  const tokens = outcome.items.map((i) => i.public_token);
  assert.equal(new Set(tokens).size, 3);
  bodies.slice(0, 3).forEach((b, i) => assertItemAddResult(b, linkToken, outcome.link_session_id, tokens[i]!));
  assertSessionFinished(bodies[3]!, linkToken, outcome.link_session_id, 'SUCCESS');
  assert.deepEqual(bodies[3]!.public_tokens, tokens);
  assert.equal(bodies[3]!.user_id, user.body.user_id);
  assert.deepEqual(
    outcome.items.map((i) => [i.institution_id, i.institution_name]),
    [
      ['ins_109508', 'First Platypus Bank'],
      ['ins_109509', 'First Gingham Credit Union'],
      ['ins_109511', 'Tartan Bank'],
    ],
  );
  for (const token of tokens) {
    const { body } = await call('/item/public_token/exchange', { public_token: token });
    assert.equal(plaid.item(String(body.item_id))?.user_id, user.body.user_id, "each Item is the Plaid user's");
  }
});

test('an exited session sends SESSION_FINISHED with status EXITED and no public_tokens; an open one sends nothing', async () => {
  const linkToken = await sessionToken({ hosted_link: {} });
  const open = await plaid.runLinkSession(linkToken, { outcome: 'in-progress' });
  assert.deepEqual([open.status, open.no_webhooks_because, open.deliveries], [null, 'not finished', []]);
  const exited = await plaid.runLinkSession(linkToken, { outcome: 'exited' });
  const [finished, ...more] = await verifiedBodies();
  assert.deepEqual(more, []);
  assertSessionFinished(finished!, linkToken, exited.link_session_id, 'EXITED');
  assert.equal('public_tokens' in finished!, false);
});

test('webhooks: false withholds them; a plain link token or one without a webhook URL gets none; /link/token/get still tells', async () => {
  const hosted = await sessionToken({ hosted_link: {} });
  const withheld = await plaid.runLinkSession(hosted, { webhooks: false });
  const plain = await plaid.runLinkSession(await sessionToken({}));
  const noUrl = await plaid.runLinkSession(await sessionToken({ hosted_link: {}, webhook: undefined }));
  await plaid.awaitDeliveries();
  assert.equal(received.length, 0);
  assert.deepEqual(
    [withheld.no_webhooks_because, plain.no_webhooks_because, noUrl.no_webhooks_because],
    ['withheld', 'not Hosted Link or Multi-Item Link', 'no webhook URL'],
  );
  const got = await call('/link/token/get', { link_token: hosted });
  const sessions = got.body.link_sessions as Array<{
    link_session_id: string;
    results: { item_add_results: Array<{ public_token: string }> };
  }>;
  assert.deepEqual(
    sessions.map((s) => [s.link_session_id, s.results.item_add_results.map((r) => r.public_token)]),
    [[withheld.link_session_id, [withheld.items[0]!.public_token]]],
  );
});

test('a failing receiver is recorded per webhook and the next one is still sent', async () => {
  receiverStatus = 500;
  const linkToken = await sessionToken({ hosted_link: {} });
  const outcome = await plaid.runLinkSession(linkToken);
  assert.deepEqual(
    outcome.deliveries.map((d) => [JSON.parse(d.body).webhook_code, d.status]),
    [
      ['ITEM_ADD_RESULT', 500],
      ['SESSION_FINISHED', 500],
    ],
  );
  assert.equal(received.length, 2);
  assert.deepEqual(plaid.deliveries, outcome.deliveries);
});
