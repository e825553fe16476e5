// The field table of docs/tenants.md, the classification table in code and the
// tenants-file schema must tell the same story: the same field paths, the same classes, and a
// schema that accepts exactly the configured fields. `npm run fields:check` is run here too, so
// a stale table fails `npm test` with the command that fixes it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { LINK_TOKEN_CREATE_FIELDS, type FieldClass, type FieldEntry } from '../../lambda/config/field-classes.ts';
import { FIELD_RULES } from '../../tools/field-rules.ts';
import { fieldsSection, renderFieldsMarkdown, withRenderedFields } from '../../tools/render-fields-md.ts';
import { LinkProfileSchema, TenantSchema } from '../../lambda/config/tenant-schema.ts';

const table = LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>;
const rules = FIELD_RULES as Record<string, string | undefined>;

/** `| \`path\` | class | … |` rows of the Markdown table. */
function parseFieldsTable(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const match = /^\| `([^`]+)` \| (\w+) \|/.exec(line);
    if (!match) continue;
    assert.ok(!rows.has(match[1]!), `${match[1]} is listed twice`);
    rows.set(match[1]!, match[2]!);
  }
  return rows;
}

test('the docs/tenants.md table lists exactly the fields the code classifies, each with its class', () => {
  const documented = parseFieldsTable(fieldsSection());
  const classified = new Map(Object.entries(table).map(([path, entry]) => [path, entry.class]));
  assert.deepEqual([...documented.keys()].sort(), [...classified.keys()].sort());
  for (const [path, cls] of classified) assert.equal(documented.get(path), cls, path);
});

test('the docs/tenants.md table is the rendering of the table (npm run fields)', () => {
  assert.equal(fieldsSection(), renderFieldsMarkdown());
});

test('npm run fields:check passes on the committed page, and a stale table is re-rendered in place only between the markers', async () => {
  const run = promisify(execFile);
  const renderer = fileURLToPath(new URL('../../tools/render-fields-md.ts', import.meta.url));
  const { stdout } = await run(process.execPath, [renderer, '--check']);
  assert.match(stdout, /is current/);
  const page =
    '# Page\n\nbefore\n<!-- fields-table:start (rendered by npm run fields) -->\n| `stale` | refused | x |\n<!-- fields-table:end -->\nafter\n';
  const rendered = withRenderedFields(page);
  assert.notEqual(rendered, page);
  assert.ok(rendered.startsWith('# Page\n\nbefore\n') && rendered.endsWith('<!-- fields-table:end -->\nafter\n'));
  assert.equal(fieldsSection(rendered), renderFieldsMarkdown());
});

test('every field is in exactly one of the four classes, with what its class needs', () => {
  const classes: FieldClass[] = ['configured', 'derived', 'client', 'refused'];
  for (const [path, entry] of Object.entries(table)) {
    assert.ok(classes.includes(entry.class), path);
    if (entry.class === 'configured') assert.ok(rules[path] && entry.where, `${path} needs rules and where`);
    else assert.ok(entry.reason, `${path} needs a reason`);
    // A configured field's parent is configured too (or the field is top-level).
    const parent = path.replace(/(\[\])?\.[^.]+$/, '');
    if (entry.class === 'configured' && parent !== path)
      assert.equal(table[parent]?.class, 'configured', `${path}: parent ${parent}`);
  }
});

/** Every key path a valibot schema accepts (objects and arrays of objects walked; optional/pipe unwrapped). */
function schemaPaths(schema: any, prefix = ''): string[] {
  let node = schema;
  while (node.type === 'optional' || node.type === 'nullable') node = node.wrapped;
  if (node.type === 'array') return schemaPaths(node.item, `${prefix}[]`).filter((p) => p !== `${prefix}[]`);
  if (node.type !== 'strict_object' && node.type !== 'object') return [];
  return Object.entries(node.entries).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...schemaPaths(child, path)];
  });
}

test('a profile accepts exactly the fields configured per profile, the tenant those configured per tenant', () => {
  const configured = Object.entries(table).filter(([, e]) => e.class === 'configured');
  const perProfile = configured
    .filter(([, e]) => e.where !== 'tenant')
    .map(([path]) => path)
    .sort();
  assert.deepEqual(schemaPaths(LinkProfileSchema).sort(), perProfile);
  const tenantKeys = Object.keys((TenantSchema as any).entries);
  for (const [path] of configured.filter(([, e]) => e.where !== 'profile')) assert.ok(tenantKeys.includes(path), path);
});

test('rules are written for exactly the configured and client-chosen fields', () => {
  const expected = Object.entries(table)
    .filter(([, e]) => e.class === 'configured' || e.class === 'client')
    .map(([path]) => path);
  assert.deepEqual(Object.keys(rules).sort(), expected.sort());
});
