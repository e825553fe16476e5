// The README's "Run your own tenants file" recipe, run as written: its first line starts the local
// stack with the tenants file it names, the other lines run in sh (curl and sed, as a reader runs
// them) and must print a link token. Only the port differs: the stack listens on a free one, and
// the recipe's http://127.0.0.1:3000 is replaced by it, so tests never collide with a running
// `npm start`. If the README's recipe stops working, this fails with what the stack printed.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const CURL_ABSENT =
  spawnSync('sh', ['-c', 'command -v curl && command -v sed'], { stdio: 'ignore' }).status === 0
    ? false
    : 'curl or sed is not on PATH (the recipe is a shell recipe)';

/** The first sh block of the README's "Run your own tenants file" section. */
function recipe(): { tenantsFile: string; shell: string } {
  const section = README.slice(README.indexOf('\n## Run your own tenants file'));
  assert.ok(section.length > 1, 'README.md has a "Run your own tenants file" section');
  const block = /```sh\n([\s\S]*?)\n```/.exec(section.slice(0, section.indexOf('\n## ', 5)))?.[1];
  assert.ok(block, 'the section has a sh block');
  const [start, ...rest] = block.split('\n');
  const tenantsFile = /^TENANTS_FILE=(\S+) npm start$/.exec(start!)?.[1];
  assert.ok(tenantsFile, `the recipe starts with TENANTS_FILE=<file> npm start, not: ${start}`);
  return { tenantsFile, shell: rest.join('\n') };
}

test(
  'the README recipe gets a link token from the tenants file it names, offline',
  { skip: CURL_ABSENT, timeout: 120_000 },
  async () => {
    const { tenantsFile, shell } = recipe();
    assert.match(shell, /http:\/\/127\.0\.0\.1:3000\/dev\/token/);
    const lines: string[] = [];
    const child = spawn(process.execPath, ['local/start.ts'], {
      cwd: ROOT,
      // Nothing from the developer's environment but PATH: the recipe must work on a fresh shell.
      env: {
        PATH: process.env.PATH,
        TENANTS_FILE: tenantsFile,
        PORT: '0',
        LOCAL_WORK_DIR: mkdtempSync(join(tmpdir(), 'readme-recipe-')),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const api = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not get ready:\n${lines.join('\n')}`)), 90_000);
        for (const stream of [child.stdout, child.stderr]) {
          createInterface({ input: stream }).on('line', (line) => {
            lines.push(line);
            if (line.includes('"local.ready"')) {
              clearTimeout(timer);
              resolve(JSON.parse(line).api as string);
            }
          });
        }
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`npm start exited with ${code}:\n${lines.join('\n')}`));
        });
      });
      const { stdout } = await promisify(execFile)('sh', ['-c', shell.replaceAll('http://127.0.0.1:3000', api)], {
        cwd: ROOT,
        env: { PATH: process.env.PATH },
      });
      const answer = JSON.parse(stdout) as Record<string, unknown>;
      assert.deepEqual(
        Object.keys(answer).sort(),
        ['expiration', 'link_token'],
        `the recipe printed ${stdout}\nthe stack printed:\n${lines.join('\n')}`,
      );
      assert.match(String(answer.link_token), /^link-sandbox-/);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    }
  },
);
