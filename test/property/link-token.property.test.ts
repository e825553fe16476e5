// Property-based tests of the request path through the local stack (the bundled handler behind
// the local API Gateway, `npm start` as a child process) against loopback stand-ins of Plaid,
// Secrets Manager and two identity providers. Each property holds for every generated request:
// no 5xx, Plaid is called only for a request the tenant offers, and nothing of the token sent
// comes back in the status, headers or body. Cases and seed: PROPERTY_RUNS, PROPERTY_SEED
// (docs/testing.md).
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { deriveClientUserId } from '../../lambda/domain/client-user-id.ts';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { startE2eStack, type E2eStack } from '../support/e2e-harness.ts';
import {
  anyBody,
  bodyCase,
  extraClaims,
  headerName,
  headerValue,
  languageValue,
  nonString,
  notANumericDate,
  notASubject,
  objectText,
  oddString,
  platformValue,
  PLATFORMS,
  profileValue,
  PROTOTYPE_KEYS,
  sameToken,
  SERVER_DECIDED_KEYS,
  tokenMutation,
  wrongFields,
  type BodyCase,
  type Entry,
  type TenantOffer,
} from './arbitraries.ts';
import {
  checkProperty,
  leakedPart,
  leakedPartInBulk,
  PROPERTY_PATH,
  PROPERTY_RUNS,
  rawCall,
  type RawResponse,
} from './support.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const HMAC_KEY = 'property-client-user-id-key-0123456789abcdef0123';
const ACME = { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-sandbox-secret-property' };
const GLOBEX = { secretId: 'plaid/globex', clientId: 'globex-client-id', secret: 'globex-sandbox-secret-property' };
const INITECH = { secretId: 'plaid/initech', clientId: 'initech-client-id', secret: 'initech-sandbox-secret-property' };
const ACME_ORIGINS = ['https://app.acme.test', 'http://localhost:5173'];
const GLOBEX_ORIGIN = 'https://globex.test';
const ACME_AUDIENCES = ['acme-web', 'acme-mobile'];
const ACME_OFFER: TenantOffer = { profiles: ['default', 'payments'], languages: ['en', 'fr'] };
/** Body size limit of the function (lambda/http/http-api.ts MAX_BODY_BYTES). */
const MAX_BODY_BYTES = 16 * 1024;
/** TOKEN_GRACE_SECONDS default: exp and nbf are checked with this much slack. */
const GRACE_SECONDS = 30;

let stack: E2eStack;
let acmeIssuer: OidcIssuer;
let sharedIssuer: OidcIssuer;
/** Every token-like value sent, for the log check at the end. */
const sentTokens = new Set<string>();

before(async () => {
  stack = await startE2eStack({
    issuerCount: 2,
    plaidCredentials: {
      [ACME.clientId]: ACME.secret,
      [GLOBEX.clientId]: GLOBEX.secret,
      [INITECH.clientId]: INITECH.secret,
    },
    secrets: {
      [KEY_SECRET_ID]: HMAC_KEY,
      [ACME.secretId]: JSON.stringify({ client_id: ACME.clientId, secret: ACME.secret }),
      [GLOBEX.secretId]: JSON.stringify({ client_id: GLOBEX.clientId, secret: GLOBEX.secret }),
      [INITECH.secretId]: JSON.stringify({ client_id: INITECH.clientId, secret: INITECH.secret }),
    },
    tenants: ([a, b]) => ({
      client_user_id_key_secret_id: KEY_SECRET_ID,
      tenants: {
        acme: {
          client_name: 'Acme',
          plaid: { environment: 'sandbox', secret_id: ACME.secretId },
          auth: { issuer: a!.issuer, audience: ACME_AUDIENCES, token_use: 'access' },
          allowed_origins: ACME_ORIGINS,
          client_user_id: { strategy: 'hmac-sha256' },
          prefill: { email_address: true, phone_number: false },
          languages: { default: 'en', allowed: ['en', 'fr'] },
          country_codes: ['US'],
          // Every profile serves every platform, so any request the oracle calls valid gets a token.
          profiles: {
            default: {
              products: ['auth'],
              redirect_uri: 'https://app.acme.test/oauth-return',
              android_package_name: 'com.acme.app',
            },
            payments: {
              products: ['transactions'],
              redirect_uri: 'https://app.acme.test/oauth-return',
              android_package_name: 'com.acme.app',
            },
          },
        },
        globex: {
          client_name: 'Globex',
          plaid: { environment: 'sandbox', secret_id: GLOBEX.secretId },
          auth: {
            issuer: b!.issuer,
            audience: ['portal'],
            token_use: 'access',
            tenant_claim: { name: 'tenant', value: 'globex' },
          },
          allowed_origins: [GLOBEX_ORIGIN],
          client_user_id: { strategy: 'hmac-sha256' },
          prefill: { email_address: false, phone_number: false },
          languages: { default: 'en', allowed: ['en'] },
          country_codes: ['US'],
          profiles: { default: { products: ['auth'], android_package_name: 'com.globex.app' } },
        },
        initech: {
          client_name: 'Initech',
          plaid: { environment: 'sandbox', secret_id: INITECH.secretId },
          auth: {
            issuer: b!.issuer,
            audience: ['portal'],
            token_use: 'access',
            tenant_claim: { name: 'tenant', value: 'initech' },
          },
          allowed_origins: [],
          client_user_id: { strategy: 'subject' },
          prefill: { email_address: false, phone_number: false },
          languages: { default: 'en', allowed: ['en'] },
          country_codes: ['GB'],
          profiles: { default: { products: ['identity'], android_package_name: 'com.initech.app' } },
        },
      },
    }),
  });
  [acmeIssuer, sharedIssuer] = stack.issuers as [OidcIssuer, OidcIssuer];
});

after(async () => {
  await stack?.close();
});

// ---- the exchange and what every property asserts about it ----

interface Exchange {
  readonly res: RawResponse;
  /** Requests the Plaid stand-in received during this exchange. */
  readonly plaidCalls: number;
}

/**
 * Sends one request and checks the invariants every case shares: an answer below 500, and no
 * part of any of `tokens` (longer than 16 characters) in the status, headers or body.
 */
async function exchange(
  request: { method?: string; headers: ReadonlyArray<readonly [string, string]>; body?: string | Uint8Array },
  tokens: readonly string[],
): Promise<Exchange> {
  for (const token of tokens) sentTokens.add(token);
  const before = stack.plaid.calls;
  const res = await rawCall(stack.apiUrl, request);
  const plaidCalls = stack.plaid.calls - before;
  assert.ok(res.status < 500, `answered ${res.status}: ${res.text}`);
  for (const token of tokens) {
    const leaked = leakedPart(token, res.transcript);
    assert.equal(leaked, undefined, `the response contains part of the token sent: ${JSON.stringify(leaked)}`);
  }
  return { res, plaidCalls };
}

const bearer = (token: string): [string, string] => ['authorization', `Bearer ${token}`];
const JSON_TYPE: [string, string] = ['content-type', 'application/json'];
const WEB_BODY = '{"platform":"web"}';

function acmeToken(claims: Record<string, unknown> = {}, sub = 'user-123'): string {
  return acmeIssuer.mint({ sub, aud: 'acme-web', ...claims });
}

function expectLinkToken({ res, plaidCalls }: Exchange): void {
  assert.equal(res.status, 200, res.text);
  assert.match(res.header('content-type') ?? '', /^application\/json/);
  const body = res.json();
  assert.deepEqual(Object.keys(body).sort(), ['expiration', 'link_token'], res.text);
  assert.match(body.link_token, /^link-sandbox-[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(body.expiration)), res.text);
  assert.equal(plaidCalls, 1, 'one request the tenant offers is one Plaid call');
}

/** A problem+json answer with this status (or any 4xx), and Plaid never called. */
function expectProblem({ res, plaidCalls }: Exchange, status?: number): Record<string, any> {
  if (status !== undefined) assert.equal(res.status, status, res.text);
  else assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}: ${res.text}`);
  assert.equal(res.header('content-type'), 'application/problem+json', res.text);
  const problem = res.json();
  assert.equal(problem.status, res.status);
  assert.equal(typeof problem.title, 'string');
  assert.equal(typeof problem.correlation_id, 'string');
  assert.equal(plaidCalls, 0, 'a refused request never reaches Plaid');
  return problem;
}

/** A 400 whose errors name at least one field, each a string. */
function expectFieldProblem(ex: Exchange): string[] {
  const problem = expectProblem(ex, 400);
  assert.ok(Array.isArray(problem.errors) && problem.errors.length > 0, ex.res.text);
  const fields: string[] = problem.errors.map((e: { field: string }) => e.field);
  for (const field of fields) assert.equal(typeof field, 'string', ex.res.text);
  return fields;
}

function expectInvalidToken(ex: Exchange): void {
  expectProblem(ex, 401);
  assert.match(ex.res.header('www-authenticate') ?? '', /^Bearer realm="link-token", error="invalid_token"/);
}

/** The outcome the contract gives a body: a token if the tenant offers it, else a 400 naming only wrong fields. */
function expectOutcomeOfBody(ex: Exchange, { text, repeated }: BodyCase, outcomes: Map<string, number>): void {
  const wrong = wrongFields(JSON.parse(text), ACME_OFFER);
  if (wrong.size === 0 && ex.res.status === 200) {
    expectLinkToken(ex);
    count(outcomes, 'token');
    return;
  }
  // A body that repeats a key may be refused for it, whatever the last value says.
  assert.ok(
    wrong.size > 0 || repeated.size > 0,
    `a valid body was refused: ${text} -> ${ex.res.status} ${ex.res.text}`,
  );
  const named = expectFieldProblem(ex);
  for (const field of named)
    assert.ok(wrong.has(field) || repeated.has(field), `named ${JSON.stringify(field)}, which is not wrong in ${text}`);
  for (const field of wrong) {
    // Keys a client may not send are all named at once (lambda/domain/client-choices.ts).
    if (!['platform', 'profile', 'language', '(body)'].includes(field))
      assert.ok(named.includes(field), `did not name ${JSON.stringify(field)}: ${ex.res.text}`);
  }
  count(outcomes, 'refused');
}

function count(outcomes: Map<string, number>, kind: string): void {
  outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
}

/** Both kinds of outcome were seen, so the property was not vacuous (skipped when replaying one case). */
function expectBothOutcomes(outcomes: Map<string, number>, kinds: readonly string[]): void {
  if (PROPERTY_PATH || PROPERTY_RUNS < 20) return;
  for (const kind of kinds)
    assert.ok((outcomes.get(kind) ?? 0) > 0, `no case ended as "${kind}": ${JSON.stringify([...outcomes])}`);
}

// ---- bodies ----

describe('bodies, sent with a valid token', () => {
  test('any JSON body: a token and one Plaid call for a request the tenant offers, else a 400 naming only wrong fields', async (t) => {
    const outcomes = new Map<string, number>();
    await checkProperty(
      t,
      fc.asyncProperty(anyBody(ACME_OFFER), async (body) => {
        const token = acmeToken();
        expectOutcomeOfBody(
          await exchange({ headers: [bearer(token), JSON_TYPE], body: body.text }, [token]),
          body,
          outcomes,
        );
      }),
      { runsFactor: 2 },
    );
    expectBothOutcomes(outcomes, ['token', 'refused']);
  });

  test('a key a client may not set is refused by name and never reaches Plaid', async (t) => {
    const forbidden = fc
      .oneof(fc.constantFrom(...SERVER_DECIDED_KEYS), fc.string({ minLength: 1, maxLength: 16 }), oddString)
      .filter((k) => !['platform', 'profile', 'language', 'mode', 'item_id', 'account_selection'].includes(k));
    await checkProperty(
      t,
      fc.asyncProperty(forbidden, fc.jsonValue({ maxDepth: 3 }), fc.nat(), async (key, value, at) => {
        const entries: Entry[] = [['platform', 'web']];
        entries.splice(at % 2, 0, [key, value]);
        const token = acmeToken();
        const fields = expectFieldProblem(
          await exchange({ headers: [bearer(token), JSON_TYPE], body: objectText(entries) }, [token]),
        );
        assert.deepEqual(fields, [key]);
      }),
    );
  });

  test('a wrong value or type for one field is a 400 naming exactly that field', async (t) => {
    const wrongValue = {
      platform: fc.oneof(
        nonString,
        fc.string({ maxLength: 10 }).filter((s) => !(PLATFORMS as readonly string[]).includes(s)),
      ),
      profile: fc.oneof(
        nonString,
        fc.string({ maxLength: 41 }).filter((s) => !ACME_OFFER.profiles.includes(s)),
      ),
      language: fc.oneof(
        nonString,
        fc.string({ maxLength: 6 }).filter((s) => !ACME_OFFER.languages.includes(s)),
      ),
    };
    const aCase = fc.oneof(
      ...(Object.entries(wrongValue) as Array<[keyof typeof wrongValue, fc.Arbitrary<unknown>]>).map(([field, value]) =>
        value.map((v) => ({ field, v })),
      ),
    );
    await checkProperty(
      t,
      fc.asyncProperty(aCase, fc.constantFrom(...PLATFORMS), async ({ field, v }, platform) => {
        const body = { platform, profile: 'payments', language: 'fr', [field]: v };
        const token = acmeToken();
        const fields = expectFieldProblem(
          await exchange({ headers: [bearer(token), JSON_TYPE], body: JSON.stringify(body) }, [token]),
        );
        assert.deepEqual(fields, [field]);
      }),
    );
  });

  // Found by this property: such keys were a 400 naming no field (client-choices.ts used `in`).
  test('prototype keys (__proto__, constructor, ...) are refused by name like any other key', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 }), async (key, value) => {
        const token = acmeToken();
        const text = objectText([
          ['platform', 'web'],
          [key, value],
        ]);
        const fields = expectFieldProblem(await exchange({ headers: [bearer(token), JSON_TYPE], body: text }, [token]));
        assert.deepEqual(fields, [key]);
      }),
      { runsFactor: 0.5 },
    );
  });

  test('repeated keys: the outcome of the last value, or a 400 naming the repeated key', async (t) => {
    const outcomes = new Map<string, number>();
    const member = fc.oneof(
      platformValue().map((v): Entry => ['platform', v]),
      profileValue(ACME_OFFER).map((v): Entry => ['profile', v]),
      languageValue(ACME_OFFER).map((v): Entry => ['language', v]),
    );
    const lastPlatform = fc.option(fc.constantFrom(...PLATFORMS), { nil: undefined });
    await checkProperty(
      t,
      fc.asyncProperty(fc.array(member, { minLength: 2, maxLength: 6 }), lastPlatform, async (entries, platform) => {
        // Often end on a good platform, so that the last value decides for the better as well.
        const body = bodyCase(platform === undefined ? entries : [...entries, ['platform', platform]]);
        const token = acmeToken();
        expectOutcomeOfBody(
          await exchange({ headers: [bearer(token), JSON_TYPE], body: body.text }, [token]),
          body,
          outcomes,
        );
      }),
    );
    expectBothOutcomes(outcomes, ['token', 'refused']);
  });

  test('deep nesting, balanced or not, is a 400 (or 413 past the size limit), never 5xx', async (t) => {
    const nested = fc.record({
      depth: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1000, max: 12_000 })),
      open: fc.constantFrom('[', '{"a":', '{"platform":'),
      where: fc.constantFrom('top', 'under platform', 'under an extra key'),
      balanced: fc.boolean(),
    });
    await checkProperty(
      t,
      fc.asyncProperty(nested, async ({ depth, open, where, balanced }) => {
        const close = open === '[' ? ']' : '}';
        const core = open.repeat(depth) + '0' + (balanced ? close.repeat(depth) : close.repeat(Math.floor(depth / 2)));
        const text =
          where === 'top'
            ? core
            : where === 'under platform'
              ? `{"platform":${core}}`
              : `{"platform":"web","x":${core}}`;
        const token = acmeToken();
        const ex = await exchange({ headers: [bearer(token), JSON_TYPE], body: text }, [token]);
        if (Buffer.byteLength(text) > MAX_BODY_BYTES) expectProblem(ex, 413);
        else expectFieldProblem(ex);
      }),
      { runsFactor: 0.5 },
    );
  });

  test('the 16 KiB limit counts bytes: one byte over is 413, at the limit the body is read', async (t) => {
    // Characters of 1 to 4 bytes in UTF-8, and a 6-character JSON escape.
    const filler = fc.constantFrom('x', 'é', '€', '😀', '\\u0000');
    const around = fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -2000, max: 50_000 }));
    const shape = fc.constantFrom(
      'valid, padded with spaces',
      'valid, long repeated key first',
      'long unknown key',
      'long platform',
    );
    await checkProperty(
      t,
      fc.asyncProperty(filler, around, shape, async (fill, delta, kind) => {
        const target = MAX_BODY_BYTES + delta;
        const text = sizedBody(kind, fill, target);
        const bytes = Buffer.byteLength(text);
        const token = acmeToken();
        const ex = await exchange({ headers: [bearer(token), JSON_TYPE], body: text }, [token]);
        if (bytes > MAX_BODY_BYTES) return void expectProblem(ex, 413);
        if (kind.startsWith('valid')) return expectLinkToken(ex);
        assert.deepEqual(expectFieldProblem(ex), [kind === 'long unknown key' ? 'pad' : 'platform']);
      }),
    );
  });

  test('odd Unicode (NUL, lone surrogates, bidi marks, BOM, invalid UTF-8) in keys and values: never 5xx, never Plaid unless valid', async (t) => {
    const outcomes = new Map<string, number>();
    const member = fc.oneof(
      fc.tuple(oddString, fc.oneof(oddString, fc.jsonValue({ maxDepth: 2 }))),
      fc.tuple(
        fc.constantFrom('platform', 'profile', 'language'),
        fc.oneof(
          oddString,
          fc.constantFrom(...PLATFORMS).chain((p) => oddString.map((s) => p + s)),
        ),
      ),
      fc.constant<Entry>(['platform', 'web']),
    );
    const encoding = fc.constantFrom('escaped JSON', 'raw UTF-8', 'BOM first', 'invalid UTF-8 bytes inside a string');
    await checkProperty(
      t,
      fc.asyncProperty(
        fc.array(member, { minLength: 1, maxLength: 5 }),
        encoding,
        fc.nat(),
        async (entries, how, at) => {
          const body = bodyCase(entries as Entry[]);
          const token = acmeToken();
          const ex = await exchange({ headers: [bearer(token), JSON_TYPE], body: encodeOddly(body.text, how, at) }, [
            token,
          ]);
          if (how === 'escaped JSON') return expectOutcomeOfBody(ex, body, outcomes);
          // Raw bytes: the decoded text is the server's to judge; the contract still holds.
          if (ex.res.status === 200) expectLinkToken(ex);
          else expectFieldProblem(ex);
          count(outcomes, ex.res.status === 200 ? 'token' : 'refused');
        },
      ),
    );
    expectBothOutcomes(outcomes, ['token', 'refused']);
  });
});

/** A body of exactly `target` bytes where the filler allows (a multibyte filler may fall short by up to 3). */
function sizedBody(kind: string, fill: string, target: number): string {
  const frame =
    kind === 'valid, padded with spaces'
      ? ['{"platform":"web"}', '']
      : kind === 'valid, long repeated key first'
        ? ['{"platform":"', '","platform":"web"}']
        : kind === 'long unknown key'
          ? ['{"platform":"web","pad":"', '"}']
          : ['{"platform":"', '"}'];
  const room = Math.max(0, target - Buffer.byteLength(frame.join('')));
  if (kind === 'valid, padded with spaces') return frame[0] + ' '.repeat(room);
  const unit = Buffer.byteLength(fill);
  return frame[0] + fill.repeat(Math.floor(room / unit)) + 'x'.repeat(room % unit) + frame[1];
}

function encodeOddly(text: string, how: string, at: number): string | Uint8Array {
  if (how === 'escaped JSON') return text;
  // JSON.stringify escapes lone surrogates; unescape them so they go out as raw (replaced) UTF-8.
  const raw = text.replace(/\\u(d[89a-f][0-9a-f]{2})/gi, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  if (how === 'raw UTF-8') return raw;
  if (how === 'BOM first') return `\ufeff${raw}`;
  // Bytes no UTF-8 decoder accepts, spliced in right after an opening quote.
  const bytes = Buffer.from(raw, 'utf8');
  const quotes = [...bytes.entries()].filter(([, b]) => b === 0x22).map(([i]) => i);
  const after = (quotes[at % Math.max(1, quotes.length)] ?? 0) + 1;
  const invalid = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]][at % 5]!;
  return Buffer.concat([bytes.subarray(0, after), Buffer.from(invalid), bytes.subarray(after)]);
}

// ---- headers ----

describe('header sets', () => {
  test('random extra headers change nothing: still one token, one Plaid call', async (t) => {
    const extra = fc.array(fc.tuple(headerName, headerValue()), { maxLength: 20 });
    await checkProperty(
      t,
      fc.asyncProperty(extra, fc.nat(), async (headers, at) => {
        const token = acmeToken();
        const all: Array<[string, string]> = [...headers];
        all.splice(at % (all.length + 1), 0, bearer(token), JSON_TYPE);
        expectLinkToken(await exchange({ headers: all, body: WEB_BODY }, [token]));
      }),
    );
  });

  test('more than one Authorization header is refused (401), whichever tokens they carry', async (t) => {
    const otherUser = () => acmeToken({}, 'user-456');
    const value = fc.constantFrom('mine', 'another user', 'garbage', 'empty', 'basic');
    await checkProperty(
      t,
      fc.asyncProperty(
        fc.array(value, { minLength: 2, maxLength: 4 }),
        fc.array(fc.tuple(headerName, headerValue(40)), { maxLength: 3 }),
        async (kinds, extra) => {
          const mine = acmeToken();
          const theirs = otherUser();
          const values = kinds.map((k) =>
            k === 'mine'
              ? `Bearer ${mine}`
              : k === 'another user'
                ? `Bearer ${theirs}`
                : k === 'garbage'
                  ? 'Bearer not-a-token'
                  : k === 'empty'
                    ? ''
                    : 'Basic dXNlcjpwYXNz',
          );
          const headers: Array<[string, string]> = [
            ...extra,
            JSON_TYPE,
            ...values.map((v): [string, string] => ['Authorization', v]),
          ];
          const ex = await exchange({ headers, body: WEB_BODY }, [mine, theirs]);
          expectProblem(ex, 401);
        },
      ),
    );
  });

  test('header names in any casing, and the Bearer scheme in any casing, are the same request', async (t) => {
    const name = (n: string) => fc.mixedCase(fc.constant(n));
    await checkProperty(
      t,
      fc.asyncProperty(
        name('authorization'),
        name('content-type'),
        name('origin'),
        name('bearer'),
        fc.mixedCase(fc.constant('application/json')),
        fc.constantFrom(...ACME_ORIGINS),
        fc.integer({ min: 1, max: 3 }),
        async (authorization, contentType, origin, scheme, mediaType, originValue, spaces) => {
          const token = acmeToken();
          const headers: Array<[string, string]> = [
            [authorization, `${scheme}${' '.repeat(spaces)}${token}`],
            [contentType, mediaType],
            [origin, originValue],
          ];
          const ex = await exchange({ headers, body: WEB_BODY }, [token]);
          expectLinkToken(ex);
          assert.equal(ex.res.header('access-control-allow-origin'), originValue);
        },
      ),
    );
  });

  test('very long headers: a 4xx (431 past the server limit) or, well within it, the token; never 5xx', async (t) => {
    const long = fc.record({
      which: fc.constantFrom('extra header', 'origin', 'authorization padding', 'many headers'),
      length: fc.oneof(fc.integer({ min: 1000, max: 6000 }), fc.integer({ min: 6000, max: 70_000 })),
      filler: fc.constantFrom('a', 'A.', '/+=', '%20'),
    });
    await checkProperty(
      t,
      fc.asyncProperty(long, async ({ which, length, filler }) => {
        const token = acmeToken();
        const blob = filler.repeat(Math.ceil(length / filler.length)).slice(0, length);
        const headers: Array<[string, string]> = [bearer(token), JSON_TYPE];
        if (which === 'extra header') headers.push(['x-long', blob]);
        if (which === 'origin') headers.push(['origin', `https://${blob}`]);
        if (which === 'authorization padding') headers[0] = ['authorization', `Bearer ${token}.${blob}`];
        if (which === 'many headers')
          for (let i = 0; i * 64 < length; i++) headers.push([`x-h-${i}`, blob.slice(0, 60)]);
        const headerBytes = headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
        // Node's default limit for the whole header block is 16 KiB: past it the server answers
        // 431 and closes, and the client may see the reset before it reads the answer.
        const tooLarge = headerBytes > 17 * 1024;
        let ex: Exchange;
        try {
          ex = await exchange({ headers, body: WEB_BODY }, [token]);
        } catch (error) {
          if (tooLarge && ['ECONNRESET', 'EPIPE'].includes((error as NodeJS.ErrnoException).code ?? ''))
            ex = { res: undefined!, plaidCalls: 0 };
          else throw error;
        }
        if (ex.res === undefined) assert.equal(ex.plaidCalls, 0);
        else if (tooLarge) assert.equal(ex.res.status, 431, ex.res.text);
        else if (which === 'extra header' && headerBytes < 8 * 1024) expectLinkToken(ex);
        else if (which === 'origin' && headerBytes < 8 * 1024) expectProblem(ex, 403);
        else if (which === 'authorization padding' && headerBytes < 8 * 1024) expectInvalidToken(ex);
        else
          assert.ok(
            ex.res.status === 200 ? ex.plaidCalls === 1 : ex.plaidCalls === 0,
            `${ex.res.status} with ${ex.plaidCalls} Plaid calls`,
          );
        // The stack is still there for the next request.
        const next = acmeToken();
        expectLinkToken(await exchange({ headers: [bearer(next), JSON_TYPE], body: WEB_BODY }, [next]));
      }),
      { runsFactor: 0.5 },
    );
  });

  test('Content-Type: application/json or any application/*+json (any case, any parameters) is read; anything else is 415', async (t) => {
    const jsonTypes = fc.constantFrom(
      'application/json',
      'application/problem+json',
      'application/vnd.acme.v1+json',
      'application/ld+json',
    );
    const otherTypes = fc.oneof(
      fc.constantFrom(
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
        'json',
        'application/json5',
        'application/xml',
        'application/octet-stream',
        '*/*',
        'application/*',
        'application/+json',
        'application/json+',
        'applicationjson',
        'application /json',
      ),
      fc.string({ maxLength: 30 }).filter((s) => !/json/i.test(s)),
    );
    const parameters = fc.array(
      fc.oneof(fc.mixedCase(fc.constant('charset=utf-8')), fc.constantFrom('foo=bar', 'q=0.5', 'charset="utf-8"', 'x')),
      { maxLength: 2 },
    );
    const contentType = fc.oneof(
      fc
        .tuple(fc.mixedCase(jsonTypes), parameters, fc.constantFrom('', ' '))
        .map(([type, params, space]) => ({ value: [type, ...params].join(`;${space}`), json: true })),
      fc.tuple(otherTypes, parameters).map(([type, params]) => ({ value: [type, ...params].join(';'), json: false })),
      fc.constant({ value: undefined as string | undefined, json: false }),
    );
    const outcomes = new Map<string, number>();
    await checkProperty(
      t,
      fc.asyncProperty(contentType, async ({ value, json }) => {
        const token = acmeToken();
        const headers: Array<[string, string]> = [bearer(token)];
        if (value !== undefined) headers.push(['Content-Type', value]);
        const ex = await exchange({ headers, body: WEB_BODY }, [token]);
        if (json) expectLinkToken(ex);
        else expectProblem(ex, 415);
        count(outcomes, json ? 'token' : 'refused');
      }),
    );
    expectBothOutcomes(outcomes, ['token', 'refused']);
  });

  test("Origin: only the tenant's own origins, exactly, get a token and Access-Control-Allow-Origin", async (t) => {
    const near = fc
      .constantFrom(...ACME_ORIGINS)
      .chain((o) =>
        fc.constantFrom(
          `${o}/`,
          o.toUpperCase(),
          `${o}:443`,
          `${o}.evil.test`,
          o.replace('https', 'http'),
          `${o}/path`,
          `${o},${o}`,
          ` ${o}x`,
        ),
      );
    const origin = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...ACME_ORIGINS) },
      near,
      fc.constantFrom(GLOBEX_ORIGIN, 'null', 'https://evil.test', 'file://', '*'),
      fc.webUrl(),
      headerValue(60).filter((v) => v.trim() !== ''),
    );
    const outcomes = new Map<string, number>();
    await checkProperty(
      t,
      fc.asyncProperty(origin, async (value) => {
        const token = acmeToken();
        const ex = await exchange({ headers: [bearer(token), JSON_TYPE, ['origin', value]], body: WEB_BODY }, [token]);
        // HTTP strips the value's surrounding whitespace on the way in.
        const allowed = ACME_ORIGINS.includes(value.trim());
        if (allowed) {
          expectLinkToken(ex);
          assert.equal(ex.res.header('access-control-allow-origin'), value.trim());
        } else {
          expectProblem(ex, 403);
          assert.equal(ex.res.header('access-control-allow-origin'), undefined);
        }
        count(outcomes, allowed ? 'token' : 'refused');
      }),
    );
    expectBothOutcomes(outcomes, ['token', 'refused']);
  });

  test('CORS preflight grants only origins some tenant allows, and only for POST', async (t) => {
    const anyAllowed = [...ACME_ORIGINS, GLOBEX_ORIGIN];
    const origin = fc.oneof(fc.constantFrom(...anyAllowed), fc.webUrl(), fc.constantFrom('null', 'https://evil.test'));
    const method = fc.oneof(
      { weight: 3, arbitrary: fc.mixedCase(fc.constant('POST')) },
      fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'x'),
    );
    await checkProperty(
      t,
      fc.asyncProperty(
        origin,
        method,
        fc.array(fc.tuple(headerName, headerValue(40)), { maxLength: 4 }),
        async (value, requested, extra) => {
          const headers: Array<[string, string]> = [
            ...extra,
            ['origin', value],
            ['access-control-request-method', requested],
          ];
          const ex = await exchange({ method: 'OPTIONS', headers }, []);
          // Browsers send the method upper case; another casing may go either way, consistently.
          if (requested !== 'POST' && requested.toUpperCase() === 'POST') {
            assert.ok([204, 403].includes(ex.res.status), ex.res.text);
            assert.equal(ex.res.header('access-control-allow-origin'), ex.res.status === 204 ? value : undefined);
            assert.equal(ex.plaidCalls, 0);
            return;
          }
          const granted = anyAllowed.includes(value) && requested === 'POST';
          if (granted) {
            assert.equal(ex.res.status, 204, ex.res.text);
            assert.equal(ex.res.header('access-control-allow-origin'), value);
            assert.match(ex.res.header('access-control-allow-methods') ?? '', /POST/);
          } else {
            expectProblem(ex, 403);
            assert.equal(ex.res.header('access-control-allow-methods'), undefined);
            // The refusal may be readable by a site some tenant allows, never by any other.
            if (!anyAllowed.includes(value)) assert.equal(ex.res.header('access-control-allow-origin'), undefined);
          }
          assert.equal(ex.plaidCalls, 0);
        },
      ),
      { runsFactor: 0.5 },
    );
  });
});

