// Generators of request parts for the property tests, and the spec-level oracle for a body:
// which of its fields are wrong, from the endpoint's documented contract (the client chooses
// platform, and optionally profile and language within its tenant's limits; nothing else).
import fc from 'fast-check';

export const PLATFORMS = ['web', 'ios', 'android'] as const;

/** What the test tenant offers; the oracle and the generators share it. */
export interface TenantOffer {
  readonly profiles: readonly string[];
  readonly languages: readonly string[];
}

const CLIENT_FIELDS: readonly string[] = ['platform', 'profile', 'language'];

/** Names that are properties of every JavaScript object: a body may not smuggle them past a check. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
] as const;

/** Fields of Plaid's request (and of ours) that the server decides. */
export const SERVER_DECIDED_KEYS = [
  'webhook',
  'redirect_uri',
  'access_token',
  'user',
  'client_id',
  'secret',
  'products',
  'optional_products',
  'android_package_name',
  'user_token',
  'client_user_id',
  'tenant',
  'tenant_id',
  'client_name',
  'country_codes',
  'link_customization_name',
  'account_filters',
  'hosted_link',
  'institution_id',
] as const;

/** Characters that trip naive string handling: NUL, lone surrogates, bidi controls, BOM, separators. */
export const ODD_CHARACTERS = [
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u202e',
  '\u202d',
  '\u200f',
  '\u200e',
  '\u2066',
  '\u2069',
  '\u061c',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\u2028',
  '\u2029',
  '\u0085',
  '\u00a0',
  '\u0301',
  '\u0378',
  '😀',
  '\u{10ffff}',
  '"',
  '\\',
  '/',
  '\n',
  '\t',
] as const;

/** Strings mixing ordinary characters with the odd ones. */
export const oddString = fc.string({
  unit: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...ODD_CHARACTERS) },
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 24,
});

const json = fc.jsonValue({ maxDepth: 3 });

export type JsonValue = ReturnType<typeof JSON.parse>;
export type Entry = readonly [string, JsonValue];

/**
 * The text of a JSON object with these members in this order, repeated names kept: an object
 * literal cannot hold two "platform" keys or an own "__proto__", this can.
 */
export function objectText(entries: readonly Entry[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

export function platformValue(): fc.Arbitrary<JsonValue> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PLATFORMS) },
    fc.constantFrom('WEB', 'Web', 'windows', '', 'web ', ' web', 'web\u0000', 'i\u200eos', 'android\ufeff'),
    json,
  );
}

export function profileValue(offer: TenantOffer): fc.Arbitrary<JsonValue> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...offer.profiles) },
    fc.constantFrom('premium', 'Default', ...PROTOTYPE_KEYS, '', 'a'.repeat(41), 'default\u0000', '../default'),
    json,
  );
}

export function languageValue(offer: TenantOffer): fc.Arbitrary<JsonValue> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...offer.languages) },
    // de and es are Plaid languages the test tenant does not offer; the rest are not languages.
    fc.constantFrom('de', 'es', 'xx', 'EN', 'en-US', '', 'constructor', 'toString'),
    json,
  );
}

export const unknownKey = fc
  .oneof(fc.constantFrom(...SERVER_DECIDED_KEYS, ...PROTOTYPE_KEYS), fc.string({ maxLength: 12 }), oddString)
  .filter((k) => !CLIENT_FIELDS.includes(k));

/**
 * Members of a request body: mostly the three client fields, with good and bad values, sometimes
 * repeated, sometimes with keys a client may not send.
 */
