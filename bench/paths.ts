// `npm run bench:paths`: the function's paths, measured in one run, interleaved, on loopback:
//   1. cold path of a new link token (fresh process → import/init → first POST /link-token),
//      the baseline bundle (BENCH_BASELINE, default 6da99b1, before the items routes, webhooks and
//      the split bundle) against the current one, alternating, prefetch at init off and on;
//   2. warm CPU and latency per new link token, baseline against current, the handler invoked in
//      process, one request at a time, 256 users' tokens cycled, batches alternating;
//   3. the items routes (current bundle): cold first POST /items, GET /items, update-mode link
//      token; warm CPU and latency of each, with the vault on dynalite and the KMS stand-in;
//   4. the webhook route: the first (cold) verified webhook, and warm p50/p99 latency and CPU of
//      verified webhooks (signed by the Plaid stand-in), published to the EventBridge stand-in.
// Prints one table, writes bench/results/paths.{json,md}. Medians and ratios only: it fails only if
// something does not work (an unexpected status), never on a time.
// Knobs: BENCH_COLD_RUNS (15), BENCH_WARM_ROUNDS (5), BENCH_WARM_BATCH (300), BENCH_BASELINE (6da99b1), BENCH_OUT.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { buildLambdaBundle } from '../local/build.ts';
import { DEMO_AUDIENCE, demoTenantsFile } from '../local/demo-tenants.ts';
import { exited, forkIpcChild, waitForLine } from './lib/children.ts';
import { lambdaEnv as lambdaEnvOf } from './lib/cold-run.ts';
import { median, percentile } from './lib/stats.ts';
import type { PathsStandInsReady, PathsStandInsRequest } from './paths/standins-process.ts';

const env = process.env;
const int = (value: string | undefined, fallback: number) =>
  value && Number.isFinite(Number(value)) ? Math.trunc(Number(value)) : fallback;
const config = {
  coldRuns: Math.max(1, int(env.BENCH_COLD_RUNS, 15)),
  warmRounds: Math.max(1, int(env.BENCH_WARM_ROUNDS, 5)),
  warmBatch: Math.max(10, int(env.BENCH_WARM_BATCH, 300)),
  baseline: env.BENCH_BASELINE ?? '6da99b1',
};
const OUT_DIR = env.BENCH_OUT ?? fileURLToPath(new URL('./results/', import.meta.url));
const COLD_SCRIPT = fileURLToPath(new URL('./paths/cold.mjs', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('./paths/worker.mjs', import.meta.url));
const ORIGIN = 'https://app.example.com';
const TOKEN_POOL = 256;
const ITEM_USERS = 32;
const INSTITUTION = 'ins_109508';
const log = (message: string) => process.stderr.write(`[bench:paths] ${message}\n`);

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface ColdSample {
  totalMs: number;
  importMs: number;
  firstInvokeMs: number;
  peakRssKb: number;
}
interface Batch {
  wallMs: number[];
  cpuMs: number[];
  statuses: number[];
  bodies: string[];
}

// ---- stand-ins process ------------------------------------------------------------------------
async function startStandIns() {
  const { child, ready, call, close } = await forkIpcChild<PathsStandInsReady, PathsStandInsRequest>(
    fileURLToPath(new URL('./paths/standins-process.ts', import.meta.url)),
    { env: { PATH: env.PATH }, startTimeoutMs: 60_000 },
  );
  return {
    ...ready,
    pid: child.pid!,
    mint: (subs: string[]) =>
      call<string[]>({
        op: 'mint',
        claims: subs.map((sub) => ({ sub, aud: DEMO_AUDIENCE, email: `${sub}@example.com`, email_verified: true })),
        expiresInSeconds: 24 * 3600,
      }),
    signWebhooks: (bodies: string[]) => call<string[]>({ op: 'signWebhooks', bodies }),
    counters: () =>
      call<{ plaid: number; secrets: number; jwks: number; webhookKeyFetches: number; events: number }>({
        op: 'counters',
      }),
    reset: () => call<null>({ op: 'reset' }),
    close,
  };
}

// ---- the function in its processes ------------------------------------------------------------
async function coldRun(
  handlerFile: string,
  childEnv: Record<string, string>,
  request: Req,
  expect: number,
): Promise<ColdSample> {
  const started = performance.now();
  const child = spawn(process.execPath, [COLD_SCRIPT, handlerFile], {
    env: { ...childEnv, BENCH_REQUEST: JSON.stringify(request) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { line, at } = await waitForLine(child.stdout!, (l) => l.startsWith('BENCH_RESULT '), child);
  const code = await exited(child);
  const r = JSON.parse(line.slice('BENCH_RESULT '.length)) as {
    statusCode: number;
    body: string;
    importMs: number;
    firstInvokeMs: number;
    peakRssKb: number;
  };
  if (r.statusCode !== expect || code !== 0)
    throw new Error(
      `cold ${request.method} ${request.path}: ${r.statusCode} ${r.body} (exit ${code}), expected ${expect}`,
    );
  return { totalMs: at - started, importMs: r.importMs, firstInvokeMs: r.firstInvokeMs, peakRssKb: r.peakRssKb };
}

async function startWorker(handlerFile: string, childEnv: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [WORKER_SCRIPT, handlerFile], {
    env: childEnv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    child.once('message', () => resolve());
  });
  let nextId = 1;
  return {
    child,
    run(requests: Req[], expect: number, keepBodies = false): Promise<Batch> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const onMessage = (m: Batch & { id: number }) => {
          if (m.id !== id) return;
          child.off('message', onMessage);
          const bad = m.statuses.findIndex((s) => s !== expect);
          if (bad >= 0)
            reject(
              new Error(
                `${requests[bad]!.method} ${requests[bad]!.path}: status ${m.statuses[bad]}, expected ${expect}`,
              ),
            );
          else resolve(m);
        };
        child.on('message', onMessage);
        child.send({ id, requests, keepBodies });
      });
    },
    close: () =>
      new Promise<void>((resolve) =>
        child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.disconnect()),
      ),
  };
}