// ---- tokens ----

/** Signs a compact JWT with any header and payload text, with a key the test holds. */
function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  alg: string,
  key: KeyObject | Buffer | string,
): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(input);
  const bits = alg.slice(2);
  let signature: Buffer;
  if (alg.startsWith('HS')) signature = createHmac(`sha${bits}`, key).update(input).digest();
  else if (alg.startsWith('RS')) signature = sign(`sha${bits}`, data, key);
  else if (alg.startsWith('PS'))
    signature = sign(`sha${bits}`, data, {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(bits) / 8,
    });
  else if (alg.startsWith('ES'))
    signature = sign(`sha${bits}`, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') signature = sign(null, data, key);
  else throw new Error(`no signer for ${alg}`);
  return `${input}.${signature.toString('base64url')}`;
}

const strangerKeys = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  ec256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  ec384: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  ed25519: generateKeyPairSync('ed25519').privateKey,
};
const strangerAlg = fc.constantFrom(
  { alg: 'RS256', key: strangerKeys.rsa },
  { alg: 'RS384', key: strangerKeys.rsa },
  { alg: 'RS512', key: strangerKeys.rsa },
  { alg: 'PS256', key: strangerKeys.rsa },
  { alg: 'ES256', key: strangerKeys.ec256 },
  { alg: 'ES384', key: strangerKeys.ec384 },
  { alg: 'EdDSA', key: strangerKeys.ed25519 },
);

