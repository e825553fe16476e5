// `npm start` with the user's own tenants file, offline: every secret the file names is seeded,
// the local issuer stands in for every tenant's issuer (Cognito and any OIDC issuer, shared
// issuers told apart by their tenant claim, id and access tokens), and the dev sign-in mints per
// tenant a token the unchanged function accepts; Plaid's stand-in then answers each link token.
// Started as a user starts it (a child process, only the documented knobs), stopped by a signal:
// everything it opened is closed and its ports are free again.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Ready {
  api: string;
  issuer_stood_in_for: string[];
  issuer: string;
  tenants: string[];
  tenants_file: string;
  function_tenants_file: string;
  secrets: { generated: string[]; from_local_secrets_file: string[] };
}

interface RunningStack {
  child: ChildProcess;
  ready: Ready;
  /** The line after local.ready, for people. */
  humanLine: string;
  lines: string[];
  exited: Promise<number | null>;
}

/** Starts the local stack with exactly these variables (plus PATH) and waits for its ready lines. */
async function startStack(env: Record<string, string>, how: 'node' | 'npm' = 'node'): Promise<RunningStack> {
  const [command, args] = how === 'npm' ? ['npm', ['start', '--silent']] : [process.execPath, ['local/start.ts']];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ ready: Ready; humanLine: string }>((resolve, reject) => {
    let parsed: Ready | undefined;
    const timer = setTimeout(() => reject(new Error(`no ready lines:\n${lines.join('\n')}`)), 90_000);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.includes('"local.ready"')) parsed = JSON.parse(line) as Ready;
        else if (parsed && line.startsWith('Ready: ')) {
          clearTimeout(timer);
          resolve({ ready: parsed, humanLine: line });
        }
      });
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the local stack exited with ${code}:\n${lines.join('\n')}`));
    });
  });
  return { child, ...ready, lines, exited };
}

async function devToken(api: string, body: unknown): Promise<{ status: number; type: string | null; json: any }> {
  const res = await fetch(`${api}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), json: await res.json() };
}

