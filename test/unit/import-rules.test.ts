// What may import what, between the folders of the repository. Every .ts/.mjs/.js file is read,
// its import specifiers taken apart (static `import … from`, `export … from`, side-effect
// `import '…'`, dynamic `import('…')` with a literal), and each relative one checked against the
// rule of the folder it is in. A new file in a folder no rule names fails too.
//
// Import rules (besides node: built-ins and npm packages, and a folder's own files):
//
//   folder              may import                                         why
//   lambda/config/      (nothing else)                                     the tenants schema, Plaid's vocabulary, the route table:
//                                                                          plain data every side may take
//   lambda/domain/      lambda/config/                                     the use cases and their ports (domain/ports.ts,
//                                                                          item-vault.ts, receive-webhook.ts); no adapter, no HTTP
//   lambda/http/        lambda/domain/, lambda/config/                     the inbound adapter: statuses, headers, problem+json
//   lambda/auth/, plaid/, secrets/, vault/, webhooks/, events/, log/
//                       lambda/domain/, lambda/config/                     adapters implement the domain's ports; never each other,
//                                                                          never http/ or handler.ts
//   lambda/auth/signature-fast-path.ts
//                       also aws-jwt-verify's node-web-compat-node.js      the library's signature check, replaced for RS* (the one
//                                                                          file reached inside a package by its path)
//   lambda/runtime/     lambda/domain/, lambda/config/, the adapters       helpers of the composition root (init prefetch, bundler
//                                                                          aliases); never http/ or handler.ts
//   lambda/handler.ts   all of lambda/                                     the composition root: the only file that wires adapters
//                                                                          into use cases
//   infra/              lambda/config/                                     the deploy takes only the config schema; the bundle entry
//                                                                          (lambda/handler.ts) is a path for esbuild, not an import
//   local/              lambda/, infra/lambda-bundling.ts, client/         the local stack runs the bundle the deploy builds
//   tools/              lambda/config/, domain/, secrets/, vault/,          support commands: the function's own rules and readers,
//                       infra/stages.ts, infra/lambda-bundling.ts          the stage's tenants file
//   openapi/            lambda/                                            the API description is generated from the code's schemas
//   client/             (nothing else)                                     the web client ships alone
//   bench/              everything but test/                               the benchmark drives the local stack and the bundle
//   test/               everything
//
// And the function's run-time imports (lambda/**, type-only imports aside) are node: built-ins
// and the packages of "dependencies": a devDependency there would be bundled unreviewed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';

const ADAPTERS = ['auth', 'plaid', 'secrets', 'vault', 'webhooks', 'events', 'log'].map((a) => `lambda/${a}/`);

interface Rule {
  /** A folder (ending in /) or one file, relative to the project root. */
  readonly from: string;
  /** Folders (ending in /) or files it may import; '*' for anything. Its own folder always. */
  readonly mayImport: readonly string[];
}

/** The table above, as data. The most specific `from` applies. */
export const IMPORT_RULES: readonly Rule[] = [
  { from: 'lambda/config/', mayImport: [] },
  { from: 'lambda/domain/', mayImport: ['lambda/config/'] },
  { from: 'lambda/http/', mayImport: ['lambda/domain/', 'lambda/config/'] },
  ...ADAPTERS.map((from) => ({ from, mayImport: ['lambda/domain/', 'lambda/config/'] })),
  // The one file reached inside a package by path: aws-jwt-verify's signature check, replaced for RSA (see the file).
  {
    from: 'lambda/auth/signature-fast-path.ts',
    mayImport: ['lambda/domain/', 'lambda/config/', 'node_modules/aws-jwt-verify/dist/esm/node-web-compat-node.js'],
  },
  { from: 'lambda/runtime/', mayImport: ['lambda/domain/', 'lambda/config/', ...ADAPTERS] },
  { from: 'lambda/handler.ts', mayImport: ['lambda/'] },
  { from: 'infra/', mayImport: ['lambda/config/'] },
  { from: 'local/', mayImport: ['lambda/', 'infra/lambda-bundling.ts', 'client/'] },
  {
    from: 'tools/',
    mayImport: [
      'lambda/config/',
      'lambda/domain/',
      'lambda/secrets/',
      'lambda/vault/',
      'infra/stages.ts',
      'infra/lambda-bundling.ts',
    ],
  },
  { from: 'openapi/', mayImport: ['lambda/'] },
  { from: 'client/', mayImport: [] },
  { from: 'bench/', mayImport: ['lambda/', 'infra/', 'local/', 'client/', 'tools/', 'openapi/'] },
  { from: 'test/', mayImport: ['*'] },
];

