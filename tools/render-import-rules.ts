// Renders the import-rules table of docs/architecture.md ("What may import what") from
// IMPORT_RULES in eslint.config.js, the table `npm run lint` enforces, between the page's
// import-rules markers. `npm run import-rules` writes it; `npm run import-rules:check` exits 1 when
// the page differs (test/unit/import-rules.test.ts runs the check).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ARCHITECTURE_PAGE = fileURLToPath(new URL('../docs/architecture.md', import.meta.url));
const START = '<!-- import-rules:start (rendered by npm run import-rules) -->\n';
const END = '<!-- import-rules:end -->';

export interface ImportRule {
  readonly parts: readonly string[];
  readonly mayImport: readonly string[];
  readonly why: string;
}

/** IMPORT_RULES of the ESLint configuration (a JavaScript file, so loaded by its URL). */
export async function importRules(): Promise<readonly ImportRule[]> {
  const config = (await import(new URL('../eslint.config.js', import.meta.url).href)) as { IMPORT_RULES?: unknown };
  if (!Array.isArray(config.IMPORT_RULES)) throw new Error('eslint.config.js exports no IMPORT_RULES');
  return config.IMPORT_RULES as readonly ImportRule[];
}

/** The rendered section as it stands in the page now. */
export function importRulesSection(page = readFileSync(ARCHITECTURE_PAGE, 'utf8')): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/architecture.md has no ${START.trim()} … ${END} markers`);
  return page.slice(start + START.length, end);
}

/** The page with its table replaced by a fresh rendering. */
export function withRenderedImportRules(page: string, rules: readonly ImportRule[]): string {
  return page.replace(
    `${START}${importRulesSection(page)}${END}`,
    () => `${START}${renderImportRulesMarkdown(rules)}${END}`,
  );
}

const code = (paths: readonly string[]) => paths.map((p) => `\`${p}\``).join(', ');
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderImportRulesMarkdown(rules: readonly ImportRule[]): string {
  const mayImport = (paths: readonly string[]) =>
    paths.length === 0
      ? 'nothing else'
      : paths.map((p) => (p === 'lambda/' ? 'all of `lambda/`' : `\`${p}\``)).join(', ');
  return [
    '| part | may import | why |',
    '| --- | --- | --- |',
    ...rules.map((rule) => `| ${code(rule.parts)} | ${mayImport(rule.mayImport)} | ${cell(rule.why)} |`),
    '',
  ].join('\n');
}

if (import.meta.main) {
  const page = readFileSync(ARCHITECTURE_PAGE, 'utf8');
  const rendered = withRenderedImportRules(page, await importRules());
  if (process.argv.includes('--check')) {
    if (rendered !== page) {
      process.stderr.write('The import-rules table in docs/architecture.md is out of date: run npm run import-rules\n');
      process.exit(1);
    }
    process.stdout.write('the import-rules table in docs/architecture.md is current\n');
  } else if (rendered === page) {
    process.stdout.write('the import-rules table in docs/architecture.md is current\n');
  } else {
    writeFileSync(ARCHITECTURE_PAGE, rendered);
    process.stdout.write('wrote the import-rules table into docs/architecture.md\n');
  }
}
