// `npm run bench`: in one run, on loopback only:
//   1. the tenant-count sweep (bench/tenants.ts): 1, 10, 100, 1,000 generated tenants, each with
//      its own issuer and secret; cold time, first request, JWKS fetches, Secrets Manager reads
//      and peak RSS per count, prefetch on and off
//   2. product against the serverless peer (bench/serverless/peer-handler.ts, CDK's default build
//      and a tuned one) and the stack floor (bench/serverless/floor-handler.ts): cold path with
//      round trips, and warm CPU per invocation with the handler invoked in process (bench/serverless.ts)
//   3. the earlier comparison, kept as information without targets: bundle size and contributors,
//      cold path and warm path (c=1 and 32, through the local API Gateway emulator) against a Plaid
//      quickstart-style Express server (bench/peer/) and the bare Plaid stand-in (the floor there)
//   4. the choices behind the figures: HTTP clients, and GetSecretValue through the AWS SDK variants
// Prints one table and writes bench/results/latest.json and latest.md with the machine and the
// targets of issue 13 (met / not met, with the figures). A benchmark, not a test: it fails only if
// something does not work (a broken answer, a server that does not start), never on a time.
// Knobs: BENCH_STAGES ("tenants,serverless,cold,warm,clients,alternatives"; "serverless" is
// serverless-cold + serverless-warm), BENCH_COLD_RUNS (15), BENCH_UPSTREAM_RTT_MS (20: JWKS and
// Secrets Manager round trip of the cold comparisons), BENCH_SWEEP_RUNS (9), BENCH_SWEEP_COUNTS
// (1,10,100,1000), BENCH_SWEEP_PREFETCH (on,off), BENCH_WARM_ROUNDS (7) and BENCH_WARM_BATCH (300)
// of the function-only warm path, BENCH_PRODUCT_ROOT (another worktree's product for stages 1-2),
// BENCH_WARM_SECONDS (5), BENCH_WARMUP_SECONDS (1), BENCH_CONCURRENCY ("1,32"), BENCH_ROUNDS (3)
// of the Express comparison, BENCH_OUT (bench/results).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { LAMBDA_BUNDLING, LAMBDA_ENTRY, PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { buildLambdaBundle, lambdaBuildOptions } from '../local/build.ts';
import { DEMO_AUDIENCE, DEMO_PLAID_SECRET_ID, demoTenantsFile } from '../local/demo-tenants.ts';
import { analyseBundle, executedShares, type BundleReport } from './lib/bundle.ts';
import { exited, freePort, stop, waitForLine, waitForPort } from './lib/children.ts';
import { lambdaEnv } from './lib/cold-run.ts';
import { runLoad, type LoadTarget } from './lib/load.ts';
import { statusKb } from './lib/proc.ts';
import { renderReport, type DurationStats, type Results, type WarmRun } from './lib/report.ts';
import { median, summary } from './lib/stats.ts';
import { startStandIns, type StandIns } from './lib/standins-client.ts';
import { startFleetStandIns } from './lib/fleet-standins-client.ts';
import { prepareContenders, runServerlessCold, runServerlessWarm, serverlessConfig } from './serverless.ts';
import { runTenantSweep, sweepConfig } from './tenants.ts';

const env = process.env;
const int = (value: string | undefined, fallback: number) =>
  value && Number.isFinite(Number(value)) ? Number(value) : fallback;
