// ESLint for the whole repository: typescript-eslint's type-aware recommended rules, Prettier's
// formatting left to Prettier (eslint-config-prettier), and the import rules between folders
// through eslint-plugin-boundaries. IMPORT_RULES below is the one statement of what may import
// what; docs/architecture.md renders it (tools/render-import-rules.ts, `npm run import-rules`).
import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier/flat';
import tseslint from 'typescript-eslint';

/** The packages the function may import at run time: what package.json ships with it. */
const RUNTIME_PACKAGES = Object.keys(
  JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).dependencies,
);

const ADAPTERS = ['auth', 'plaid', 'secrets', 'vault', 'webhooks', 'events', 'log'].map((a) => `lambda/${a}/`);
const LAMBDA = 'lambda/';

/**
 * What each part of the repository may import besides `node:` built-ins, npm packages and its own
 * files, and why. A part is a folder (ending in `/`: every file in it, at any depth) or one file;
 * a file in no part fails lint, so a new folder comes with its rule here. `mayImport` names parts,
 * `lambda/` for every part of the function, or one file of a part (`infra/stages.ts`).
 * docs/architecture.md renders this table (`npm run import-rules`).
 *
 * @type {readonly { parts: readonly string[]; mayImport: readonly string[]; why: string }[]}
 */
export const IMPORT_RULES = [
  {
    parts: ['lambda/config/'],
    mayImport: [],
    why: "the tenants schema, Plaid's vocabulary, the route table (`lambda/config/routes.ts`), the settings: plain data every side may take",
  },
  {
    parts: ['lambda/domain/'],
    mayImport: ['lambda/config/'],
    why: 'the use cases and the ports they need (`lambda/domain/ports.ts` among them); no adapter, no HTTP',
  },
  {
    parts: ['lambda/http/'],
    mayImport: ['lambda/domain/', 'lambda/config/'],
    why: 'the inbound adapter: statuses, headers, problem+json, and the failure kinds only HTTP knows',
  },
  {
    parts: ADAPTERS,
    mayImport: ['lambda/domain/', 'lambda/config/'],
    why: "adapters implement the domain's ports; never each other, never `lambda/http/` or `lambda/handler.ts`",
  },
  {
    parts: ['lambda/runtime/'],
    mayImport: ['lambda/domain/', 'lambda/config/', ...ADAPTERS],
    why: 'helpers of the composition root (init prefetch, bundling aliases); never `lambda/http/` or `lambda/handler.ts`',
  },
  {
    parts: ['lambda/handler.ts'],
    mayImport: [LAMBDA],
    why: 'the composition root: the only file that wires adapters into use cases',
  },
  {
    parts: ['infra/'],
    mayImport: ['lambda/config/'],
    why: 'the deploy takes only the config schema and the route table; the bundle entry (`lambda/handler.ts`) is a path for esbuild, not an import',
  },
  {
    parts: ['local/'],
    mayImport: [LAMBDA, 'infra/lambda-bundling.ts', 'infra/function-sizing.ts', 'client/'],
    why: 'the local stack runs the bundle the deploy builds, with the memory size it sets, and serves the browser client',
  },
  {
    parts: ['tools/'],
    mayImport: [
      'lambda/config/',
      'lambda/domain/',
      'lambda/secrets/',
      'lambda/vault/',
      'infra/stages.ts',
      'infra/lambda-bundling.ts',
    ],
    why: "support commands: the function's own rules and readers, the stage's tenants file",
  },
  { parts: ['openapi/'], mayImport: [LAMBDA], why: "the API description is generated from the code's schemas" },
  { parts: ['client/'], mayImport: [], why: 'the web client ships alone' },
  {
    parts: ['bench/'],
    mayImport: [LAMBDA, 'infra/', 'local/', 'client/', 'tools/', 'openapi/'],
    why: 'the benchmark drives the local stack and the bundle; nothing of `test/`',
  },
  {
    parts: ['test/'],
    mayImport: [LAMBDA, 'infra/', 'local/', 'client/', 'tools/', 'openapi/', 'bench/'],
    why: 'the tests reach every part',
  },
  { parts: ['eslint.config.js'], mayImport: [], why: 'this configuration: packages only' },
];

const PARTS = IMPORT_RULES.flatMap((rule) => rule.parts);
const isFolder = (part) => part.endsWith('/');

/**
 * The files of some parts, as eslint-plugin-boundaries selects them: a folder is an element, one
 * file a file category, each named by its path.
 */
function selectorsOf(parts) {
  const folders = parts.filter(isFolder);
  return [
    ...(folders.length > 0 ? [{ element: { type: folders } }] : []),
    ...parts.filter((part) => !isFolder(part)).map((file) => ({ file: { categories: file } })),
  ];
}

/** What a `mayImport` entry names: parts, or one file of a folder part. */
function targetsOf(entry) {
  if (entry === LAMBDA) return selectorsOf(PARTS.filter((p) => p.startsWith(LAMBDA)));
  if (PARTS.includes(entry)) return selectorsOf([entry]);
  const folder = PARTS.find((p) => isFolder(p) && entry.startsWith(p));
  if (!folder) throw new Error(`IMPORT_RULES: ${entry} is in no part`);
  return [{ element: { type: folder, fileInternalPath: entry.slice(folder.length) } }];
}

