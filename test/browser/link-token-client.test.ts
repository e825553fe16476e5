// The typed browser client (client/link-token-client.ts) against scripted answers: the request
// it sends (validated against the OpenAPI request schema) and how each answer becomes a result or
// the error a UI needs. demo.test.ts runs the same client in Chromium against the real stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  createLinkToken,
  createServiceClient,
  isLinkTokenError,
  ItemConflictError,
  ItemNotFoundError,
  LinkTokenError,
  NetworkError,
  NotAllowedError,
  RequestRejectedError,
  ServiceError,
  SignInExpiredError,
  TryAgainLaterError,
  type CreateLinkTokenOptions,
} from '../../client/link-token-client.ts';
import { OPENAPI_FILE } from '../../openapi/generate.ts';
import { resolvePointer, validate, type Json } from '../openapi/json-schema.ts';

const ENDPOINT = 'https://api.example.com/link-token';
const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json;
const requestSchema = resolvePointer(doc, '#/components/schemas/LinkTokenRequest')!;

interface Sent {
  url: string;
  init: RequestInit;
}

/** What a fetch call was given as its URL, as the fetch it stands in for reads it. */
const urlOf = (url: string | URL | Request) =>
  typeof url === 'string' ? url : url instanceof URL ? url.href : url.url;

/** The JSON body of a request the client sent: always a string, as the client serializes it. */
function jsonBody(init: RequestInit) {
  assert.ok(typeof init.body === 'string', `the body is ${typeof init.body}, not a JSON string`);
  return JSON.parse(init.body);
}

function answering(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fake = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: urlOf(url), init: init ?? {} });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = status >= 400 && typeof body !== 'string' ? 'application/problem+json' : 'application/json';
    return new Response(status === 204 ? null : text, {
      status,
      headers: { 'content-type': type, 'x-correlation-id': 'corr-1', ...headers },
    });
  }) as typeof fetch;
  return { fetch: fake, sent };
}

// Like fetch: rejects with the signal's reason when it aborts (or already has); the client's
// signals abort with DOMExceptions (AbortError, TimeoutError).
const hanging = ((_url: string, init?: RequestInit) =>
  new Promise((_, reject) => {
    if (init?.signal?.aborted) reject(init.signal.reason as Error);
    init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error));
  })) as typeof fetch;

const problem = (status: number, slug: string, extra: object = {}) => ({
  type: `tag:link-token-service,2026:problems/${slug}`,
  title: slug,
  status,
  detail: `detail of ${slug}`,
  correlation_id: 'corr-1',
  ...extra,
});

async function failure(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  options: Partial<CreateLinkTokenOptions> = {},
): Promise<LinkTokenError> {
  const { fetch } = answering(status, body, headers);
  const error = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch, ...options }).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(isLinkTokenError(error), `a LinkTokenError, got ${String(error)}`);
  return error;
}

test('sends one POST with the bearer token and only the fields the endpoint accepts', async () => {
  const { fetch, sent } = answering(200, { link_token: 'link-sandbox-1', expiration: '2026-01-01T04:00:00Z' });
  const token = await createLinkToken({
    endpoint: ENDPOINT,
    getAccessToken: async () => 'the-jwt',
    platform: 'ios',
    profile: 'payments',
    language: 'fr',
    fetch,
  });
  assert.deepEqual(token, {
    linkToken: 'link-sandbox-1',
    expiration: new Date('2026-01-01T04:00:00Z'),
    correlationId: 'corr-1',
  });
  assert.equal(sent.length, 1);
  const { url, init } = sent[0]!;
  assert.equal(url, ENDPOINT);
  assert.equal(init.method, 'POST');
  assert.deepEqual(init.headers, {
    authorization: 'Bearer the-jwt',
    'content-type': 'application/json',
    accept: 'application/json, application/problem+json',
  });
  assert.equal(init.credentials, 'omit');
  assert.equal(init.mode, 'cors');
  assert.equal(init.redirect, 'error');
  assert.deepEqual(jsonBody(init), { platform: 'ios', profile: 'payments', language: 'fr' });
});

