// docs/tenants.md's minimal tenant is a file the schema accepts, and its list of required fields
// is exactly the fields whose absence the schema refuses: a field made required (or optional) in
// lambda/config/tenant-schema.ts without the page following fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TenantConfigError, validateTenantsFile } from '../../lambda/config/load-tenants.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const page = readFileSync(join(ROOT, 'docs', 'tenants.md'), 'utf8');
const section = /^## A minimal tenant\n([\s\S]*?)^## /m.exec(page)?.[1] ?? '';
const minimal = () => JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)?.[1] ?? 'null') as Record<string, any>;

/** Dotted paths of the leaves (values that are not objects) of a JSON value, tenant ids as <id>. */
function leaves(value: unknown, path: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
}

const shown = (path: readonly string[]) =>
  path.map((key, i) => (i === 1 && path[0] === 'tenants' ? '<id>' : key)).join('.');

test('the minimal tenant of docs/tenants.md is valid', () => {
  const file = minimal();
  assert.ok(file, 'the section has a json block');
  const { file: parsed, warnings } = validateTenantsFile(file, 'docs/tenants.md');
  assert.equal(Object.keys(parsed.tenants).length, 1);
  assert.deepEqual(warnings, []);
});

test("the page's required fields are the fields the schema refuses to do without, and every field of the minimal tenant is one", () => {
  const listed = [...section.matchAll(/^- `([^`]+)`/gm)].map((match) => match[1]);
  const required = leaves(minimal()).filter((path) => {
    const file = minimal();
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], file);
    delete parent[path.at(-1)!];
    try {
      validateTenantsFile(file);
      return false;
    } catch (error) {
      assert.ok(error instanceof TenantConfigError, String(error));
      return true;
    }
  });
  assert.equal(required.length, leaves(minimal()).length, 'every field of the minimal tenant is required');
  assert.deepEqual(listed, required.map(shown));
});
