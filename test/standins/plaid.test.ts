import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Configuration, CountryCode, PlaidApi, Products } from 'plaid';
import { DEFAULT_PLAID_CREDENTIALS, SANDBOX_INSTITUTIONS, startPlaidStandIn } from '../../local/standins/plaid.ts';
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

async function create(
  body: unknown,
  headers: Record<string, string> = {},
  path = '/link/token/create',
): Promise<Answer> {
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

/** POST to any endpoint of the stand-in with this client's credentials in headers. */
async function call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return create(body, headers, path);
}

function assertPlaidError(answer: Answer, status: number, errorType: string, errorCode: string, mentions?: string) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const { body } = answer;
  assert.equal(body.error_type, errorType);
  assert.equal(body.error_code, errorCode, String(body.error_message));
  assert.equal(typeof body.error_message, 'string');
  if (mentions)
    assert.ok(String(body.error_message).includes(mentions), `"${String(body.error_message)}" should name ${mentions}`);
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
  const client = new PlaidApi(
    new Configuration({
      basePath: plaid.url,
      baseOptions: { headers: { 'PLAID-CLIENT-ID': CLIENT_ID, 'PLAID-SECRET': SECRET, 'Plaid-Version': '2020-09-14' } },
    }),
  );
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
  assertPlaidError(
    { status: res.status, body: (await res.json()) as Record<string, unknown> },
    400,
    'INVALID_REQUEST',
    'MISSING_FIELDS',
    'client_id',
  );
});

test('the body must be JSON sent as application/json', async () => {
  assertPlaidError(await create(validBody(), { 'content-type': 'text/plain' }), 400, 'INVALID_REQUEST', 'INVALID_BODY');
  assertPlaidError(await create('{not json'), 400, 'INVALID_REQUEST', 'INVALID_BODY');
  assertPlaidError(await create([validBody()]), 400, 'INVALID_REQUEST', 'INVALID_BODY');
  assert.equal(plaid.requests[1]?.body, '{not json');
});

test('Plaid-Version, when sent, must be 2020-09-14', async () => {
  assertPlaidError(
    await create(validBody(), { 'plaid-version': '2018-05-22' }),
    400,
    'INVALID_REQUEST',
    'INVALID_HEADERS',
    'Plaid-Version',
  );
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
  [
    'additional_consented_products with balance',
    { additional_consented_products: ['balance'] },
    'INVALID_FIELD',
    'balance',
  ],
  ['optional_products unknown', { optional_products: ['nope'] }, 'INVALID_FIELD', 'optional_products'],
  [
    'products / optional_products overlap',
    { optional_products: ['transactions'] },
    'INVALID_FIELD',
    'optional_products',
  ],
  [
    'products / required_if_supported_products overlap',
    { required_if_supported_products: ['transactions'] },
    'INVALID_FIELD',
    'required_if_supported_products',
  ],
  [
    'products / additional_consented_products overlap',
    { additional_consented_products: ['transactions'] },
    'INVALID_FIELD',
    'additional_consented_products',
  ],
  [
    'required_if_supported / optional overlap',
    { required_if_supported_products: ['auth'], optional_products: ['auth'] },
    'INVALID_FIELD',
    'optional_products',
  ],
  [
    'optional / additional_consented overlap',
    { optional_products: ['identity'], additional_consented_products: ['identity'] },
    'INVALID_FIELD',
    'additional_consented_products',
  ],
  [
    'redirect_uri with a query string',
    { redirect_uri: 'https://app.example.com/oauth?x=1' },
    'INVALID_FIELD',
    'redirect_uri',
  ],
  ['redirect_uri not a URI', { redirect_uri: 'not a uri' }, 'INVALID_FIELD', 'redirect_uri'],
  [
    'redirect_uri and android_package_name',
    { redirect_uri: 'https://app.example.com/oauth', android_package_name: 'com.example.app' },
    'INVALID_FIELD',
    'android_package_name',
  ],
  [
    'transactions.days_requested 0',
    { transactions: { days_requested: 0 } },
    'INVALID_FIELD',
    'transactions.days_requested',
  ],
  [
    'transactions.days_requested 731',
    { transactions: { days_requested: 731 } },
    'INVALID_FIELD',
    'transactions.days_requested',
  ],
  [
    'transactions.days_requested fractional',
    { transactions: { days_requested: 90.5 } },
    'INVALID_FIELD',
    'transactions.days_requested',
  ],
  [
    'hosted_link.url_lifetime_seconds 0',
    { hosted_link: { url_lifetime_seconds: 0 } },
    'INVALID_FIELD',
    'hosted_link.url_lifetime_seconds',
  ],
  [
    'hosted_link.url_lifetime_seconds over 21 days',
    { hosted_link: { url_lifetime_seconds: 21 * 86400 + 1 } },
    'INVALID_FIELD',
    'hosted_link.url_lifetime_seconds',
  ],
  ['statements product without statements', { products: ['statements'] }, 'MISSING_FIELDS', 'statements'],
  [
    'statements with a bad date',
    { products: ['statements'], statements: { start_date: '2024-13-01', end_date: '2024-12-31' } },
    'INVALID_FIELD',
    'statements',
  ],
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
  ['every supported language and several countries', { language: 'vi', country_codes: ['GB', 'FR', 'FI'] }],
  [
    'disjoint product lists',
    {
      products: ['auth'],
      required_if_supported_products: ['identity'],
      optional_products: ['transactions'],
      additional_consented_products: ['liabilities'],
    },
  ],
  ['balance in optional_products', { optional_products: ['balance'] }],
  ['redirect_uri without query', { redirect_uri: 'https://app.example.com/oauth.html' }],
  ['android_package_name alone', { android_package_name: 'com.example.app' }],
  ['transactions.days_requested bounds', { transactions: { days_requested: 730 } }],
  ['hosted_link.url_lifetime_seconds of 21 days', { hosted_link: { url_lifetime_seconds: 21 * 86400 } }],
  [
    'statements product with statements',
    { products: ['statements'], statements: { start_date: '2024-01-01', end_date: '2024-12-31' } },
  ],
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
  const { access_token } = plaid.createItem({ clientId: CLIENT_ID });
  const user = await call('/user/create', { client_user_id: 'user-echo' });
  const before = Date.now();
  const { status, body } = await create({
    ...validBody(),
    products: undefined,
    access_token,
    user: undefined,
    user_id: user.body.user_id,
  });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.user_id, user.body.user_id);
  assert.ok(Math.abs(Date.parse(String(body.expiration)) - before - 1800_000) < 5_000);
});