export function bodyEntries(offer: TenantOffer): fc.Arbitrary<Entry[]> {
  const member = fc.oneof(
    { weight: 3, arbitrary: platformValue().map((v): Entry => ['platform', v]) },
    { weight: 2, arbitrary: profileValue(offer).map((v): Entry => ['profile', v]) },
    { weight: 2, arbitrary: languageValue(offer).map((v): Entry => ['language', v]) },
    { weight: 1, arbitrary: fc.tuple(unknownKey, json).map(([k, v]): Entry => [k, v]) },
  );
  const valid = fc
    .record(
      {
        platform: fc.constantFrom(...PLATFORMS),
        profile: fc.constantFrom(...offer.profiles),
        language: fc.constantFrom(...offer.languages),
      },
      { requiredKeys: ['platform'] },
    )
    .chain((record) => fc.shuffledSubarray(Object.entries(record), { minLength: Object.keys(record).length }));
  return fc.oneof(
    { weight: 1, arbitrary: valid as fc.Arbitrary<Entry[]> },
    { weight: 2, arbitrary: fc.array(member, { maxLength: 6 }) },
  );
}

/** A body text, and the top-level keys it repeats (JSON.parse keeps the last of them). */
export interface BodyCase {
  readonly text: string;
  readonly repeated: ReadonlySet<string>;
}

export function bodyCase(entries: readonly Entry[]): BodyCase {
  const keys = entries.map(([key]) => key);
  return { text: objectText(entries), repeated: new Set(keys.filter((key, i) => keys.indexOf(key) !== i)) };
}

/** Any body at all: arbitrary JSON (objects or not), or members as above. */
export function anyBody(offer: TenantOffer): fc.Arbitrary<BodyCase> {
  return fc.oneof(
    fc.jsonValue().map((v): BodyCase => ({ text: JSON.stringify(v), repeated: new Set() })),
    bodyEntries(offer).map(bodyCase),
  );
}

/**
 * The fields of a parsed body that are wrong by the contract, or '(body)' when it is not an
 * object. Empty means the request is one the tenant offers. Repeated names: JSON.parse keeps
 * the last, as the function does; the tests allow naming a repeated key as well.
 */
export function wrongFields(body: unknown, offer: TenantOffer): Set<string> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return new Set(['(body)']);
  const own = (key: string) => (Object.hasOwn(body, key) ? (body as Record<string, unknown>)[key] : undefined);
  const wrong = new Set(Object.keys(body).filter((key) => !CLIENT_FIELDS.includes(key)));
  if (!(PLATFORMS as readonly unknown[]).includes(own('platform'))) wrong.add('platform');
  if (Object.hasOwn(body, 'profile') && !offer.profiles.includes(own('profile') as string)) wrong.add('profile');
  if (Object.hasOwn(body, 'language') && !offer.languages.includes(own('language') as string)) wrong.add('language');
  return wrong;
}

/** A value of any JSON type other than string. */
export const nonString = fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'string');

// ---- headers ----

const TOKEN_CHARACTERS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Framing and routing headers whose meaning is HTTP's, and the ones the properties set themselves. */
const NOT_RANDOM = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'authorization',
  'content-type',
  'origin',
  'content-encoding',
  'http2-settings',
]);

export const headerName = fc
  .string({ unit: fc.constantFrom(...TOKEN_CHARACTERS), minLength: 1, maxLength: 40 })
  .filter((name) => !NOT_RANDOM.has(name.toLowerCase()) && !name.toLowerCase().startsWith('proxy-'));

/** What a header value may hold on the wire: visible ASCII, space, tab and obs-text bytes. */
export function headerValue(maxLength = 200): fc.Arbitrary<string> {
  return fc.string({
    unit: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      fc.constantFrom('\t', '\u0080', '\u00a0', '\u00e9', '\u00ff'),
    ),
    maxLength,
  });
}

// ---- tokens ----

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Printable ASCII: a header value the client can send (other bytes would not be a token anyway). */
const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const tokenCharacter = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BASE64URL) },
  fc.constantFrom('+', '/', '=', '.', ' '),
  printable,
);

export type Mutation = { readonly name: string; apply(token: string): string };

