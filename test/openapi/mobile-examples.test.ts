// The mobile examples in docs/clients.md ("Mobile apps") checked against the OpenAPI description. Nothing is
// compiled or run against a server: each example's code is read. The calls it makes (method and
// path) must be described operations, and together cover link token, link, list, update mode and
// remove; the bodies it builds (evaluated from the example's own code, and shown as JSON next to it)
// must be valid request bodies with the right platform and update-mode fields; the fields it decodes
// must be ones the responses declare (and every required one decoded); the statuses it handles must
// be ones those operations declare; its `action` checks must use described values.
// Swift and Kotlin are not compiled here (no toolchains in CI); their request and decoding parts
// are written in a form these checks can read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPENAPI_FILE } from '../../openapi/generate.ts';
import { resolvePointer, validate, type Json } from './json-schema.ts';

type Obj = { [key: string]: Json };
const MOBILE = fileURLToPath(new URL('../../docs/clients.md', import.meta.url));
const markdown = readFileSync(MOBILE, 'utf8');
const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Obj;
const schema = (name: string) => resolvePointer(doc, `#/components/schemas/${name}`) as Obj;
const propertiesOf = (name: string) => Object.keys(schema(name).properties as Obj);
const requiredOf = (name: string) => schema(name).required as string[];
const institution = (schema('Item').properties as Obj).institution as Obj;
const operation = (method: string, path: string) =>
  ((doc.paths as Obj)[path] as Obj | undefined)?.[method.toLowerCase()] as Obj | undefined;
const requestSchemaOf = (method: string, path: string) =>
  (((operation(method, path)!.requestBody as Obj).content as Obj)['application/json'] as Obj).schema as Obj;

/** What every example must call: a link token (new and update mode), keep the Item, list, remove. */
const EXPECTED_CALLS = ['POST /link-token', 'POST /items', 'GET /items', 'DELETE /items/{item_id}'];
const ITEM_ID = 'Pz3nVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrA1';
const PUBLIC_TOKEN = 'public-sandbox-00000000-0000-4000-8000-000000000001';
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The fenced block right after `<!-- {marker}: {name} -->`. */
function block(marker: string, name: string): { lang: string; code: string } {
  const match = new RegExp(`<!-- ${marker}: ${name} -->\\s*\`\`\`(\\w*)\\n([\\s\\S]*?)\\n\`\`\``).exec(markdown);
  assert.ok(match, `docs/clients.md has a ${marker} block for ${name}`);
  return { lang: match[1]!, code: match[2]! };
}

function shownBodies(name: string): unknown[] {
  const { lang, code } = block('request-body', name);
  assert.equal(lang, 'json');
  const parsed = JSON.parse(code) as unknown;
  return Array.isArray(parsed) ? parsed : [parsed];
}

function assertValidRequest(body: unknown, where: string, method = 'POST', path = '/link-token'): void {
  assert.deepEqual(
    validate(requestSchemaOf(method, path), body, doc),
    [],
    `${where}: ${JSON.stringify(body)} is a valid ${method} ${path} body`,
  );
}

/**
 * The calls an example makes through its one `send(method, path, …)` helper, path parameters
 * (Swift `\(x)`, Kotlin `$x`, JavaScript `${x}`) matched to the described path's `{name}`.
 */