const config = {
  coldRuns: Math.max(1, int(env.BENCH_COLD_RUNS, 15)),
  upstreamRttMs: Math.max(0, int(env.BENCH_UPSTREAM_RTT_MS, 20)),
  warmSeconds: Math.max(1, int(env.BENCH_WARM_SECONDS, 5)),
  warmupSeconds: Math.max(0, int(env.BENCH_WARMUP_SECONDS, 1)),
  concurrency: (env.BENCH_CONCURRENCY ?? '1,32')
    .split(',')
    .map(Number)
    .filter((n) => n > 0),
  rounds: Math.max(1, int(env.BENCH_ROUNDS, 3)),
  stages: new Set(
    (env.BENCH_STAGES ?? 'tenants,serverless,cold,warm,clients,alternatives')
      .split(',')
      .flatMap((s) => (s === 'serverless' ? ['serverless-cold', 'serverless-warm'] : [s])),
  ),
};
const OUT_DIR = env.BENCH_OUT ?? fileURLToPath(new URL('./results/', import.meta.url));
const WORK_DIR = join(PROJECT_ROOT, 'dist', 'bench');
const PEER_SCRIPT = fileURLToPath(new URL('./peer/index.cjs', import.meta.url));
const COLD_SCRIPT = fileURLToPath(new URL('./cold/product-cold.mjs', import.meta.url));
const ORIGIN = 'https://app.example.com';
const PRODUCT_BODY = JSON.stringify({ platform: 'web' });
const TOKEN_POOL = 256;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  mkdirSync(WORK_DIR, { recursive: true });

  // 1. Bundle: built exactly as the deploy builds it (infra/lambda-bundling.ts via local/build.ts).
  log('building the bundle');
  const bundle = await buildLambdaBundle({ outdir: join(WORK_DIR, 'lambda') });
  const serverFile = join(WORK_DIR, 'product-server.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./servers/product-server.ts', import.meta.url))],
    outfile: serverFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'warning',
  });
  const bundleReport = analyseBundle({
    metafile: bundle.metafile,
    outFile: bundle.handlerFile,
    projectRoot: PROJECT_ROOT,
    entry: LAMBDA_ENTRY,
  });
  const peerCode = peerLoadedCode();

  log('starting the stand-ins (own process)');
  const standIns = await startStandIns();
  try {
    const tenantsFile = join(WORK_DIR, 'tenants.json');
    writeFileSync(
      tenantsFile,
      JSON.stringify(demoTenantsFile({ issuer: standIns.issuer, origins: [ORIGIN], withOAuthRedirect: true })),
    );
    // Long-lived tokens of distinct users, minted up front: every request carries a real,
    // different JWT, so nothing can be saved by remembering a token.
    const tokens: string[] = [];
    for (let i = 0; i < TOKEN_POOL; i++) {
      tokens.push(
        await standIns.mint(
          { sub: `bench-user-${i}`, aud: DEMO_AUDIENCE, email: `bench.user.${i}@example.com`, email_verified: true },
          24 * 3600,
        ),
      );
    }
    const productEnv: Record<string, string> = {
      ...lambdaEnv({ plaidUrl: standIns.plaidUrl, secretsUrl: standIns.secretsUrl }),
      TENANTS_FILE: tenantsFile,
    };
    const peerEnv: Record<string, string> = {
      PATH: env.PATH ?? '',
      PLAID_CLIENT_ID: standIns.plaidCredentials.client_id,
      PLAID_SECRET: standIns.plaidCredentials.secret,
      PLAID_ENV: 'sandbox',
      PLAID_PRODUCTS: 'transactions',
      PLAID_COUNTRY_CODES: 'US,CA',
      PLAID_BASE_URL: standIns.plaidUrl,
    };

    const results: Results = {
      meta: machine(startedAt, loadAtStart),
      config: { ...config, stages: [...config.stages] },
      bundle: bundleReport,
      peerCode,
    };

    // Issue 13's comparisons first: the tenant-count sweep, then product, serverless peer and
    // stack floor, cold and warm (function only), against their own stand-ins process.
    if (config.stages.has('tenants') || config.stages.has('serverless-cold') || config.stages.has('serverless-warm')) {
      log('starting the stand-ins of the sweep and the serverless comparison (own process; many issuers)');
      const fleet = await startFleetStandIns();
      try {
        if (config.stages.has('tenants')) {
          results.tenants = await runTenantSweep({
            standIns: fleet,
            workDir: join(WORK_DIR, 'tenants'),
            config: sweepConfig(),
          });
        }
        if (config.stages.has('serverless-cold') || config.stages.has('serverless-warm')) {
          const sc = serverlessConfig();
          const contenders = await prepareContenders(fleet, join(WORK_DIR, 'serverless'), sc.productRoot);
          results.serverless = {
            productRoot: sc.productRoot,
            productTree: contenders.productTree,
            bytes: contenders.bytes,
            ...(config.stages.has('serverless-cold') ? { cold: await runServerlessCold(fleet, contenders, sc) } : {}),
            ...(config.stages.has('serverless-warm') ? { warm: await runServerlessWarm(fleet, contenders, sc) } : {}),
          };
        }
      } finally {
        await fleet.close();
      }
    }
    if (config.stages.has('cold')) {
      const sdkAloneFile = await buildSdkAlone();
      results.cold = await coldStage({
        standIns,
        tokens,
        productEnv,
        peerEnv,
        handlerFile: bundle.handlerFile,
        sdkAloneFile,
      });
      log('one more cold start under V8 coverage: which bundled code runs at all');
      await coverage({
        standIns,
        token: tokens.at(-1)!,
        productEnv,
        handlerFile: bundle.handlerFile,
        report: bundleReport,
      });
    }
    if (config.stages.has('warm')) {
      results.warm = await warmStage({
        standIns,
        tokens,
        productEnv,
        peerEnv,
        handlerFile: bundle.handlerFile,
        serverFile,
      });
    }
    if (config.stages.has('clients')) {
      results.clients = await clientsStage({
        standIns,
        token: tokens[1]!,
        productEnv,
        handlerFile: bundle.handlerFile,
      });
    }
    if (config.stages.has('alternatives')) {
      results.alternatives = await alternativesStage({ standIns, productEnv });
    }
    results.meta.loadAvgAtEnd = loadavg();
    results.meta.finishedAt = new Date().toISOString();

    const { text, markdown, json } = renderReport(results);
    process.stdout.write(`${text}\n`);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(join(OUT_DIR, 'latest.md'), markdown);
    log(`wrote ${join(OUT_DIR, 'latest.json')} and latest.md`);
  } finally {
    await standIns.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Cold path

export interface ColdSample {
  totalMs: number;
  peakRssKb: number;
  /** Product: inside the child, import (init) and first invocation; peer: spawn→listening, listening→response. */
  phases: Record<string, number>;
}

/** What the cold and warm stages both start from. */
interface StageInputs {
  standIns: StandIns;
  tokens: string[];
  productEnv: Record<string, string>;
  peerEnv: Record<string, string>;
  handlerFile: string;
}

async function coldStage(opts: StageInputs & { sdkAloneFile: string }): Promise<NonNullable<Results['cold']>> {
  const product: ColdSample[] = [];
  const peer: ColdSample[] = [];
  const sdkAlone: number[] = [];
  const upstream: Array<{ plaid: number; secrets: number; jwks: number }> = [];
  log(
    `cold path: ${config.coldRuns} fresh processes each (+1 discarded warm-up each), alternating: product, peer, the AWS SDK alone`,
  );
  for (let i = -1; i < config.coldRuns; i++) {
    await opts.standIns.reset();
    const p = await coldProduct({ ...opts, token: opts.tokens[(i + 1) % opts.tokens.length]! });
    const calls = await opts.standIns.counters();
    const q = await coldPeer(opts.peerEnv);
    const a = (await coldSecretRead(opts.sdkAloneFile, opts.productEnv)).totalMs;
    if (i < 0) continue;
    product.push(p);
    upstream.push(calls);
    peer.push(q);
    sdkAlone.push(a);
  }
  const pick = (samples: ColdSample[], key: string) => summary(samples.map((s) => s.phases[key]!));

  // What prefetch at init is for: in production the JWKS and each Secrets Manager read are a
  // round trip to another service. With that round trip added by the stand-ins, the same cold
  // start with INIT_PREFETCH on (reads at init, all at once) and off (JWKS, then the secrets,
  // inside the first request).
  const prefetch = { on: [] as number[], off: [] as number[] };
  if (config.upstreamRttMs > 0) {
    log(
      `cold path with ${config.upstreamRttMs} ms JWKS and Secrets Manager round trips: prefetch at init on and off, ${config.coldRuns} each, alternating`,
    );
    await opts.standIns.setUpstreamLatency(config.upstreamRttMs);
    try {
      for (let i = -1; i < config.coldRuns; i++) {
        const token = opts.tokens[(i + 1) % opts.tokens.length]!;
        const on = await coldProduct({ ...opts, token }, { INIT_PREFETCH: 'on' });
        const off = await coldProduct({ ...opts, token }, { INIT_PREFETCH: 'off' });
        if (i < 0) continue;
        prefetch.on.push(on.totalMs);
        prefetch.off.push(off.totalMs);
      }
    } finally {
      await opts.standIns.setUpstreamLatency(0);
    }
  }
  return {
    runs: config.coldRuns,
    ...(config.upstreamRttMs > 0
      ? {
          withUpstreamRtt: {
            rttMs: config.upstreamRttMs,
            prefetchOn: summary(prefetch.on),
            prefetchOff: summary(prefetch.off),
          },
        }
      : {}),
    product: {
      totalMs: summary(product.map((s) => s.totalMs)),
      phases: Object.fromEntries(Object.keys(product[0]!.phases).map((k) => [k, pick(product, k)])),
      peakRssKb: median(product.map((s) => s.peakRssKb)),
      upstreamCallsPerStart: {
        plaid: median(upstream.map((u) => u.plaid)),
        secrets: median(upstream.map((u) => u.secrets)),
        jwks: median(upstream.map((u) => u.jwks)),
      },
      samplesMs: product.map((s) => round(s.totalMs)),
    },
    peer: {
      totalMs: summary(peer.map((s) => s.totalMs)),
      phases: Object.fromEntries(Object.keys(peer[0]!.phases).map((k) => [k, pick(peer, k)])),
      peakRssKb: median(peer.map((s) => s.peakRssKb)),
      samplesMs: peer.map((s) => round(s.totalMs)),
    },
    sdkAlone: { totalMs: summary(sdkAlone), samplesMs: sdkAlone.map((ms) => round(ms)) },
  };
}

/**
 * The chosen stack's own cold floor: the product's Secrets Manager reader (the AWS SDK's bare
 * client and one command), bundled with the deploy's settings and nothing else, reading one
 * secret in a fresh process. No JWT, no tenants file, no Plaid call: any product that keeps
 * @aws-sdk/client-secrets-manager on its cold path takes at least this long.
 */
async function buildSdkAlone(): Promise<string> {
  const outfile = join(WORK_DIR, 'sdk-alone', LAMBDA_BUNDLING.outfileName);
  await build({
    ...lambdaBuildOptions(),
    entryPoints: [fileURLToPath(new URL('./alternatives/sdk-bare-client.ts', import.meta.url))],
    outfile,
  });
  return outfile;
}

/**
 * One cold GetSecretValue through a bundle exporting read(secretId) (cold/secrets-cold.mjs):
 * spawn → value, measured like the product's cold path, plus the child's own import and read times.
 */
async function coldSecretRead(
  bundleFile: string,
  childEnv: Record<string, string>,
): Promise<{ totalMs: number; importMs: number; readMs: number }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./cold/secrets-cold.mjs', import.meta.url)), bundleFile, DEMO_PLAID_SECRET_ID],
    {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const { line, at } = await waitForLine(child.stdout!, (l) => l.startsWith('BENCH_RESULT '), child);
  await exited(child);
  const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as { importMs: number; readMs: number; ok: boolean };
  if (!result.ok) throw new Error(`${bundleFile}: no secret read`);
  return { totalMs: at - started, importMs: result.importMs, readMs: result.readMs };
}

async function coldProduct(
  opts: { token: string; productEnv: Record<string, string>; handlerFile: string },
  extraEnv: Record<string, string> = {},
): Promise<ColdSample> {
  const started = performance.now();
  const child = spawn(process.execPath, [COLD_SCRIPT, opts.handlerFile], {
    env: { ...opts.productEnv, BENCH_TOKEN: opts.token, BENCH_ORIGIN: ORIGIN, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { line, at } = await waitForLine(child.stdout!, (l) => l.startsWith('BENCH_RESULT '), child);
  const code = await exited(child);
  const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as {
    statusCode: number;
    hasLinkToken: boolean;
    bootMs: number;
    importMs: number;
    firstInvokeMs: number;
    peakRssKb: number;
  };
  if (result.statusCode !== 200 || !result.hasLinkToken || code !== 0) {
    throw new Error(`product cold start failed: ${line} (exit ${code})`);
  }
  return {
    totalMs: at - started,
    peakRssKb: result.peakRssKb,
    phases: { nodeBootMs: result.bootMs, importInitMs: result.importMs, firstInvokeMs: result.firstInvokeMs },
  };
}

async function coldPeer(peerEnv: Record<string, string>): Promise<ColdSample> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [PEER_SCRIPT], {
    env: { ...peerEnv, APP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const listening = await waitForLine(child.stdout!, (l) => l.includes('listening on port'), child);
    const response = await post(`http://127.0.0.1:${port}/api/create_link_token`);
    const answered = performance.now();
    if (
      response.status !== 200 ||
      typeof (JSON.parse(response.body) as { link_token?: unknown }).link_token !== 'string'
    ) {
      throw new Error(`peer cold start failed: ${response.status} ${response.body}`);
    }
    return {
      totalMs: answered - started,
      peakRssKb: statusKb(child.pid!, 'VmHWM'),
      phases: { startToListenMs: listening.at - started, firstRequestMs: answered - listening.at },
    };
  } finally {
    await stop(child);
  }
}

/** One request on a fresh connection, as a browser's first call would be. */
function post(
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function coverage(opts: {
  standIns: StandIns;
  token: string;
  productEnv: Record<string, string>;
  handlerFile: string;
  report: BundleReport;
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-coverage-'));
  try {
    await coldProduct(opts, { NODE_V8_COVERAGE: dir });
    const shares = executedShares({ coverageDir: dir, outFile: opts.handlerFile, projectRoot: PROJECT_ROOT });
    for (const contributor of opts.report.contributors) {
      const s = shares.get(contributor.name);
      if (s && s.bytes > 0) contributor.executedShare = s.executed / s.bytes;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Warm path

type TargetName = 'product' | 'peer' | 'floor' | 'emulator';
const TARGET_NAMES: readonly TargetName[] = ['floor', 'product', 'peer', 'emulator'];

async function warmStage(opts: StageInputs & { serverFile: string }): Promise<NonNullable<Results['warm']>> {
  const productPort = await freePort();
  const peerPort = await freePort();
  // stdout (the function's and the sample's request logs) goes to /dev/null: written, not read.
  const productServer = spawn(process.execPath, [opts.serverFile, opts.handlerFile], {
    env: { ...opts.productEnv, PORT: String(productPort) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const durations = () =>
    new Promise<DurationStats>((resolve) => {
      productServer.once('message', (m: DurationStats & { type: string }) =>
        resolve({ count: m.count, p50: m.p50, p90: m.p90, p99: m.p99, mean: m.mean }),
      );
      productServer.send({ type: 'durations' });
    });
  const peerServer = spawn(process.execPath, [PEER_SCRIPT], {
    env: { ...opts.peerEnv, APP_PORT: String(peerPort) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const emulatorPort = await freePort();
  const emulator = spawn(process.execPath, [opts.serverFile, 'canned'], {
    env: { PATH: env.PATH ?? '', PORT: String(emulatorPort) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await Promise.all([
      waitForPort(productPort, productServer),
      waitForPort(peerPort, peerServer),
      waitForPort(emulatorPort, emulator),
    ]);
    const productTarget: LoadTarget = {
      url: `http://127.0.0.1:${productPort}/link-token`,
      method: 'POST',
      headers: { authorization: `Bearer ${opts.tokens[0]}`, 'content-type': 'application/json', origin: ORIGIN },
      body: PRODUCT_BODY,
      headerVariants: opts.tokens.map((token) => ({ authorization: `Bearer ${token}` })),
    };
    const peerTarget: LoadTarget = {
      url: `http://127.0.0.1:${peerPort}/api/create_link_token`,
      method: 'POST',
      headers: {},
    };

    // The floor replays, straight at the Plaid stand-in, the very call the product makes.
    const first = await post(productTarget.url, PRODUCT_BODY, productTarget.headers);
    if (first.status !== 200) throw new Error(`product server answered ${first.status}: ${first.body}`);
    const upstreamCall = await opts.standIns.lastPlaidRequest();
    if (!upstreamCall) throw new Error('the Plaid stand-in saw no request');
    const floorTarget: LoadTarget = {
      url: `${opts.standIns.plaidUrl}${upstreamCall.path}`,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'plaid-version': '2020-09-14',
        'plaid-client-id': opts.standIns.plaidCredentials.client_id,
        'plaid-secret': opts.standIns.plaidCredentials.secret,
      },
      body: JSON.stringify(upstreamCall.body),
    };
    const targets: Record<TargetName, { target: LoadTarget; pid: number }> = {
      floor: { target: floorTarget, pid: opts.standIns.pid },
      product: { target: productTarget, pid: productServer.pid! },
      peer: { target: peerTarget, pid: peerServer.pid! },
      emulator: {
        target: { ...productTarget, url: `http://127.0.0.1:${emulatorPort}/link-token` },
        pid: emulator.pid!,
      },
    };

    const runs: Record<string, Record<TargetName, WarmRun>> = {};
    for (const connections of config.concurrency) {
      const perTarget = {} as Record<TargetName, WarmRun[]>;
      for (let round = 0; round < config.rounds; round++) {
        for (const name of TARGET_NAMES) {
          const { target, pid } = targets[name];
          if (config.warmupSeconds > 0)
            await runLoad(target, { connections, durationS: config.warmupSeconds, measurePid: pid });
          await opts.standIns.reset();
          if (name === 'product') await durations();
          log(
            `warm: ${name} at concurrency ${connections}, ${config.warmSeconds} s${config.rounds > 1 ? ` (round ${round + 1})` : ''}`,
          );
          const result = await runLoad(target, { connections, durationS: config.warmSeconds, measurePid: pid });
          const upstreamCalls = await opts.standIns.counters();
          const handlerDurationMs = name === 'product' ? await durations() : undefined;
          if (result.non2xx > 0 || result.errors > 0) {
            throw new Error(
              `${name} at concurrency ${connections}: ${result.non2xx} non-2xx answers, ${result.errors} errors`,
            );
          }
          (perTarget[name] ??= []).push({
            ...result,
            upstreamCalls,
            ...(handlerDurationMs ? { handlerDurationMs } : {}),
          });
        }
      }
      // With several rounds, the round with the median throughput stands for the configuration;
      // every round's headline figures stay in the JSON.
      runs[`c${connections}`] = Object.fromEntries(
        Object.entries(perTarget).map(([name, list]) => [
          name,
          {
            ...[...list].sort((a, b) => a.rps - b.rps)[(list.length - 1) >> 1]!,
            rounds: list.map((r) => ({
              rps: Math.round(r.rps),
              p50Ms: r.latencyMs.p50,
              p99Ms: r.latencyMs.p99,
              cpuMsPerRequest: r.cpuMsPerRequest,
              handlerP50Ms: r.handlerDurationMs?.p50,
            })),
            requestsAllRounds: list.reduce((n, r) => n + r.requests, 0),
            upstreamCallsAllRounds: {
              plaid: list.reduce((n, r) => n + r.upstreamCalls.plaid, 0),
              secrets: list.reduce((n, r) => n + r.upstreamCalls.secrets, 0),
              jwks: list.reduce((n, r) => n + r.upstreamCalls.jwks, 0),
            },
          },
        ]),
      ) as Record<TargetName, WarmRun>;
    }
    return {
      runs,
      peakRssKb: {
        product: statusKb(productServer.pid!, 'VmHWM'),
        peer: statusKb(peerServer.pid!, 'VmHWM'),
        floor: statusKb(opts.standIns.pid, 'VmHWM'),
        emulator: statusKb(emulator.pid!, 'VmHWM'),
      },
    };
  } finally {
    await Promise.all([stop(productServer), stop(peerServer), stop(emulator)]);
  }
}

// ---------------------------------------------------------------------------------------------
// The choices behind the figures

async function clientsStage(opts: {
  standIns: StandIns;
  token: string;
  productEnv: Record<string, string>;
  handlerFile: string;
}): Promise<NonNullable<Results['clients']>> {
  log("HTTP clients: the product's Plaid call through node:http, fetch and the plaid SDK");
  await coldProduct(opts);
  const call = await opts.standIns.lastPlaidRequest();
  if (!call) throw new Error('the Plaid stand-in saw no request');
  const child = spawn(process.execPath, [fileURLToPath(new URL('./lib/client-compare.ts', import.meta.url))], {
    env: {
      PATH: env.PATH ?? '',
      BENCH_PLAID_URL: opts.standIns.plaidUrl,
      BENCH_PLAID_BODY: JSON.stringify(call.body),
      BENCH_PLAID_CLIENT_ID: opts.standIns.plaidCredentials.client_id,
      BENCH_PLAID_SECRET: opts.standIns.plaidCredentials.secret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { line } = await waitForLine(child.stdout!, (l) => l.startsWith('{'), child, 120_000);
  await exited(child);
  await opts.standIns.reset();
  return JSON.parse(line) as NonNullable<Results['clients']>;
}

async function alternativesStage(opts: {
  standIns: StandIns;
  productEnv: Record<string, string>;
}): Promise<NonNullable<Results['alternatives']>> {
  log(
    'Secrets Manager: the AWS SDK as the product uses it (bare client, module-first, environment credentials) against the default credential chain, the CommonJS build and the aggregated client, cold, over TLS',
  );
  // Over https, as in production: over plain http the SDK takes another path (node:http, which
  // drags in undici) that production never takes. A TLS front on loopback with a throwaway cert.
  const front = await tlsFront(new URL(opts.standIns.secretsUrl));
  const childEnv = front
    ? { ...opts.productEnv, AWS_ENDPOINT_URL_SECRETS_MANAGER: front.url, NODE_EXTRA_CA_CERTS: front.caFile }
    : { ...opts.productEnv };
  // The product's bundling aliases (node:http through require, credentials from the environment
  // only), and the same without the credentials alias: the SDK's default chain.
  const productAlias = { ...LAMBDA_BUNDLING.alias };
  const { '@aws-sdk/credential-provider-node': _, ...defaultChainAlias } = productAlias;
  const variants = [
    {
      name: 'AWS SDK, bare client + command, module-first, credentials from the environment (the product)',
      entry: 'sdk-bare-client.ts',
      mainFields: ['module', 'main'],
      alias: productAlias,
    },
    {
      name: 'AWS SDK, bare client + command, module-first, default credential chain',
      entry: 'sdk-bare-client.ts',
      mainFields: ['module', 'main'],
      alias: defaultChainAlias,
    },
    {
      name: 'AWS SDK, bare client + command, main-first (CommonJS), default credential chain',
      entry: 'sdk-bare-client.ts',
      mainFields: ['main', 'module'],
      alias: defaultChainAlias,
    },
    {
      name: 'AWS SDK, aggregated SecretsManager client, module-first, default credential chain',
      entry: 'sdk-aggregated-client.ts',
      mainFields: ['module', 'main'],
      alias: defaultChainAlias,
    },
  ];
  const out: NonNullable<Results['alternatives']> = [];
  for (const [i, variant] of variants.entries()) {
    const outfile = join(WORK_DIR, 'alternatives', String(i), 'index.mjs');
    const result = await build({
      ...lambdaBuildOptions(),
      entryPoints: [fileURLToPath(new URL(`./alternatives/${variant.entry}`, import.meta.url))],
      outfile,
      sourcemap: false,
      mainFields: variant.mainFields,
      alias: variant.alias,
      metafile: true,
      logLevel: 'error',
    });
    const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)!.bytes;
    const samples: Array<{ importMs: number; readMs: number }> = [];
    for (let run = -1; run < 7; run++) {
      const sample = await coldSecretRead(outfile, childEnv);
      if (run >= 0) samples.push(sample);
    }
    out.push({
      name: variant.name,
      transport: front ? 'https' : 'http',
      bytes,
      gzipBytes: gzipSync(readFileSync(outfile)).length,
      importMs: median(samples.map((s) => s.importMs)),
      firstReadMs: median(samples.map((s) => s.readMs)),
    });
  }
  await front?.close();
  await opts.standIns.reset();
  return out;
}

/** A TLS-terminating proxy on loopback in front of `target`, with a fresh self-signed cert (openssl). */
async function tlsFront(target: URL): Promise<{ url: string; caFile: string; close(): Promise<void> } | undefined> {
  const dir = join(WORK_DIR, 'tls');
  mkdirSync(dir, { recursive: true });
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  if (made.status !== 0) {
    log('openssl not available: comparing over plain http instead');
    return undefined;
  }
  const server = createTlsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (client) => {
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop);
      upstream.on('error', drop);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    caFile: join(dir, 'cert.pem'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------
// Context

/** What the peer loads before it can answer: every module file the sample requires, in bytes. */
function peerLoadedCode(): { bytes: number; files: number } {
  const script =
    `const fs=require('fs');require(${JSON.stringify(PEER_SCRIPT)});` +
    `let b=0,n=0;for(const f of Object.keys(require.cache)){b+=fs.statSync(f).size;n++}` +
    `process.stderr.write(JSON.stringify({bytes:b,files:n}));process.exit(0)`;
  const port = String(40_000 + Math.floor(Math.random() * 20_000));
  const out = spawnSync(process.execPath, ['-e', script], {
    env: { PATH: env.PATH ?? '', APP_PORT: port },
    encoding: 'utf8',
  });
  return JSON.parse(out.stderr.trim().split('\n').at(-1) ?? '{}') as { bytes: number; files: number };
}

function machine(startedAt: Date, loadAtStart: number[]): Results['meta'] {
  const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    startedAt: startedAt.toISOString(),
    node: process.version,
    nproc: availableParallelism(),
    cpuModel: model.trim(),
    kernel: release(),
    memTotalMb: Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024),
    loadAvgAtStart: loadAtStart,
  };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

await main();