const SKIPPED_DIRS = new Set(['node_modules', 'cdk.out', 'dist', 'test-artifacts']);
const SOURCE = /\.(ts|mts|mjs|js|cjs)$/;

/** Every source file of the project, relative to its root (dot-folders and build output skipped). */
export function sourceFiles(root = PROJECT_ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (SOURCE.test(entry.name)) out.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(root);
  return out.sort();
}

export interface ImportSpecifier {
  readonly specifier: string;
  /** `import type` / `export type`: erased at build time. */
  readonly typeOnly: boolean;
  readonly line: number;
}

// Block and line comments are blanked first (keeping line breaks), so an import quoted in a
// comment is no import; string contents that look like comments (URLs) are rare in import lines.
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const STATIC = /^[ \t]*(?:import|export)[ \t]+(type[ \t]+)?(?:[^'";]*?[ \t\n}*])?from[ \t]*(['"])([^'"\n]+)\2/gm;
const SIDE_EFFECT = /^[ \t]*import[ \t]*(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\([ \t\n]*(['"])([^'"\n]+)\1[ \t\n]*[,)]/g;

/** The import specifiers of a source text. */
export function importSpecifiers(source: string): ImportSpecifier[] {
  const text = withoutComments(source);
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const found: ImportSpecifier[] = [];
  for (const m of text.matchAll(STATIC))
    found.push({ specifier: m[3]!, typeOnly: m[1] !== undefined, line: lineOf(m.index) });
  for (const m of text.matchAll(SIDE_EFFECT)) found.push({ specifier: m[2]!, typeOnly: false, line: lineOf(m.index) });
  for (const m of text.matchAll(DYNAMIC)) found.push({ specifier: m[2]!, typeOnly: false, line: lineOf(m.index) });
  return found;
}

const covers = (prefix: string, path: string) => (prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix);

export function ruleOf(file: string): Rule | undefined {
  return IMPORT_RULES.filter((rule) => covers(rule.from, file)).sort((a, b) => b.from.length - a.from.length)[0];
}

/** What `file` imports that its rule does not allow, as printable lines. */
export function violations(files: readonly string[], read: (file: string) => string): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const rule = ruleOf(file);
    if (!rule) {
      problems.push(
        `${file}: in no folder of the import rules (add one to IMPORT_RULES in test/unit/import-rules.test.ts)`,
      );
      continue;
    }
    for (const { specifier, line } of importSpecifiers(read(file))) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(file), specifier))
        .split('\\')
        .join('/');
      if (target.startsWith('..')) {
        problems.push(`${file}:${line} imports ${specifier}, outside the project`);
        continue;
      }
      const allowed = [...(rule.from.endsWith('/') ? [rule.from] : []), ...rule.mayImport];
      if (rule.mayImport.includes('*') || allowed.some((prefix) => covers(prefix, target))) continue;
      problems.push(
        `${file}:${line} imports ${target}: ${rule.from} may import only ${[rule.from, ...rule.mayImport].join(', ') || 'itself'}`,
      );
    }
  }
  return problems;
}

/** Run-time imports of packages outside "dependencies" in the function's sources. */
export function devPackageImports(
  files: readonly string[],
  read: (file: string) => string,
  dependencies: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const file of files.filter((f) => f.startsWith('lambda/'))) {
    for (const { specifier, typeOnly, line } of importSpecifiers(read(file))) {
      if (specifier.startsWith('.') || specifier.startsWith('node:') || typeOnly) continue;
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
      if (!dependencies.has(name))
        problems.push(`${file}:${line} imports ${specifier} at run time; ${name} is not in "dependencies"`);
    }
  }
  return problems;
}

const files = sourceFiles();
const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');