// ---- requests ---------------------------------------------------------------------------------
const authed = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  origin: ORIGIN,
  ...extra,
});
const linkTokenReq = (token: string): Req => ({
  method: 'POST',
  path: '/link-token',
  headers: authed(token),
  body: JSON.stringify({ platform: 'web' }),
});
const updateModeReq = (token: string, itemId: string): Req => ({
  method: 'POST',
  path: '/link-token',
  headers: authed(token),
  body: JSON.stringify({ platform: 'web', mode: 'update', item_id: itemId }),
});
const postItemsReq = (token: string, publicToken: string): Req => ({
  method: 'POST',
  path: '/items',
  headers: authed(token),
  body: JSON.stringify({ public_token: publicToken }),
});
const getItemsReq = (token: string): Req => ({ method: 'GET', path: '/items', headers: authed(token) });
const webhookReq = (body: string, verification: string): Req => ({
  method: 'POST',
  path: '/webhooks/plaid/demo',
  headers: { 'content-type': 'application/json', 'plaid-verification': verification, 'user-agent': 'Plaid Verifier' },
  body,
});

// ---- statistics ---------------------------------------------------------------------------------
const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const warmStats = (b: { wallMs: number[]; cpuMs: number[] }) => {
  const w = sorted(b.wallMs);
  const c = sorted(b.cpuMs);
  return {
    n: w.length,
    wallP50: percentile(w, 0.5),
    wallP90: percentile(w, 0.9),
    wallP99: percentile(w, 0.99),
    cpuP50: percentile(c, 0.5),
    cpuMean: mean(c),
    cpuP99: percentile(c, 0.99),
  };
};
const coldStats = (s: ColdSample[]) => ({
  n: s.length,
  totalMs: median(s.map((x) => x.totalMs)),
  totalP90: percentile(sorted(s.map((x) => x.totalMs)), 0.9),
  importMs: median(s.map((x) => x.importMs)),
  firstInvokeMs: median(s.map((x) => x.firstInvokeMs)),
  peakRssMb: median(s.map((x) => x.peakRssKb)) / 1024,
});

