// The README, CONTRIBUTING.md and every page of docs/ as a newcomer follows them: each file they
// cite exists, each command they give is an npm script (or npm's own ci/install), none runs a
// .ts file on the machine's own Node, and each curl to the local stack is a described call with a
// valid body (test/docs/check-docs.ts). Every test folder has its fast loop, `npm run test:<folder>`.
// The last tests feed the checker broken pages, so a check that could never fail would show here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkPage, headingIds, type DocContext } from './check-docs.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;
const context: DocContext = {
  root: ROOT,
  scripts: new Set(Object.keys(scripts)),
  openapi: JSON.parse(readFileSync(join(ROOT, 'openapi', 'link-token.openapi.json'), 'utf8')),
};
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

for (const page of PAGES) {
  test(`${page}: every cited file exists, every command is an npm script, every local curl is a described call`, () => {
    const file = join(ROOT, page);
    assert.deepEqual(checkPage(file, readFileSync(file, 'utf8'), context), []);
  });
}

test('the README links every page of docs/', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const page of PAGES.filter((p) => p.startsWith('docs/')))
    assert.ok(readme.includes(`](${page}`), `README.md links ${page}`);
});

test('every test folder has its fast loop: npm run test:<folder> runs exactly that folder', () => {
  const folders = readdirSync(join(ROOT, 'test'), { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() &&
        readdirSync(join(ROOT, 'test', entry.name), { recursive: true }).some((f) => String(f).endsWith('.test.ts')),
    )
    .map((entry) => entry.name);
  assert.ok(folders.length > 5, `expected the test folders, found ${folders.join(', ')}`);
  for (const folder of folders) {
    assert.match(
      scripts[`test:${folder}`] ?? '',
      new RegExp(`node --test .*"test/${folder}/\\*\\*/\\*\\.test\\.ts"`),
      `package.json has "test:${folder}"`,
    );
  }
  assert.match(scripts.test!, /"test\/\*\*\/\*\.test\.ts"/, 'npm test runs every folder');
});

test('the set-up and test commands the README gives are the ones CI runs (.ci/run)', () => {
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const command of ['npm run setup', 'npm test']) {
    assert.match(ci, new RegExp(`^${command}$`, 'm'), `.ci/run runs ${command}`);
    assert.match(readme, new RegExp(`^${command}\\s`, 'm'), `README.md's quick start gives ${command}`);
  }
});

// The checker itself, on pages that break each rule.
const broken = (markdown: string) => checkPage(join(ROOT, 'docs', 'broken.md'), markdown, context);

test('a broken link, a missing anchor and a cited path that does not exist are each reported', () => {
  assert.deepEqual(broken('See [the page](tenants.md) and [ops](operations.md#8-sizing-and-cost).\n'), []);
  assert.match(
    broken('See [the page](tenats.md).\n').join('\n'),
    /docs\/broken\.md:1: the link tenats\.md names docs\/tenats\.md, which does not exist/,
  );
  assert.match(broken('\n[cost](operations.md#cost)\n').join('\n'), /broken\.md:2: .*has no heading #cost/);
  assert.match(
    broken('The renderer is `lambda/config/render-fields-md.ts`.\n').join('\n'),
    /`lambda\/config\/render-fields-md\.ts` is not a file/,
  );
  assert.match(
    broken('```sh\nTENANTS_FILE=infra/tenants/nope.json npm start\n```\n').join('\n'),
    /infra\/tenants\/nope\.json is not a file/,
  );
  // Paths inside other code blocks (Swift, JSON) and outside the repository's folders are not citations.
  assert.deepEqual(
    broken(
      '```json\n{"file": "lambda/nope.ts"}\n```\n`dist/lambda/index.mjs` and `cdk.out/asset.<hash>/index.mjs.map`\n',
    ),
    [],
  );
});

test('a command that is not an npm script, and bare node or npx, are each reported', () => {
  assert.deepEqual(
    broken('```sh\nnpm run setup\nnpm test\nPROPERTY_SEED=1 npm run test:property\nnpm run -s fields:check\n```\n'),
    [],
  );
  assert.match(broken('`npm run -s nothing`\n').join('\n'), /npm run nothing is not a script/);
  assert.match(broken('Run `npm run test:nothing`.\n').join('\n'), /npm run test:nothing is not a script/);
  assert.match(
    broken('```sh\nnode --test "test/infra/**/*.test.ts"\n```\n').join('\n'),
    /`node --test` runs on the machine's Node/,
  );
  assert.match(broken('```sh\nX=1 node openapi/generate.ts --check\n```\n').join('\n'), /`node openapi\/generate\.ts`/);
  assert.match(broken('`npx cdk deploy -c stage=prod`\n').join('\n'), /`npx cdk`/);
  assert.match(broken('```sh\ngit switch main && npx cdk deploy\n```\n').join('\n'), /`npx cdk`/);
});

test('a curl to the local stack with an undescribed path or a body the schema refuses is reported', () => {
  const curl = (path: string, body: string) =>
    `\`\`\`sh\ncurl -s -X POST http://127.0.0.1:3000${path} \\\n  -H 'Content-Type: application/json' -d '${body}'\n\`\`\`\n`;
  assert.deepEqual(broken(curl('/link-token', '{"platform":"web"}')), []);
  assert.deepEqual(broken(curl('/dev/token', '{"tenant":"acme-budget","sub":"user-1"}')), []);
  assert.match(broken(curl('/link-tokens', '{"platform":"web"}')).join('\n'), /POST \/link-tokens is not an operation/);
  assert.match(
    broken(curl('/link-token', '{"platform":"windows"}')).join('\n'),
    /curl POST \/link-token: \$\.platform/,
  );
  assert.match(
    broken(curl('/link-token', '{"platform":"web","webhook":"https://x"}')).join('\n'),
    /curl POST \/link-token: /,
  );
});

test("heading ids are GitHub's", () => {
  assert.deepEqual(
    [
      ...headingIds(
        '# Soak (`npm run soak`)\n## 8. Sizing and cost\n## Checked against real implementations (`test/interop/`)\n## Notes\n## Notes\n```sh\n# not a heading\n```\n',
      ),
    ],
    ['soak-npm-run-soak', '8-sizing-and-cost', 'checked-against-real-implementations-testinterop', 'notes', 'notes-1'],
  );
});

test('every repository file a source comment cites exists', () => {
  const cited =
    /(?<![\w./-])((?:\.ci|bench|client|docs|infra|lambda|local|openapi|test|tools)\/[\w.@/-]*\.(?:ts|md|json|js|mjs|sh|png|html|css))/g;
  const missing: string[] = [];
  for (const top of ['lambda', 'infra', 'local', 'tools', 'bench', 'test', 'openapi', 'client']) {
    for (const entry of readdirSync(join(ROOT, top), { recursive: true })) {
      const file = join(top, String(entry));
      if (!file.endsWith('.ts')) continue;
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (!/^\s*(\/\/|\/?\*)/.test(line)) return;
          for (const match of line.matchAll(cited)) {
            const path = match[1]!.replace(/\.$/, '');
            if (!existsSync(join(ROOT, path)) && !existsSync(join(ROOT, dirname(file), path)))
              missing.push(`${file}:${index + 1}: ${path}`);
          }
        });
    }
  }
  assert.deepEqual(missing, []);
});