function assertCalls(code: string, where: string): void {
  const calls = [...code.matchAll(/\bsend\(\s*["'](\w+)["'],\s*["'`]([^"'`]+)["'`]/g)].map(([, method, path]) => {
    const pattern = path!.replace(/\\\(\w+\)|\$\{\w+\}|\$\w+/g, '{}');
    const described = Object.keys(doc.paths as Obj).find((p) => p.replace(/\{\w+\}/g, '{}') === pattern);
    assert.ok(described, `${where}: ${path} is a described path`);
    assert.ok(operation(method!, described), `${where}: ${method} ${described} is a described operation`);
    return `${method} ${described}`;
  });
  assert.deepEqual(
    [...new Set(calls)].sort(),
    [...EXPECTED_CALLS].sort(),
    `${where} makes exactly the described calls`,
  );
}

/** Every status handled by number (range bounds like 499 aside) is declared by an operation the example calls. */
function assertStatusesDescribed(code: string, where: string): void {
  const numbers = [...code.matchAll(/\b([245]\d\d)\b/g)].map((m) => Number(m[1])).filter((n) => n !== 499);
  for (const status of [401, 403, 404, 409, 429]) assert.ok(numbers.includes(status), `${where} handles ${status}`);
  const declared = (status: number) =>
    EXPECTED_CALLS.filter((call) => {
      const [method, path] = call.split(' ') as [string, string];
      return Object.hasOwn(operation(method, path)!.responses as Obj, String(status));
    });
  for (const status of numbers)
    assert.ok(declared(status).length > 0, `${where} handles ${status}, which an operation it calls declares`);
  assert.ok(declared(409).includes('POST /items'), "409 is POST /items's duplicate Item");
}

/** Every `action == "…"` / `action === '…'` the example tests is a described Item action, and both update ones are used. */
function assertActions(code: string, where: string): void {
  const used = [...code.matchAll(/\baction ={2,3} ["']([^"']+)["']/g)].map((m) => m[1]!);
  const described = (schema('Item').properties as Obj).action as Obj;
  for (const action of used)
    assert.ok((described.enum as string[]).includes(action), `${where}: action "${action}" is described`);
  for (const action of ['update', 'update_with_account_selection'])
    assert.ok(used.includes(action), `${where} acts on "${action}"`);
}

/** Decoded JSON keys against a schema: each one declared, every required one decoded, non-optional only if required. */
function assertDecodes(keys: { json: string; optional: boolean }[], target: Obj, label: string, where: string): void {
  const properties = Object.keys(target.properties as Obj);
  const required = target.required as string[];
  for (const key of keys)
    assert.ok(properties.includes(key.json), `${where} ${label} decodes "${key.json}", a described property`);
  for (const key of keys.filter((k) => !k.optional))
    assert.ok(required.includes(key.json), `${where} ${label}: "${key.json}" is non-optional, so it must be required`);
  for (const name of required)
    assert.ok(
      keys.some((k) => k.json === name),
      `${where} ${label} decodes required "${name}"`,
    );
}

/** The three link token requests an example builds: new Item, update mode, update mode with Account Select. */
function assertLinkTokenBodies(
  build: (itemId: string | null, accountSelection: boolean) => unknown,
  platform: string,
  where: string,
  shown: unknown[],
): void {
  const sent = [build(null, false), build(ITEM_ID, false), build(ITEM_ID, true)].map(
    (b) => JSON.parse(JSON.stringify(b)) as Obj,
  );
  assert.deepEqual(sent, shown, `${where} builds the bodies shown next to it`);
  for (const body of sent) assertValidRequest(body, where);
  for (const body of sent) assert.equal(body.platform, platform);
  assert.equal(sent[0]!.mode ?? 'new', 'new');
  for (const body of sent.slice(1)) assert.deepEqual([body.mode, body.item_id], ['update', ITEM_ID]);
  assert.equal(Object.hasOwn(sent[1]!, 'account_selection'), false, 'plain update mode leaves account_selection out');
  assert.equal(sent[2]!.account_selection, true);
}

test('every request body shown in docs/clients.md is valid for the OpenAPI request schema', () => {
  const shown = [...markdown.matchAll(/<!-- request-body: ([\w-]+) -->/g)].map((m) => m[1]!);
  assert.deepEqual(shown.sort(), ['android', 'curl', 'ios', 'items', 'react-native']);
  for (const name of ['ios', 'android', 'react-native'])
    for (const body of shownBodies(name)) assertValidRequest(body, name);
  assert.deepEqual(new Set(shownBodies('ios').map((b) => (b as Obj).platform)), new Set(['ios']));
  assert.deepEqual(new Set(shownBodies('android').map((b) => (b as Obj).platform)), new Set(['android']));
  assert.deepEqual(new Set(shownBodies('react-native').map((b) => (b as Obj).platform)), new Set(['ios', 'android']));
  assert.deepEqual(shownBodies('items'), [{ public_token: PUBLIC_TOKEN }]);
  assertValidRequest(shownBodies('items')[0], 'items', 'POST', '/items');
});

test('curl: a POST to the described path with a bearer token and a valid JSON body', () => {
  const { code } = block('request-body', 'curl');
  const body = JSON.parse(/-d '([^']+)'/.exec(code)![1]!) as unknown;
  assertValidRequest(body, 'curl');
  assert.match(code, /-X POST http:\/\/127\.0\.0\.1:3000\/link-token/);
  assert.match(code, /-H "Authorization: Bearer \$TOKEN"/);
  assert.match(code, /-H 'Content-Type: application\/json'/);
  const paths = [...code.matchAll(/https?:\/\/[\w.:-]+(\/[\w/-]*)/g)]
    .map((m) => m[1]!)
    .filter((p) => p !== '/dev/token');
  assert.ok(paths.length > 0, 'curl names the endpoint');
  for (const path of paths) assert.ok(Object.hasOwn(doc.paths as Obj, path), `curl: ${path} is a described path`);
});

