// A small JSON Schema (2020-12) validator for the subset the OpenAPI description uses, so tests can
// check request and response bodies against it without a dependency. A keyword it does not know
// throws instead of being ignored: a schema cannot pass here by using something unchecked.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = boolean | { [key: string]: Json };

export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  'example',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
]);
const ASSERTIONS = new Set([
  '$ref',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'format',
]);
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([...ANNOTATIONS, ...ASSERTIONS]);

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Resolves a local JSON pointer reference ('#/components/schemas/X') inside root. */
export function resolvePointer(root: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#')) throw new Error(`only local references are supported: ${ref}`);
  let node: Json | undefined = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(key)] : Object.hasOwn(node, key) ? node[key] : undefined;
  }
  return node;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Every issue of `value` against `schema`; references resolve inside `root`. */
export function validate(schema: Json, value: unknown, root: Json, path = '$'): SchemaIssue[] {
  if (schema === true) return [];
  if (schema === false) return [{ path, message: 'no value is allowed here' }];
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new Error(`not a schema at ${path}`);
  const s = schema;
  const issues: SchemaIssue[] = [];
  const fail = (message: string) => issues.push({ path, message });

  for (const keyword of Object.keys(s)) {
    if (!SUPPORTED_KEYWORDS.has(keyword)) throw new Error(`unsupported JSON Schema keyword '${keyword}' at ${path}`);
  }
  if (typeof s.$ref === 'string') {
    const target = resolvePointer(root, s.$ref);
    if (target === undefined) throw new Error(`unresolved $ref ${s.$ref}`);
    issues.push(...validate(target, value, root, path));
  }
  for (const sub of (s.allOf as Schema[] | undefined) ?? []) issues.push(...validate(sub, value, root, path));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validate(sub, value, root, path).length === 0))
    fail('matches none of anyOf');
  if (Array.isArray(s.oneOf) && s.oneOf.filter((sub) => validate(sub, value, root, path).length === 0).length !== 1)
    fail('does not match exactly one of oneOf');
  if (s.not !== undefined && validate(s.not, value, root, path).length === 0) fail('matches a schema it must not');

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(value, t))) {
      fail(`must be ${types.join(' or ')}, is ${typeOf(value)}`);
      return issues;
    }
  }
  if (s.const !== undefined && JSON.stringify(value) !== JSON.stringify(s.const))
    fail(`must be ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    fail(`must be one of ${JSON.stringify(s.enum)}`);

  if (typeof value === 'string') {
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) fail(`must match ${s.pattern}`);
    if (typeof s.minLength === 'number' && [...value].length < s.minLength)
      fail(`must be at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength)
      fail(`must be at most ${s.maxLength} characters`);
    if (s.format === 'date-time' && !(RFC3339.test(value) && !Number.isNaN(Date.parse(value))))
      fail('must be an RFC 3339 date-time');
    if (s.format === 'uri' && !URL.canParse(value)) fail('must be a URI');
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) fail(`must be >= ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) fail(`must be <= ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) fail(`must have at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) fail(`must have at most ${s.maxItems} items`);
    if (s.items !== undefined)
      value.forEach((item, i) => issues.push(...validate(s.items as Json, item, root, `${path}[${i}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Json>;
    for (const name of (s.required as string[] | undefined) ?? []) {
      if (!Object.hasOwn(object, name)) issues.push({ path: `${path}.${name}`, message: 'is required' });
    }
    for (const [name, item] of Object.entries(object)) {
      if (Object.hasOwn(properties, name)) issues.push(...validate(properties[name]!, item, root, `${path}.${name}`));
      else if (s.additionalProperties !== undefined)
        issues.push(...validate(s.additionalProperties, item, root, `${path}.${name}`));
    }
  }
  return issues;
}
