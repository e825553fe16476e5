// The import rules of eslint.config.js (IMPORT_RULES, enforced by eslint-plugin-boundaries in
// `npm run lint`), run through ESLint's Node API on sources injected under real paths of the
// repository: a broken rule of each kind is reported at its line, and the same sources without the
// broken import are not. Only the boundaries rules run here, without type information, so a
// source need not exist on disk. docs/architecture.md's table must be the rendering of
// IMPORT_RULES (npm run import-rules:check).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import {
  importRules,
  importRulesSection,
  renderImportRulesMarkdown,
  withRenderedImportRules,
} from '../../tools/render-import-rules.ts';

const eslint = new ESLint({
  cwd: PROJECT_ROOT,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId.startsWith('boundaries/'),
});

interface Reported {
  readonly line: number;
  readonly rule: string | null;
  readonly message: string;
}

/** What ESLint reports on `source` as the file at `path` (relative to the repository). */
async function lint(path: string, source: string): Promise<Reported[]> {
  const [result] = await eslint.lintText(source, { filePath: join(PROJECT_ROOT, path) });
  return result!.messages.map((m) => ({ line: m.line, rule: m.ruleId, message: m.message }));
}

/** A source file of a folder, whatever it is named (files move; the rules are by folder). */
function someFileOf(folder: string): string {
  const name = readdirSync(join(PROJECT_ROOT, folder))
    .filter((f) => f.endsWith('.ts'))
    .sort()[0];
  assert.ok(name, `${folder} has a .ts file`);
  return `${folder}/${name}`;
}
const fileName = (folder: string) => someFileOf(folder).split('/').pop()!;
const HTTP = fileName('lambda/http');
const DOMAIN = fileName('lambda/domain');
const VAULT = fileName('lambda/vault');

test('a domain file importing lambda/http/ fails lint; the same file without that import passes', async () => {
  const domainFile = someFileOf('lambda/domain');
  const source = readFileSync(join(PROJECT_ROOT, domainFile), 'utf8');
  const injected = `import * as http from '../http/${HTTP}';\n${source}`;
  // Under the file's own path and under a new name in the folder: the rule is the folder's.
  for (const path of [domainFile, 'lambda/domain/a-new-use-case.ts']) {
    assert.deepEqual(await lint(path, source), [], `${path} as committed`);
    assert.deepEqual(await lint(path, injected), [
      {
        line: 1,
        rule: 'boundaries/dependencies',
        message:
          'There is no policy allowing dependencies from elements of type "lambda/domain/" to elements of type "lambda/http/"',
      },
    ]);
  }
});

test('a broken rule of each kind is reported at its line; what the rules allow is not', async () => {
  const refused = (from: string, to: string) =>
    `There is no policy allowing dependencies from elements of type "${from}" to elements of type "${to}"`;
  const cases: ReadonlyArray<[path: string, source: string, reported: Array<[line: number, message: string]>]> = [
    // The function's layers.
    [
      'lambda/domain/x.ts',
      "import type { Logger } from '../log/logger.ts';",
      [[1, refused('lambda/domain/', 'lambda/log/')]],
    ],
    [
      'lambda/domain/x.ts',
      `export { problem } from '../http/${HTTP}';`,
      [[1, refused('lambda/domain/', 'lambda/http/')]],
    ],
    [
      'lambda/plaid/x.ts',
      "import { a } from '../config/routes.ts';\nimport { secretCache } from '../secrets/secret-cache.ts';",
      [[2, refused('lambda/plaid/', 'lambda/secrets/')]],
    ],
    ['lambda/vault/x.ts', `import '../http/${HTTP}';`, [[1, refused('lambda/vault/', 'lambda/http/')]]],
    [
      'lambda/http/x.ts',
      "import { handler } from '../handler.ts';",
      [
        [
          1,
          'There is no policy allowing dependencies from elements of type "lambda/http/" to file of category "lambda/handler.ts"',
        ],
      ],
    ],
    [
      'lambda/config/x.ts',
      `import { a } from '../domain/${DOMAIN}';`,
      [[1, refused('lambda/config/', 'lambda/domain/')]],
    ],
    [
      'lambda/runtime/x.ts',
      `import { a } from '../secrets/secret-cache.ts';\nconst b = await import('../http/${HTTP}');`,
      [[2, refused('lambda/runtime/', 'lambda/http/')]],
    ],
    ['lambda/handler.ts', `import { a } from './http/${HTTP}';\nimport { b } from './vault/${VAULT}';`, []],
    [
      'lambda/handler.ts',
      "import { startLocalApiServer } from '../local/server.ts';",
      [
        [
          1,
          'There is no policy allowing dependencies from file of category "lambda/handler.ts" to elements of type "local/"',
        ],
      ],
    ],
    // The other parts.
    ['infra/x.ts', `import { a } from '../lambda/http/${HTTP}';`, [[1, refused('infra/', 'lambda/http/')]]],
    ['infra/x.ts', "import { a } from '../local/standins/plaid.ts';", [[1, refused('infra/', 'local/')]]],
    ['infra/x.ts', "import { ROUTES } from '../lambda/config/routes.ts';", []],
    ['local/x.ts', "import { run } from '../bench/run.ts';", [[1, refused('local/', 'bench/')]]],
    [
      'local/x.ts',
      "import { a } from '../infra/lambda-bundling.ts';\nimport { b } from '../client/link-token-client.ts';",
      [],
    ],
    ['tools/x.ts', `const api = await import('../lambda/http/${HTTP}');`, [[1, refused('tools/', 'lambda/http/')]]],
    ['tools/x.ts', "import { STAGES } from '../infra/stages.ts';", []],
    ['tools/x.ts', "import { app } from '../infra/app.ts';", [[1, refused('tools/', 'infra/')]]],
    ['bench/x.ts', "import { synthesize } from '../test/infra/synth.ts';", [[1, refused('bench/', 'test/')]]],
    [
      'client/x.ts',
      "import { ROUTES } from '../lambda/config/routes.ts';",
      [[1, refused('client/', 'lambda/config/')]],
    ],
    ['test/x.test.ts', `import { a } from '../lambda/http/${HTTP}';\nimport { b } from '../bench/run.ts';`, []],
    ['test/fixtures/lambda/handler.ts', `import { a } from '../../../lambda/http/${HTTP}';`, []],
    // Nothing outside the repository's parts.
    [
      'test/x.test.ts',
      "import spec from '../../beside-the-repository/spec.ts';",
      [[1, 'This import reaches a file in no part of the repository (IMPORT_RULES in eslint.config.js)']],
    ],
  ];
  for (const [path, source, reported] of cases) {
    assert.deepEqual(
      await lint(path, source),
      reported.map(([line, message]) => ({ line, rule: 'boundaries/dependencies', message })),
      `${path}: ${source}`,
    );
  }
});