/** One way to break a compact JWT: cut, drop, insert, replace, add or remove segments, re-encode. */
export const tokenMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n) => ({ name: `truncate@${n}`, apply: (t: string) => t.slice(0, n % t.length) })),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([at, length]) => ({
    name: `delete ${length}@${at}`,
    apply: (t: string) => t.slice(0, at % t.length) + t.slice((at % t.length) + length),
  })),
  fc.tuple(fc.nat(), fc.string({ unit: tokenCharacter, minLength: 1, maxLength: 8 })).map(([at, text]) => ({
    name: `insert ${JSON.stringify(text)}@${at}`,
    apply: (t: string) => t.slice(0, at % (t.length + 1)) + text + t.slice(at % (t.length + 1)),
  })),
  fc.tuple(fc.nat(), tokenCharacter).map(([at, c]) => ({
    name: `replace@${at} with ${JSON.stringify(c)}`,
    apply: (t: string) => t.slice(0, at % t.length) + c + t.slice((at % t.length) + 1),
  })),
  fc.constantFrom<Mutation>(
    { name: 'trailing dot', apply: (t) => `${t}.` },
    { name: 'leading dot', apply: (t) => `.${t}` },
    { name: 'fourth segment', apply: (t) => `${t}.${t.split('.')[1]}` },
    { name: 'two segments', apply: (t) => t.split('.').slice(0, 2).join('.') },
    { name: 'no signature', apply: (t) => `${t.split('.').slice(0, 2).join('.')}.` },
    {
      name: 'header and payload swapped',
      apply: (t) => {
        const [h, p, s] = t.split('.');
        return [p, h, s].join('.');
      },
    },
    {
      name: 'signature of another segment',
      apply: (t) => {
        const [h, p] = t.split('.');
        return [h, p, h].join('.');
      },
    },
    { name: 'base64 alphabet', apply: (t) => t.replaceAll('-', '+').replaceAll('_', '/') },
    {
      name: 'padded base64',
      apply: (t) =>
        t
          .split('.')
          .map((s) => Buffer.from(s, 'base64url').toString('base64'))
          .join('.'),
    },
    {
      name: 'padding on every segment',
      apply: (t) =>
        t
          .split('.')
          .map((s) => `${s}==`)
          .join('.'),
    },
    { name: 'doubled dots', apply: (t) => t.replaceAll('.', '..') },
    { name: 'upper case', apply: (t) => t.toUpperCase() },
    { name: 'reversed', apply: (t) => [...t].reverse().join('') },
    { name: 'quoted', apply: (t) => `"${t}"` },
    { name: 'percent-encoded', apply: (t) => encodeURIComponent(t).replaceAll('.', '%2E') },
  ),
);

/**
 * Whether a mutant is the same token in another spelling: the signed text unchanged and the
 * signature decoding to the same bytes (Node's base64url decoder ignores a stray '=' or the
 * unused low bits of the last character). Such a mutant is still the issuer's token.
 */
export function sameToken(mutant: string, original: string): boolean {
  const m = mutant.trim().split('.');
  const o = original.split('.');
  return (
    m.length === 3 &&
    m[0] === o[0] &&
    m[1] === o[1] &&
    Buffer.from(m[2]!, 'base64url').equals(Buffer.from(o[2]!, 'base64url'))
  );
}

/** Claim values of every JSON type that are not a finite number (exp, nbf, iat must be one). */
export const notANumericDate = fc.oneof(
  fc.constantFrom('9999999999', '1e10', 'NaN', 'Infinity', '-Infinity', '', 'now', null, true, false),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
  fc.string({ maxLength: 12 }),
);

/** sub values that identify no one: not a string at all. */
export const notASubject = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(null, true, false, 0, -1, 1e308),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

/** Claims to add to a valid token that must not change who the user is. */
export function extraClaims(reserved: ReadonlySet<string>): fc.Arbitrary<Record<string, unknown>> {
  const key = fc
    .oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 10 }), oddString)
    .filter((k) => !reserved.has(k));
  // JSON.parse makes "__proto__" an own member, as a real token's payload would have it.
  return fc
    .array(fc.tuple(key, fc.jsonValue({ maxDepth: 3 })), { maxLength: 6 })
    .map((entries) => JSON.parse(objectText(entries)));
}
