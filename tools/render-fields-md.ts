// Renders the field table of docs/tenants.md from the classification table
// (lambda/config/field-classes.ts) and the documented rules (tools/field-rules.ts), between the
// page's fields-table markers. `npm run fields` writes it; `npm run fields:check` exits 1 when the
// page differs (test/fields/fields-table.test.ts runs the check and parses the table too).
// It writes docs/tenants.md only: the README links to the table and never holds it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  LINK_TOKEN_CREATE_FIELDS,
  type FieldClass,
  type FieldEntry,
  type LinkTokenCreateFieldPath,
} from '../lambda/config/field-classes.ts';
import { FIELD_RULES } from './field-rules.ts';

export const FIELDS_PAGE = fileURLToPath(new URL('../docs/tenants.md', import.meta.url));
const START = '<!-- fields-table:start (rendered by npm run fields) -->\n';
const END = '<!-- fields-table:end -->';

/** The rendered section as it stands in the page now. */
export function fieldsSection(page = readFileSync(FIELDS_PAGE, 'utf8')): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/tenants.md has no ${START.trim()} … ${END} markers`);
  return page.slice(start + START.length, end);
}

/** The page with its table replaced by a fresh rendering. */
export function withRenderedFields(page: string): string {
  return page.replace(`${START}${fieldsSection(page)}${END}`, () => `${START}${renderFieldsMarkdown()}${END}`);
}

const CLASS_LABEL: Record<FieldClass, string> = {
  configured: 'configured',
  derived: 'derived',
  client: 'client',
  refused: 'refused',
};

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function detail(path: LinkTokenCreateFieldPath, entry: FieldEntry): string {
  const rules = FIELD_RULES[path];
  switch (entry.class) {
    case 'configured': {
      const where =
        entry.where === 'tenant'
          ? 'tenant'
          : entry.where === 'tenant or profile'
            ? 'tenant, profile overrides'
            : 'profile';
      const replacement = entry.replacement
        ? ` Deprecated by Plaid: accepted with a warning naming its replacement, ${entry.replacement}.`
        : '';
      return `${where}: ${rules}.${replacement}`;
    }
    case 'client':
      return `${entry.reason}. Rules: ${rules}.`;
    case 'derived':
      return `${entry.reason}. A client or a profile that sets it is refused.`;
    case 'refused':
      return `${entry.reason}.`;
  }
}

export function renderFieldsMarkdown(): string {
  const entries = Object.entries(LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>);
  const count = (c: FieldClass) => entries.filter(([, e]) => e.class === c).length;
  const lines = [
    '## Fields of /link/token/create',
    '',
    `Every request field of Plaid's \`POST /link/token/create\` (API version 2020-09-14, as the contract the`,
    `service is built on describes it), nested ones included, falls in exactly one class. ${entries.length} fields:`,
    `${count('configured')} configured, ${count('derived')} derived, ${count('client')} chosen by the client, ${count('refused')} refused.`,
    '',
    '- **configured**: set in the tenants file, in a tenant profile (or for the whole tenant where the table says so),',
    '  validated at `cdk synth`, at `npm start` and at cold start; a mistake fails with one message naming tenant,',
    '  profile and field.',
    '- **derived**: the service sets it, from Secrets Manager or the verified token.',
    "- **client**: the client chooses it in the request body, within the tenant's limits (besides `language`, the",
    '  client sends `platform` and `profile`, which are not Plaid fields).',
    '- **refused**: never sent to Plaid. A client that sends it gets 400 naming the field with the reason below; a',
    '  tenants file that sets it fails validation with the same reason.',
    '',
    'Unknown fields are refused everywhere, never passed through. The table is rendered from',
    '`lambda/config/field-classes.ts` and `tools/field-rules.ts` by `npm run fields`; `npm test` fails when it is stale.',
    '',
    '| field | class | where it comes from, and the rules |',
    '| --- | --- | --- |',
    ...entries.map(
      ([path, entry]) =>
        `| \`${path}\` | ${CLASS_LABEL[entry.class]} | ${cell(detail(path as LinkTokenCreateFieldPath, entry))} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

if (import.meta.main) {
  const page = readFileSync(FIELDS_PAGE, 'utf8');
  const rendered = withRenderedFields(page);
  if (process.argv.includes('--check')) {
    if (rendered !== page) {
      process.stderr.write('The field table in docs/tenants.md is out of date: run npm run fields\n');
      process.exit(1);
    }
    process.stdout.write('the field table in docs/tenants.md is current\n');
  } else if (rendered === page) {
    process.stdout.write('the field table in docs/tenants.md is current\n');
  } else {
    writeFileSync(FIELDS_PAGE, rendered);
    process.stdout.write('wrote the field table into docs/tenants.md\n');
  }
}