test('iOS (Swift): the Encodable requests, the Decodable answers, the calls and the handled statuses match the description', () => {
  const { lang, code } = block('example', 'ios');
  assert.equal(lang, 'swift');
  // The request type can only encode allowed fields (its camelCase names sent in snake_case).
  assert.match(code, /keyEncodingStrategy = \.convertToSnakeCase/);
  const requestStruct = /struct LinkTokenRequest: Encodable \{([^}]*)\}/.exec(code)![1]!;
  const fields = [...requestStruct.matchAll(/(?:let|var) (\w+): (\w+)(\?)?/g)];
  for (const [, name] of fields)
    assert.ok(
      propertiesOf('LinkTokenRequest').includes(snake(name!)),
      `Swift LinkTokenRequest.${name} is an allowed field`,
    );
  for (const required of requiredOf('LinkTokenRequest'))
    assert.ok(
      fields.some(([, n, , optional]) => snake(n!) === required && !optional),
      `${required} is non-optional`,
    );
  // Evaluate the example's own LinkTokenRequest(...) constructions: named arguments become the JSON
  // keys, nil ones are left out as Swift's synthesized Encodable does.
  const constructions = [...code.matchAll(/LinkTokenRequest\(([^()]*)\)/g)].map((m) => m[1]!);
  const toObject = (args: string) =>
    `({${args.replace(/(\w+): /g, (_, name: string) => `${JSON.stringify(snake(name))}: `).replace(/\bnil\b/g, 'undefined')}})`;
  const [newItem, update] = constructions.map(
    (args) =>
      new Function('itemId', 'accountSelection', `return ${toObject(args)};`) as (
        i: string | null,
        a: boolean,
      ) => unknown,
  );
  assert.equal(constructions.length, 2, 'one request for a new Item, one for update mode');
  assert.match(code, /static let newItem = LinkTokenRequest\(/);
  assert.match(
    code,
    /static func update\(itemId: String, accountSelection: Bool = false\) -> LinkTokenRequest \{\s*LinkTokenRequest\(/,
  );
  assertLinkTokenBodies(
    (itemId, accountSelection) => (itemId === null ? newItem!(null, false) : update!(itemId, accountSelection)),
    'ios',
    'Swift',
    shownBodies('ios'),
  );
  const linkItemBody = /send\("POST", "\/items", json: Self\.encoder\.encode\(\[("\w+"): publicToken\]\)\)/.exec(code);
  assert.ok(linkItemBody, 'Swift POST /items encodes a one-key dictionary of the public token');
  assertValidRequest({ [JSON.parse(linkItemBody[1]!) as string]: PUBLIC_TOKEN }, 'Swift', 'POST', '/items');

  const codingKeys = (structName: string) => {
    const body = new RegExp(`struct ${structName}: Decodable \\{([\\s\\S]*?)\\n\\}`).exec(code)![1]!;
    const keys = /enum CodingKeys: String, CodingKey \{([^}]*)\}/.exec(body)![1]!;
    return [...keys.matchAll(/case (\w+) = "(\w+)"/g)].map((m) => ({
      property: m[1]!,
      json: m[2]!,
      optional: new RegExp(`let ${m[1]}: [^\\n]*\\?`).test(body),
    }));
  };
  const decoded: [string, Obj][] = [
    ['LinkToken', schema('LinkTokenResponse')],
    ['LinkedItem', schema('LinkedItem')],
    ['Item', schema('Item')],
    ['Institution', institution],
    ['ItemList', schema('ItemList')],
    ['Problem', schema('Problem')],
  ];
  for (const [swift, target] of decoded) assertDecodes(codingKeys(swift), target, swift, 'Swift');
  // The 409 answer is a Problem plus existing_item_id, decoded on its own.
  assert.deepEqual(codingKeys('Conflict'), [{ property: 'existingItemId', json: 'existing_item_id', optional: false }]);
  assert.ok(requiredOf('ConflictProblem').includes('existing_item_id'));
  for (const [swift, method, path] of [
    ['LinkToken', 'POST', '/link-token'],
    ['LinkedItem', 'POST', '/items'],
    ['ItemList', 'GET', '/items'],
  ] as const) {
    assert.match(
      code,
      new RegExp(`send\\("${method}", "${path}"[^\\n]*\\n[^\\n]*decode\\(${swift}\\.self`),
      `Swift decodes ${method} ${path}'s answer as ${swift}`,
    );
  }
  assert.match(code, /request\.httpMethod = method/);
  assert.match(code, /"Bearer \\\(accessToken\)", forHTTPHeaderField: "Authorization"/);
  assert.match(code, /"application\/json", forHTTPHeaderField: "Content-Type"/);
  assert.match(
    code,
    /\.withFractionalSeconds/,
    'created_at and updated_at carry milliseconds, which .iso8601 alone rejects',
  );
  assertCalls(code, 'Swift');
  assertStatusesDescribed(code, 'Swift');
  const section = markdown.slice(markdown.indexOf('### iOS'), markdown.indexOf('### Android'));
  assertActions(section, 'iOS section');
  assert.doesNotMatch(
    section,
    /\bprint\(|UserDefaults|Keychain|os_log|Logger\(/,
    'the example neither logs nor stores a token',
  );
});

test('Android (Kotlin): platform "android", no redirect_uri, the bodies, calls and decoded fields match the description', () => {
  const { lang, code } = block('example', 'android');
  assert.equal(lang, 'kotlin');
  assert.doesNotMatch(
    code,
    /redirect_uri|android_package_name/,
    'the app sends neither: the tenant config provides them',
  );
  // Evaluate the example's own linkTokenRequest: its body is Kotlin that reads as JavaScript once
  // `val` is `const`, given an org.json JSONObject whose put(name, null) removes the name, as Android's does.
  const fn =
    /fun linkTokenRequest\(itemId: String\? = null, accountSelection: Boolean = false\): JSONObject \{\n([\s\S]*?)\n\}/.exec(
      code,
    );
  assert.ok(fn, 'Kotlin builds the POST /link-token body in linkTokenRequest');
  class JSONObject {
    put(name: string, value: unknown): this {
      if (value === null || value === undefined) delete (this as Record<string, unknown>)[name];
      else (this as Record<string, unknown>)[name] = value;
      return this;
    }
  }
  const source = fn[1]!.replace(/\bval\b/g, 'const').replace(/\bJSONObject\(\)/g, 'new JSONObject()');
  const build = new Function('JSONObject', 'itemId', 'accountSelection', source) as (
    j: typeof JSONObject,
    i: string | null,
    a: boolean,
  ) => unknown;
  assertLinkTokenBodies(
    (itemId, accountSelection) => ({ ...(build(JSONObject, itemId, accountSelection) as object) }),
    'android',
    'Kotlin',
    shownBodies('android'),
  );
  const linkItemBody = /send\("POST", "\/items", JSONObject\(\)\.put\("(\w+)", publicToken\)\)/.exec(code);
  assert.ok(linkItemBody, 'Kotlin POST /items sends a one-key object of the public token');
  assertValidRequest({ [linkItemBody[1]!]: PUBLIC_TOKEN }, 'Kotlin', 'POST', '/items');

  // Each JSONObject.toX() reads the fields of one described answer.
  const reads = (fun: string) => {
    const line = new RegExp(`fun JSONObject\\.${fun}\\(\\) = [^\\n]*`).exec(code);
    assert.ok(line, `Kotlin has ${fun}()`);
    return [...line[0].matchAll(/\b(getString|getInt|getJSONObject|stringOrNull)\("(\w+)"\)/g)].map((m) => ({
      json: m[2]!,
      optional: m[1] === 'stringOrNull',
    }));
  };
  assert.match(
    code,
    /fun JSONObject\.stringOrNull\(name: String\): String\? = if \(isNull\(name\)\) null else getString\(name\)/,
  );
  const decoded: [string, Obj][] = [
    ['toLinkToken', schema('LinkTokenResponse')],
    ['toLinkedItem', schema('LinkedItem')],
    ['toItem', schema('Item')],
    ['toInstitution', institution],
    ['toProblem', schema('Problem')],
  ];
  for (const [fun, target] of decoded) assertDecodes(reads(fun), target, `${fun}()`, 'Kotlin');
  assert.match(code, /send\("POST", "\/link-token", body\)\)\.toLinkToken\(\)/);
  assert.match(code, /send\("POST", "\/items", [^\n]*\)\)\.toLinkedItem\(\)/);
  assert.match(code, /send\("GET", "\/items"\)\)\.getJSONArray\("items"\)/);
  assert.match(code, /getJSONObject\(it\)\.toItem\(\)/);
  assert.match(code, /409 -> json\?\.optString\("existing_item_id"\)/);
  assert.ok(propertiesOf('ConflictProblem').includes('existing_item_id'));
  assert.match(code, /"application\/json"\.toMediaType\(\)/);
  assert.match(code, /\.header\("Authorization", "Bearer \$accessToken"\)/);
  assert.match(code, /\.method\(method, body\?\.toString\(\)\?\.toRequestBody\(JSON_TYPE\)\)/);
  assertCalls(code, 'Kotlin');
  assertStatusesDescribed(code, 'Kotlin');
  const section = markdown.slice(markdown.indexOf('### Android'), markdown.indexOf('### React Native'));
  assertActions(section, 'Android section');
  assert.doesNotMatch(
    section,
    /\bLog\.|println|SharedPreferences|DataStore/,
    'the example neither logs nor stores a token',
  );
});