/** Claims a good acme token would carry (iss, aud, sub, a live exp). */
function goodAcmeClaims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: acmeIssuer.issuer, aud: 'acme-web', sub: 'user-123', iat: now, exp: now + 600 };
}

const randomHeaderParams = fc.dictionary(
  fc.constantFrom('typ', 'cty', 'jku', 'x5u', 'jwk', 'crit', 'b64', 'zip', 'x'),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
const randomClaims = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

async function expectRefused(token: string, opts: { status?: 401 | 403 } = {}): Promise<void> {
  const ex = await exchange({ headers: [bearer(token), JSON_TYPE], body: WEB_BODY }, [token]);
  if ((opts.status ?? 401) === 401) expectInvalidToken(ex);
  else expectProblem(ex, opts.status);
}

describe('tokens that must be refused (401, never Plaid)', () => {
  test('signed by a key the issuer does not publish, with any header and claims, under any kid', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(
        strangerAlg,
        randomHeaderParams,
        randomClaims,
        fc.constantFrom('issuer kid', 'random kid', 'no kid'),
        fc.string({ maxLength: 20 }),
        async ({ alg, key }, params, claims, kidKind, randomKid) => {
          const header: Record<string, unknown> = { ...params, alg };
          if (kidKind === 'issuer kid') header.kid = acmeIssuer.currentKid;
          if (kidKind === 'random kid') header.kid = randomKid;
          await expectRefused(signJwt(header, { ...claims, ...goodAcmeClaims() }, alg, key));
        },
      ),
      { runsFactor: 0.5 },
    );
  });

  test('alg none in any spelling, with or without a signature', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(
        fc.mixedCase(fc.constant('none')),
        fc.constantFrom('', 'c2ln', 'AAAA'),
        randomHeaderParams,
        async (alg, signature, params) => {
          const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
          await expectRefused(
            `${encode({ ...params, alg, kid: acmeIssuer.currentKid })}.${encode(goodAcmeClaims())}.${signature}`,
          );
        },
      ),
      { runsFactor: 0.5 },
    );
  });

  test("HMAC keyed with the issuer's public key in any encoding (RS/HS confusion)", async (t) => {
    const jwk = (await (await fetch(acmeIssuer.jwksUri)).json()).keys.find(
      (k: { kid: string }) => k.kid === acmeIssuer.currentKid,
    );
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const encodings: Array<Buffer | string> = [
      publicKey.export({ format: 'pem', type: 'spki' }),
      publicKey.export({ format: 'pem', type: 'pkcs1' }),
      publicKey.export({ format: 'der', type: 'spki' }),
      JSON.stringify(jwk),
      jwk.n,
      Buffer.from(jwk.n, 'base64url'),
    ];
    await checkProperty(
      t,
      fc.asyncProperty(
        fc.constantFrom('HS256', 'HS384', 'HS512'),
        fc.nat({ max: encodings.length - 1 }),
        fc.boolean(),
        async (alg, which, withKid) => {
          const header = { alg, typ: 'JWT', ...(withKid ? { kid: acmeIssuer.currentKid } : {}) };
          await expectRefused(signJwt(header, goodAcmeClaims(), alg, encodings[which]!));
        },
      ),
      { runsFactor: 0.5 },
    );
  });

  test('validly signed, but for another issuer or audience', async (t) => {
    const iss = fc.oneof(
      fc.constant({ iss: acmeIssuer.issuer }),
      fc.constantFrom('/', '/x', '#', '?a=1').map((s) => ({ iss: acmeIssuer.issuer + s })),
      fc.constant(null).map(() => ({ iss: acmeIssuer.issuer.toUpperCase() })),
      fc.constant(null).map(() => ({ iss: sharedIssuer.issuer })),
      fc.oneof(fc.webUrl(), fc.string({ maxLength: 20 })).map((s) => ({ iss: s })),
      fc.oneof(nonString).map((v) => ({ iss: v })),
      fc.constant({ iss: undefined }),
    );
    const aud = fc.oneof(
      fc.constantFrom(...ACME_AUDIENCES).map((a) => ({ aud: a })),
      fc.constantFrom('portal', 'ACME-WEB', 'acme-web ', '', 'acme').map((a) => ({ aud: a })),
      fc
        .array(
          fc.string({ maxLength: 8 }).filter((a) => !ACME_AUDIENCES.includes(a)),
          { maxLength: 3 },
        )
        .map((a) => ({ aud: a })),
      nonString.filter((v) => !Array.isArray(v)).map((v) => ({ aud: v })),
      fc.constant({ aud: undefined }),
    );
    await checkProperty(
      t,
      fc.asyncProperty(iss, aud, async (i, a) => {
        fc.pre(!(i.iss === acmeIssuer.issuer && ACME_AUDIENCES.includes(a.aud as string)));
        await expectRefused(acmeIssuer.mint({ sub: 'user-123', ...i, ...a }));
      }),
    );
  });

  test('validly signed, with exp, nbf or iat not a number, or expired, or not valid yet', async (t) => {
    const now = () => Math.floor(Date.now() / 1000);
    const bad = fc.oneof(
      fc.tuple(fc.constantFrom('exp', 'nbf', 'iat'), notANumericDate).map(([claim, value]) => ({ [claim]: value })),
      fc.integer({ min: GRACE_SECONDS + 5, max: 10 ** 9 }).map((ago) => ({ exp: now() - ago })),
      fc.constantFrom(-1e308, -1, 0).map((exp) => ({ exp })),
      fc
        .oneof(
          fc.integer({ min: GRACE_SECONDS + 5, max: 10 ** 9 }).map((ahead) => now() + ahead),
          fc.constant(1e308),
        )
        .map((nbf) => ({ nbf })),
    );
    await checkProperty(
      t,
      fc.asyncProperty(bad, async (claims) => {
        await expectRefused(acmeIssuer.mint({ sub: 'user-123', aud: 'acme-web', ...claims }));
      }),
    );
  });

  test('validly signed, with a sub that is not a string', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(notASubject, fc.constantFrom('acme', 'globex', 'initech'), async (sub, tenant) => {
        const token =
          tenant === 'acme'
            ? acmeIssuer.mint({ sub, aud: 'acme-web' })
            : sharedIssuer.mint({ sub, aud: 'portal', tenant });
        await expectRefused(token);
      }),
    );
  });

  test('validly signed, missing iss or aud (with any other claims missing too)', async (t) => {
    const missing = fc
      .subarray(['iss', 'aud', 'sub', 'exp', 'iat'], { minLength: 1 })
      .filter((m) => m.includes('iss') || m.includes('aud'));
    await checkProperty(
      t,
      fc.asyncProperty(missing, async (names) => {
        const claims: Record<string, unknown> = { sub: 'user-123', aud: 'acme-web' };
        for (const name of names) claims[name] = undefined;
        await expectRefused(acmeIssuer.mint(claims));
      }),
      { runsFactor: 0.5 },
    );
  });

  test('a valid token, garbled: cut, spliced, re-encoded, with segments added or removed', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(fc.array(tokenMutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const original = acmeToken();
        const mutant = mutations.reduce((token, m) => m.apply(token), original);
        fc.pre(!sameToken(mutant, original));
        const ex = await exchange({ headers: [['authorization', `Bearer ${mutant}`], JSON_TYPE], body: WEB_BODY }, [
          original,
          mutant,
        ]);
        expectProblem(ex, 401);
      }),
      { runsFactor: 2 },
    );
  });

  test('any Authorization value that is not "Bearer <a token of the issuer>" is 401', async (t) => {
    const value = fc.oneof(
      headerValue(120),
      fc
        .string({
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
          maxLength: 300,
        })
        .map((s) => `Bearer ${s}`),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Bearer\t',
        'Basic dXNlcjpwYXNz',
        'Token abc',
        'bearer: x',
        'Bearer a b',
        'Bearer ="',
      ),
    );
    await checkProperty(
      t,
      fc.asyncProperty(value, async (authorization) => {
        const ex = await exchange({ headers: [['authorization', authorization], JSON_TYPE], body: WEB_BODY }, [
          authorization,
        ]);
        expectProblem(ex, 401);
      }),
    );
  });

  test('shared issuer: a tenant claim other than a configured tenant id is 403, never a token', async (t) => {
    const tenantClaim = fc.oneof(
      fc.constantFrom('Globex', 'globex ', ' globex', 'globex\u0000', 'INITECH', 'acme', '', 'umbrella'),
      fc.constantFrom('globex', 'initech').map((v) => [v]),
      fc.constantFrom('globex', 'initech').map((v) => ({ value: v })),
      nonString,
      oddString,
    );
    await checkProperty(
      t,
      fc.asyncProperty(tenantClaim, async (tenant) => {
        fc.pre(tenant !== 'globex' && tenant !== 'initech');
        await expectRefused(sharedIssuer.mint({ sub: 'user-777', aud: 'portal', tenant }), { status: 403 });
      }),
    );
  });
});