test('every body the client can send validates against the OpenAPI request schema', async () => {
  const variants: Partial<CreateLinkTokenOptions>[] = [
    {},
    { platform: 'web' },
    { platform: 'android', profile: 'default' },
    { platform: 'ios', language: 'en' },
    { platform: 'web', mode: 'update', itemId: 'item-abc123' },
    { platform: 'ios', mode: 'update', itemId: 'item-abc123', accountSelection: true },
  ];
  for (const variant of variants) {
    const { fetch, sent } = answering(200, { link_token: 'link-x', expiration: '2026-01-01T00:00:00Z' });
    await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch, ...variant });
    const body = jsonBody(sent[0]!.init);
    assert.deepEqual(validate(requestSchema, body, doc), [], JSON.stringify(body));
  }
});

test('keeps hosted_link_url when the endpoint sends one', async () => {
  const { fetch } = answering(200, {
    link_token: 'link-x',
    expiration: '2026-01-01T00:00:00Z',
    hosted_link_url: 'https://secure.plaid.com/hl/abc',
  });
  const token = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch });
  assert.equal(token.hostedLinkUrl, 'https://secure.plaid.com/hl/abc');
});

test('no access token: sign-in expired, and nothing is sent', async () => {
  for (const getAccessToken of [
    () => undefined,
    () => '',
    () => null,
    () => Promise.reject(new Error('refresh failed')),
  ]) {
    const { fetch, sent } = answering(200, {});
    const error = await createLinkToken({ endpoint: ENDPOINT, getAccessToken, fetch }).catch((e: unknown) => e);
    assert.ok(error instanceof SignInExpiredError);
    assert.equal(error.kind, 'sign-in-expired');
    assert.equal(sent.length, 0);
  }
});

test('401 → SignInExpiredError; 403 → NotAllowedError', async () => {
  const expired = await failure(401, problem(401, 'invalid-token'), {
    'www-authenticate': 'Bearer realm="link-token", error="invalid_token"',
  });
  assert.ok(expired instanceof SignInExpiredError);
  assert.deepEqual(
    [expired.kind, expired.status, expired.retryable, expired.correlationId, expired.message],
    ['sign-in-expired', 401, false, 'corr-1', 'detail of invalid-token'],
  );
  for (const slug of ['origin-not-allowed', 'unknown-tenant']) {
    const denied = await failure(403, problem(403, slug));
    assert.ok(denied instanceof NotAllowedError);
    assert.equal(denied.kind, 'not-allowed');
    assert.equal(denied.problem?.type, `tag:link-token-service,2026:problems/${slug}`);
  }
});

test('429, 503, 504 → TryAgainLaterError with Retry-After in seconds (delay or HTTP date)', async () => {
  const limited = await failure(429, problem(429, 'rate-limited'), { 'retry-after': '30' });
  assert.ok(limited instanceof TryAgainLaterError);
  assert.deepEqual([limited.kind, limited.retryAfterSeconds, limited.retryable], ['try-again-later', 30, true]);
  const dated = await failure(503, problem(503, 'upstream-unavailable'), {
    'retry-after': new Date(Date.now() + 120_000).toUTCString(),
  });
  assert.ok(dated instanceof TryAgainLaterError);
  assert.ok(dated.retryAfterSeconds! >= 118 && dated.retryAfterSeconds! <= 121, String(dated.retryAfterSeconds));
  const timeout = await failure(504, problem(504, 'upstream-timeout'));
  assert.ok(timeout instanceof TryAgainLaterError);
  assert.equal(timeout.retryAfterSeconds, undefined);
});

