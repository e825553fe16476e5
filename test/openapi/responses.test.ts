// Real answers of the local stack (the bundled function behind the API Gateway emulator) checked
// against the OpenAPI description: for each, the declared response for its status exists, its
// media type is declared, the body validates against the declared schema, and every declared
// required header is there and valid. Plaid faults come from a Plaid stand-in this test owns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../local/start.ts';
import { startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { DEMO_AUDIENCE } from '../../local/demo-tenants.ts';
import { OPENAPI_FILE } from '../../openapi/generate.ts';
import { resolvePointer, validate, type Json } from './json-schema.ts';

type Obj = { [key: string]: Json };
const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Obj;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const deref = (v: Json | undefined): Obj => {
  let node = v;
  while (isObj(node) && typeof node.$ref === 'string') node = resolvePointer(doc, node.$ref);
  assert.ok(isObj(node));
  return node;
};
// Requests the gateway would route elsewhere are described in components.responses by status.
const ROUTING_RESPONSES: Record<number, string> = { 404: 'NotFound', 405: 'MethodNotAllowed' };

let stack: LocalStack;
let plaid: PlaidStandIn;
let workDir: string;
let token: string;
let allowedOrigin: string;
const seenStatuses = new Set<string>();

before(async () => {
  process.env.LOG_LEVEL ??= 'error';
  // A short budget so a slow Plaid turns into the 504 the description promises, quickly.
  process.env.REQUEST_BUDGET_MS = '1500';
  plaid = await startPlaidStandIn();
  workDir = mkdtempSync(join(tmpdir(), 'link-token-openapi-'));
  stack = await startLocalStack({ PORT: '0', PLAID_BASE_URL: plaid.url, LOCAL_WORK_DIR: workDir });
  allowedOrigin = new URL(stack.apiUrl).origin;
  token = stack.issuer.mint({ sub: 'openapi-user', aud: DEMO_AUDIENCE, email: 'o@example.com', email_verified: true });
});

after(async () => {
  await stack?.close();
  await plaid?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function call(opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${stack.apiUrl}${opts.path ?? '/link-token'}`, { method: opts.method ?? 'POST', headers: opts.headers, body: opts.body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  call({ headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Asserts the answer is one the description declares for this operation, and returns its body. */
function conforms(res: { status: number; headers: Headers; text: string }, path: string, method: string): unknown {
  const op = isObj(doc.paths) && isObj(doc.paths[path]) ? ((doc.paths[path] as Obj)[method.toLowerCase()] as Obj | undefined) : undefined;
  const declared = op
    ? (op.responses as Obj)[String(res.status)]
    : ROUTING_RESPONSES[res.status] && ((doc.components as Obj).responses as Obj)[ROUTING_RESPONSES[res.status]!];
  assert.ok(declared, `${method} ${path} → ${res.status} is described`);
  const response = deref(declared);
  seenStatuses.add(`${method} ${res.status}`);

  for (const [name, raw] of Object.entries((response.headers ?? {}) as Obj)) {
    const header = deref(raw);
    const value = res.headers.get(name);
    if (header.required === true) assert.notEqual(value, null, `${res.status}: required header ${name}`);
    if (value !== null) assert.deepEqual(validate(header.schema!, value, doc), [], `${res.status}: header ${name}: ${value}`);
  }
  const content = (response.content ?? {}) as Obj;
  if (Object.keys(content).length === 0) {
    assert.equal(res.text, '', `${res.status}: no body`);
    return undefined;
  }
  const mediaType = res.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  assert.ok(Object.hasOwn(content, mediaType), `${res.status}: ${mediaType} is a declared media type (${Object.keys(content).join(', ')})`);
  const body = JSON.parse(res.text) as unknown;
  assert.deepEqual(validate((content[mediaType] as Obj).schema!, body, doc), [], `${res.status} body ${res.text}`);
  return body;
}

test('200: a link token, with the CORS headers for an allowed origin', async () => {
  const res = await post({ platform: 'web', language: 'fr' }, { origin: allowedOrigin });
  const body = conforms(res, '/link-token', 'POST') as { link_token: string };
  assert.equal(res.status, 200);
  assert.match(body.link_token, /^link-sandbox-/);
  assert.equal(res.headers.get('access-control-allow-origin'), allowedOrigin);
  const android = await post({ platform: 'android' });
  conforms(android, '/link-token', 'POST');
  assert.equal(android.status, 200);
});

test('OPTIONS: an allowed preflight, a plain OPTIONS and a refused preflight', async () => {
  const allowed = await call({ method: 'OPTIONS', headers: { origin: allowedOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
  conforms(allowed, '/link-token', 'OPTIONS');
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), allowedOrigin);
  const plain = await call({ method: 'OPTIONS' });
  conforms(plain, '/link-token', 'OPTIONS');
  assert.equal(plain.headers.get('allow'), 'POST, OPTIONS');
  const refused = await call({ method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  conforms(refused, '/link-token', 'OPTIONS');
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('access-control-allow-origin'), null);
});

test('4xx problems: each validates against the problem response of its status', async () => {
  const cases: Array<[string, Promise<{ status: number; headers: Headers; text: string }>, number]> = [
    ['no token', call({ headers: { 'content-type': 'application/json' }, body: '{"platform":"web"}' }), 401],
    ['not a JWT', post({ platform: 'web' }, { authorization: 'Bearer not-a-jwt' }), 401],
    ['expired token', post({ platform: 'web' }, { authorization: `Bearer ${stack.issuer.mint({ sub: 'u', aud: DEMO_AUDIENCE }, { expiresInSeconds: -3600 })}` }), 401],
    ['token for another audience', post({ platform: 'web' }, { authorization: `Bearer ${stack.issuer.mint({ sub: 'u', aud: 'another-app' })}` }), 401],
    ['origin not allowed', post({ platform: 'web' }, { origin: 'https://evil.example' }), 403],
    ['unknown and server-decided fields', post({ platform: 'web', redirect_uri: 'https://evil.example', colour: 'red' }), 400],
    ['missing platform', post({}), 400],
    ['unknown profile', post({ platform: 'web', profile: 'nope' }), 400],
    ['language the tenant does not offer', post({ platform: 'web', language: 'de' }), 400],
    ['invalid JSON', post('{"platform":'), 400],
    ['not JSON', call({ headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: 'platform=web' }), 415],
    ['too large', post({ platform: 'web', padding: 'x'.repeat(20_000) }), 413],
  ];
  for (const [name, pending, status] of cases) {
    const res = await pending;
    assert.equal(res.status, status, `${name}: ${res.text}`);
    const body = conforms(res, '/link-token', 'POST') as { errors?: { field: string }[] };
    if (name === 'unknown and server-decided fields') assert.deepEqual(body.errors?.map((e) => e.field), ['redirect_uri', 'colour']);
  }
  const wrongMethod = await call({ method: 'GET' });
  assert.equal(wrongMethod.status, 405);
  conforms(wrongMethod, '/link-token', 'GET');
  const wrongPath = await call({ path: '/link-tokens' });
  assert.equal(wrongPath.status, 404);
  conforms(wrongPath, '/link-tokens', 'POST');
});

test('5xx and 429 from Plaid faults validate too, with Retry-After on 429', async () => {
  const faults: Array<[string, () => void, number]> = [
    ['Plaid rate limit', () => plaid.failNext(2, { kind: 'error', status: 429, error_type: 'RATE_LIMIT_EXCEEDED', error_code: 'RATE_LIMIT_EXCEEDED' }), 429],
    ['Plaid refuses the config', () => plaid.failNext(1, { kind: 'error', status: 400, error_type: 'INVALID_REQUEST', error_code: 'INVALID_FIELD' }), 502],
    ['Plaid is down', () => plaid.failNext(2, { kind: 'error', status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' }), 503],
    ['Plaid unreachable', () => plaid.failNext(2, { kind: 'network' }), 503],
    ['Plaid too slow', () => plaid.failNext(2, { kind: 'delay', ms: 2500 }), 504],
  ];
  for (const [name, arrange, status] of faults) {
    plaid.reset();
    arrange();
    const res = await post({ platform: 'web' });
    assert.equal(res.status, status, `${name}: ${res.text}`);
    conforms(res, '/link-token', 'POST');
    if (status === 429) assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
  }
  plaid.reset();
});

test('the stack serves the committed description at GET /openapi.json, readable from any origin', async () => {
  const res = await fetch(`${stack.apiUrl}/openapi.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(await res.text(), readFileSync(OPENAPI_FILE, 'utf8'));
});

test('the checks above saw every status the POST operation declares except 500', () => {
  const declared = Object.keys(((doc.paths as Obj)['/link-token'] as Obj).post ? (((doc.paths as Obj)['/link-token'] as Obj).post as Obj).responses as Obj : {});
  // 500 (misconfigured tenant, unexpected error) cannot be caused from outside on a healthy stack.
  const unseen = declared.filter((status) => !seenStatuses.has(`POST ${status}`));
  assert.deepEqual(unseen, ['500']);
});
