import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Configuration, CountryCode, PlaidApi, Products } from 'plaid';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../../local/standins/plaid.ts';
import type { PlaidStandIn } from '../../local/standins/plaid.ts';

const CLIENT_ID = 'client-1';
const SECRET = 'secret-1';
const LINK_TOKEN = /^link-sandbox-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const REQUEST_ID = /^[A-Za-z0-9]{15}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

let plaid: PlaidStandIn;

before(async () => {
  plaid = await startPlaidStandIn({ credentials: { [CLIENT_ID]: SECRET } });
});
beforeEach(() => {
  plaid.reset();
  plaid.setCredentials(CLIENT_ID, SECRET);
});
after(() => plaid.close());

function validBody(): Record<string, unknown> {
  return {
    client_name: 'Budget App',
    language: 'en',
    country_codes: ['US'],
    user: { client_user_id: 'user-123' },
    products: ['transactions'],
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function create(body: unknown, headers: Record<string, string> = {}, path = '/link/token/create'): Promise<Answer> {
  const res = await fetch(`${plaid.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'plaid-client-id': CLIENT_ID,
      'plaid-secret': SECRET,
      'plaid-version': '2020-09-14',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function assertPlaidError(answer: Answer, status: number, errorType: string, errorCode: string, mentions?: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const { body } = answer;
  assert.equal(body.error_type, errorType);
  assert.equal(body.error_code, errorCode, String(body.error_message));
  assert.equal(typeof body.error_message, 'string');
  if (mentions) assert.ok(String(body.error_message).includes(mentions), `"${String(body.error_message)}" should name ${mentions}`);
  assert.equal(body.display_message, null);
  assert.match(String(body.request_id), REQUEST_ID);
  assert.deepEqual(body.causes, []);
  assert.equal(body.status, status);
  assert.match(String(body.documentation_url), /^https:\/\/plaid\.com\/docs\//);
  assert.equal(body.suggested_action, null);
}

test('a valid request gets a sandbox link token expiring in 4 hours', async () => {
  const before = Date.now();
  const { status, body } = await create(validBody());
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(Object.keys(body).sort(), ['expiration', 'link_token', 'request_id']);
  assert.match(String(body.link_token), LINK_TOKEN);
  assert.match(String(body.request_id), REQUEST_ID);
  assert.match(String(body.expiration), ISO_SECONDS);
  const expiresIn = Date.parse(String(body.expiration)) - before;
  assert.ok(Math.abs(expiresIn - 4 * 3600_000) < 5_000, `expires in ${expiresIn} ms`);
  assert.equal(plaid.calls, 1);
  assert.equal(plaid.requests[0]?.path, '/link/token/create');
  assert.equal(plaid.requests[0]?.headers['plaid-client-id'], CLIENT_ID);
  assert.deepEqual(plaid.requests[0]?.body, validBody());
});

test('credentials may come in the body instead of headers', async () => {
  const res = await fetch(`${plaid.url}/link/token/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...validBody(), client_id: CLIENT_ID, secret: SECRET }),
  });
  assert.equal(res.status, 200);
});

test('hosted_link adds hosted_link_url and url_lifetime_seconds sets the expiration', async () => {
  const plain = await create({ ...validBody(), hosted_link: {} });
  assert.equal(plain.status, 200);
  assert.match(String(plain.body.hosted_link_url), /^https:\/\/secure\.plaid\.com\/hl\/[A-Za-z0-9]+$/);

  const before = Date.now();
  const custom = await create({ ...validBody(), hosted_link: { url_lifetime_seconds: 600 } });
  assert.equal(custom.status, 200);
  const expiresIn = Date.parse(String(custom.body.expiration)) - before;
  assert.ok(Math.abs(expiresIn - 600_000) < 5_000, `expires in ${expiresIn} ms`);
});

test('the official plaid SDK can talk to the stand-in', async () => {
  const client = new PlaidApi(new Configuration({
    basePath: plaid.url,
    baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET, 'Plaid-Version': '2020-09-14' } },
  }));
  const { data } = await client.linkTokenCreate({
    client_name: 'Budget App',
    language: 'en',
    country_codes: [CountryCode.Us],
    user: { client_user_id: 'user-123' },
    products: [Products.Auth],
  });
  assert.match(data.link_token, LINK_TOKEN);
  assert.equal(plaid.requests[0]?.headers['plaid-version'], '2020-09-14');
});