test('400, 404, 405, 413, 415 → RequestRejectedError naming the fields', async () => {
  const invalid = await failure(
    400,
    problem(400, 'invalid-request', { errors: [{ field: 'redirect_uri', message: 'may not be set by the client' }] }),
  );
  assert.ok(invalid instanceof RequestRejectedError);
  assert.deepEqual(invalid.fieldErrors, [{ field: 'redirect_uri', message: 'may not be set by the client' }]);
  for (const [status, slug] of [
    [404, 'not-found'],
    [405, 'method-not-allowed'],
    [413, 'payload-too-large'],
    [415, 'unsupported-media-type'],
  ] as const) {
    const error = await failure(status, problem(status, slug));
    assert.equal(error.kind, 'bad-request', String(status));
  }
});

test("500, 502 and a gateway's non-problem answer → ServiceError; a garbled 200 too", async () => {
  const internal = await failure(500, problem(500, 'internal-error'));
  assert.ok(internal instanceof ServiceError);
  assert.equal(internal.correlationId, 'corr-1');
  const rejected = await failure(502, problem(502, 'upstream-rejected'));
  assert.equal(rejected.kind, 'service-error');
  const gateway = await failure(502, '{"message":"Internal Server Error"}');
  assert.equal(gateway.kind, 'service-error');
  assert.equal(gateway.problem, undefined);
  assert.match(gateway.message, /HTTP 502/);
  const garbled = await failure(200, '<html>');
  assert.ok(garbled instanceof ServiceError);
  const noExpiry = await failure(200, { link_token: 'link-x' });
  assert.ok(noExpiry instanceof ServiceError);
});

test('no answer (offline, or CORS-blocked: both a bare TypeError) → NetworkError; a slow one times out', async () => {
  const offline = (async () => {
    throw new TypeError('Failed to fetch');
  }) as typeof fetch;
  const error = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch: offline }).catch(
    (e: unknown) => e,
  );
  assert.ok(error instanceof NetworkError);
  assert.deepEqual([error.kind, error.retryable, (error.cause as Error).name], ['network', true, 'TypeError']);
  assert.match(error.message, /CORS/);

  const slow = await createLinkToken({
    endpoint: ENDPOINT,
    getAccessToken: () => 'jwt',
    fetch: hanging,
    timeoutMs: 50,
  }).catch((e: unknown) => e);
  assert.ok(slow instanceof NetworkError);
  assert.match(slow.message, /within 50 ms/);
});

test("the caller's own abort is passed through as is, not turned into a LinkTokenError", async () => {
  const controller = new AbortController();
  const pending = createLinkToken({
    endpoint: ENDPOINT,
    getAccessToken: () => 'jwt',
    fetch: hanging,
    signal: controller.signal,
  }).catch((e: unknown) => e);
  controller.abort();
  const error = await pending;
  assert.ok(!isLinkTokenError(error));
  assert.equal((error as Error).name, 'AbortError');
  // Aborted while the request is under way, too.
  const later = new AbortController();
  const inFlight = createLinkToken({
    endpoint: ENDPOINT,
    getAccessToken: () => 'jwt',
    fetch: hanging,
    signal: later.signal,
  }).catch((e: unknown) => e);
  await new Promise((resolve) => setTimeout(resolve, 10));
  later.abort();
  assert.equal(((await inFlight) as Error).name, 'AbortError');
});

// ---- the Items routes, through createServiceClient ----

const BASE = 'https://api.example.com/v1';
const ITEM = {
  item_id: 'item-abc123',
  institution: { institution_id: 'ins_109508', name: 'First Platypus Bank' },
  status: 'healthy',
  created_at: '2026-01-01T00:00:00.000Z',
};

/** Answers each request in turn with the next scripted answer. */
function scripted(...answers: Array<[number, unknown]>): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fake = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: urlOf(url), init: init ?? {} });
    const [status, body] = answers[sent.length - 1] ?? assert.fail(`unexpected request ${sent.length}`);
    const type = status >= 400 ? 'application/problem+json' : 'application/json';
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': type, 'x-correlation-id': `corr-${sent.length}` },
    });
  }) as typeof fetch;
  return { fetch: fake, sent };
}

