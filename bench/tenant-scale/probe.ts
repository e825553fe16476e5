// Tenant-count probe: the cold start (a fresh Node process → the first token of a random tenant)
// of one or more function trees at 1, 10, 100 and 1,000 generated tenants, each tenant with its
// own issuer, with a configurable round trip to the identity provider and to Secrets Manager.
// Reports per tree and count: the cold time, the JWKS fetches and Secrets Manager reads of one
// cold start, the most of each in flight at once, and peak RSS, as medians of interleaved runs.
// A quick tool of the tenant-scaling work; bench/run.ts's sweep is the benchmark of record.
//   npm run bench:tenants:trees -- [--runs 7] [--counts 1,10,100,1000] [--rtt 20] [--tree name=/path ...] [--floor]
// (default tree: this checkout). Each tree is bundled with its own infra/lambda-bundling.ts.
// --floor adds the stack's cold floor (bench/serverless/floor-handler.ts, the one npm run bench measures), bundled with this checkout's settings.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { lambdaBuildOptions } from '../../infra/lambda-bundling.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';

const HERE = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    counts: { type: 'string', default: '1,10,100,1000' },
    rtt: { type: 'string', default: '20' },
    tree: { type: 'string', multiple: true, default: [`this=${HERE}`] },
    env: { type: 'string', multiple: true, default: [] },
    // e.g. --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=/tmp/prof: profiles every cold start
    'node-arg': { type: 'string', multiple: true, default: [] },
    floor: { type: 'boolean', default: false },
    // The script each cold start runs (prints BENCH_RESULT; bench/cold/product-cold.mjs's contract).
    runner: { type: 'string', default: 'bench/cold/product-cold.mjs' },
  },
});
const RUNS = Number(values.runs);
const COUNTS = values.counts!.split(',').map(Number);
const RTT_MS = Number(values.rtt);
// --tree name=/path[,KEY=VALUE...]: the function's environment may differ per tree (e.g. INIT_PREFETCH=off).
const TREES: Array<{ name: string; path: string; env?: Record<string, string> }> = values.tree!.map((spec) => {
  const [head, ...envs] = spec.split(',');
  const [name, path] = head!.split('=') as [string, string];
  return { name, path, env: Object.fromEntries(envs.map((kv) => kv.split('=') as [string, string])) };
});
const EXTRA_ENV = Object.fromEntries(values.env!.map((kv) => kv.split('=') as [string, string]));
const ORIGIN = 'https://app.example.com';
const AUDIENCE = 'probe-web';
const KEY_SECRET_ID = 'probe/client-user-id-key';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// One signing key for every issuer: the issuers differ by path, /i<n>, on one loopback server.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomUUID();
const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
let jwksFetches = 0;
let jwksInFlight = 0;
let jwksMaxInFlight = 0;
const idp = createServer(async (req, res) => {
  if (!/^\/i\d+\/\.well-known\/jwks\.json$/.test(req.url ?? '')) return void res.writeHead(404).end();
  jwksFetches++;
  jwksMaxInFlight = Math.max(jwksMaxInFlight, ++jwksInFlight);
  await sleep(RTT_MS);
  jwksInFlight--;
  res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
});
await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
const idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function mint(issuer: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({ iss: issuer, sub: 'user-1', aud: AUDIENCE, iat, exp: iat + 600, token_use: 'access' })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

const [clientId, plaidSecret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
const plaid = await startPlaidStandIn({});
const maxCount = Math.max(...COUNTS);
const secrets = await startSecretsManagerStandIn({
  secrets: {
    [KEY_SECRET_ID]: 'probe-client-user-id-key-0123456789abcdef0123456789',
    ...Object.fromEntries(
      Array.from({ length: maxCount }, (_, i) => [
        `probe/plaid/t${i}`,
        JSON.stringify({ client_id: clientId, secret: plaidSecret }),
      ]),
    ),
  },
});
secrets.setLatency(RTT_MS);
// The stand-in counts calls; concurrency is read from its latency window through a wrapper count.
let smInFlight = 0;
let smMaxInFlight = 0;

function tenantsFile(count: number) {
  return {
    client_user_id_key_secret_id: KEY_SECRET_ID,
    tenants: Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `t${i}`,
        {
          client_name: `Tenant ${i}`,
          plaid: { environment: 'sandbox', secret_id: `probe/plaid/t${i}` },
          auth: { issuer: `${idpUrl}/i${i}`, audience: [AUDIENCE], token_use: 'access' },
          allowed_origins: [ORIGIN],
          client_user_id: { strategy: 'hmac-sha256' },
          prefill: { email_address: false, phone_number: false },
          languages: { default: 'en', allowed: ['en', 'fr'] },
          country_codes: ['US', 'CA'],
          profiles: {
            default: { products: ['transactions'], transactions: { days_requested: 180 } },
            payments: { products: ['auth'] },
          },
        },
      ]),
    ),
  };
}

// A counting proxy in front of the Secrets Manager stand-in: how many reads were in flight at once.
const smProxy = createServer((req, res) => {
  smMaxInFlight = Math.max(smMaxInFlight, ++smInFlight);
  const target = new URL(secrets.url);
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', () => smInFlight--);
    },
  );
  req.pipe(upstream);
});
await new Promise<void>((resolve) => smProxy.listen(0, '127.0.0.1', resolve));
const smUrl = `http://127.0.0.1:${(smProxy.address() as AddressInfo).port}`;