test('React Native: the bodies built from Platform.OS, the calls and the fields read match the description', () => {
  const { lang, code } = block('example', 'react-native');
  assert.equal(lang, 'javascript');
  // Evaluate the example's own linkTokenRequest with Platform.OS as each platform would set it.
  const fn = /export function linkTokenRequest\([\s\S]*?\n\}/.exec(code);
  assert.ok(fn, 'React Native builds the POST /link-token body in linkTokenRequest');
  const load = (OS: string) =>
    new Function('Platform', `${fn[0].replace(/^export /, '')}\nreturn linkTokenRequest;`)({ OS }) as (
      i?: string | null,
      a?: boolean,
    ) => unknown;
  const shown = shownBodies('react-native');
  assertLinkTokenBodies(
    (itemId, accountSelection) => load('ios')(itemId, accountSelection),
    'ios',
    'React Native (iOS)',
    shown.slice(0, 3),
  );
  assertLinkTokenBodies(
    (itemId, accountSelection) => load('android')(itemId, accountSelection),
    'android',
    'React Native (Android)',
    shown.slice(3),
  );
  const linkItemBody = /send\('POST', '\/items', \{ (\w+): publicToken \}\)/.exec(code);
  assert.ok(linkItemBody, 'React Native POST /items sends a one-key object of the public token');
  assertValidRequest({ [linkItemBody[1]!]: PUBLIC_TOKEN }, 'React Native', 'POST', '/items');
  assert.match(code, /body: body && JSON\.stringify\(body\)/);

  // Fields read off an answer (json.x), off a listed Item (item.x) and off a 409 problem.
  const answered = [
    ...new Set([...code.matchAll(/\bjson\.(\w+)/g), ...code.matchAll(/\)\)\.(\w+)/g)].map((m) => m[1]!)),
  ].sort();
  assert.deepEqual(answered, [...requiredOf('LinkTokenResponse'), ...requiredOf('ItemList')].sort());
  for (const field of [...code.matchAll(/\bitem\.(\w+)/g)].map((m) => m[1]!))
    assert.ok(propertiesOf('Item').includes(field), `reads item.${field}, an Item property`);
  assert.match(code, /error\.problem\.existing_item_id/);
  assert.ok(requiredOf('ConflictProblem').includes('existing_item_id'));
  assert.match(code, /^\s+method,$/m);
  assert.match(code, /Authorization: `Bearer \$\{accessToken\}`/);
  assert.match(code, /'Content-Type': 'application\/json'/);
  assertCalls(code, 'React Native');
  assertStatusesDescribed(code, 'React Native');
  assertActions(code, 'React Native');
  assert.doesNotMatch(code, /console\.|AsyncStorage|SecureStore/, 'the example neither logs nor stores a token');
});