async function rejection(promise: Promise<unknown>): Promise<LinkTokenError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(isLinkTokenError(error), `a LinkTokenError, got ${String(error)}`);
  return error;
}

test('update mode: the link token request names the Item and Account Select, through the service client too', async () => {
  const { fetch, sent } = scripted([200, { link_token: 'link-sandbox-u', expiration: '2026-01-01T04:00:00Z' }]);
  const client = createServiceClient({ baseUrl: `${BASE}/`, getAccessToken: () => 'jwt', fetch });
  const token = await client.createLinkToken({
    platform: 'web',
    mode: 'update',
    itemId: 'item-abc123',
    accountSelection: true,
  });
  assert.equal(token.linkToken, 'link-sandbox-u');
  assert.equal(sent[0]!.url, `${BASE}/link-token`);
  assert.deepEqual(jsonBody(sent[0]!.init), {
    platform: 'web',
    mode: 'update',
    item_id: 'item-abc123',
    account_selection: true,
  });
});

test('linkItem: POST /items with only the public_token; 201 is a new Item, 200 the same one again', async () => {
  const { fetch, sent } = scripted([201, ITEM], [200, ITEM]);
  const client = createServiceClient({ baseUrl: BASE, getAccessToken: () => 'the-jwt', fetch });
  const linked = await client.linkItem('public-sandbox-00000000-0000-4000-8000-000000000000');
  assert.deepEqual(linked, {
    itemId: 'item-abc123',
    institution: { institutionId: 'ins_109508', name: 'First Platypus Bank' },
    status: 'healthy',
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    created: true,
    correlationId: 'corr-1',
  });
  const { url, init } = sent[0]!;
  assert.equal(url, `${BASE}/items`);
  assert.equal(init.method, 'POST');
  assert.deepEqual(init.headers, {
    authorization: 'Bearer the-jwt',
    'content-type': 'application/json',
    accept: 'application/json, application/problem+json',
  });
  assert.equal(init.credentials, 'omit');
  assert.deepEqual(jsonBody(init), {
    public_token: 'public-sandbox-00000000-0000-4000-8000-000000000000',
  });
  assert.equal((await client.linkItem('public-sandbox-00000000-0000-4000-8000-000000000000')).created, false);
});

test('linkItem: 409 → ItemConflictError carrying the existing Item; a bad public token → RequestRejectedError naming it', async () => {
  const { fetch } = scripted(
    [409, problem(409, 'conflict', { existing_item_id: 'item-old1' })],
    [
      400,
      problem(400, 'invalid-request', {
        errors: [{ field: 'public_token', message: 'is invalid, already exchanged or expired' }],
      }),
    ],
  );
  const client = createServiceClient({ baseUrl: BASE, getAccessToken: () => 'jwt', fetch });
  const conflict = await rejection(client.linkItem('public-sandbox-x'));
  assert.ok(conflict instanceof ItemConflictError);
  assert.deepEqual(
    [conflict.kind, conflict.status, conflict.existingItemId, conflict.retryable],
    ['item-conflict', 409, 'item-old1', false],
  );
  const bad = await rejection(client.linkItem('public-sandbox-y'));
  assert.ok(bad instanceof RequestRejectedError);
  assert.deepEqual(
    bad.fieldErrors.map((e) => e.field),
    ['public_token'],
  );
  // Nothing to send: refused before any request.
  const { fetch: unused, sent } = scripted();
  const empty = await rejection(
    createServiceClient({ baseUrl: BASE, getAccessToken: () => 'jwt', fetch: unused }).linkItem(''),
  );
  assert.equal(empty.kind, 'bad-request');
  assert.equal(sent.length, 0);
});