test('a file in no part of the repository fails lint: a new folder needs its rule', async () => {
  for (const path of ['lambda/new-folder/x.ts', 'lambda/x.ts', 'scripts/x.ts']) {
    assert.deepEqual(
      (await lint(path, 'export const a = 1;\n')).map((m) => m.rule),
      ['boundaries/no-unknown-files'],
      path,
    );
  }
});

test('the function imports at run time only node: built-ins and its "dependencies", and never a package\'s files', async () => {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  assert.ok('valibot' in pkg.dependencies && 'aws-cdk-lib' in pkg.devDependencies);
  const allowed = [
    "import { createHash } from 'node:crypto';",
    "import * as v from 'valibot';",
    "import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';",
    "import type { App } from 'aws-cdk-lib';",
    "import type { Context } from 'aws-lambda';",
  ].join('\n');
  assert.deepEqual(await lint('lambda/domain/x.ts', allowed), []);
  const packageFiles = 'The function imports a package by what it exports, never by a path to its files';
  const cases: ReadonlyArray<[source: string, message: string]> = [
    [
      "import { App } from 'aws-cdk-lib';",
      'There is no policy allowing dependencies from elements of type "lambda/secrets/" to entities of module with origin "external" and module source "aws-cdk-lib"',
    ],
    ["import { x } from 'aws-jwt-verify/dist/esm/node-web-compat-node.js';", packageFiles],
    ["import { x } from '@aws-sdk/client-kms/dist-cjs/index.js';", packageFiles],
    ["import { x } from '../../node_modules/aws-jwt-verify/dist/esm/node-web-compat-node.js';", packageFiles],
    ["import pkg from 'valibot/package.json' with { type: 'json' };", packageFiles],
  ];
  for (const [source, message] of cases)
    assert.deepEqual(
      await lint('lambda/secrets/x.ts', source),
      [{ line: 1, rule: 'boundaries/dependencies', message }],
      source,
    );
  // Outside the function any package will do.
  assert.deepEqual(await lint('infra/x.ts', "import { App } from 'aws-cdk-lib';"), []);
});

test("docs/architecture.md's table is the rendering of IMPORT_RULES (npm run import-rules:check), one row per rule", async () => {
  const rules = await importRules();
  assert.equal(importRulesSection(), renderImportRulesMarkdown(rules));
  const rows = importRulesSection()
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  assert.equal(rows.length, rules.length);
  assert.ok(
    rows.some((row) => row.startsWith('| `lambda/domain/` | `lambda/config/` |')),
    rows.join('\n'),
  );

  const renderer = fileURLToPath(new URL('../../tools/render-import-rules.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [renderer, '--check']);
  assert.match(stdout, /is current/);
  const page =
    '# Page\n\nbefore\n<!-- import-rules:start (rendered by npm run import-rules) -->\n| `stale` | x | y |\n<!-- import-rules:end -->\nafter\n';
  const rendered = withRenderedImportRules(page, rules);
  assert.ok(rendered.startsWith('# Page\n\nbefore\n') && rendered.endsWith('<!-- import-rules:end -->\nafter\n'));
  assert.equal(importRulesSection(rendered), renderImportRulesMarkdown(rules));
});

test("the domain's failures carry no HTTP status: the HTTP adapter maps them", () => {
  // Comments blanked (a `//` inside a string, as in a URL, is no comment).
  const failure = readFileSync(join(PROJECT_ROOT, 'lambda/domain/failure.ts'), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  assert.doesNotMatch(failure, /\bstatus\b|\b[1-5]\d\d\b/);
});
