// The mobile examples in README.md ("Mobile apps") checked against the OpenAPI description: the JSON each
// example sends (read from the code itself, and from the JSON block shown next to it) is a valid
// request body with the right platform; the fields each example decodes are ones the responses
// declare; the URL path, method, headers and the statuses it handles are the described ones.
// Swift and Kotlin are not compiled here (no toolchains in CI); their request and decoding parts
// are written in a form these checks can read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPENAPI_FILE } from '../../openapi/generate.ts';
import { resolvePointer, validate, type Json } from './json-schema.ts';

type Obj = { [key: string]: Json };
const MOBILE = fileURLToPath(new URL('../../README.md', import.meta.url));
const markdown = readFileSync(MOBILE, 'utf8');
const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Obj;
const schema = (name: string) => resolvePointer(doc, `#/components/schemas/${name}`) as Obj;
const requestSchema = schema('LinkTokenRequest');
const propertiesOf = (name: string) => Object.keys(schema(name).properties as Obj);
const requiredOf = (name: string) => schema(name).required as string[];
const post = ((doc.paths as Obj)['/link-token'] as Obj).post as Obj;
const declaredStatuses = new Set(Object.keys(post.responses as Obj).map(Number));

/** The fenced block right after `<!-- {marker}: {name} -->`. */
function block(marker: string, name: string): { lang: string; code: string } {
  const match = new RegExp(`<!-- ${marker}: ${name} -->\\s*\`\`\`(\\w*)\\n([\\s\\S]*?)\\n\`\`\``).exec(markdown);
  assert.ok(match, `README.md has a ${marker} block for ${name}`);
  return { lang: match[1]!, code: match[2]! };
}

function shownBodies(name: string): unknown[] {
  const { lang, code } = block('request-body', name);
  assert.equal(lang, 'json');
  const parsed = JSON.parse(code) as unknown;
  return Array.isArray(parsed) ? parsed : [parsed];
}

function assertValidRequest(body: unknown, where: string): void {
  assert.deepEqual(validate(requestSchema, body, doc), [], `${where}: ${JSON.stringify(body)} is a valid LinkTokenRequest`);
}

/** The statuses an example handles by number (range bounds like 499 aside) are all described. */
function assertStatusesDescribed(code: string, where: string): void {
  const numbers = [...code.matchAll(/\b([245]\d\d)\b/g)].map((m) => Number(m[1])).filter((n) => n !== 499);
  for (const status of [401, 403, 429]) assert.ok(numbers.includes(status), `${where} handles ${status}`);
  for (const status of numbers) assert.ok(declaredStatuses.has(status), `${where} handles ${status}, which POST /link-token declares`);
}

function assertEndpoints(code: string, where: string): void {
  const urls = [...code.matchAll(/https?:\/\/[\w.:-]+(\/[\w/-]*)/g)].map((m) => m[1]!);
  const apiPaths = urls.filter((p) => p !== '/dev/token');
  assert.ok(apiPaths.length > 0, `${where} names the endpoint`);
  for (const path of apiPaths) assert.ok(Object.hasOwn(doc.paths as Obj, path), `${where}: ${path} is a described path`);
}

test('every request body shown in README.md is valid for the OpenAPI request schema', () => {
  const shown = [...markdown.matchAll(/<!-- request-body: ([\w-]+) -->/g)].map((m) => m[1]!);
  assert.deepEqual(shown.sort(), ['android', 'curl', 'ios', 'react-native']);
  for (const name of ['ios', 'android', 'react-native']) for (const body of shownBodies(name)) assertValidRequest(body, name);
  assert.deepEqual(shownBodies('ios').map((b) => (b as Obj).platform), ['ios']);
  assert.deepEqual(shownBodies('android').map((b) => (b as Obj).platform), ['android']);
  assert.deepEqual(shownBodies('react-native').map((b) => (b as Obj).platform), ['ios', 'android']);
});

test('curl: a POST to the described path with a bearer token and a valid JSON body', () => {
  const { code } = block('request-body', 'curl');
  const body = JSON.parse(/-d '([^']+)'/.exec(code)![1]!) as unknown;
  assertValidRequest(body, 'curl');
  assert.match(code, /-X POST http:\/\/127\.0\.0\.1:3000\/link-token/);
  assert.match(code, /-H "Authorization: Bearer \$TOKEN"/);
  assert.match(code, /-H 'Content-Type: application\/json'/);
  assertEndpoints(code, 'curl');
});