test('listItems: GET /items without a body; the Items with their dates; a garbled list → ServiceError', async () => {
  const { fetch, sent } = scripted(
    [
      200,
      {
        items: [
          { ...ITEM, action: 'none', consent_expiration_time: null, updated_at: '2026-01-02T00:00:00.000Z' },
          {
            ...ITEM,
            item_id: 'item-2',
            institution: { institution_id: null, name: null },
            status: 'pending_expiration',
            action: 'update',
            consent_expiration_time: '2026-02-01T00:00:00Z',
            updated_at: '2026-01-03T00:00:00.000Z',
          },
        ],
      },
    ],
    [200, { items: [{ item_id: 'item-3' }] }],
    [200, { items: [] }],
  );
  const client = createServiceClient({ baseUrl: BASE, getAccessToken: () => 'jwt', fetch });
  const items = await client.listItems();
  assert.deepEqual(
    items.map((i) => [
      i.itemId,
      i.institution.name,
      i.status,
      i.updatedAt?.toISOString(),
      i.action,
      i.consentExpirationTime?.toISOString() ?? null,
    ]),
    [
      ['item-abc123', 'First Platypus Bank', 'healthy', '2026-01-02T00:00:00.000Z', 'none', null],
      ['item-2', null, 'pending_expiration', '2026-01-03T00:00:00.000Z', 'update', '2026-02-01T00:00:00.000Z'],
    ],
  );
  assert.equal(sent[0]!.init.method, 'GET');
  assert.equal(sent[0]!.init.body, undefined);
  assert.deepEqual(
    sent[0]!.init.headers,
    { authorization: 'Bearer jwt', accept: 'application/json, application/problem+json' },
    'no content-type without a body',
  );
  assert.ok((await rejection(client.listItems())) instanceof ServiceError);
  assert.deepEqual(await client.listItems(), []);
});

test("removeItem: DELETE /items/{item_id} (escaped); 204 resolves; another user's or a gone Item → ItemNotFoundError", async () => {
  const { fetch, sent } = scripted(
    [204, null],
    [404, problem(404, 'item-not-found')],
    [404, problem(404, 'not-found')],
    [503, problem(503, 'item-store-unavailable')],
  );
  const client = createServiceClient({ baseUrl: BASE, getAccessToken: () => 'jwt', fetch });
  assert.equal(await client.removeItem('item-abc123'), undefined);
  assert.equal(sent[0]!.url, `${BASE}/items/item-abc123`);
  assert.equal(sent[0]!.init.method, 'DELETE');
  const missing = await rejection(client.removeItem('item-of-someone-else'));
  assert.ok(missing instanceof ItemNotFoundError);
  assert.deepEqual([missing.kind, missing.status, missing.correlationId], ['item-not-found', 404, 'corr-2']);
  // A malformed id gets the service's plain 404: no Item of this user's either.
  assert.ok((await rejection(client.removeItem('a/b'))) instanceof ItemNotFoundError);
  assert.equal(sent[2]!.url, `${BASE}/items/a%2Fb`);
  const busy = await rejection(client.removeItem('item-abc123'));
  assert.equal(busy.kind, 'try-again-later');
});

test("update mode for an Item that is not the user's → ItemNotFoundError; an unknown path stays a RequestRejectedError", async () => {
  const notTheirs = await failure(404, problem(404, 'item-not-found'), {}, { mode: 'update', itemId: 'item-x' });
  assert.ok(notTheirs instanceof ItemNotFoundError);
  const noRoute = await failure(404, problem(404, 'not-found'));
  assert.ok(noRoute instanceof RequestRejectedError);
});

test('the Items calls share sign-in handling: no access token, nothing sent', async () => {
  const { fetch, sent } = scripted();
  const client = createServiceClient({ baseUrl: BASE, getAccessToken: () => null, fetch });
  for (const call of [
    () => client.listItems(),
    () => client.linkItem('public-sandbox-x'),
    () => client.removeItem('item-1'),
  ]) {
    assert.ok((await rejection(call())) instanceof SignInExpiredError);
  }
  assert.equal(sent.length, 0);
});