test('the default credentials are exported for the local stack', async () => {
  const other = await startPlaidStandIn();
  try {
    const [[clientId, secret]] = Object.entries(DEFAULT_PLAID_CREDENTIALS) as [[string, string]];
    const res = await fetch(`${other.url}/link/token/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'plaid-client-id': clientId, 'plaid-secret': secret },
      body: JSON.stringify(validBody()),
    });
    assert.equal(res.status, 200);
  } finally {
    await other.close();
  }
});

test('a wrong secret, unknown client or rotated-out secret is INVALID_API_KEYS', async () => {
  assertPlaidError(await create(validBody(), { 'plaid-secret': 'nope' }), 400, 'INVALID_INPUT', 'INVALID_API_KEYS');
  assertPlaidError(await create(validBody(), { 'plaid-client-id': 'other' }), 400, 'INVALID_INPUT', 'INVALID_API_KEYS');

  plaid.setCredentials(CLIENT_ID, 'secret-2');
  assertPlaidError(await create(validBody()), 400, 'INVALID_INPUT', 'INVALID_API_KEYS');
  assert.equal((await create(validBody(), { 'plaid-secret': 'secret-2' })).status, 200);
});

test('missing credentials are MISSING_FIELDS', async () => {
  const res = await fetch(`${plaid.url}/link/token/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(validBody()),
  });
  assertPlaidError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 400, 'INVALID_REQUEST', 'MISSING_FIELDS', 'client_id');
});

test('the body must be JSON sent as application/json', async () => {
  assertPlaidError(await create(validBody(), { 'content-type': 'text/plain' }), 400, 'INVALID_REQUEST', 'INVALID_BODY');
  assertPlaidError(await create('{not json'), 400, 'INVALID_REQUEST', 'INVALID_BODY');
  assertPlaidError(await create([validBody()]), 400, 'INVALID_REQUEST', 'INVALID_BODY');
  assert.equal(plaid.requests[1]?.body, '{not json');
});

test('Plaid-Version, when sent, must be 2020-09-14', async () => {
  assertPlaidError(await create(validBody(), { 'plaid-version': '2018-05-22' }), 400, 'INVALID_REQUEST', 'INVALID_HEADERS', 'Plaid-Version');
});

const invalid: Array<[name: string, change: Record<string, unknown>, code: string, field: string]> = [
  ['client_name missing', { client_name: undefined }, 'MISSING_FIELDS', 'client_name'],
  ['client_name not a string', { client_name: 42 }, 'INVALID_FIELD', 'client_name'],
  ['language missing', { language: undefined }, 'MISSING_FIELDS', 'language'],
  ['language unsupported', { language: 'ja' }, 'INVALID_FIELD', 'language'],
  ['country_codes missing', { country_codes: undefined }, 'MISSING_FIELDS', 'country_codes'],
  ['country_codes empty', { country_codes: [] }, 'INVALID_FIELD', 'country_codes'],
  ['country_codes unsupported', { country_codes: ['US', 'JP'] }, 'INVALID_FIELD', 'country_codes'],
  ['country_codes lower case', { country_codes: ['us'] }, 'INVALID_FIELD', 'country_codes'],
  ['user missing', { user: undefined }, 'MISSING_FIELDS', 'user'],
  ['user.client_user_id missing', { user: {} }, 'MISSING_FIELDS', 'user.client_user_id'],
  ['user.client_user_id empty', { user: { client_user_id: '' } }, 'INVALID_FIELD', 'user.client_user_id'],
  ['user.client_user_id not a string', { user: { client_user_id: 7 } }, 'INVALID_FIELD', 'user.client_user_id'],
  ['products missing outside update mode', { products: undefined }, 'MISSING_FIELDS', 'products'],
  ['products empty', { products: [] }, 'INVALID_FIELD', 'products'],
  ['products unknown', { products: ['transactions', 'bogus'] }, 'INVALID_FIELD', 'products'],
  ['products with balance', { products: ['balance'] }, 'INVALID_FIELD', 'balance'],
  ['additional_consented_products with balance', { additional_consented_products: ['balance'] }, 'INVALID_FIELD', 'balance'],
  ['optional_products unknown', { optional_products: ['nope'] }, 'INVALID_FIELD', 'optional_products'],
  ['products / optional_products overlap', { optional_products: ['transactions'] }, 'INVALID_FIELD', 'optional_products'],
  ['products / required_if_supported_products overlap', { required_if_supported_products: ['transactions'] }, 'INVALID_FIELD', 'required_if_supported_products'],
  ['products / additional_consented_products overlap', { additional_consented_products: ['transactions'] }, 'INVALID_FIELD', 'additional_consented_products'],
  ['required_if_supported / optional overlap', { required_if_supported_products: ['auth'], optional_products: ['auth'] }, 'INVALID_FIELD', 'optional_products'],
  ['optional / additional_consented overlap', { optional_products: ['identity'], additional_consented_products: ['identity'] }, 'INVALID_FIELD', 'additional_consented_products'],
  ['redirect_uri with a query string', { redirect_uri: 'https://app.example.com/oauth?x=1' }, 'INVALID_FIELD', 'redirect_uri'],
  ['redirect_uri not a URI', { redirect_uri: 'not a uri' }, 'INVALID_FIELD', 'redirect_uri'],
  ['redirect_uri and android_package_name', { redirect_uri: 'https://app.example.com/oauth', android_package_name: 'com.example.app' }, 'INVALID_FIELD', 'android_package_name'],
  ['transactions.days_requested 0', { transactions: { days_requested: 0 } }, 'INVALID_FIELD', 'transactions.days_requested'],
  ['transactions.days_requested 731', { transactions: { days_requested: 731 } }, 'INVALID_FIELD', 'transactions.days_requested'],
  ['transactions.days_requested fractional', { transactions: { days_requested: 90.5 } }, 'INVALID_FIELD', 'transactions.days_requested'],
  ['hosted_link.url_lifetime_seconds 0', { hosted_link: { url_lifetime_seconds: 0 } }, 'INVALID_FIELD', 'hosted_link.url_lifetime_seconds'],
  ['hosted_link.url_lifetime_seconds over 21 days', { hosted_link: { url_lifetime_seconds: 21 * 86400 + 1 } }, 'INVALID_FIELD', 'hosted_link.url_lifetime_seconds'],
  ['statements product without statements', { products: ['statements'] }, 'MISSING_FIELDS', 'statements'],
  ['statements with a bad date', { products: ['statements'], statements: { start_date: '2024-13-01', end_date: '2024-12-31' } }, 'INVALID_FIELD', 'statements'],
  ['webhook not a URL', { webhook: 'nope' }, 'INVALID_FIELD', 'webhook'],
  ['unknown top-level field', { client_user_id: 'user-123', foo: 1 }, 'UNKNOWN_FIELDS', 'client_user_id, foo'],
];