// ---- baseline bundle --------------------------------------------------------------------------
function buildBaseline(workDir: string): string {
  const src = join(workDir, 'baseline-src');
  mkdirSync(src, { recursive: true });
  // The baseline's own sources, built by its own local/build.ts with this checkout's dependencies.
  execFileSync('bash', ['-c', `git -C "${PROJECT_ROOT}" archive ${config.baseline} | tar -x -C "${src}"`]);
  if (!existsSync(join(src, 'node_modules')))
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(src, 'node_modules'));
  const out = join(workDir, 'baseline');
  execFileSync(process.execPath, ['local/build.ts', out], { cwd: src, stdio: ['ignore', 'ignore', 'inherit'] });
  return join(out, 'index.mjs');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const workDir = mkdtempSync(join(tmpdir(), 'bench-paths-'));
  log(`building the current bundle and the baseline's (${config.baseline})`);
  const current = (await buildLambdaBundle({ outdir: join(workDir, 'current') })).handlerFile;
  const baseline = buildBaseline(workDir);

  log('starting the stand-ins (own process): Plaid, Secrets Manager, OIDC, DynamoDB (dynalite), KMS, EventBridge');
  const s = await startStandIns();
  const workers: Array<{ close(): Promise<void> }> = [];
  try {
    // A tenants file both bundles accept: the demo tenant with a plain webhook URL (the baseline
    // knows neither webhook: "service" nor the items settings).
    const demo = demoTenantsFile({ issuer: s.issuer, origins: [ORIGIN], withOAuthRedirect: true });
    const compat = structuredClone(demo);
    compat.tenants.demo!.profiles.default!.webhook = 'https://webhooks.example.com/plaid';
    const compatFile = join(workDir, 'tenants-compat.json');
    writeFileSync(compatFile, JSON.stringify(compat));
    const serviceFile = join(workDir, 'tenants-service.json');
    writeFileSync(serviceFile, JSON.stringify(demo));

    const lambdaEnv = lambdaEnvOf({ plaidUrl: s.plaidUrl, secretsUrl: s.secretsUrl });
    const compatEnv = { ...lambdaEnv, TENANTS_FILE: compatFile };
    const itemsEnv = {
      ...lambdaEnv,
      TENANTS_FILE: serviceFile,
      PUBLIC_BASE_URL: 'https://api.example.com',
      AWS_ENDPOINT_URL_DYNAMODB: s.dynamodbUrl,
      ITEMS_TABLE_NAME: s.itemsTable,
      AWS_ENDPOINT_URL_KMS: s.kmsUrl,
      VAULT_KMS_KEY_ID: s.kmsKeyArn,
      AWS_ENDPOINT_URL_EVENTBRIDGE: s.eventsUrl,
      WEBHOOK_BUS_NAME: s.busName,
    };

    const tokens = await s.mint(Array.from({ length: TOKEN_POOL }, (_, i) => `bench-user-${i}`));
    const itemTokens = await s.mint(Array.from({ length: ITEM_USERS }, (_, i) => `items-user-${i}`));
    let fresh = 0;
    const freshUsers = (n: number) => s.mint(Array.from({ length: n }, () => `new-user-${fresh++}`));
    const publicTokens = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${s.plaidUrl}/sandbox/public_token/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            ...s.plaidCredentials,
            institution_id: INSTITUTION,
            initial_products: ['transactions'],
          }),
        });
        if (!res.ok) throw new Error(`public_token/create: ${res.status} ${await res.text()}`);
        out.push(((await res.json()) as { public_token: string }).public_token);
      }
      return out;
    };

    // 1. Cold path of a new link token, baseline vs current, prefetch off and on, alternating.
    log(
      `cold path of a new link token: ${config.coldRuns} fresh processes per bundle and prefetch setting (+1 discarded), alternating`,
    );
    const cold: Record<string, ColdSample[]> = {
      'baseline/off': [],
      'current/off': [],
      'baseline/on': [],
      'current/on': [],
    };
    for (let i = -1; i < config.coldRuns; i++) {
      const token = tokens[(i + 1) % tokens.length]!;
      for (const prefetch of ['off', 'on'] as const) {
        const order = i % 2 ? (['baseline', 'current'] as const) : (['current', 'baseline'] as const);
        for (const which of order) {
          const sample = await coldRun(
            which === 'baseline' ? baseline : current,
            { ...compatEnv, INIT_PREFETCH: prefetch },
            linkTokenReq(token),
            200,
          );
          if (i >= 0) cold[`${which}/${prefetch}`]!.push(sample);
        }
      }
      if (i % 8 === 7) await s.reset();
    }

    // 2. Warm: a new link token, baseline vs current, in process, batches alternating.
    log(`warm new link token: ${config.warmRounds} rounds of ${config.warmBatch} invocations per bundle, alternating`);
    const base = await startWorker(baseline, compatEnv);
    workers.push(base);
    const cur = await startWorker(current, compatEnv);
    workers.push(cur);
    let cursor = 0;
    const ltBatch = () =>
      Array.from({ length: config.warmBatch }, () => linkTokenReq(tokens[cursor++ % tokens.length]!));
    await base.run(ltBatch(), 200);
    await cur.run(ltBatch(), 200);
    const warmLt: Record<'baseline' | 'current', { wallMs: number[]; cpuMs: number[]; roundCpuMeans: number[] }> = {
      baseline: { wallMs: [], cpuMs: [], roundCpuMeans: [] },
      current: { wallMs: [], cpuMs: [], roundCpuMeans: [] },
    };
    for (let r = 0; r < config.warmRounds; r++) {
      const order =
        r % 2
          ? ([
              ['current', cur],
              ['baseline', base],
            ] as const)
          : ([
              ['baseline', base],
              ['current', cur],
            ] as const);
      for (const [name, w] of order) {
        const b = await w.run(ltBatch(), 200);
        warmLt[name].wallMs.push(...b.wallMs);
        warmLt[name].cpuMs.push(...b.cpuMs);
        warmLt[name].roundCpuMeans.push(mean(b.cpuMs));
      }
      await s.reset();
    }
    await base.close();
    await cur.close();
    workers.length = 0;

    // 3 and 4. Items routes and webhooks (current bundle), vault on dynalite + KMS, bus on the stand-in.
    log('items and webhooks: linking one Item for each of the item users');
    const items = await startWorker(current, itemsEnv);
    workers.push(items);
    const linked = await items.run(
      (await publicTokens(ITEM_USERS)).map((pt, i) => postItemsReq(itemTokens[i]!, pt)),
      201,
      true,
    );
    const itemIds = linked.bodies.map((b) => (JSON.parse(b) as { item_id: string }).item_id);
    let hookSeq = 0;
    const webhookBodies = (n: number) =>
      Array.from({ length: n }, () => {
        const i = hookSeq++;
        // Distinct bodies: a replay of an already processed body is acknowledged without the work.
        return JSON.stringify(
          {
            environment: 'sandbox',
            item_id: itemIds[i % itemIds.length],
            new_transactions: i,
            webhook_code: 'DEFAULT_UPDATE',
            webhook_type: 'TRANSACTIONS',
          },
          null,
          2,
        );
      });
    const signed = async (n: number) => {
      const bodies = webhookBodies(n);
      const headers = await s.signWebhooks(bodies);
      return bodies.map((b, i) => webhookReq(b, headers[i]!));
    };

    log(`cold items routes and webhook: ${config.coldRuns} fresh processes each (+1 discarded), alternating`);
    const coldItems: Record<string, ColdSample[]> = {
      'POST /items': [],
      'GET /items': [],
      'update-mode link token': [],
      'new link token': [],
      webhook: [],
    };
    for (let i = -1; i < config.coldRuns; i++) {
      const [newUser] = await freshUsers(1);
      const [pt] = await publicTokens(1);
      const u = (i + 1) % ITEM_USERS;
      const runs: Array<[string, () => Promise<ColdSample>]> = [
        ['POST /items', () => coldRun(current, itemsEnv, postItemsReq(newUser!, pt!), 201)],
        ['GET /items', () => coldRun(current, itemsEnv, getItemsReq(itemTokens[u]!), 200)],
        ['update-mode link token', () => coldRun(current, itemsEnv, updateModeReq(itemTokens[u]!, itemIds[u]!), 200)],
        ['new link token', () => coldRun(current, itemsEnv, linkTokenReq(tokens[u]!), 200)],
        ['webhook', async () => coldRun(current, itemsEnv, (await signed(1))[0]!, 200)],
      ];
      if (i % 2) runs.reverse();
      for (const [name, run] of runs) {
        const sample = await run();
        if (i >= 0) coldItems[name]!.push(sample);
      }
      if (i % 8 === 7) await s.reset();
    }

    log(
      `warm items routes and webhooks: ${config.warmRounds} rounds of ${config.warmBatch} invocations each, interleaved`,
    );
    const warmItems: Record<string, { wallMs: number[]; cpuMs: number[] }> = {
      'POST /items': { wallMs: [], cpuMs: [] },
      'GET /items': { wallMs: [], cpuMs: [] },
      'update-mode link token': { wallMs: [], cpuMs: [] },
      'new link token': { wallMs: [], cpuMs: [] },
      webhook: { wallMs: [], cpuMs: [] },
    };
    let ic = 0;
    const batches: Record<string, () => Promise<[Req[], number]>> = {
      'POST /items': async () => {
        const [users, pts] = await Promise.all([freshUsers(config.warmBatch), publicTokens(config.warmBatch)]);
        return [users.map((t, i) => postItemsReq(t, pts[i]!)), 201];
      },
      'GET /items': async () => [
        Array.from({ length: config.warmBatch }, () => getItemsReq(itemTokens[ic++ % ITEM_USERS]!)),
        200,
      ],
      'update-mode link token': async () => [
        Array.from({ length: config.warmBatch }, () => {
          const u = ic++ % ITEM_USERS;
          return updateModeReq(itemTokens[u]!, itemIds[u]!);
        }),
        200,
      ],
      'new link token': async () => [ltBatch(), 200],
      webhook: async () => [await signed(config.warmBatch), 200],
    };
    for (const make of Object.values(batches)) {
      const [reqs, expect] = await make();
      await items.run(reqs.slice(0, 50), expect); // warm-up of each route
    }
    const eventsBefore = (await s.counters()).events;
    let webhooksSent = 0;
    for (let r = 0; r < config.warmRounds; r++) {
      const names = Object.keys(batches);
      const order = r % 2 ? names.reverse() : names;
      for (const name of order) {
        const [reqs, expect] = await batches[name]!();
        const b = await items.run(reqs, expect);
        warmItems[name]!.wallMs.push(...b.wallMs);
        warmItems[name]!.cpuMs.push(...b.cpuMs);
        if (name === 'webhook') webhooksSent += reqs.length;
      }
      const c = await s.counters();
      if (c.events - eventsBefore < webhooksSent)
        throw new Error(`only ${c.events - eventsBefore} events on the bus for ${webhooksSent} webhooks`);
    }
    await items.close();
    workers.length = 0;

    // ---- report ----
    const coldOut = Object.fromEntries(Object.entries(cold).map(([k, v]) => [k, coldStats(v)]));
    const warmLtOut = Object.fromEntries(
      Object.entries(warmLt).map(([k, v]) => [k, { ...warmStats(v), roundCpuMeans: v.roundCpuMeans }]),
    );
    const coldItemsOut = Object.fromEntries(Object.entries(coldItems).map(([k, v]) => [k, coldStats(v)]));
    const warmItemsOut = Object.fromEntries(Object.entries(warmItems).map(([k, v]) => [k, warmStats(v)]));
    const ratio = (a: number, b: number) => a / b;
    const bytes = (f: string) => readFileSync(f).length;
    const results = {
      meta: {
        startedAt: startedAt.toISOString(),
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: loadavg(),
        cpu: cpus()[0]?.model,
        cpus: cpus().length,
        kernel: release(),
        node: process.version,
        baseline: config.baseline,
        current: execFileSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
        bundleEntryBytes: { baseline: bytes(baseline), current: bytes(current) },
      },
      config,
      linkTokenCold: {
        ...coldOut,
        ratioCurrentOverBaseline: {
          off: ratio(coldOut['current/off']!.totalMs, coldOut['baseline/off']!.totalMs),
          on: ratio(coldOut['current/on']!.totalMs, coldOut['baseline/on']!.totalMs),
          importOn: ratio(coldOut['current/on']!.importMs, coldOut['baseline/on']!.importMs),
          peakRssOn: ratio(coldOut['current/on']!.peakRssMb, coldOut['baseline/on']!.peakRssMb),
        },
      },
      linkTokenWarm: {
        ...warmLtOut,
        ratioCurrentOverBaseline: {
          cpuP50: ratio(warmLtOut.current!.cpuP50, warmLtOut.baseline!.cpuP50),
          cpuMean: ratio(warmLtOut.current!.cpuMean, warmLtOut.baseline!.cpuMean),
          wallP50: ratio(warmLtOut.current!.wallP50, warmLtOut.baseline!.wallP50),
          medianOfRoundCpuMeanRatios: median(
            warmLt.current.roundCpuMeans.map((c, i) => c / warmLt.baseline.roundCpuMeans[i]!),
          ),
        },
      },
      itemsAndWebhooksCold: coldItemsOut,
      itemsAndWebhooksWarm: warmItemsOut,
      webhooksPublished: webhooksSent,
    };
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, 'paths.json'), `${JSON.stringify(results, null, 2)}\n`);
    const md = renderMarkdown(results);
    writeFileSync(join(OUT_DIR, 'paths.md'), md);
    process.stdout.write(md);
  } finally {
    for (const w of workers) await w.close();
    await s.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');

function renderMarkdown(r: any): string {
  const lt = r.linkTokenCold;
  const w = r.linkTokenWarm;
  const lines = [
    `# Paths benchmark (\`npm run bench:paths\`)`,
    ``,
    `Run of ${r.meta.startedAt} on ${r.meta.cpus} × ${r.meta.cpu}, Node ${r.meta.node}; load average at start ${r.meta.loadAverageAtStart.map((x: number) => x.toFixed(2)).join(' / ')}, at end ${r.meta.loadAverageAtEnd.map((x: number) => x.toFixed(2)).join(' / ')}.`,
    `Baseline ${r.meta.baseline} (index.mjs ${f(r.meta.bundleEntryBytes.baseline / 1024)} kB, one file) against current ${r.meta.current} (index.mjs ${f(r.meta.bundleEntryBytes.current / 1024)} kB + chunks). Medians; the machine is shared, compare ratios within this run.`,
    ``,
    `## 1. Cold path of a new link token (fresh process → import/init → first POST /link-token), ${lt['current/on'].n} runs each, alternating`,
    ``,
    `| | baseline | current | current/baseline |`,
    `| --- | ---: | ---: | ---: |`,
    ...(['on', 'off'] as const).flatMap((p) => [
      `| prefetch ${p}: spawn → first token, median (ms) | ${f(lt[`baseline/${p}`].totalMs)} | ${f(lt[`current/${p}`].totalMs)} | ${f(lt[`current/${p}`].totalMs / lt[`baseline/${p}`].totalMs, 3)} |`,
      `| prefetch ${p}: p90 (ms) | ${f(lt[`baseline/${p}`].totalP90)} | ${f(lt[`current/${p}`].totalP90)} | ${f(lt[`current/${p}`].totalP90 / lt[`baseline/${p}`].totalP90, 3)} |`,
      `| prefetch ${p}: import + init, median (ms) | ${f(lt[`baseline/${p}`].importMs)} | ${f(lt[`current/${p}`].importMs)} | ${f(lt[`current/${p}`].importMs / lt[`baseline/${p}`].importMs, 3)} |`,
      `| prefetch ${p}: first invocation, median (ms) | ${f(lt[`baseline/${p}`].firstInvokeMs)} | ${f(lt[`current/${p}`].firstInvokeMs)} | ${f(lt[`current/${p}`].firstInvokeMs / lt[`baseline/${p}`].firstInvokeMs, 3)} |`,
      `| prefetch ${p}: peak RSS after first token, median (MB) | ${f(lt[`baseline/${p}`].peakRssMb)} | ${f(lt[`current/${p}`].peakRssMb)} | ${f(lt[`current/${p}`].peakRssMb / lt[`baseline/${p}`].peakRssMb, 3)} |`,
    ]),
    ``,
    `## 2. Warm new link token, in process, one at a time, ${TOKEN_POOL} users' tokens, ${w.current.n} invocations each (${r.config.warmRounds} alternating batches)`,
    ``,
    `| | baseline | current | current/baseline |`,
    `| --- | ---: | ---: | ---: |`,
    `| CPU per invocation, median (ms) | ${f(w.baseline.cpuP50, 3)} | ${f(w.current.cpuP50, 3)} | ${f(w.ratioCurrentOverBaseline.cpuP50, 3)} |`,
    `| CPU per invocation, mean (ms) | ${f(w.baseline.cpuMean, 3)} | ${f(w.current.cpuMean, 3)} | ${f(w.ratioCurrentOverBaseline.cpuMean, 3)} |`,
    `| CPU mean ratio, median of the ${r.config.warmRounds} paired batches | | | ${f(w.ratioCurrentOverBaseline.medianOfRoundCpuMeanRatios, 3)} |`,
    `| Duration p50 (ms) | ${f(w.baseline.wallP50, 3)} | ${f(w.current.wallP50, 3)} | ${f(w.ratioCurrentOverBaseline.wallP50, 3)} |`,
    `| Duration p99 (ms) | ${f(w.baseline.wallP99, 3)} | ${f(w.current.wallP99, 3)} | ${f(w.current.wallP99 / w.baseline.wallP99, 3)} |`,
    ``,
    `## 3–4. Items routes and webhooks (current bundle; vault on dynalite + KMS stand-in, bus on the EventBridge stand-in)`,
    ``,
    `| route | cold: spawn → first answer, median (ms) | cold p90 (ms) | cold import + init (ms) | cold first invocation (ms) | cold peak RSS (MB) | warm duration p50 (ms) | warm p99 (ms) | warm CPU median (ms) | warm CPU mean (ms) | warm n |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...Object.keys(r.itemsAndWebhooksCold).map((k) => {
      const c = r.itemsAndWebhooksCold[k];
      const x = r.itemsAndWebhooksWarm[k];
      return `| ${k} | ${f(c.totalMs)} | ${f(c.totalP90)} | ${f(c.importMs)} | ${f(c.firstInvokeMs)} | ${f(c.peakRssMb)} | ${f(x.wallP50, 3)} | ${f(x.wallP99, 3)} | ${f(x.cpuP50, 3)} | ${f(x.cpuMean, 3)} | ${x.n} |`;
    }),
    ``,
    `Cold runs here use prefetch at init on (the default) and the items tenants file (webhook "service", vault and bus configured); the "new link token" row is the same cold start in that configuration, for comparison. Webhooks: TRANSACTIONS DEFAULT_UPDATE bodies, each distinct (no replay short-cut), signed ES256 by the Plaid stand-in, verified (key fetched once per process, then cached), the Item looked up and the event published: ${r.webhooksPublished} warm webhooks, every one on the bus.`,
    ``,
  ];
  return lines.join('\n');
}

await main();