test('every source file imports only what its folder may (the table at the top of this file)', () => {
  assert.ok(
    files.includes('lambda/handler.ts') && files.includes('infra/app.ts') && files.length > 100,
    `found ${files.length} files`,
  );
  assert.deepEqual(violations(files, read), []);
});

test('the function imports at run time only node: built-ins and its "dependencies"', () => {
  const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
  assert.deepEqual(devPackageImports(files, read, new Set(Object.keys(pkg.dependencies))), []);
});

test("the domain's failures carry no HTTP status: the HTTP adapter maps them", () => {
  const failure = withoutComments(read('lambda/domain/failure.ts'));
  assert.doesNotMatch(failure, /\bstatus\b|\b[1-5]\d\d\b/);
});

// The checker itself: each kind of import it must see, and a violation of each kind of rule.
test('the checker finds static, re-exported, side-effect, multi-line and dynamic imports, and skips comments', () => {
  const source = [
    "import { a } from './a.ts';",
    "import type { B } from '../b.ts';",
    'import {',
    '  c,',
    "  d } from './cd.ts';",
    "export { e } from './e.ts';",
    "export * from './star.ts';",
    "import './side-effect.ts';",
    "const lazy = () => import('./lazy.ts');",
    "// import { no } from './commented.ts';",
    "/* import('./also-commented.ts') */",
    "const url = 'https://example.com'; import * as v from 'valibot';",
  ].join('\n');
  assert.deepEqual(
    importSpecifiers(source)
      .map((s) => [s.specifier, s.typeOnly])
      .sort(),
    [
      ['../b.ts', true],
      ['./a.ts', false],
      ['./cd.ts', false],
      ['./e.ts', false],
      ['./lazy.ts', false],
      ['./side-effect.ts', false],
      ['./star.ts', false],
    ].sort(),
  );
});

test('a broken rule of each kind is reported, naming file, line and rule', () => {
  const broken: Record<string, string> = {
    'lambda/domain/x.ts': "import type { Logger } from '../log/logger.ts';",
    'lambda/plaid/x.ts': "\nimport { secretCache } from '../secrets/secret-cache.ts';",
    'lambda/vault/x.ts': "import { createLinkTokenApi } from '../http/link-token-api.ts';",
    'lambda/http/x.ts': "import { handler } from '../handler.ts';",
    'lambda/config/x.ts': "import { ServiceFailure } from '../domain/failure.ts';",
    'infra/x.ts': "import { LINK_TOKEN_PATH } from '../lambda/http/link-token-api.ts';",
    'infra/y.ts': "import { startPlaidStandIn } from '../local/standins/plaid.ts';",
    'local/x.ts': "import { run } from '../bench/run.ts';",
    'tools/x.ts': "const api = await import('../lambda/http/link-token-api.ts');",
    'bench/x.ts': "import { synthesize } from '../test/infra/synth.ts';",
    'client/x.ts': "import { ROUTES } from '../lambda/config/routes.ts';",
    'lambda/x.ts': "import { a } from './config/routes.ts';",
    'scripts/x.ts': '',
  };
  const found = violations(Object.keys(broken), (file) => broken[file]!);
  assert.deepEqual(
    found.map((line) => line.split(/[: ]/)[0]),
    Object.keys(broken),
  );
  assert.ok(
    found.includes(
      'lambda/plaid/x.ts:2 imports lambda/secrets/secret-cache.ts: lambda/plaid/ may import only lambda/plaid/, lambda/domain/, lambda/config/',
    ),
    found.join('\n'),
  );
  const dev = devPackageImports(
    ['lambda/x.ts', 'lambda/y.ts'],
    (f) => (f === 'lambda/x.ts' ? "import { App } from 'aws-cdk-lib';" : "import type { Context } from 'aws-lambda';"),
    new Set(['valibot']),
  );
  assert.deepEqual(dev, ['lambda/x.ts:1 imports aws-cdk-lib at run time; aws-cdk-lib is not in "dependencies"']);
  // The real files pass: the same checker, the same rules.
  assert.deepEqual(violations(['lambda/handler.ts', 'infra/link-token-stack.ts'], read), []);
});