async function linkToken(api: string, token: string, origin?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api}/link-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(origin && { origin }) },
    body: JSON.stringify({ platform: origin ? 'web' : 'ios' }),
  });
  return { status: res.status, json: await res.json() };
}

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The tenant the function served each created link token for, from its log lines. */
function servedTenants(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { event?: string; tenant?: string };
      return entry.event === 'plaid.link_token_created' && entry.tenant ? [entry.tenant] : [];
    } catch {
      return [];
    }
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Every process below pid (children, their children...), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while being read.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Sends the signal, then proves the stack exited 0 and left no process or port behind. */
async function stopAndCheck(
  stack: RunningStack,
  signal: NodeJS.Signals,
  ports: number[],
  signalled = stack.child,
): Promise<void> {
  const below = descendants(stack.child.pid!);
  signalled.kill(signal);
  const code = await Promise.race([stack.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
  assert.equal(code, 0, `exit after ${signal}:\n${stack.lines.slice(-5).join('\n')}`);
  // esbuild's service process and anything else the stack started end with it.
  for (let i = 0; i < 50 && below.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(below.filter(alive), [], 'processes the stack started outlived it');
  for (const port of ports) assert.ok(await portIsFree(port), `port ${port} is still taken after ${signal}`);
}

const portOf = (url: string) => Number(new URL(url).port);

test(
  'npm start runs infra/tenants/prod.json offline: a token per tenant (Cognito access token, generic OIDC), a link token each; SIGTERM to npm frees everything',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'own-tenants-prod-'));
    const stack = await startStack({ PORT: '0', TENANTS_FILE: 'infra/tenants/prod.json', LOCAL_WORK_DIR: dir }, 'npm');
    try {
      const prod = JSON.parse(readFileSync(join(ROOT, 'infra/tenants/prod.json'), 'utf8'));
      assert.deepEqual(stack.ready.tenants, ['acme-budget', 'northwind-lending']);
      // Every secret the file names, the ARN included, seeded (ids only in the ready line).
      assert.deepEqual(
        new Set(stack.ready.secrets.generated),
        new Set([
          prod.client_user_id_key_secret_id,
          prod.tenants['acme-budget'].plaid.secret_id,
          prod.tenants['northwind-lending'].plaid.secret_id,
        ]),
      );
      assert.match(
        stack.humanLine,
        /^Ready: http:\/\/127\.0\.0\.1:\d+ serves 2 tenants: acme-budget, northwind-lending \(infra\/tenants\/prod\.json\)\. Token: curl .*\/dev\/token .*Local only: /,
      );
      // The function runs the derived copy: issuers as written, keys from the local issuer.
      const derived = JSON.parse(readFileSync(stack.ready.function_tenants_file, 'utf8'));
      for (const id of stack.ready.tenants) {
        assert.equal(derived.tenants[id].auth.issuer, prod.tenants[id].auth.issuer);
        assert.equal(derived.tenants[id].auth.jwks_uri, `${stack.ready.issuer}/.well-known/jwks.json`);
      }

      const acme = await devToken(stack.ready.api, { tenant: 'acme-budget', sub: 'alice' });
      assert.equal(acme.status, 200, JSON.stringify(acme.json));
      const acmeClaims = claimsOf(acme.json.access_token);
      assert.equal(acmeClaims.iss, prod.tenants['acme-budget'].auth.issuer);
      assert.equal(acmeClaims.token_use, 'access');
      assert.equal(acmeClaims.client_id, prod.tenants['acme-budget'].auth.audience[0]);
      assert.equal(acmeClaims.aud, undefined, 'a Cognito access token has no aud');
      assert.equal(acmeClaims.sub, 'alice');

      const northwind = await devToken(stack.ready.api, { tenant: 'northwind-lending', sub: 'bob' });
      assert.equal(northwind.status, 200);
      const northwindClaims = claimsOf(northwind.json.access_token);
      assert.equal(northwindClaims.iss, 'https://login.northwind-lending.example.com/');
      assert.equal(northwindClaims.aud, 'https://api.northwind-lending.example.com');

      for (const token of [acme.json.access_token, northwind.json.access_token]) {
        const answer = await linkToken(stack.ready.api, token);
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        assert.match(answer.json.link_token, /^link-sandbox-/);
      }
      assert.deepEqual(servedTenants(stack.lines), ['acme-budget', 'northwind-lending']);
      assert.ok(!stack.lines.some((line) => line.includes(acme.json.access_token)), 'a token reached the output');
    } finally {
      if (stack.child.exitCode === null) {
        // The case: SIGTERM to npm itself (npm forwards it; the script execs node).
        const nodePid = descendants(stack.child.pid!).find((pid) =>
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('local/start.ts'),
        );
        assert.ok(nodePid, 'no node process under npm');
        const ports = [portOf(stack.ready.api), portOf(stack.ready.issuer)];
        stack.child.kill('SIGTERM');
        await stack.exited;
        for (let i = 0; i < 100 && alive(nodePid); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(!alive(nodePid), 'node local/start.ts outlived npm start after SIGTERM');
        for (const port of ports) assert.ok(await portIsFree(port), `port ${port} is still taken`);
      }
    }
  },
);

test(
  'npm start with a multi-tenant file (Cognito id and access tokens, a shared OIDC issuer with tenant_claim, an ARN secret, LOCAL_SECRETS_FILE): a token and a link token per tenant; mistakes are 400s naming the field; SIGINT frees everything',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'own-tenants-many-'));
    const shared = 'https://login.example.org/';
    const tenants = {
      'pool-access': minimalTenantConfig({
        plaid: { environment: 'sandbox', secret_id: 'plaid/pool-access' },
        auth: {
          issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
          audience: ['4b1a2c3d4e5f6g7h8i9j0k1l2m'],
          token_use: 'access',
        },
      }),
      'pool-id': minimalTenantConfig({
        plaid: {
          environment: 'production',
          secret_id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pool-id/plaid-Ab12Cd',
        },
        auth: {
          issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_ZyXwVu987',
          audience: ['9z8y7x6w5v4u3t2s1r0q9p8o7n'],
          token_use: 'id',
        },
        allowed_origins: ['https://app.pool-id.example.com'],
      }),
      'org-a': minimalTenantConfig({
        plaid: { environment: 'sandbox', secret_id: 'plaid/shared-account' },
        auth: { issuer: shared, audience: ['portal'], tenant_claim: { name: 'org', value: 'a' } },
      }),
      'org-b': minimalTenantConfig({
        plaid: { environment: 'sandbox', secret_id: 'plaid/shared-account' },
        auth: {
          issuer: shared,
          audience: ['portal'],
          tenant_claim: { name: 'org', value: 'b' },
          max_token_lifetime_seconds: 600,
        },
        client_user_id: { strategy: 'subject' },
      }),
      // An issuer of its own on this machine is kept: the local issuer does not stand in for it.
      'own-issuer': minimalTenantConfig({
        plaid: { environment: 'sandbox', secret_id: 'plaid/own' },
        auth: { issuer: 'http://127.0.0.1:9/realm', audience: ['own'] },
      }),
    };
    const tenantsFile = join(dir, 'tenants.json');
    writeFileSync(tenantsFile, JSON.stringify(tenantsFileOf(tenants, 'link-token/key')));
    // Keys of the shared Plaid account and the HMAC key come from the local secrets file.
    const localSecrets = join(dir, 'secrets.json');
    const sharedKeys = { client_id: 'placeholderClientId00001', secret: 'placeholderSecretNotReal000001' };
    const hmacKey = 'k'.repeat(16) + 'local-file-key-0123456789';
    writeFileSync(
      localSecrets,
      JSON.stringify({ 'plaid/shared-account': JSON.stringify(sharedKeys), 'link-token/key': hmacKey }),
    );
    const stack = await startStack({
      PORT: '0',
      TENANTS_FILE: tenantsFile,
      LOCAL_SECRETS_FILE: localSecrets,
      LOCAL_WORK_DIR: dir,
    });
    try {
      assert.deepEqual(
        new Set(stack.ready.secrets.from_local_secrets_file),
        new Set(['plaid/shared-account', 'link-token/key']),
      );
      assert.deepEqual(
        new Set(stack.ready.secrets.generated),
        new Set(['plaid/pool-access', tenants['pool-id'].plaid.secret_id, 'plaid/own']),
      );
      assert.deepEqual(stack.ready.issuer_stood_in_for, ['pool-access', 'pool-id', 'org-a', 'org-b']);
      const derived = JSON.parse(readFileSync(stack.ready.function_tenants_file, 'utf8'));
      assert.deepEqual(
        derived.tenants['own-issuer'],
        tenants['own-issuer'],
        'a tenant with its own local issuer is changed',
      );
      assert.match(
        stack.humanLine,
        /stands in for the issuer of 4 tenant\(s\) \(1 with an issuer of their own on this machine\)/,
      );

      const expected: Record<string, (claims: Record<string, unknown>) => void> = {
        'pool-access': (c) =>
          assert.deepEqual([c.token_use, c.client_id, c.aud], ['access', '4b1a2c3d4e5f6g7h8i9j0k1l2m', undefined]),
        'pool-id': (c) =>
          assert.deepEqual([c.token_use, c.aud, c.client_id], ['id', '9z8y7x6w5v4u3t2s1r0q9p8o7n', undefined]),
        'org-a': (c) => assert.deepEqual([c.iss, c.aud, c.org], [shared, 'portal', 'a']),
        'org-b': (c) => {
          assert.deepEqual([c.iss, c.aud, c.org], [shared, 'portal', 'b']);
          assert.equal(
            (c.exp as number) - (c.iat as number),
            600,
            "the tenant's max_token_lifetime_seconds bounds the dev token",
          );
        },
      };
      for (const [id, check] of Object.entries(expected)) {
        const minted = await devToken(stack.ready.api, { tenant: id, sub: `user-of-${id}` });
        assert.equal(minted.status, 200, JSON.stringify(minted.json));
        assert.equal(minted.json.tenant, id);
        const claims = claimsOf(minted.json.access_token);
        assert.equal(claims.iss, tenants[id as keyof typeof tenants].auth.issuer);
        check(claims);
        const answer = await linkToken(
          stack.ready.api,
          minted.json.access_token,
          id === 'pool-id' ? 'https://app.pool-id.example.com' : undefined,
        );
        assert.equal(answer.status, 200, `${id}: ${JSON.stringify(answer.json)}`);
      }
      // The shared issuer's tokens went to the tenant their claim names, not to the first of the issuer.
      assert.deepEqual(servedTenants(stack.lines), ['pool-access', 'pool-id', 'org-a', 'org-b']);

      // The caller chooses the tenant and the user, never what the token says about the tenant.
      for (const [body, field] of [
        [{ tenant: 'org-c' }, 'tenant'],
        [{ sub: 'x' }, 'tenant'],
        [{ tenant: 42 }, 'tenant'],
        [{ tenant: 'org-a', aud: 'someone-else' }, 'aud'],
        [{ tenant: 'org-a', org: 'b' }, 'org'],
        [{ tenant: 'org-a', sub: '' }, 'sub'],
        [{ tenant: 'own-issuer' }, 'tenant'],
      ] as const) {
        const refused = await devToken(stack.ready.api, body);
        assert.equal(refused.status, 400, JSON.stringify(body));
        assert.equal(refused.type, 'application/problem+json');
        assert.equal(refused.json.errors[0].field, field, JSON.stringify(refused.json));
        assert.match(refused.json.detail, new RegExp(`^${field}: `));
      }
      assert.match(
        (await devToken(stack.ready.api, { tenant: 'org-c' })).json.detail,
        /one of pool-access, pool-id, org-a, org-b, own-issuer/,
      );
      // The function itself, unchanged, still refuses a tenant's token from an origin only another tenant allows.
      const orgA = (await devToken(stack.ready.api, { tenant: 'org-a' })).json.access_token as string;
      assert.equal(
        (await linkToken(stack.ready.api, orgA, 'https://app.pool-id.example.com')).status,
        403,
        'an origin of another tenant',
      );

      // The CLI way: npm run -s dev-token -- --tenant <id> prints only the token.
      const cli = (...args: string[]) =>
        run(process.execPath, ['local/dev-token.ts', ...args], { cwd: ROOT, env: { PATH: process.env.PATH } }).then(
          ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
          (error: { code: number; stdout: string; stderr: string }) => error,
        );
      const printed = await cli('--tenant', 'org-b', '--sub', 'carol', '--url', stack.ready.api);
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      assert.deepEqual([claimsOf(printed.stdout.trim()).org, claimsOf(printed.stdout.trim()).sub], ['b', 'carol']);
      assert.equal((await linkToken(stack.ready.api, printed.stdout.trim())).status, 200);
      const unknownTenant = await cli('--tenant', 'org-c', '--url', stack.ready.api);
      assert.equal(unknownTenant.code, 1);
      assert.match(unknownTenant.stderr, /refused \(400\): tenant: must be a tenant of the tenants file/);
      const nothingThere = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      const noStack = await cli('--tenant', 'org-a', '--url', `http://127.0.0.1:${nothingThere}`);
      assert.equal(noStack.code, 1);
      assert.match(
        noStack.stderr,
        new RegExp(
          `No local stack answers at http://127\\.0\\.0\\.1:${nothingThere} \\(ECONNREFUSED\\): start it with npm start`,
        ),
      );
      assert.equal((await cli('--tenat', 'org-a')).code, 2, 'an unknown option');

      // No secret value in anything the stack printed.
      const output = stack.lines.join('\n');
      for (const value of [sharedKeys.secret, hmacKey])
        assert.ok(!output.includes(value), 'a secret value reached the output');
    } finally {
      if (stack.child.exitCode === null)
        await stopAndCheck(stack, 'SIGINT', [portOf(stack.ready.api), portOf(stack.ready.issuer)]);
    }
  },
);
