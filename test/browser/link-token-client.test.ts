// The typed browser client (client/link-token-client.ts) against scripted answers: the request
// it sends (validated against the OpenAPI request schema) and how each answer becomes a result or
// the error a UI needs. demo.test.ts runs the same client in Chromium against the real stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  createLinkToken,
  isLinkTokenError,
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

function answering(status: number, body: unknown, headers: Record<string, string> = {}): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fake = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), init: init ?? {} });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = status >= 400 && typeof body !== 'string' ? 'application/problem+json' : 'application/json';
    return new Response(status === 204 ? null : text, { status, headers: { 'content-type': type, 'x-correlation-id': 'corr-1', ...headers } });
  }) as typeof fetch;
  return { fetch: fake, sent };
}

// Like fetch: rejects with the signal's reason when it aborts (or already has).
const hanging = ((_url: string, init?: RequestInit) =>
  new Promise((_, reject) => {
    if (init?.signal?.aborted) reject(init.signal.reason);
    init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
  })) as typeof fetch;

const problem = (status: number, slug: string, extra: object = {}) => ({
  type: `tag:link-token-service,2026:problems/${slug}`,
  title: slug,
  status,
  detail: `detail of ${slug}`,
  correlation_id: 'corr-1',
  ...extra,
});

async function failure(status: number, body: unknown, headers: Record<string, string> = {}, options: Partial<CreateLinkTokenOptions> = {}): Promise<LinkTokenError> {
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
  const token = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: async () => 'the-jwt', platform: 'ios', profile: 'payments', language: 'fr', fetch });
  assert.deepEqual(token, { linkToken: 'link-sandbox-1', expiration: new Date('2026-01-01T04:00:00Z'), correlationId: 'corr-1' });
  assert.equal(sent.length, 1);
  const { url, init } = sent[0]!;
  assert.equal(url, ENDPOINT);
  assert.equal(init.method, 'POST');
  assert.deepEqual(init.headers, { authorization: 'Bearer the-jwt', 'content-type': 'application/json', accept: 'application/json, application/problem+json' });
  assert.equal(init.credentials, 'omit');
  assert.equal(init.mode, 'cors');
  assert.equal(init.redirect, 'error');
  assert.deepEqual(JSON.parse(String(init.body)), { platform: 'ios', profile: 'payments', language: 'fr' });
});

test('every body the client can send validates against the OpenAPI request schema', async () => {
  const variants: Partial<CreateLinkTokenOptions>[] = [{}, { platform: 'web' }, { platform: 'android', profile: 'default' }, { platform: 'ios', language: 'en' }];
  for (const variant of variants) {
    const { fetch, sent } = answering(200, { link_token: 'link-x', expiration: '2026-01-01T00:00:00Z' });
    await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch, ...variant });
    const body = JSON.parse(String(sent[0]!.init.body));
    assert.deepEqual(validate(requestSchema, body, doc), [], JSON.stringify(body));
  }
});

test('keeps hosted_link_url when the endpoint sends one', async () => {
  const { fetch } = answering(200, { link_token: 'link-x', expiration: '2026-01-01T00:00:00Z', hosted_link_url: 'https://secure.plaid.com/hl/abc' });
  const token = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch });
  assert.equal(token.hostedLinkUrl, 'https://secure.plaid.com/hl/abc');
});

test('no access token: sign-in expired, and nothing is sent', async () => {
  for (const getAccessToken of [() => undefined, () => '', () => null, () => Promise.reject(new Error('refresh failed'))]) {
    const { fetch, sent } = answering(200, {});
    const error = await createLinkToken({ endpoint: ENDPOINT, getAccessToken, fetch }).catch((e: unknown) => e);
    assert.ok(error instanceof SignInExpiredError);
    assert.equal(error.kind, 'sign-in-expired');
    assert.equal(sent.length, 0);
  }
});

test('401 → SignInExpiredError; 403 → NotAllowedError', async () => {
  const expired = await failure(401, problem(401, 'invalid-token'), { 'www-authenticate': 'Bearer realm="link-token", error="invalid_token"' });
  assert.ok(expired instanceof SignInExpiredError);
  assert.deepEqual([expired.kind, expired.status, expired.retryable, expired.correlationId, expired.message], ['sign-in-expired', 401, false, 'corr-1', 'detail of invalid-token']);
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
  const dated = await failure(503, problem(503, 'upstream-unavailable'), { 'retry-after': new Date(Date.now() + 120_000).toUTCString() });
  assert.ok(dated instanceof TryAgainLaterError);
  assert.ok(dated.retryAfterSeconds! >= 118 && dated.retryAfterSeconds! <= 121, String(dated.retryAfterSeconds));
  const timeout = await failure(504, problem(504, 'upstream-timeout'));
  assert.ok(timeout instanceof TryAgainLaterError);
  assert.equal(timeout.retryAfterSeconds, undefined);
});

test('400, 404, 405, 413, 415 → RequestRejectedError naming the fields', async () => {
  const invalid = await failure(400, problem(400, 'invalid-request', { errors: [{ field: 'redirect_uri', message: 'may not be set by the client' }] }));
  assert.ok(invalid instanceof RequestRejectedError);
  assert.deepEqual(invalid.fieldErrors, [{ field: 'redirect_uri', message: 'may not be set by the client' }]);
  for (const [status, slug] of [[404, 'not-found'], [405, 'method-not-allowed'], [413, 'payload-too-large'], [415, 'unsupported-media-type']] as const) {
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
  const error = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch: offline }).catch((e: unknown) => e);
  assert.ok(error instanceof NetworkError);
  assert.deepEqual([error.kind, error.retryable, (error.cause as Error).name], ['network', true, 'TypeError']);
  assert.match(error.message, /CORS/);

  const slow = await createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch: hanging, timeoutMs: 50 }).catch((e: unknown) => e);
  assert.ok(slow instanceof NetworkError);
  assert.match(slow.message, /within 50 ms/);
});

test("the caller's own abort is passed through as is, not turned into a LinkTokenError", async () => {
  const controller = new AbortController();
  const pending = createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch: hanging, signal: controller.signal }).catch((e: unknown) => e);
  controller.abort();
  const error = await pending;
  assert.ok(!isLinkTokenError(error));
  assert.equal((error as Error).name, 'AbortError');
  // Aborted while the request is under way, too.
  const later = new AbortController();
  const inFlight = createLinkToken({ endpoint: ENDPOINT, getAccessToken: () => 'jwt', fetch: hanging, signal: later.signal }).catch((e: unknown) => e);
  await new Promise((resolve) => setTimeout(resolve, 10));
  later.abort();
  assert.equal(((await inFlight) as Error).name, 'AbortError');
});
