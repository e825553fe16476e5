// The local stack's dev-only Link routes (local/dev-plaid-link.ts) over real HTTP, served by the
// local API server as `npm start` serves them, against a Plaid stand-in and a loopback webhook
// receiver: what a hosted page or Link's onSuccess would do, and nothing secret in the answers.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Configuration, CountryCode, PlaidApi } from 'plaid';
import type { Tenant } from '../../lambda/config/tenant-schema.ts';
import { devLinkSession, devLinkSuccess, simulateLoginRequired } from '../../local/dev-plaid-link.ts';
import { startLocalApiServer, type LocalApiServer } from '../../local/server.ts';
import { startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';

const CLIENT_ID = 'client-dev-routes';
const SECRET = 'secret-dev-routes';

let plaid: PlaidStandIn;
let server: LocalApiServer;
let withoutStandIn: LocalApiServer;
let receiver: Server;
let hookUrl: string;
const received: Array<Record<string, unknown>> = [];

// The one thing of the tenant the success route reads: its default profile's products.
const tenant = { profiles: { default: { products: ['transactions'] } } } as unknown as Tenant;

before(async () => {
  plaid = await startPlaidStandIn({ credentials: { [CLIENT_ID]: SECRET } });
  const ctx = {
    plaid,
    plaidBaseUrl: plaid.url,
    keysFor: () => ({ keys: { client_id: CLIENT_ID, secret: SECRET }, tenant }),
  };
  const routes = (p: PlaidStandIn | undefined) => ({
    '/dev/plaid-link/success': (body: unknown) => devLinkSuccess(body, { ...ctx, plaid: p }),
    '/dev/plaid-link/session': (body: unknown) => devLinkSession(body, p),
    '/dev/simulate/login-required': (body: unknown) => simulateLoginRequired(body, p),
  });
  server = await startLocalApiServer({ functionTimeoutMs: 1000, devRoutes: routes(plaid) });
  withoutStandIn = await startLocalApiServer({ functionTimeoutMs: 1000, devRoutes: routes(undefined) });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/plaid/demo`;
});
beforeEach(() => {
  plaid.reset();
  received.length = 0;
});
after(async () => {
  await server?.close();
  await withoutStandIn?.close();
  await plaid?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const sdk = () =>
  new PlaidApi(
    new Configuration({
      basePath: plaid.url,
      baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET } },
    }),
  );

async function post(
  path: string,
  body: unknown,
  base = server.url,
): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

async function linkToken(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${plaid.url}/link/token/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'plaid-client-id': CLIENT_ID, 'plaid-secret': SECRET },
    body: JSON.stringify({
      client_name: 'Demo',
      language: 'en',
      country_codes: ['US'],
      user: { client_user_id: 'dev-user' },
      products: ['transactions'],
      webhook: hookUrl,
      ...extra,
    }),
  });
  const body = (await res.json()) as { link_token: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.link_token;
}

test('POST /dev/plaid-link/session: a Hosted Link session adds the Item and its LINK webhooks are answered; no public token in the answer', async () => {
  const token = await linkToken({ hosted_link: {} });
  const answer = await post('/dev/plaid-link/session', { link_token: token, institution_ids: ['ins_109510'] });
  assert.equal(answer.status, 200, answer.text);
  const [session] = (await sdk().linkTokenGet({ link_token: token })).data.link_sessions!;
  assert.deepEqual(answer.json, {
    link_session_id: session!.link_session_id,
    status: 'SUCCESS',
    item_count: 1,
    institutions: [{ institution_id: 'ins_109510', name: 'Tattersall Federal Credit Union' }],
    webhooks: [
      { webhook_type: 'LINK', webhook_code: 'ITEM_ADD_RESULT', status: 200 },
      { webhook_type: 'LINK', webhook_code: 'SESSION_FINISHED', status: 200 },
    ],
  });
  assert.doesNotMatch(answer.text, /public-sandbox-|link-sandbox-|eyJ/, 'no public token, link token or JWT');
  assert.deepEqual(
    received.map((b) => b.webhook_code),
    ['ITEM_ADD_RESULT', 'SESSION_FINISHED'],
    'the receiver had both before the route answered',
  );
  const publicToken = session!.results!.item_add_results[0]!.public_token;
  assert.deepEqual(received[1]!.public_tokens, [publicToken]);
  const { data } = await sdk().itemPublicTokenExchange({ public_token: publicToken });
  assert.equal(plaid.item(data.item_id)?.webhook, hookUrl);
});

test('POST /dev/plaid-link/session: Multi-Item Link adds one Item per institution; webhooks: false withholds them', async () => {
  const multi = await linkToken({ enable_multi_item_link: true });
  const both = await post('/dev/plaid-link/session', {
    link_token: multi,
    institution_ids: ['ins_109508', 'ins_109509'],
  });
  assert.equal(both.status, 200, both.text);
  assert.equal(both.json.item_count, 2);
  assert.deepEqual(
    both.json.webhooks.map((w: { webhook_code: string }) => w.webhook_code),
    ['ITEM_ADD_RESULT', 'ITEM_ADD_RESULT', 'SESSION_FINISHED'],
  );

  received.length = 0;
  const quiet = await post('/dev/plaid-link/session', { link_token: multi, webhooks: false });
  assert.equal(quiet.status, 200, quiet.text);
  assert.deepEqual([quiet.json.webhooks, quiet.json.webhooks_not_sent, quiet.json.item_count], [[], 'withheld', 1]);
  await plaid.awaitDeliveries();
  assert.deepEqual(received, []);
  const sessions = (await sdk().linkTokenGet({ link_token: multi })).data.link_sessions!;
  assert.equal(sessions.length, 2);
  assert.equal(sessions[1]!.link_session_id, quiet.json.link_session_id);
  assert.equal(sessions[1]!.results!.item_add_results.length, 1, '/link/token/get has what the webhooks would have');

  // A plain link token: the session is recorded, and Plaid sends no LINK webhook for it.
  const plain = await post('/dev/plaid-link/session', { link_token: await linkToken() });
  assert.deepEqual([plain.status, plain.json.webhooks_not_sent], [200, 'not Hosted Link or Multi-Item Link']);
  const open = await post('/dev/plaid-link/session', { link_token: multi, outcome: 'in-progress' });
  assert.deepEqual([open.json.status, open.json.item_count, open.json.webhooks_not_sent], [null, 0, 'not finished']);
});

test('POST /dev/plaid-link/session refuses what it cannot do, naming the field; without the stand-in it is a 404', async () => {
  const hosted = await linkToken({ hosted_link: {} });
  const { access_token } = plaid.createItem({ clientId: CLIENT_ID });
  const update = (
    await sdk().linkTokenCreate({
      client_name: 'Demo',
      language: 'en',
      country_codes: [CountryCode.Us],
      user: { client_user_id: 'dev-user' },
      access_token,
    })
  ).data.link_token;
  const cases: Array<[unknown, RegExp]> = [
    [{}, /^link_token: /],
    [{ link_token: 42 }, /^link_token: /],
    [{ link_token: 'link-sandbox-unknown' }, /^link_token: not a link token/],
    [{ link_token: update }, /^link_token: an update-mode link token/],
    [{ link_token: hosted, institution_ids: 'ins_109508' }, /^institution_ids: /],
    [{ link_token: hosted, institution_ids: [] }, /^institution_ids: /],
    [{ link_token: hosted, institution_ids: ['ins_1'] }, /^institution_ids: "ins_1" is not one of/],
    [
      { link_token: hosted, institution_ids: ['ins_109508', 'ins_109509'] },
      /^institution_ids: .*enable_multi_item_link/,
    ],
    [{ link_token: hosted, webhooks: 'no' }, /^webhooks: /],
    [{ link_token: hosted, outcome: 'done' }, /^outcome: /],
    [{ link_token: hosted, public_token: 'x' }, /^public_token: not a field/],
  ];
  for (const [body, message] of cases) {
    const answer = await post('/dev/plaid-link/session', body);
    assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${answer.text}`);
    assert.match(answer.json.message, message);
  }
  assert.deepEqual(plaid.linkSession(hosted)?.sessions, [], 'nothing was recorded');
  assert.deepEqual(received, []);
  const elsewhere = await post('/dev/plaid-link/session', { link_token: hosted }, withoutStandIn.url);
  assert.equal(elsewhere.status, 404);
});