test('iOS (Swift): the Encodable request, the Decodable answers and the handled statuses match the description', () => {
  const { lang, code } = block('example', 'ios');
  assert.equal(lang, 'swift');
  // The request type can only encode allowed fields, and the call builds exactly the shown body.
  const requestStruct = /struct LinkTokenRequest: Encodable \{([^}]*)\}/.exec(code)![1]!;
  const fields = [...requestStruct.matchAll(/(?:let|var) (\w+): (\w+)(\?)?/g)];
  for (const [, name] of fields) assert.ok(propertiesOf('LinkTokenRequest').includes(name!), `Swift LinkTokenRequest.${name} is an allowed field`);
  for (const required of requiredOf('LinkTokenRequest')) assert.ok(fields.some(([, n, , optional]) => n === required && !optional), `${required} is non-optional`);
  const args = /LinkTokenRequest\(([^)]*)\)/.exec(code)![1]!;
  const sent: Record<string, string> = Object.fromEntries([...args.matchAll(/(\w+): "([^"]*)"/g)].map((m) => [m[1], m[2]]));
  assert.deepEqual(sent, shownBodies('ios')[0]);
  assertValidRequest(sent, 'Swift');

  const codingKeys = (structName: string) => {
    const body = new RegExp(`struct ${structName}: Decodable \\{([\\s\\S]*?)\\n\\}`).exec(code)![1]!;
    const keys = /enum CodingKeys: String, CodingKey \{([^}]*)\}/.exec(body)![1]!;
    return [...keys.matchAll(/case (\w+) = "(\w+)"/g)].map((m) => ({ property: m[1]!, json: m[2]!, optional: new RegExp(`let ${m[1]}: [^\\n]*\\?`).test(body) }));
  };
  for (const [swift, name] of [['LinkToken', 'LinkTokenResponse'], ['Problem', 'Problem']] as const) {
    const keys = codingKeys(swift);
    for (const key of keys) assert.ok(propertiesOf(name).includes(key.json), `Swift ${swift} decodes "${key.json}", a ${name} property`);
    for (const key of keys.filter((k) => !k.optional)) assert.ok(requiredOf(name).includes(key.json), `Swift ${swift}.${key.property} is non-optional, so "${key.json}" must be required`);
    for (const required of requiredOf(name)) assert.ok(keys.some((k) => k.json === required), `Swift ${swift} decodes required "${required}"`);
  }
  assert.match(code, /httpMethod = "POST"/);
  assert.match(code, /"Bearer \\\(accessToken\)", forHTTPHeaderField: "Authorization"/);
  assert.match(code, /"application\/json", forHTTPHeaderField: "Content-Type"/);
  assert.match(code, /dateDecodingStrategy = \.iso8601/, 'expiration is a date-time');
  assertStatusesDescribed(code, 'Swift');
  assertEndpoints(markdown.slice(markdown.indexOf('## iOS'), markdown.indexOf('## Android')), 'iOS section');
});

test('Android (Kotlin): platform "android", no redirect_uri, and the decoded fields match the description', () => {
  const { lang, code } = block('example', 'android');
  assert.equal(lang, 'kotlin');
  const chain = /JSONObject\(\)((?:\.put\("\w+", "[^"]*"\))+)/.exec(code)![1]!;
  const sent: Record<string, string> = Object.fromEntries([...chain.matchAll(/\.put\("(\w+)", "([^"]*)"\)/g)].map((m) => [m[1], m[2]]));
  assert.deepEqual(sent, shownBodies('android')[0]);
  assert.equal(sent.platform, 'android');
  assertValidRequest(sent, 'Kotlin');
  assert.doesNotMatch(code, /redirect_uri|android_package_name/, 'the app sends neither: the tenant config provides them');

  const read = [...code.matchAll(/json\.get(?:String|Int)\("(\w+)"\)/g)].map((m) => m[1]!);
  for (const field of requiredOf('LinkTokenResponse')) assert.ok(read.includes(field), `reads ${field}`);
  for (const field of read) assert.ok([...propertiesOf('LinkTokenResponse'), ...propertiesOf('Problem')].includes(field), `reads "${field}", a described field`);
  for (const field of requiredOf('Problem')) assert.ok(read.includes(field), `reads problem "${field}"`);
  assert.match(code, /"application\/json"\.toMediaType\(\)/);
  assert.match(code, /\.header\("Authorization", "Bearer \$accessToken"\)/);
  assert.match(code, /\.post\(/);
  assertStatusesDescribed(code, 'Kotlin');
  assertEndpoints(markdown.slice(markdown.indexOf('## Android'), markdown.indexOf('## React Native')), 'Android section');
});

test('React Native: the body built from Platform.OS is valid on both platforms', () => {
  const { lang, code } = block('example', 'react-native');
  assert.equal(lang, 'javascript');
  const expression = /body: JSON\.stringify\((\{[^\n]*\})\)/.exec(code)![1]!;
  // Evaluate the example's own expression with Platform.OS as each platform would set it.
  const build = new Function('Platform', `return (${expression});`) as (platform: { OS: string }) => unknown;
  const sent = ['ios', 'android'].map((OS) => build({ OS }));
  assert.deepEqual(sent, shownBodies('react-native'));
  for (const body of sent) assertValidRequest(body, 'React Native');

  const read = [...code.matchAll(/json\.(\w+)/g)].map((m) => m[1]!);
  assert.deepEqual([...new Set(read)].sort(), [...requiredOf('LinkTokenResponse')].sort());
  assert.match(code, /method: 'POST'/);
  assert.match(code, /Authorization: `Bearer \$\{accessToken\}`/);
  assert.match(code, /'Content-Type': 'application\/json'/);
  assertStatusesDescribed(code, 'React Native');
  assertEndpoints(code, 'React Native');
});