const boundariesSettings = {
  'boundaries/elements': PARTS.filter(isFolder).map((folder) => ({
    type: folder,
    pattern: folder.slice(0, -1),
    partialMatch: false,
  })),
  'boundaries/files': PARTS.filter((part) => !isFolder(part)).map((file) => ({ category: file, pattern: file })),
  'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import', 'require'],
  'boundaries/root-path': import.meta.dirname,
};

/** Paths into a package's files rather than to what it exports. */
const PACKAGE_FILES = ['dist*/**', 'lib/**', 'build/**', 'src/**', 'esm/**', 'cjs/**', '**/*.{js,cjs,mjs,json}'];
const NODE_MODULES = ['**/node_modules/**', '*(../)node_modules/**', './*(../)node_modules/**'];

const LAMBDA_PARTS = selectorsOf(PARTS.filter((p) => p.startsWith(LAMBDA)));
const NOT_LAMBDA_PARTS = selectorsOf(PARTS.filter((p) => !p.startsWith(LAMBDA)));

const boundariesPolicies = [
  ...IMPORT_RULES.filter((rule) => rule.mayImport.length > 0).map((rule) => ({
    from: selectorsOf(rule.parts),
    allow: { to: rule.mayImport.flatMap(targetsOf) },
  })),
  // Built-ins, everywhere.
  { allow: { to: { module: { origin: 'core' } } } },
  // Any package outside the function.
  { from: NOT_LAMBDA_PARTS, allow: { to: { module: { origin: 'external' } } } },
  // The function: at run time only the packages of "dependencies" (a devDependency would be
  // bundled unreviewed); a type-only import is erased at build time.
  { from: LAMBDA_PARTS, allow: { to: { module: { origin: 'external', source: RUNTIME_PACKAGES } } } },
  { from: LAMBDA_PARTS, allow: { to: { module: { origin: 'external' } }, dependency: { kind: 'type' } } },
  // Nothing outside the repository's parts (../shared among them).
  {
    disallow: { to: { element: { isUnknown: true }, file: { isUnknown: true }, module: { origin: 'local' } } },
    message: 'This import reaches a file in no part of the repository (IMPORT_RULES in eslint.config.js)',
  },
  // Never a package's own files by path: what its package.json exports is its interface, and the
  // rest may move in any release.
  {
    from: LAMBDA_PARTS,
    disallow: [
      { to: { module: { origin: 'external', internalPath: PACKAGE_FILES } } },
      { dependency: { source: NODE_MODULES } },
    ],
    message: 'The function imports a package by what it exports, never by a path to its files',
  },
  // The demo page imports the browser client as the local server serves it (built from client/).
  { from: selectorsOf(['local/']), allow: { dependency: { source: './link-token-client.js' } } },
];

// The globals the JavaScript files use (TypeScript files leave undefined names to tsc).
const BROWSER_GLOBALS = [
  'window',
  'document',
  'location',
  'sessionStorage',
  'fetch',
  'URL',
  'URLSearchParams',
  'crypto',
  'setTimeout',
  'console',
];
const NODE_GLOBALS = ['process', 'Buffer', 'console', 'performance', 'URL', 'setTimeout', 'clearTimeout'];
const globalsOf = (names) => Object.fromEntries(names.map((name) => [name, 'readonly']));

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'test-artifacts/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  {
    rules: {
      // Destructuring to leave keys out (`const { dropped, ...rest } = value`) is how an object
      // loses a key without mutation.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // A variable that closures read and start-up fills in once, later, stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Tests read JSON (HTTP answers, log lines, CloudFormation templates) as `any` and assert on
      // it: the assertions are the type check, and a cast per property would check nothing more.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Test doubles of async ports are async functions with nothing to await: an assertion they
      // throw becomes the rejection the code under test awaits.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/openapi/mobile-examples.test.ts'],
    // It runs the mobile examples of docs/clients.md, turned into JavaScript, to check the bodies
    // they build.
    rules: { '@typescript-eslint/no-implied-eval': 'off' },
  },
  // The JavaScript files are outside tsconfig.json: browser scripts of the demo page and the
  // benchmark's workers, linted without type information.
  { files: ['**/*.{js,mjs,cjs}'], extends: [tseslint.configs.disableTypeChecked] },
  { files: ['local/demo/**/*.js'], languageOptions: { globals: globalsOf(BROWSER_GLOBALS) } },
  { files: ['eslint.config.js', 'bench/**/*.{js,mjs,cjs}'], languageOptions: { globals: globalsOf(NODE_GLOBALS) } },
  {
    files: ['**/*.cjs'],
    languageOptions: { globals: globalsOf(['require', 'module', 'exports', '__dirname']) },
    // A CommonJS file loads its modules with require.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    plugins: { boundaries },
    settings: boundariesSettings,
    rules: {
      'boundaries/dependencies': [
        'error',
        { default: 'disallow', checkAllOrigins: true, checkUnknownLocals: true, policies: boundariesPolicies },
      ],
      'boundaries/no-unknown-files': 'error',
    },
  },
  prettier,
);