test('POST /dev/plaid-link/success in update mode repairs the Item and hands back a public token for that same Item', async () => {
  const { access_token, item_id } = plaid.createItem({ clientId: CLIENT_ID, institutionId: 'ins_109509' });
  plaid.resetLogin(item_id);
  await plaid.awaitDeliveries();
  const update = (
    await sdk().linkTokenCreate({
      client_name: 'Demo',
      language: 'en',
      country_codes: [CountryCode.Us],
      user: { client_user_id: 'dev-user' },
      access_token,
    })
  ).data.link_token;
  const answer = await post('/dev/plaid-link/success', { link_token: update });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(
    { ...answer.json, public_token: undefined },
    {
      public_token: undefined,
      mode: 'update',
      institution: { institution_id: 'ins_109509', name: 'First Gingham Credit Union' },
    },
  );
  assert.equal(plaid.item(item_id)?.error_code, null, 'repaired');
  assert.equal(plaid.callsTo('/sandbox/public_token/create'), 0, 'no new Item was made for it');
  const { data } = await sdk().itemPublicTokenExchange({ public_token: answer.json.public_token });
  assert.deepEqual([data.item_id, data.access_token], [item_id, access_token], 'the same Item, not a second one');

  // The Item removed before the user finishes: nothing to repair.
  const again = (
    await sdk().linkTokenCreate({
      client_name: 'Demo',
      language: 'en',
      country_codes: [CountryCode.Us],
      user: { client_user_id: 'dev-user' },
      access_token,
    })
  ).data.link_token;
  await sdk().itemRemove({ access_token });
  assert.equal((await post('/dev/plaid-link/success', { link_token: again })).status, 409);
});