for (const [name, change, code, field] of invalid) {
  test(`400 ${code}: ${name}`, async () => {
    const body = { ...validBody(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    assertPlaidError(await create(body), 400, 'INVALID_REQUEST', code, field);
  });
}

const valid: Array<[name: string, change: Record<string, unknown>]> = [
  ['user_id instead of user', { user: undefined, user_id: 'usr_123' }],
  ['update mode without products', { products: undefined, access_token: 'access-sandbox-123' }],
  ['every supported language and several countries', { language: 'vi', country_codes: ['GB', 'FR', 'FI'] }],
  ['disjoint product lists', { products: ['auth'], required_if_supported_products: ['identity'], optional_products: ['transactions'], additional_consented_products: ['liabilities'] }],
  ['balance in optional_products', { optional_products: ['balance'] }],
  ['redirect_uri without query', { redirect_uri: 'https://app.example.com/oauth.html' }],
  ['android_package_name alone', { android_package_name: 'com.example.app' }],
  ['transactions.days_requested bounds', { transactions: { days_requested: 730 } }],
  ['hosted_link.url_lifetime_seconds of 21 days', { hosted_link: { url_lifetime_seconds: 21 * 86400 } }],
  ['statements product with statements', { products: ['statements'], statements: { start_date: '2024-01-01', end_date: '2024-12-31' } }],
  ['null treated as absent', { webhook: null, optional_products: null }],
];

for (const [name, change] of valid) {
  test(`200: ${name}`, async () => {
    const body = { ...validBody(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const answer = await create(body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });
}

test('update mode tokens expire after 30 minutes and user_id is echoed', async () => {
  const before = Date.now();
  const { status, body } = await create({ ...validBody(), products: undefined, access_token: 'access-sandbox-1', user: undefined, user_id: 'usr_1' });
  assert.equal(status, 200);
  assert.equal(body.user_id, 'usr_1');
  assert.ok(Math.abs(Date.parse(String(body.expiration)) - before - 1800_000) < 5_000);
});

test('unknown paths and methods get a Plaid-shaped 404', async () => {
  assertPlaidError(await create(validBody(), {}, '/link/token/get'), 404, 'INVALID_REQUEST', 'NOT_FOUND');
  const res = await fetch(`${plaid.url}/link/token/create`);
  assertPlaidError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 404, 'INVALID_REQUEST', 'NOT_FOUND');
});

test("failNext({kind: 'error'}) answers the given Plaid error for the next n requests", async () => {
  plaid.failNext(1, { kind: 'error', status: 429, error_type: 'RATE_LIMIT_EXCEEDED', error_code: 'RATE_LIMIT_EXCEEDED' });
  plaid.failNext(1, { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' });
  assertPlaidError(await create(validBody()), 429, 'RATE_LIMIT_EXCEEDED', 'RATE_LIMIT_EXCEEDED');
  assertPlaidError(await create(validBody()), 500, 'API_ERROR', 'INTERNAL_SERVER_ERROR');
  assert.equal((await create(validBody())).status, 200);
  assert.equal(plaid.calls, 3);
});

test("failNext({kind: 'network'}) drops the connection without answering", async () => {
  plaid.failNext(1, { kind: 'network' });
  await assert.rejects(create(validBody()), TypeError);
  assert.equal((await create(validBody())).status, 200);
  assert.equal(plaid.calls, 2);
});

test("failNext({kind: 'delay'}) answers normally after the delay", async () => {
  plaid.failNext(1, { kind: 'delay', ms: 200 });
  const started = Date.now();
  const answer = await create(validBody());
  assert.equal(answer.status, 200);
  assert.ok(Date.now() - started >= 190);
});

test('reset() forgets requests and pending faults', async () => {
  plaid.failNext(3, { kind: 'network' });
  await assert.rejects(create(validBody()));
  plaid.reset();
  assert.equal(plaid.calls, 0);
  assert.deepEqual(plaid.requests, []);
  assert.equal((await create(validBody())).status, 200);
});
