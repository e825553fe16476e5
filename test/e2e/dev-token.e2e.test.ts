// `npm run -s dev-token` finds the running local stack without the user repeating how it was
// started: a stack on another PORT is found through the stack.json it writes in its work folder,
// and the command its ready line prints works as printed, from a shell with none of its settings.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** `npm run -s dev-token -- <args>` in a shell with only PATH and `env`. */
const devToken = (args: readonly string[], env: Record<string, string> = {}) =>
  run('npm', ['run', '-s', 'dev-token', '--', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

test('dev-token finds a stack started on another port, through its stack.json, and the ready line’s command works as printed', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'dev-token-e2e-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['local/start.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), LOCAL_WORK_DIR: workDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines: string[] = [];
  try {
    const human = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line:\n${lines.join('\n')}`)), 90_000);
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          if (line.startsWith('Ready: ')) {
            clearTimeout(timer);
            resolve(line);
          }
        });
      }
      void exited.then((code) => reject(new Error(`the stack exited with ${code}:\n${lines.join('\n')}`)));
    });
    const api = `http://127.0.0.1:${port}`;
    const ready = JSON.parse(lines.find((line) => line.includes('"local.ready"'))!) as { stack_file: string };
    assert.equal(ready.stack_file, join(workDir, 'stack.json'));
    assert.deepEqual(JSON.parse(readFileSync(ready.stack_file, 'utf8')), {
      api,
      pid: child.pid,
      tenants: ['demo'],
    });

    // The work folder alone (as a script started beside the stack has it): no PORT, no URL.
    const found = await devToken(['--sub', 'ada'], { LOCAL_WORK_DIR: workDir });
    assert.equal(found.code, 0, found.stderr);
    assert.equal(claimsOf(found.stdout.trim()).sub, 'ada');

    // The ready line's command, word for word, from a shell with none of the stack's settings.
    const printed = /or npm run -s dev-token -- (.*?)\. Local only/.exec(human)?.[1];
    assert.ok(printed, human);
    assert.ok(printed.includes(`--url ${api}`), `a stack outside the default work folder is named by URL: ${printed}`);
    const asPrinted = await devToken(printed.split(' '));
    assert.equal(asPrinted.code, 0, asPrinted.stderr);
    const res = await fetch(`${api}/link-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${asPrinted.stdout.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'ios' }),
    });
    assert.equal(res.status, 200, await res.text());
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  assert.ok(!existsSync(join(workDir, 'stack.json')), 'a stopped stack leaves no stack.json');
  const gone = await devToken([], { LOCAL_WORK_DIR: workDir, PORT: String(port) });
  assert.equal(gone.code, 1);
  assert.match(
    gone.stderr,
    /No local stack answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\), and .*stack\.json names no running one/,
  );
});