test('unknown paths and methods get a Plaid-shaped 404', async () => {
  assertPlaidError(await create(validBody(), {}, '/link/token/nope'), 404, 'INVALID_REQUEST', 'NOT_FOUND');
  assertPlaidError(await create({}, {}, '/transactions/sync'), 404, 'INVALID_REQUEST', 'NOT_FOUND');
  const res = await fetch(`${plaid.url}/link/token/create`);
  assertPlaidError(
    { status: res.status, body: (await res.json()) as Record<string, unknown> },
    404,
    'INVALID_REQUEST',
    'NOT_FOUND',
  );
});

test("failNext({kind: 'error'}) answers the given Plaid error for the next n requests", async () => {
  plaid.failNext(1, {
    kind: 'error',
    status: 429,
    error_type: 'RATE_LIMIT_EXCEEDED',
    error_code: 'RATE_LIMIT_EXCEEDED',
  });
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

// ---- Items, public tokens, users and update mode ----

const PUBLIC_TOKEN = /^public-sandbox-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ACCESS_TOKEN = /^access-sandbox-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const USER_TOKEN = /^user-sandbox-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ITEM_ID = /^[A-Za-z0-9]{37}$/;
const OTHER_CLIENT = 'client-2';
const OTHER_SECRET = 'secret-other';

function sdk(clientId = CLIENT_ID, secret = SECRET): PlaidApi {
  return new PlaidApi(
    new Configuration({
      basePath: plaid.url,
      baseOptions: { headers: { 'PLAID-CLIENT-ID': clientId, 'PLAID-SECRET': secret, 'Plaid-Version': '2020-09-14' } },
    }),
  );
}

/** The Plaid error an SDK call rejected with, as an Answer. */
async function sdkError(promise: Promise<unknown>): Promise<Answer> {
  try {
    await promise;
  } catch (err) {
    const response = (err as { response?: { status: number; data: Record<string, unknown> } }).response;
    assert.ok(response, `expected a Plaid error answer, got ${String(err)}`);
    return { status: response.status, body: response.data };
  }
  assert.fail('expected the call to fail');
}

async function publicToken(institution_id = 'ins_109508', extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await call('/sandbox/public_token/create', {
    institution_id,
    initial_products: ['transactions'],
    ...extra,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return String(answer.body.public_token);
}

async function exchange(public_token: unknown): Promise<Answer> {
  return call('/item/public_token/exchange', { public_token });
}

test('the plaid SDK runs the whole Item life cycle: public token, exchange, item/get, item/remove', async () => {
  const client = sdk();
  const { data: created } = await client.sandboxPublicTokenCreate({
    institution_id: 'ins_109509',
    initial_products: [Products.Transactions, Products.Auth],
    options: { webhook: 'https://hooks.example.com/plaid' },
  });
  assert.match(created.public_token, PUBLIC_TOKEN);
  assert.match(created.request_id, REQUEST_ID);

  const { data: exchanged } = await client.itemPublicTokenExchange({ public_token: created.public_token });
  assert.match(exchanged.access_token, ACCESS_TOKEN);
  assert.match(exchanged.item_id, ITEM_ID);

  const { data: got } = await client.itemGet({ access_token: exchanged.access_token });
  assert.equal(got.item.item_id, exchanged.item_id);
  assert.equal(got.item.institution_id, 'ins_109509');
  assert.equal(got.item.institution_name, 'First Gingham Credit Union');
  assert.equal(got.item.webhook, 'https://hooks.example.com/plaid');
  assert.equal(got.item.error, null);
  assert.deepEqual(got.item.billed_products, ['transactions', 'auth']);
  assert.ok(!got.item.available_products.includes(Products.Transactions));
  assert.ok(got.item.available_products.includes(Products.Identity));
  assert.equal(got.item.update_type, 'background');
  assert.equal(got.item.consent_expiration_time, null);

  const { data: removed } = await client.itemRemove({ access_token: exchanged.access_token });
  assert.match(removed.request_id, REQUEST_ID);
  assert.equal(plaid.item(exchanged.item_id)?.removed, true);
  assertPlaidError(
    await sdkError(client.itemGet({ access_token: exchanged.access_token })),
    400,
    'ITEM_ERROR',
    'ITEM_NOT_FOUND',
  );
  assertPlaidError(
    await sdkError(client.itemRemove({ access_token: exchanged.access_token })),
    400,
    'ITEM_ERROR',
    'ITEM_NOT_FOUND',
  );
  assert.deepEqual(
    plaid.requests.map((r) => r.path),
    [
      '/sandbox/public_token/create',
      '/item/public_token/exchange',
      '/item/get',
      '/item/remove',
      '/item/get',
      '/item/remove',
    ],
  );
});

test('the five sandbox institutions are known by id and name; another id is INVALID_INSTITUTION', async () => {
  const names: Record<string, string> = {
    ins_109508: 'First Platypus Bank',
    ins_109509: 'First Gingham Credit Union',
    ins_109510: 'Tattersall Federal Credit Union',
    ins_109511: 'Tartan Bank',
    ins_109512: 'Houndstooth Bank',
  };
  assert.deepEqual(Object.fromEntries(SANDBOX_INSTITUTIONS.map((i) => [i.institution_id, i.name])), names);
  for (const [id, name] of Object.entries(names)) {
    const { access_token } = (await exchange(await publicToken(id))).body;
    const got = await call('/item/get', { access_token });
    assert.equal((got.body.item as Record<string, unknown>).institution_name, name);
  }
  assertPlaidError(
    await call('/sandbox/public_token/create', { institution_id: 'ins_1', initial_products: ['auth'] }),
    400,
    'INVALID_INPUT',
    'INVALID_INSTITUTION',
  );
});

test('/sandbox/public_token/create checks its fields', async () => {
  const cases: Array<[Record<string, unknown>, string, string, string]> = [
    [{ initial_products: ['auth'] }, 'INVALID_REQUEST', 'MISSING_FIELDS', 'institution_id'],
    [{ institution_id: 'ins_109508' }, 'INVALID_REQUEST', 'MISSING_FIELDS', 'initial_products'],
    [{ institution_id: 'ins_109508', initial_products: [] }, 'INVALID_REQUEST', 'INVALID_FIELD', 'initial_products'],
    [{ institution_id: 'ins_109508', initial_products: ['bogus'] }, 'INVALID_REQUEST', 'INVALID_FIELD', 'bogus'],
    [
      { institution_id: 'ins_109508', initial_products: ['payment_initiation'] },
      'ITEM_ERROR',
      'PRODUCTS_NOT_SUPPORTED',
      'payment_initiation',
    ],
    [
      { institution_id: 'ins_109508', initial_products: ['auth'], options: { webhook: 'not a url' } },
      'INVALID_REQUEST',
      'INVALID_FIELD',
      'options.webhook',
    ],
    [
      { institution_id: 'ins_109508', initial_products: ['auth'], public_token: 'x' },
      'INVALID_REQUEST',
      'UNKNOWN_FIELDS',
      'public_token',
    ],
    [{ institution_id: 109508, initial_products: ['auth'] }, 'INVALID_REQUEST', 'INVALID_FIELD', 'institution_id'],
  ];
  for (const [body, type, code, mentions] of cases) {
    assertPlaidError(await call('/sandbox/public_token/create', body), 400, type, code, mentions);
  }
});

test('a public token is single-use: a second exchange is INVALID_PUBLIC_TOKEN', async () => {
  const token = await publicToken();
  const first = await exchange(token);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(Object.keys(first.body).sort(), ['access_token', 'item_id', 'request_id']);
  assertPlaidError(
    await exchange(token),
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
    'could not find matching public token',
  );
});

test('a public token expires 30 minutes after creation', async () => {
  const early = await publicToken();
  const late = await publicToken();
  plaid.advanceClock(30 * 60_000 - 1_000);
  try {
    assert.equal((await exchange(early)).status, 200);
    plaid.advanceClock(1_000);
    assertPlaidError(await exchange(late), 400, 'INVALID_INPUT', 'INVALID_PUBLIC_TOKEN', 'expired');
  } finally {
    plaid.advanceClock(-30 * 60_000);
  }
});

test("a malformed, unknown, missing or other client's public token is refused", async () => {
  assertPlaidError(
    await exchange('beb195c7ab7f2f3ed343'),
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
    'invalid format',
  );
  assertPlaidError(
    await exchange(`public-sandbox-${crypto.randomUUID()}`),
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
    'could not find',
  );
  assertPlaidError(
    await call('/item/public_token/exchange', {}),
    400,
    'INVALID_REQUEST',
    'MISSING_FIELDS',
    'public_token',
  );
  assertPlaidError(
    await call('/item/public_token/exchange', { public_token: 7 }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'public_token',
  );
  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const theirs = plaid.createPublicToken({ clientId: OTHER_CLIENT });
  assertPlaidError(await exchange(theirs), 400, 'INVALID_INPUT', 'INVALID_PUBLIC_TOKEN');
  assert.equal(
    (
      await call(
        '/item/public_token/exchange',
        { public_token: theirs },
        { 'plaid-client-id': OTHER_CLIENT, 'plaid-secret': OTHER_SECRET },
      )
    ).status,
    200,
  );
});

test("/item/get and /item/remove refuse malformed, unknown and other clients' access tokens", async () => {
  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const theirs = plaid.createItem({ clientId: OTHER_CLIENT });
  for (const path of ['/item/get', '/item/remove']) {
    assertPlaidError(
      await call(path, { access_token: 'not-a-token' }),
      400,
      'INVALID_INPUT',
      'INVALID_ACCESS_TOKEN',
      'invalid format',
    );
    assertPlaidError(
      await call(path, { access_token: `access-sandbox-${crypto.randomUUID()}` }),
      400,
      'INVALID_INPUT',
      'INVALID_ACCESS_TOKEN',
      'could not find matching access token',
    );
    assertPlaidError(
      await call(path, { access_token: theirs.access_token }),
      400,
      'INVALID_INPUT',
      'INVALID_ACCESS_TOKEN',
    );
    assertPlaidError(await call(path, {}), 400, 'INVALID_REQUEST', 'MISSING_FIELDS', 'access_token');
    assertPlaidError(
      await call(path, { access_token: theirs.access_token, extra: 1 }),
      400,
      'INVALID_REQUEST',
      'UNKNOWN_FIELDS',
      'extra',
    );
  }
  assert.equal(plaid.item(theirs.item_id)?.removed, false);
  const mine = plaid.createItem({ clientId: CLIENT_ID });
  assertPlaidError(
    await call('/item/remove', { access_token: mine.access_token, reason_code: 'BORED' }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'reason_code',
  );
  assert.equal(
    (await call('/item/remove', { access_token: mine.access_token, reason_code: 'OTHER', reason_note: 'user asked' }))
      .status,
    200,
  );
});

test('no answer echoes the token it refuses', async () => {
  const { access_token } = plaid.createItem({ clientId: CLIENT_ID });
  await call('/item/remove', { access_token });
  const token = await publicToken();
  await exchange(token);
  const answers = [
    await call('/item/get', { access_token }),
    await call('/item/remove', { access_token }),
    await create({ ...validBody(), products: undefined, access_token }),
    await exchange(token),
    await create({ ...validBody(), user_token: 'user-sandbox-secret-value' }),
  ];
  for (const answer of answers) {
    assert.equal(answer.status, 400);
    const text = JSON.stringify(answer.body);
    for (const secret of [access_token, token, 'user-sandbox-secret-value', SECRET])
      assert.ok(!text.includes(secret), text);
  }
});

test('the stand-in writes nothing to stdout or stderr, so no token can reach a log', async (t) => {
  const written: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    t.mock.method(stream, 'write', (chunk: unknown, ...rest: unknown[]) => {
      written.push(String(chunk));
      return write(chunk, ...rest);
    });
  }
  try {
    const { access_token } = (await exchange(await publicToken())).body;
    await call('/item/get', { access_token });
    await create({ ...validBody(), products: undefined, access_token });
    await call('/sandbox/item/reset_login', { access_token });
    await call('/item/remove', { access_token });
    await call('/item/get', { access_token });
    await call('/user/create', { client_user_id: 'user-quiet' });
  } finally {
    t.mock.restoreAll();
  }
  assert.deepEqual(
    written.filter((w) => /access-sandbox|public-sandbox|user-sandbox/.test(w)),
    [],
  );
});

test('/user/create answers a secret-shaped user token and a user id, once per client_user_id', async () => {
  const client = sdk();
  const { data } = await client.userCreate({ client_user_id: 'user-create-1' });
  assert.match(String(data.user_token), USER_TOKEN);
  assert.match(data.user_id, /^usr_[A-Za-z0-9]{14}$/);
  assertPlaidError(
    await sdkError(client.userCreate({ client_user_id: 'user-create-1' })),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'already been created',
  );

  // Users belong to a client: another client may use the same client_user_id.
  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const other = await sdk(OTHER_CLIENT, OTHER_SECRET).userCreate({ client_user_id: 'user-create-1' });
  assert.notEqual(other.data.user_id, data.user_id);

  assertPlaidError(await call('/user/create', {}), 400, 'INVALID_REQUEST', 'MISSING_FIELDS', 'client_user_id');
  assertPlaidError(
    await call('/user/create', { client_user_id: '' }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'client_user_id',
  );
  assertPlaidError(
    await call('/user/create', { client_user_id: 'x'.repeat(129) }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'client_user_id',
  );
  assert.equal((await call('/user/create', { client_user_id: 'x'.repeat(128) })).status, 200);
});

test('update mode: a live access token of this client opens Link for that Item, and the session is recorded', async () => {
  const { access_token, item_id } = plaid.createItem({ clientId: CLIENT_ID });
  const answer = await create({
    ...validBody(),
    products: undefined,
    access_token,
    update: { account_selection_enabled: true },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const [session] = plaid.linkSessions;
  assert.equal(session?.link_token, answer.body.link_token);
  assert.deepEqual(session?.update, { item_id, account_selection_enabled: true });
  assert.equal(session?.client_user_id, 'user-123');
  assert.ok(!JSON.stringify(plaid.linkSessions).includes(access_token));

  const fresh = await create(validBody());
  assert.equal(fresh.status, 200);
  assert.equal(plaid.linkSessions[1]?.update, undefined);

  assert.equal((await create({ ...validBody(), products: [], access_token })).status, 200);
});

test("update mode refuses a malformed, unknown, removed or other client's access token", async () => {
  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const theirs = plaid.createItem({ clientId: OTHER_CLIENT });
  const removed = plaid.createItem({ clientId: CLIENT_ID });
  await call('/item/remove', { access_token: removed.access_token });
  const body = (access_token: string) => ({ ...validBody(), products: undefined, access_token });
  assertPlaidError(await create(body('access-token')), 400, 'INVALID_INPUT', 'INVALID_ACCESS_TOKEN');
  assertPlaidError(
    await create(body(`access-sandbox-${crypto.randomUUID()}`)),
    400,
    'INVALID_INPUT',
    'INVALID_ACCESS_TOKEN',
  );
  assertPlaidError(await create(body(theirs.access_token)), 400, 'INVALID_INPUT', 'INVALID_ACCESS_TOKEN');
  assertPlaidError(await create(body(removed.access_token)), 400, 'ITEM_ERROR', 'ITEM_NOT_FOUND');
  assertPlaidError(
    await create({ ...validBody(), products: undefined, access_tokens: [theirs.access_token] }),
    400,
    'INVALID_INPUT',
    'INVALID_ACCESS_TOKEN',
  );
  assert.deepEqual(plaid.linkSessions, []);
});

test('update mode takes products only to add a credit product', async () => {
  const { access_token } = plaid.createItem({ clientId: CLIENT_ID });
  assertPlaidError(
    await create({ ...validBody(), access_token, products: ['transactions'] }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'update mode',
  );
  assertPlaidError(
    await create({ ...validBody(), access_token, products: ['assets', 'auth'] }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'auth',
  );
  assert.equal((await create({ ...validBody(), access_token, products: ['assets'] })).status, 200);
  assert.equal(
    (
      await create({
        ...validBody(),
        access_token,
        products: ['statements'],
        statements: { start_date: '2024-01-01', end_date: '2024-06-30' },
      })
    ).status,
    200,
  );
});

test('user_token and user_id must come from /user/create of this client and match user.client_user_id', async () => {
  const user = (await call('/user/create', { client_user_id: 'user-link-1' })).body;
  const ok = await create({ ...validBody(), user: { client_user_id: 'user-link-1' }, user_token: user.user_token });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(plaid.linkSessions[0]?.user_id, user.user_id);
  assert.equal((await create({ ...validBody(), user: undefined, user_id: user.user_id })).status, 200);
  assert.equal(
    (
      await create({
        ...validBody(),
        user: { client_user_id: 'user-link-1' },
        user_id: user.user_id,
        user_token: user.user_token,
      })
    ).status,
    200,
  );

  assertPlaidError(
    await create({ ...validBody(), user: { client_user_id: 'someone-else' }, user_token: user.user_token }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'client_user_id',
  );
  assertPlaidError(
    await create({ ...validBody(), user_token: `user-sandbox-${crypto.randomUUID()}` }),
    400,
    'INVALID_INPUT',
    'INVALID_USER_TOKEN',
  );
  assertPlaidError(
    await create({ ...validBody(), user: undefined, user_id: 'usr_123' }),
    400,
    'USER_ERROR',
    'USER_NOT_FOUND',
  );

  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const theirs = (
    await call(
      '/user/create',
      { client_user_id: 'user-link-1' },
      { 'plaid-client-id': OTHER_CLIENT, 'plaid-secret': OTHER_SECRET },
    )
  ).body;
  assertPlaidError(
    await create({ ...validBody(), user: { client_user_id: 'user-link-1' }, user_token: theirs.user_token }),
    400,
    'INVALID_INPUT',
    'INVALID_USER_TOKEN',
  );
  const other = (await call('/user/create', { client_user_id: 'user-link-2' })).body;
  assertPlaidError(
    await create({ ...validBody(), user: undefined, user_id: user.user_id, user_token: other.user_token }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'different users',
  );

  assertPlaidError(
    await create({ ...validBody(), products: undefined, update: { user: true } }),
    400,
    'INVALID_REQUEST',
    'MISSING_FIELDS',
    'user_token',
  );
  assert.equal(
    (
      await create({
        ...validBody(),
        products: undefined,
        update: { user: true },
        user: { client_user_id: 'user-link-1' },
        user_token: user.user_token,
      })
    ).status,
    200,
  );
});

test('/sandbox/item/reset_login puts the Item in ITEM_LOGIN_REQUIRED until update mode completes', async () => {
  const { access_token, item_id } = plaid.createItem({ clientId: CLIENT_ID });
  const reset = await call('/sandbox/item/reset_login', { access_token });
  assert.equal(reset.status, 200);
  assert.equal(reset.body.reset_login, true);
  const broken = (await call('/item/get', { access_token })).body.item as Record<string, Record<string, unknown>>;
  assert.equal(broken.error?.error_type, 'ITEM_ERROR');
  assert.equal(broken.error?.error_code, 'ITEM_LOGIN_REQUIRED');
  assert.equal(plaid.item(item_id)?.error_code, 'ITEM_LOGIN_REQUIRED');

  const link = await create({ ...validBody(), products: undefined, access_token });
  plaid.completeUpdateMode(String(link.body.link_token));
  const healthy = (await call('/item/get', { access_token })).body.item as Record<string, unknown>;
  assert.equal(healthy.error, null);
  assert.throws(() => plaid.completeUpdateMode('link-sandbox-unknown'));
});

test('failNext with a path fails only that endpoint, and callsTo counts each endpoint', async () => {
  const { access_token, item_id } = plaid.createItem({ clientId: CLIENT_ID });
  plaid.failNext(
    1,
    { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
    '/item/remove',
  );
  assert.equal((await call('/item/get', { access_token })).status, 200);
  assertPlaidError(await call('/item/remove', { access_token }), 500, 'API_ERROR', 'INTERNAL_SERVER_ERROR');
  assert.equal(plaid.item(item_id)?.removed, false);
  assert.equal((await call('/item/remove', { access_token })).status, 200);
  assert.equal(plaid.callsTo('/item/remove'), 2);
  assert.equal(plaid.callsTo('/item/get'), 1);
  assert.equal(plaid.callsTo('/item/public_token/exchange'), 0);
  assert.deepEqual(
    plaid.requestsTo('/item/remove').map((r) => r.body),
    [{ access_token }, { access_token }],
  );
});

test("failNext({kind: 'lost-response'}) applies the request, then drops the connection", async () => {
  const { access_token, item_id } = plaid.createItem({ clientId: CLIENT_ID });
  plaid.failNext(1, { kind: 'lost-response' }, '/item/remove');
  await assert.rejects(call('/item/remove', { access_token }), TypeError);
  assert.equal(plaid.item(item_id)?.removed, true);
  assertPlaidError(await call('/item/remove', { access_token }), 400, 'ITEM_ERROR', 'ITEM_NOT_FOUND');

  const token = await publicToken();
  plaid.failNext(1, { kind: 'lost-response' }, '/item/public_token/exchange');
  await assert.rejects(exchange(token), TypeError);
  assertPlaidError(await exchange(token), 400, 'INVALID_INPUT', 'INVALID_PUBLIC_TOKEN');
});

test('createPublicToken and createItem give tokens the HTTP endpoints accept, without counting as calls', async () => {
  const token = plaid.createPublicToken({
    clientId: CLIENT_ID,
    institutionId: 'ins_109511',
    products: ['auth'],
    webhook: 'https://hooks.example.com/p',
  });
  assert.match(token, PUBLIC_TOKEN);
  assert.equal(plaid.calls, 0);
  const { access_token, item_id } = (await exchange(token)).body as { access_token: string; item_id: string };
  assert.deepEqual(plaid.item(item_id), {
    item_id,
    client_id: CLIENT_ID,
    institution_id: 'ins_109511',
    institution_name: 'Tartan Bank',
    webhook: 'https://hooks.example.com/p',
    billed_products: ['auth'],
    created_at: plaid.item(item_id)?.created_at,
    removed: false,
    error_code: null,
    user_id: null,
  });
  assert.match(String(plaid.item(item_id)?.created_at), ISO_SECONDS);
  assert.equal((await call('/item/get', { access_token })).status, 200);
  assert.equal(plaid.item('nope'), undefined);
});

// ---- /link/token/get, update mode's public token, /user/remove, counted faults ----

const LINK_SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function linkToken(extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await create({ ...validBody(), webhook: 'https://hooks.example.com/plaid', ...extra });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return String(answer.body.link_token);
}

test('/link/token/get (plaid SDK): what the token was created with, and no session before Link opens', async () => {
  const user = (await sdk().userCreate({ client_user_id: 'user-get-1' })).data;
  const token = await linkToken({
    user: { client_user_id: 'user-get-1' },
    user_id: user.user_id,
    hosted_link: {},
    redirect_uri: 'https://app.example.com/oauth',
    account_filters: { depository: { account_subtypes: ['checking'] } },
  });
  const { data } = await sdk().linkTokenGet({ link_token: token });
  assert.equal(data.link_token, token);
  assert.match(String(data.created_at), ISO_SECONDS);
  assert.equal(data.expiration, plaid.linkSession(token)?.expiration);
  assert.ok(Date.parse(String(data.created_at)) <= Date.parse(String(data.expiration)));
  assert.deepEqual(data.metadata, {
    initial_products: ['transactions'],
    webhook: 'https://hooks.example.com/plaid',
    country_codes: ['US'],
    language: 'en',
    redirect_uri: 'https://app.example.com/oauth',
    client_name: 'Budget App',
    account_filters: { depository: { account_subtypes: ['checking'] } },
  });
  assert.deepEqual(data.link_sessions, []);
  assert.equal(data.user_id, user.user_id);
  assert.match(data.request_id, REQUEST_ID);

  const session = plaid.linkSession(token)!;
  assert.deepEqual(
    {
      hosted_link: session.hosted_link,
      enable_multi_item_link: session.enable_multi_item_link,
      webhook: session.webhook,
      user_id: session.user_id,
      client_user_id: session.client_user_id,
      created_at: session.created_at,
    },
    {
      hosted_link: true,
      enable_multi_item_link: false,
      webhook: 'https://hooks.example.com/plaid',
      user_id: user.user_id,
      client_user_id: 'user-get-1',
      created_at: data.created_at,
    },
  );
  // A plain token has neither, and no user_id in the answer.
  const plain = await sdk().linkTokenGet({ link_token: await linkToken({ webhook: undefined }) });
  assert.equal(plain.data.user_id, undefined);
  assert.equal(plain.data.metadata.webhook, null);
  assert.equal(plain.data.metadata.redirect_uri, null);
});

test('/link/token/get: a finished session has its Items in results.item_add_results; an open one has no results yet', async () => {
  const token = await linkToken({ enable_multi_item_link: true, products: ['auth'] });
  const open = await plaid.runLinkSession(token, { outcome: 'in-progress' });
  let { data } = await sdk().linkTokenGet({ link_token: token });
  assert.equal(data.link_sessions?.length, 1);
  const [pending] = data.link_sessions;
  assert.equal(pending?.link_session_id, open.link_session_id);
  assert.match(String(pending?.started_at), ISO_MS);
  assert.equal(pending?.finished_at, null);
  assert.equal(pending?.results, null);
  assert.equal(pending?.exit, null);

  const done = await plaid.runLinkSession(token, { institutionIds: ['ins_109510', 'ins_109512'] });
  ({ data } = await sdk().linkTokenGet({ link_token: token }));
  assert.equal(data.link_sessions?.length, 2);
  const finished = data.link_sessions[1]!;
  assert.equal(finished.link_session_id, done.link_session_id);
  assert.notEqual(done.link_session_id, open.link_session_id);
  assert.match(String(finished.finished_at), ISO_MS);
  assert.ok(Date.parse(String(finished.finished_at)) >= Date.parse(String(finished.started_at)));
  assert.equal(finished.exit, null);
  const results = finished.results!;
  assert.deepEqual(
    results.item_add_results.map((r) => [r.public_token, r.institution]),
    [
      [done.items[0]!.public_token, { name: 'Tattersall Federal Credit Union', institution_id: 'ins_109510' }],
      [done.items[1]!.public_token, { name: 'Houndstooth Bank', institution_id: 'ins_109512' }],
    ],
  );
  for (const result of results.item_add_results) {
    assert.match(result.public_token, PUBLIC_TOKEN);
    assert.equal(result.accounts.length, 1);
    assert.deepEqual(
      { ...result.accounts[0], id: undefined },
      {
        id: undefined,
        name: 'Plaid Checking',
        mask: '0000',
        type: 'depository',
        subtype: 'checking',
        verification_status: null,
        class_type: null,
      },
    );
  }
  assert.deepEqual(
    [
      results.cra_item_add_results,
      results.cra_update_results,
      results.bank_income_results,
      results.payroll_income_results,
      results.document_income_results,
    ],
    [[], [], [], [], null],
  );
  assert.deepEqual(
    plaid.linkSession(token)?.sessions.map((s) => [s.status, s.institution_ids]),
    [
      [null, []],
      ['SUCCESS', ['ins_109510', 'ins_109512']],
    ],
  );

  // Each public token exchanges for an Item with the link token's products, and its account is the one listed.
  const exchanged = await sdk().itemPublicTokenExchange({ public_token: results.item_add_results[0]!.public_token });
  const item = plaid.item(exchanged.data.item_id)!;
  assert.equal(item.institution_id, 'ins_109510');
  assert.deepEqual(item.billed_products, ['auth']);
  assert.equal(item.webhook, 'https://hooks.example.com/plaid');
  // The answer stays the same after the exchange (Plaid keeps session data six hours), but the token is spent.
  const again = await sdk().linkTokenGet({ link_token: token });
  assert.deepEqual(again.data.link_sessions?.[1]?.results, results);
  assertPlaidError(
    await sdkError(sdk().itemPublicTokenExchange({ public_token: results.item_add_results[0]!.public_token })),
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
  );
});

test('/link/token/get: an exited session has exit and no results; sessions are kept six hours after they end', async () => {
  const token = await linkToken({ hosted_link: {} });
  const exited = await plaid.runLinkSession(token, { outcome: 'exited' });
  assert.equal(exited.status, 'EXITED');
  assert.deepEqual(exited.items, []);
  const { data } = await sdk().linkTokenGet({ link_token: token });
  const [session] = data.link_sessions!;
  assert.equal(session?.results, null);
  assert.deepEqual(session?.exit, {
    error: null,
    metadata: {
      institution: null,
      status: 'requires_credentials',
      link_session_id: exited.link_session_id,
      request_id: session?.exit?.metadata?.request_id,
    },
  });
  // Hosted Link sessions carry their events, the same ones on every call.
  assert.deepEqual(
    session?.events?.map((e) => e.event_name),
    ['OPEN', 'EXIT'],
  );
  for (const event of session.events) {
    assert.match(event.event_id, LINK_SESSION_ID);
    assert.match(event.timestamp, ISO_SECONDS);
  }
  const again = await sdk().linkTokenGet({ link_token: token });
  assert.deepEqual(again.data.link_sessions?.[0]?.events, session?.events);

  plaid.advanceClock(6 * 3600_000 - 60_000);
  assert.equal((await sdk().linkTokenGet({ link_token: token })).data.link_sessions?.length, 1);
  plaid.advanceClock(120_000);
  assert.deepEqual((await sdk().linkTokenGet({ link_token: token })).data.link_sessions, []);
});

test("/link/token/get refuses a malformed, unknown or other client's link token with INVALID_LINK_TOKEN", async () => {
  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const mine = await linkToken();
  const theirs = await sdk(OTHER_CLIENT, OTHER_SECRET).linkTokenCreate({
    client_name: 'Other App',
    language: 'en',
    country_codes: [CountryCode.Us],
    user: { client_user_id: 'user-other' },
    products: [Products.Auth],
  });
  for (const link_token of ['link-token', `link-sandbox-${crypto.randomUUID()}`, theirs.data.link_token]) {
    const answer = await sdkError(sdk().linkTokenGet({ link_token }));
    assertPlaidError(answer, 400, 'INVALID_INPUT', 'INVALID_LINK_TOKEN');
    assert.ok(!JSON.stringify(answer.body).includes(link_token), 'the refusal does not echo the token');
  }
  assertPlaidError(await call('/link/token/get', {}), 400, 'INVALID_REQUEST', 'MISSING_FIELDS', 'link_token');
  assertPlaidError(
    await call('/link/token/get', { link_token: mine, access_token: 'x' }),
    400,
    'INVALID_REQUEST',
    'UNKNOWN_FIELDS',
    'access_token',
  );
  assertPlaidError(
    await call('/link/token/get', { link_token: mine }, { 'plaid-secret': 'nope' }),
    400,
    'INVALID_INPUT',
    'INVALID_API_KEYS',
  );
  // An expired link token is still described: its sessions are what a caller reconciles.
  plaid.advanceClock(5 * 3600_000);
  assert.equal((await sdk().linkTokenGet({ link_token: mine })).data.link_token, mine);
});

test('runLinkSession refuses what Link would not do: an update-mode token, several Items without Multi-Item Link, an unknown bank', async () => {
  const { access_token } = plaid.createItem({ clientId: CLIENT_ID });
  const update = String((await create({ ...validBody(), products: undefined, access_token })).body.link_token);
  const single = await linkToken({ hosted_link: {} });
  const refusals: Array<[Promise<unknown>, string, RegExp]> = [
    [plaid.runLinkSession(update), 'link_token', /update-mode/],
    [plaid.runLinkSession('link-sandbox-unknown'), 'link_token', /not a link token/],
    [plaid.runLinkSession(single, { institutionIds: ['ins_109508', 'ins_109509'] }), 'institution_ids', /multi/i],
    [plaid.runLinkSession(single, { institutionIds: ['ins_1'] }), 'institution_ids', /ins_1/],
    [plaid.runLinkSession(single, { institutionIds: [] }), 'institution_ids', /at least one/],
  ];
  for (const [promise, field, message] of refusals) {
    await assert.rejects(promise, (err: Error & { field?: string }) => {
      assert.equal(err.name, 'LinkSessionError');
      assert.equal(err.field, field);
      assert.match(err.message, message);
      return true;
    });
  }
  plaid.advanceClock(4 * 3600_000);
  await assert.rejects(plaid.runLinkSession(single), /expired/);
  assert.deepEqual(plaid.linkSession(single)?.sessions, [], 'no refused run is recorded');
});

test('update mode done as Plaid does it: the public token exchanges for the same Item, and no Item is created', async () => {
  const client = sdk();
  const { access_token, item_id } = plaid.createItem({ clientId: CLIENT_ID, institutionId: 'ins_109511' });
  await client.sandboxItemResetLogin({ access_token });
  const link = await client.linkTokenCreate({
    client_name: 'Budget App',
    language: 'en',
    country_codes: [CountryCode.Us],
    user: { client_user_id: 'user-123' },
    access_token,
  });

  const publicToken = plaid.completeUpdateMode(link.data.link_token);
  assert.match(publicToken, PUBLIC_TOKEN);
  assert.equal(plaid.item(item_id)?.error_code, null, 'the Item is repaired');
  const { data: exchanged } = await client.itemPublicTokenExchange({ public_token: publicToken });
  assert.equal(exchanged.item_id, item_id, 'the same Item');
  assert.equal(exchanged.access_token, access_token, "the Item's own access token");
  const { data: got } = await client.itemGet({ access_token });
  assert.equal(got.item.item_id, item_id);
  assert.equal(got.item.error, null);
  assert.equal(got.item.institution_id, 'ins_109511');
  // Single use, as every public token.
  assertPlaidError(
    await sdkError(client.itemPublicTokenExchange({ public_token: publicToken })),
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
  );
  // /link/token/get shows the update session with that public token and the Item's institution.
  const { data } = await client.linkTokenGet({ link_token: link.data.link_token });
  assert.deepEqual(
    data.link_sessions?.map((s) =>
      s.results?.item_add_results.map((r) => [r.public_token, r.institution?.institution_id]),
    ),
    [[[publicToken, 'ins_109511']]],
  );

  // Removed meanwhile: the update-mode token's public token no longer leads to an Item.
  const second = await client.linkTokenCreate({
    client_name: 'Budget App',
    language: 'en',
    country_codes: [CountryCode.Us],
    user: { client_user_id: 'user-123' },
    access_token,
  });
  const late = plaid.completeUpdateMode(second.data.link_token);
  await client.itemRemove({ access_token });
  assertPlaidError(
    await sdkError(client.itemPublicTokenExchange({ public_token: late })),
    400,
    'ITEM_ERROR',
    'ITEM_NOT_FOUND',
  );
  assert.throws(() => plaid.completeUpdateMode(second.data.link_token), /removed/);
});

test('/user/remove (plaid SDK) by user_id or user_token: the user and its Items are gone, its client_user_id stays taken', async () => {
  const client = sdk();
  const byId = (await client.userCreate({ client_user_id: 'user-remove-1' })).data;
  const byToken = (await client.userCreate({ client_user_id: 'user-remove-2' })).data;
  const linked = plaid.createItem({ clientId: CLIENT_ID, userId: byId.user_id });
  const pending = plaid.createPublicToken({ clientId: CLIENT_ID, userId: byId.user_id });
  const unrelated = plaid.createItem({ clientId: CLIENT_ID, userId: byToken.user_id });

  const { data } = await client.userRemove({ user_id: byId.user_id });
  assert.deepEqual(Object.keys(data), ['request_id']);
  assert.match(data.request_id, REQUEST_ID);
  assert.equal(plaid.item(linked.item_id)?.removed, true, "the user's Items go with it");
  assertPlaidError(
    await sdkError(client.itemGet({ access_token: linked.access_token })),
    400,
    'ITEM_ERROR',
    'ITEM_NOT_FOUND',
  );
  assertPlaidError(
    await sdkError(client.itemPublicTokenExchange({ public_token: pending })),
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
  );
  assert.equal(plaid.item(unrelated.item_id)?.removed, false, "another user's Item stays");
  assertPlaidError(await sdkError(client.userRemove({ user_id: byId.user_id })), 400, 'USER_ERROR', 'USER_NOT_FOUND');
  assertPlaidError(
    await sdkError(client.userRemove({ user_token: byId.user_token! })),
    400,
    'INVALID_INPUT',
    'INVALID_USER_TOKEN',
  );
  assertPlaidError(
    await create({ ...validBody(), user: undefined, user_id: byId.user_id }),
    400,
    'USER_ERROR',
    'USER_NOT_FOUND',
  );
  assertPlaidError(
    await sdkError(client.userCreate({ client_user_id: 'user-remove-1' })),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'already been created',
  );

  assert.match((await client.userRemove({ user_token: byToken.user_token! })).data.request_id, REQUEST_ID);
  assert.equal(plaid.item(unrelated.item_id)?.removed, true);
  assertPlaidError(
    await sdkError(client.userRemove({ user_id: byToken.user_id })),
    400,
    'USER_ERROR',
    'USER_NOT_FOUND',
  );
});

test("/user/remove refuses an unknown or other client's user, a mismatched pair, no user at all, and bad credentials", async () => {
  plaid.setCredentials(OTHER_CLIENT, OTHER_SECRET);
  const theirs = (await sdk(OTHER_CLIENT, OTHER_SECRET).userCreate({ client_user_id: 'user-remove-x' })).data;
  const a = (await sdk().userCreate({ client_user_id: 'user-remove-a' })).data;
  const b = (await sdk().userCreate({ client_user_id: 'user-remove-b' })).data;
  assertPlaidError(await sdkError(sdk().userRemove({ user_id: 'usr_nobody' })), 400, 'USER_ERROR', 'USER_NOT_FOUND');
  assertPlaidError(await sdkError(sdk().userRemove({ user_id: theirs.user_id })), 400, 'USER_ERROR', 'USER_NOT_FOUND');
  assertPlaidError(
    await sdkError(sdk().userRemove({ user_token: theirs.user_token! })),
    400,
    'INVALID_INPUT',
    'INVALID_USER_TOKEN',
  );
  assertPlaidError(
    await call('/user/remove', { user_id: a.user_id, user_token: b.user_token }),
    400,
    'INVALID_REQUEST',
    'INVALID_FIELD',
    'different users',
  );
  assertPlaidError(await call('/user/remove', {}), 400, 'INVALID_REQUEST', 'MISSING_FIELDS', 'user_id');
  assertPlaidError(
    await call('/user/remove', { user_id: a.user_id, client_user_id: 'user-remove-a' }),
    400,
    'INVALID_REQUEST',
    'UNKNOWN_FIELDS',
    'client_user_id',
  );
  assertPlaidError(
    await call('/user/remove', { user_id: a.user_id }, { 'plaid-secret': 'nope' }),
    400,
    'INVALID_INPUT',
    'INVALID_API_KEYS',
  );
  // None of those removed anyone.
  assert.equal((await call('/user/remove', { user_id: a.user_id, user_token: a.user_token })).status, 200);
  assert.equal((await sdk(OTHER_CLIENT, OTHER_SECRET).userRemove({ user_id: theirs.user_id })).status, 200);
});

test('failCall fails the nth call to an endpoint, so a run of removals can break half-way', async () => {
  const items = [1, 2, 3].map(() => plaid.createItem({ clientId: CLIENT_ID }));
  plaid.failCall(
    2,
    { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
    '/item/remove',
  );
  assert.equal(
    (await call('/item/get', { access_token: items[0]!.access_token })).status,
    200,
    'other paths do not count',
  );
  const answers = [];
  for (const { access_token } of items) answers.push((await call('/item/remove', { access_token })).status);
  assert.deepEqual(answers, [200, 500, 200]);
  assert.deepEqual(
    items.map((i) => plaid.item(i.item_id)?.removed),
    [true, false, true],
  );
  assert.equal((await call('/item/remove', { access_token: items[1]!.access_token })).status, 200, 'once only');

  // With a lost response the nth call takes effect; without a path any endpoint counts.
  const user = (await sdk().userCreate({ client_user_id: 'user-fail-call' })).data;
  plaid.failCall(2, { kind: 'lost-response' });
  assert.equal((await call('/item/get', { access_token: items[0]!.access_token })).status, 400);
  await assert.rejects(sdk().userRemove({ user_id: user.user_id }));
  assertPlaidError(await sdkError(sdk().userRemove({ user_id: user.user_id })), 400, 'USER_ERROR', 'USER_NOT_FOUND');

  // A counted fault comes before failNext's queue, and reset() forgets both.
  const token = await linkToken();
  plaid.failNext(1, {
    kind: 'error',
    status: 429,
    error_type: 'RATE_LIMIT_EXCEEDED',
    error_code: 'RATE_LIMIT_EXCEEDED',
  });
  plaid.failCall(
    1,
    { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
    '/link/token/get',
  );
  plaid.reset();
  assert.equal((await call('/link/token/get', { link_token: token })).status, 200);
  plaid.failCall(
    1,
    { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
    '/link/token/get',
  );
  plaid.failNext(1, { kind: 'network' }, '/link/token/get');
  assertPlaidError(await call('/link/token/get', { link_token: token }), 500, 'API_ERROR', 'INTERNAL_SERVER_ERROR');
  await assert.rejects(call('/link/token/get', { link_token: token }), TypeError);
  assert.equal((await call('/link/token/get', { link_token: token })).status, 200);
  assert.throws(() => plaid.failCall(0, { kind: 'network' }), /counts from 1/);
});

test('failNext reaches the new endpoints: /link/token/get and /user/remove fail as Plaid would, then answer', async () => {
  const token = await linkToken();
  const user = (await sdk().userCreate({ client_user_id: 'user-fail-next' })).data;
  plaid.failNext(
    1,
    { kind: 'error', status: 503, error_type: 'API_ERROR', error_code: 'PLANNED_MAINTENANCE' },
    '/link/token/get',
  );
  plaid.failNext(
    1,
    { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' },
    '/user/remove',
  );
  assertPlaidError(await sdkError(sdk().linkTokenGet({ link_token: token })), 503, 'API_ERROR', 'PLANNED_MAINTENANCE');
  assertPlaidError(
    await sdkError(sdk().userRemove({ user_id: user.user_id })),
    500,
    'API_ERROR',
    'INTERNAL_SERVER_ERROR',
  );
  assert.equal((await sdk().linkTokenGet({ link_token: token })).status, 200);
  assert.equal((await sdk().userRemove({ user_id: user.user_id })).status, 200);
  assert.equal(plaid.callsTo('/user/remove'), 2);
  assert.equal(plaid.callsTo('/link/token/get'), 2);
});