describe('tokens that must be accepted', () => {
  test('extra claims of any name (prototype names included) never change who the user is', async (t) => {
    const reserved = new Set([
      'iss',
      'aud',
      'sub',
      'exp',
      'nbf',
      'iat',
      'email',
      'email_verified',
      'phone_number',
      'phone_number_verified',
      'tenant',
      'token_use',
      'client_id',
      'jti',
      'scope',
    ]);
    await checkProperty(
      t,
      fc.asyncProperty(
        extraClaims(reserved),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ''),
        async (extra, sub) => {
          const token = acmeIssuer.mint({ ...extra, sub, aud: 'acme-web' });
          const ex = await exchange({ headers: [bearer(token), JSON_TYPE], body: WEB_BODY }, [token]);
          expectLinkToken(ex);
          const sent = stack.plaid.requests.at(-1)!.body as { user: Record<string, unknown> };
          assert.deepEqual(sent.user, {
            client_user_id: deriveClientUserId({
              strategy: 'hmac-sha256',
              tenantId: 'acme',
              subject: sub,
              key: HMAC_KEY,
            }),
          });
        },
      ),
      { runsFactor: 0.5 },
    );
  });
});

// Signed by the issuer's real key and well-formed, yet naming no end user or living too long.
describe('tokens without an end user or a bounded life (401, never Plaid)', () => {
  const tokenFor = (tenant: string, claims: Record<string, unknown>) =>
    tenant === 'acme'
      ? acmeIssuer.mint({ sub: 'user-123', aud: 'acme-web', ...claims })
      : sharedIssuer.mint({ sub: 'user-777', aud: 'portal', tenant, ...claims });
  const anyTenant = fc.constantFrom('acme', 'globex', 'initech');

  test('without sub', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(anyTenant, fc.boolean(), async (tenant, withoutIat) => {
        await expectRefused(tokenFor(tenant, { sub: undefined, ...(withoutIat ? { iat: undefined } : {}) }));
      }),
      { runsFactor: 0.2 },
    );
  });

  test('without exp', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(anyTenant, fc.boolean(), async (tenant, withoutIat) => {
        await expectRefused(tokenFor(tenant, { exp: undefined, ...(withoutIat ? { iat: undefined } : {}) }));
      }),
      { runsFactor: 0.2 },
    );
  });

  test('with a sub that is empty or blank', async (t) => {
    const blank = fc.string({ unit: fc.constantFrom(' ', '\t', '\u00a0', '\u2003', '\ufeff'), maxLength: 6 });
    await checkProperty(
      t,
      fc.asyncProperty(blank, anyTenant, async (sub, tenant) => {
        await expectRefused(tokenFor(tenant, { sub }));
      }),
      { runsFactor: 0.5 },
    );
  });

  test('issued to an application (client credentials: sub is the client_id)', async (t) => {
    await checkProperty(
      t,
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== ''),
        anyTenant,
        async (client, tenant) => {
          await expectRefused(tokenFor(tenant, { sub: client, client_id: client }));
        },
      ),
      { runsFactor: 0.5 },
    );
  });

  test('living longer than the tenant allows (24 h by default), however far exp lies', async (t) => {
    const DAY = 86_400;
    const lifetime = fc.oneof(fc.integer({ min: DAY + GRACE_SECONDS + 60, max: 10 ** 9 }), fc.constant(1e308));
    await checkProperty(
      t,
      fc.asyncProperty(lifetime, anyTenant, fc.boolean(), async (seconds, tenant, withoutIat) => {
        const now = Math.floor(Date.now() / 1000);
        await expectRefused(
          tokenFor(tenant, {
            exp: seconds === 1e308 ? seconds : now + seconds,
            ...(withoutIat ? { iat: undefined } : {}),
          }),
        );
      }),
      { runsFactor: 0.5 },
    );
  });
});

test('no token sent by any property reached a log line of the stack', () => {
  assert.ok(sentTokens.size > 0 && stack.logLines.length > 0, 'the properties sent tokens and the stack logged');
  const leaked = leakedPartInBulk(sentTokens, stack.logLines.join('\n'));
  assert.equal(leaked, undefined, `a log line contains part of a token: ${JSON.stringify(leaked)}`);
});
