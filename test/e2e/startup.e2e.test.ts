// A tenants-file mistake stops the local stack at start, with the message the function would
// also fail its cold start with: tenant, profile and field named.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const run = promisify(execFile);

test('npm start refuses an invalid tenants file, naming tenant, profile and field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-tenants-'));
  const file = join(dir, 'tenants.json');
  const acme = minimalTenantConfig({ profiles: { default: { products: ['auth'], redirect_uri: 'https://acme.com/oauth?next=home' } } });
  writeFileSync(file, JSON.stringify(tenantsFileOf({ acme })));
  const result = await run(process.execPath, ['local/start.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', TENANTS_FILE: file, LOCAL_WORK_DIR: dir },
  }).then(
    () => assert.fail('the local stack started with an invalid tenants file'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Invalid tenants file ${file}:`));
  assert.match(result.stderr, /tenant 'acme', profile 'default', field 'redirect_uri': must not contain a query string/);
});

test('npm start pointed at a Secrets Manager without credentials in the environment refuses, saying how to export them', async () => {
  const result = await run(process.execPath, ['local/start.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://secretsmanager.us-east-1.amazonaws.com', AWS_PROFILE: 'dev' },
  }).then(
    () => assert.fail('the local stack started without environment credentials'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY are not/);
  assert.match(result.stderr, /aws configure export-credentials --format env/);
});

test('npm start answers nothing but 503 + Retry-After until the function is loaded, and prints local.ready only when a call succeeds', async () => {
  // A fixed free port, so calls can start before the stack says where it listens.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'early-calls-'));
  const child = spawn(process.execPath, ['local/start.ts'], {
    env: { PATH: process.env.PATH, PORT: String(port), LOCAL_WORK_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let ready = false;
  const readyLine = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"local.ready"')) {
        ready = true;
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  const early: Array<{ status: number; retryAfter: string | null; type: string | null; title: unknown }> = [];
  try {
    while (!ready) {
      const res = await fetch(`http://127.0.0.1:${port}/link-token`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }).catch(() => undefined);
      if (res && !ready) {
        const body = await res.json().catch(() => undefined);
        early.push({ status: res.status, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type'), title: body?.title });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await readyLine;
    assert.ok(early.length > 0, 'no call landed before local.ready: the window was not exercised');
    for (const seen of early) {
      assert.deepEqual(seen, { status: 503, retryAfter: '1', type: 'application/problem+json', title: 'Service starting' });
    }
    // The first call after local.ready reaches the function: a dev token gets a link token.
    const { access_token } = await (await fetch(`http://127.0.0.1:${port}/dev/token`, { method: 'POST', body: '{}' })).json();
    const res = await fetch(`http://127.0.0.1:${port}/link-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform: 'ios' }),
    });
    assert.equal(res.status, 200, await res.clone().text());
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
