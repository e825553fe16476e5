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
  const acme = minimalTenantConfig({
    profiles: { default: { products: ['auth'], redirect_uri: 'https://acme.com/oauth?next=home' } },
  });
  writeFileSync(file, JSON.stringify(tenantsFileOf({ acme })));
  const result = await run(process.execPath, ['local/start.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', TENANTS_FILE: file, LOCAL_WORK_DIR: dir },
  }).then(
    () => assert.fail('the local stack started with an invalid tenants file'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Invalid tenants file ${file}:`));
  assert.match(
    result.stderr,
    /tenant 'acme', profile 'default', field 'redirect_uri': must not contain a query string/,
  );
});

test('npm start pointed at a Secrets Manager without credentials in the environment refuses, saying how to export them', async () => {
  const result = await run(process.execPath, ['local/start.ts'], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://secretsmanager.us-east-1.amazonaws.com',
      AWS_PROFILE: 'dev',
    },
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
    createInterface({ input: child.stdout }).on('line', (line) => {
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
      const res = await fetch(`http://127.0.0.1:${port}/link-token`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }).catch(() => undefined);
      if (res && !ready) {
        const body = await res.json().catch(() => undefined);
        early.push({
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          type: res.headers.get('content-type'),
          title: body?.title,
        });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await readyLine;
    assert.ok(early.length > 0, 'no call landed before local.ready: the window was not exercised');
    for (const seen of early) {
      assert.deepEqual(seen, {
        status: 503,
        retryAfter: '1',
        type: 'application/problem+json',
        title: 'Service starting',
      });
    }
    // The first call after local.ready reaches the function: a dev token gets a link token.
    const { access_token } = await (
      await fetch(`http://127.0.0.1:${port}/dev/token`, { method: 'POST', body: '{}' })
    ).json();
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

/** Runs `node local/start.ts` with exactly these variables (plus PATH) until it exits. */
function startExpectingFailure(env: Record<string, string>): Promise<{ code: number; stderr: string; stdout: string }> {
  return run(process.execPath, ['local/start.ts'], { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 }).then(
    () => assert.fail('the local stack started'),
    (error: { code: number; stderr: string; stdout: string }) => error,
  );
}

test('a local knob out of range stops npm start with one line naming the variable and what it may be, exit code 1, no stack trace', async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [
      { PORT: 'abc' },
      /^Invalid environment variable PORT="abc": must be a whole number from 0 to 65535 \(0 picks a free port\)/,
    ],
    [{ PORT: '70000' }, /^Invalid environment variable PORT="70000": must be a whole number from 0 to 65535/],
    [{ PORT: '-1' }, /^Invalid environment variable PORT="-1": must be a whole number from 0 to 65535/],
    [{ OIDC_PORT: '3.5' }, /^Invalid environment variable OIDC_PORT="3.5": must be a whole number from 0 to 65535/],
    [
      { LOCAL_FUNCTION_TIMEOUT_MS: '5' },
      /^Invalid environment variable LOCAL_FUNCTION_TIMEOUT_MS="5": must be a whole number of milliseconds from 1000 to 900000/,
    ],
    [{ HOST: 'not a host' }, /^Invalid environment variable HOST="not a host": must be a host name or IP address/],
    [
      { PLAID_BASE_URL: 'http://plaid.example.com' },
      /^Invalid environment variable PLAID_BASE_URL="http:\/\/plaid.example.com": must be https/,
    ],
    [
      { AWS_ENDPOINT_URL_DYNAMODB: 'localhost:8000' },
      /^Invalid environment variable AWS_ENDPOINT_URL_DYNAMODB="localhost:8000": must be an http\(s\) URL/,
    ],
    [{ PLAID_CLIENT_ID: 'abc123' }, /^PLAID_CLIENT_ID and PLAID_SECRET go together/],
    [{ PORT: '4555', OIDC_PORT: '4555' }, /^PORT and OIDC_PORT are both 4555/],
  ];
  for (const [env, message] of cases) {
    const result = await startExpectingFailure(env);
    assert.equal(result.code, 1, JSON.stringify(env));
    assert.match(result.stderr, message);
    assert.equal(
      result.stderr.trim().split('\n').length,
      1,
      `more than one line for ${JSON.stringify(env)}:\n${result.stderr}`,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'a stack trace');
  }
});

test('a port already in use stops npm start naming the port and the knob, with a hint', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  const { port } = taken.address() as AddressInfo;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'port-taken-'));
    const api = await startExpectingFailure({ PORT: String(port), LOCAL_WORK_DIR: dir });
    assert.equal(api.code, 1);
    assert.equal(
      api.stderr.trim(),
      `Port ${port} on 127.0.0.1 is already in use (PORT): another \`npm start\` running? Stop it, or set PORT to a free port (PORT=0 picks one).`,
    );
    const issuer = await startExpectingFailure({ PORT: '0', OIDC_PORT: String(port), LOCAL_WORK_DIR: dir });
    assert.equal(issuer.code, 1);
    assert.match(
      issuer.stderr,
      new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is already in use \\(OIDC_PORT\\): set OIDC_PORT to a free port`),
    );
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test('a LOCAL_SECRETS_FILE value of the wrong shape stops npm start naming the secret and its use, never its value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-local-secrets-'));
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify(tenantsFileOf({ acme: minimalTenantConfig() }, 'svc/key')));
  const secretsFile = join(dir, 'secrets.json');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      { 'plaid/acme': 'sandbox-secret-value-not-json' },
      /secret 'plaid\/acme' \(Plaid keys of tenant acme\): must be the JSON text \{"client_id":"...","secret":"..."\}/,
    ],
    [{ 'svc/key': 'short-key-value' }, /secret 'svc\/key' \(the client_user_id key\): must be at least 32 characters/],
    [{ 'svc/key': 42 }, /secret 'svc\/key': must be a string/],
  ];
  for (const [content, message] of cases) {
    writeFileSync(secretsFile, JSON.stringify(content));
    const result = await startExpectingFailure({
      PORT: '0',
      TENANTS_FILE: tenantsFile,
      LOCAL_SECRETS_FILE: secretsFile,
      LOCAL_WORK_DIR: dir,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, message);
    for (const value of Object.values(content))
      if (typeof value === 'string') assert.ok(!result.stderr.includes(value), 'the value reached the message');
  }
});