const work = mkdtempSync(join(tmpdir(), 'tenant-scale-probe-'));
const bundles = new Map<string, string>();
for (const tree of TREES) {
  const { buildFunctionBundle } = (await import(pathToFileURL(join(tree.path, 'infra/lambda-bundling.ts')).href)) as {
    buildFunctionBundle(outdir: string, tenantsFile?: string): Promise<{ handlerFile: string }>;
  };
  for (const count of COUNTS) {
    const dir = join(work, tree.name, String(count));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'tenants.source.json');
    writeFileSync(file, JSON.stringify(tenantsFile(count), null, 2));
    const built = await buildFunctionBundle(join(dir, 'bundle'), file);
    bundles.set(`${tree.name}/${count}`, built.handlerFile);
  }
}

if (values.floor) {
  const outfile = join(work, 'floor', 'index.mjs');
  await build({ ...lambdaBuildOptions(), entryPoints: [join(HERE, 'bench/serverless/floor-handler.ts')], outfile });
  bundles.set(`floor/${COUNTS[0]}`, outfile);
  TREES.push({ name: 'floor', path: HERE });
}

interface Sample {
  importCpuMs: number;
  invokeCpuMs: number;
  cpuMs: number;
  coldMs: number;
  importMs: number;
  firstInvokeMs: number;
  jwks: number;
  jwksMax: number;
  sm: number;
  smMax: number;
  rssMb: number;
}
function coldStart(handlerFile: string, count: number, treeEnv: Record<string, string> = {}): Promise<Sample> {
  const tenant = Math.floor(Math.random() * count);
  jwksFetches = 0;
  jwksMaxInFlight = 0;
  smMaxInFlight = 0;
  secrets.resetCalls();
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(HERE, 'node_modules/.bin/node'),
      [...values['node-arg']!, resolvePath(HERE, values.runner!), handlerFile],
      {
        env: {
          PATH: process.env.PATH,
          BENCH_TOKEN: mint(`${idpUrl}/i${tenant}`),
          BENCH_ORIGIN: ORIGIN,
          PLAID_BASE_URL: plaid.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: smUrl,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'probe',
          AWS_SECRET_ACCESS_KEY: 'probe',
          LOG_LEVEL: 'error',
          FLOOR_SECRET_ID: `probe/plaid/t${tenant}`,
          ...EXTRA_ENV,
          ...treeEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) return reject(new Error(`no result:\n${out}\n${err}`));
      const r = JSON.parse(line.slice('BENCH_RESULT '.length));
      if (r.statusCode !== 200 || !r.hasLinkToken) return reject(new Error(`status ${r.statusCode}:\n${out}\n${err}`));
      resolve({
        cpuMs: (r.cpuUs.user + r.cpuUs.system) / 1000,
        importCpuMs: r.importCpuMs ?? NaN,
        invokeCpuMs: r.invokeCpuMs ?? NaN,
        coldMs: r.bootMs + r.importMs + r.firstInvokeMs,
        importMs: r.importMs,
        firstInvokeMs: r.firstInvokeMs,
        jwks: jwksFetches,
        jwksMax: jwksMaxInFlight,
        sm: secrets.calls.GetSecretValue,
        smMax: smMaxInFlight,
        rssMb: r.peakRssKb / 1024,
      });
    });
  });
}

const samples = new Map<string, Sample[]>();
for (let run = 0; run < RUNS; run++) {
  for (const count of COUNTS) {
    for (const tree of TREES) {
      const key = `${tree.name}/${count}`;
      if (!bundles.has(key)) continue;
      const sample = await coldStart(bundles.get(key)!, count, tree.env);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
    }
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(
  `rtt ${RTT_MS} ms, ${RUNS} interleaved runs, medians${Object.keys(EXTRA_ENV).length ? `, env ${JSON.stringify(EXTRA_ENV)}` : ''}`,
);
console.log(
  'tree       tenants  cold ms  CPU ms  import ms  1st invoke ms  vs 1 tenant  jwks (max in flight)  SM reads (max in flight)  peak RSS MB',
);
for (const tree of TREES) {
  const base = median(samples.get(`${tree.name}/${COUNTS[0]}`)!.map((s) => s.coldMs));
  for (const count of COUNTS) {
    const s = samples.get(`${tree.name}/${count}`);
    if (!s) continue;
    const m = (f: (x: Sample) => number) => median(s.map(f));
    console.log(
      [
        tree.name.padEnd(10),
        String(count).padStart(7),
        m((x) => x.coldMs)
          .toFixed(1)
          .padStart(8),
        m((x) => x.cpuMs)
          .toFixed(1)
          .padStart(7),
        m((x) => x.importMs)
          .toFixed(1)
          .padStart(10),
        m((x) => x.firstInvokeMs)
          .toFixed(1)
          .padStart(14),
        (m((x) => x.coldMs) / base).toFixed(2).padStart(12),
        `${Math.max(...s.map((x) => x.jwks))} (${Math.max(...s.map((x) => x.jwksMax))})`.padStart(21),
        `${Math.max(...s.map((x) => x.sm))} (${Math.max(...s.map((x) => x.smMax))})`.padStart(25),
        m((x) => x.rssMb)
          .toFixed(1)
          .padStart(12),
        ...(Number.isNaN(m((x) => x.importCpuMs))
          ? []
          : [
              `  CPU: to imported ${m((x) => x.importCpuMs).toFixed(1)}, 1st invoke ${m((x) => x.invokeCpuMs).toFixed(1)}`,
            ]),
      ].join(' '),
    );
  }
}
await Promise.all([
  new Promise((r) => idp.close(r)),
  new Promise((r) => smProxy.close(r)),
  plaid.close(),
  secrets.close(),
]);
rmSync(work, { recursive: true, force: true });