test('POST /dev/plaid-link/success in new mode still creates a new Item through /sandbox/public_token/create', async () => {
  const token = await linkToken();
  const answer = await post('/dev/plaid-link/success', { link_token: token, institution_id: 'ins_109512' });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json.mode, 'new');
  assert.deepEqual(answer.json.institution, { institution_id: 'ins_109512', name: 'Houndstooth Bank' });
  assert.equal(plaid.callsTo('/sandbox/public_token/create'), 1);
  const { data } = await sdk().itemPublicTokenExchange({ public_token: answer.json.public_token });
  assert.deepEqual(
    [plaid.item(data.item_id)?.institution_id, plaid.item(data.item_id)?.webhook],
    ['ins_109512', hookUrl],
  );
  assert.equal((await post('/dev/plaid-link/success', { link_token: 'link-sandbox-nope' })).status, 400);
  assert.equal((await post('/dev/plaid-link/success', { link_token: token, institution_id: 'ins_1' })).status, 400);
});

test('POST /dev/simulate/login-required answers with the ITEM ERROR webhook it sent, and 404 without the stand-in', async () => {
  const { access_token } = await sdk()
    .itemPublicTokenExchange({ public_token: plaid.createPublicToken({ linkToken: await linkToken() }) })
    .then((r) => r.data);
  const { item_id } = (await sdk().itemGet({ access_token })).data.item;
  const answer = await post('/dev/simulate/login-required', { item_id });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(answer.json, {
    item_id,
    item_error: 'ITEM_LOGIN_REQUIRED',
    webhook: { webhook_type: 'ITEM', webhook_code: 'ERROR', error_code: 'ITEM_LOGIN_REQUIRED', status: 200 },
  });
  assert.equal((await post('/dev/simulate/login-required', { item_id: 'nope' })).status, 404);
  assert.equal((await post('/dev/simulate/login-required', { item_id }, withoutStandIn.url)).status, 404);
});
