// `npm run bench:serverless`: the product against the serverless peer and the stack's floor.
//   cold: fresh process → first token (bench/cold/product-cold.mjs: import the bundle, invoke it
//         once with an API Gateway v2 event), the JWKS and every Secrets Manager read answering
//         after BENCH_UPSTREAM_RTT_MS (20): the product (one generated tenant), the peer as CDK's
//         NodejsFunction builds it by default and tuned (bench/serverless/peer-handler.ts), and the
//         floor (bench/serverless/floor-handler.ts, the product's bundling: one secret read with
//         the SDK, one keep-alive POST). Interleaved, BENCH_COLD_RUNS (15) each; medians.
//   warm: each handler in its own process (bench/serverless/worker.mjs), invoked one request at a
//         time as Lambda does, 256 users' tokens cycled, CPU per invocation from process.cpuUsage
//         around each batch; batches interleaved, BENCH_WARM_ROUNDS (7) × BENCH_WARM_BATCH (300);
//         Secrets Manager reads and JWKS fetches counted at the stand-ins during warm batches.
// Also the stages "serverless-cold" and "serverless-warm" of `npm run bench`. Fails only on a
// broken response, never on a time. BENCH_PRODUCT_ROOT measures another worktree's product.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { coldInvoke, lambdaEnv, type ColdStart } from './lib/cold-run.ts';
import { startFleetStandIns, type FleetStandIns } from './lib/fleet-standins-client.ts';
import { buildProductBundle, describeTree, productRoot } from './lib/product-build.ts';
import { median, percentile } from './lib/stats.ts';
import {
  generateTenantsFile,
  sweepSecretIds,
  tenantAudience,
  tenantIssuer,
  tenantOrigin,
  tenantPlaidSecretId,
} from './lib/tenants-gen.ts';
import { buildFloor, buildPeerCdkDefault, buildPeerTuned } from './serverless/builds.ts';

const int = (value: string | undefined, fallback: number) =>
  value && Number.isFinite(Number(value)) ? Math.trunc(Number(value)) : fallback;
const log = (message: string) => process.stderr.write(`[bench:serverless] ${message}\n`);
const WORKER = fileURLToPath(new URL('./serverless/worker.mjs', import.meta.url));
const TOKEN_POOL = 256;

export type Contender = 'product' | 'peerDefault' | 'peerTuned' | 'floor';
export const CONTENDERS: readonly Contender[] = ['product', 'peerDefault', 'peerTuned', 'floor'];
export const CONTENDER_NAMES: Record<Contender, string> = {
  product: 'product',
  peerDefault: 'serverless peer, CDK default build',
  peerTuned: 'serverless peer, tuned build',
  floor: 'stack floor',
};

export interface ServerlessConfig {
  coldRuns: number;
  warmRounds: number;
  warmBatch: number;
  rttMs: number;
  productRoot: string;
}

export function serverlessConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServerlessConfig {
  return {
    coldRuns: Math.max(1, int(env.BENCH_COLD_RUNS, 15)),
    warmRounds: Math.max(1, int(env.BENCH_WARM_ROUNDS, 7)),
    warmBatch: Math.max(10, int(env.BENCH_WARM_BATCH, 300)),
    rttMs: Math.max(0, int(env.BENCH_UPSTREAM_RTT_MS, 20)),
    productRoot: productRoot(env),
  };
}

export interface Contenders {
  handlers: Record<Contender, string>;
  bytes: Record<Contender, number>;
  env: Record<Contender, Record<string, string>>;
  productTree: string;
}

/** Builds the four handlers, and the environment each runs with, against one generated tenant (tenant 0). */
export async function prepareContenders(standIns: FleetStandIns, workDir: string, root: string): Promise<Contenders> {
  mkdirSync(workDir, { recursive: true });
  await standIns.seed(sweepSecretIds(1));
  const tenantsFile = join(workDir, 'tenants-1.json');
  writeFileSync(tenantsFile, JSON.stringify(generateTenantsFile(1, standIns.issuersUrl)));
  log(`building the product from ${root}, the peer (CDK default build and tuned) and the floor`);
  const product = buildProductBundle(root, join(workDir, 'product'), tenantsFile);
  const [peerDefault, peerTuned, floor] = await Promise.all([
    buildPeerCdkDefault(join(workDir, 'peer-cdk-default')),
    buildPeerTuned(join(workDir, 'peer-tuned')),
    buildFloor(root, join(workDir, 'floor')),
  ]);
  const base = lambdaEnv(standIns);
  const issuer = tenantIssuer(standIns.issuersUrl, 0);
  const peerEnv = {
    ...base,
    ISSUER: issuer,
    AUDIENCE: tenantAudience(0),
    JWKS_URI: `${issuer}/.well-known/jwks.json`,
    PLAID_SECRET_ID: tenantPlaidSecretId(0),
  };
  return {
    handlers: {
      product,
      peerDefault: peerDefault.handlerFile,
      peerTuned: peerTuned.handlerFile,
      floor: floor.handlerFile,
    },
    bytes: {
      product: statSync(product).size,
      peerDefault: peerDefault.bytes,
      peerTuned: peerTuned.bytes,
      floor: floor.bytes,
    },
    env: {
      product: base,
      peerDefault: peerEnv,
      peerTuned: peerEnv,
      floor: { ...base, FLOOR_SECRET_ID: tenantPlaidSecretId(0) },
    },
    productTree: describeTree(root),
  };
}

const userToken = (standIns: FleetStandIns, subs: string[]) =>
  standIns.mint(
    subs.map((sub) => ({
      issuer: 0,
      claims: { sub, aud: tenantAudience(0), email: `${sub}@example.com`, email_verified: true },
    })),
  );

export interface ColdFigures {
  runs: number;
  rttMs: number;
  perContender: Record<
    Contender,
    {
      coldMs: number;
      coldP90Ms: number;
      importMs: number;
      firstRequestMs: number;
      peakRssMb: number;
      secretsReads: number;
      jwksFetches: number;
      samplesMs: number[];
    }
  >;
}

export async function runServerlessCold(
  standIns: FleetStandIns,
  c: Contenders,
  config: ServerlessConfig,
): Promise<ColdFigures> {
  const samples = Object.fromEntries(
    CONTENDERS.map((k) => [k, [] as Array<ColdStart & { secrets: number; jwks: number }>]),
  ) as Record<Contender, Array<ColdStart & { secrets: number; jwks: number }>>;
  log(
    `cold path: ${config.coldRuns} fresh processes each (+1 discarded), interleaved, ${config.rttMs} ms JWKS and Secrets Manager round trips`,
  );
  await standIns.setUpstreamLatency(config.rttMs);
  try {
    for (let run = -1; run < config.coldRuns; run++) {
      const [token] = await userToken(standIns, [`cold-user-${run + 1}-${Math.random().toString(36).slice(2)}`]);
      const shift = ((run % CONTENDERS.length) + CONTENDERS.length) % CONTENDERS.length;
      const order = [...CONTENDERS.slice(shift), ...CONTENDERS.slice(0, shift)];
      for (const k of order) {
        await standIns.reset();
        const cold = await coldInvoke(CONTENDER_NAMES[k], c.handlers[k], c.env[k], token!, tenantOrigin(0));
        const calls = await standIns.counters();
        if (run >= 0) samples[k].push({ ...cold, secrets: calls.secrets, jwks: calls.jwks });
      }
    }
  } finally {
    await standIns.setUpstreamLatency(0);
    await standIns.reset();
  }
  const perContender = Object.fromEntries(
    CONTENDERS.map((k) => {
      const s = samples[k];
      const total = s.map((x) => x.totalMs).sort((a, b) => a - b);
      return [
        k,
        {
          coldMs: median(total),
          coldP90Ms: percentile(total, 0.9),
          importMs: median(s.map((x) => x.importMs)),
          firstRequestMs: median(s.map((x) => x.firstInvokeMs)),
          peakRssMb: median(s.map((x) => x.peakRssKb)) / 1024,
          secretsReads: median(s.map((x) => x.secrets)),
          jwksFetches: median(s.map((x) => x.jwks)),
          samplesMs: s.map((x) => Math.round(x.totalMs * 10) / 10),
        },
      ];
    }),
  ) as ColdFigures['perContender'];
  return { runs: config.coldRuns, rttMs: config.rttMs, perContender };
}

export interface WarmFigures {
  rounds: number;
  batch: number;
  perContender: Record<
    Contender,
    {
      /** Median over batches of the batch's CPU / invocations. */
      cpuUsPerInvocation: number;
      cpuUsPerBatch: number[];
      wallP50Ms: number;
      wallP99Ms: number;
      invocations: number;
      secretsReads: number;
      jwksFetches: number;
    }
  >;
  /** Medians over rounds of the per-round ratios (each round's batches ran back to back). */
  roundRatios: { productOverFloor: number; productOverPeerDefault: number; productOverPeerTuned: number };
}

interface Worker {
  child: ChildProcess;
  run(requests: unknown[]): Promise<{ cpuMs: number; wallMs: number[] }>;
  close(): Promise<void>;
}

async function startWorker(label: string, handlerFile: string, env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, [WORKER, handlerFile], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${label}: worker exited with ${code}`)));
    child.once('message', () => resolve());
  });
  let nextId = 1;
  return {
    child,
    run: (requests) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const onMessage = (m: { id: number; cpuMs: number; wallMs: number[]; broken: unknown[] }) => {
          if (m.id !== id) return;
          child.off('message', onMessage);
          if (m.broken.length) reject(new Error(`${label}: broken responses ${JSON.stringify(m.broken)}`));
          else resolve(m);
        };
        child.on('message', onMessage);
        child.send({ id, requests });
      }),
    close: () =>
      new Promise<void>((resolve) =>
        child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.disconnect()),
      ),
  };
}

export async function runServerlessWarm(
  standIns: FleetStandIns,
  c: Contenders,
  config: ServerlessConfig,
  contenders: readonly Contender[] = CONTENDERS,
): Promise<WarmFigures> {
  const tokens = await userToken(
    standIns,
    Array.from({ length: TOKEN_POOL }, (_, i) => `warm-user-${i}`),
  );
  const origin = tenantOrigin(0);
  let cursor = 0;
  const batch = () =>
    Array.from({ length: config.warmBatch }, () => ({
      method: 'POST',
      path: '/link-token',
      headers: { authorization: `Bearer ${tokens[cursor++ % tokens.length]}`, origin },
      body: JSON.stringify({ platform: 'web' }),
    }));
  const workers = new Map<Contender, Worker>();
  const out = Object.fromEntries(
    contenders.map((k) => [k, { cpu: [] as number[], wall: [] as number[], secrets: 0, jwks: 0 }]),
  ) as Record<Contender, { cpu: number[]; wall: number[]; secrets: number; jwks: number }>;
  try {
    for (const k of contenders) workers.set(k, await startWorker(CONTENDER_NAMES[k], c.handlers[k], c.env[k]));
    // Warm-up: the cold start, then one batch, for each (JIT, caches, keep-alive sockets).
    for (const k of contenders) await workers.get(k)!.run(batch());
    await standIns.reset();
    log(
      `warm, function only: ${config.warmRounds} rounds of ${config.warmBatch} invocations per handler, one at a time, interleaved`,
    );
    for (let round = 0; round < config.warmRounds; round++) {
      const order = round % 2 ? [...contenders].reverse() : [...contenders];
      for (const k of order) {
        const requests = batch();
        const result = await workers.get(k)!.run(requests);
        const calls = await standIns.counters();
        await standIns.reset();
        out[k].cpu.push((result.cpuMs * 1000) / requests.length);
        out[k].wall.push(...result.wallMs);
        out[k].secrets += calls.secrets;
        out[k].jwks += calls.jwks;
      }
    }
  } finally {
    for (const w of workers.values()) await w.close();
  }
  const perContender = Object.fromEntries(
    contenders.map((k) => {
      const wall = [...out[k].wall].sort((a, b) => a - b);
      return [
        k,
        {
          cpuUsPerInvocation: median(out[k].cpu),
          cpuUsPerBatch: out[k].cpu.map((x) => Math.round(x * 10) / 10),
          wallP50Ms: percentile(wall, 0.5),
          wallP99Ms: percentile(wall, 0.99),
          invocations: wall.length,
          secretsReads: out[k].secrets,
          jwksFetches: out[k].jwks,
        },
      ];
    }),
  ) as WarmFigures['perContender'];
  const perRound = (num: Contender, den: Contender) =>
    out[num] && out[den] ? median(out[num].cpu.map((x, i) => x / out[den].cpu[i]!)) : Number.NaN;
  return {
    rounds: config.warmRounds,
    batch: config.warmBatch,
    perContender,
    roundRatios: {
      productOverFloor: perRound('product', 'floor'),
      productOverPeerDefault: perRound('product', 'peerDefault'),
      productOverPeerTuned: perRound('product', 'peerTuned'),
    },
  };
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');

export function serverlessMarkdown(c: Pick<Contenders, 'bytes'>, cold?: ColdFigures, warm?: WarmFigures): string {
  const cols = CONTENDERS;
  const head = `| | ${cols.map((k) => CONTENDER_NAMES[k]).join(' | ')} | product/peer (CDK default) | product/peer (tuned) | product/floor |`;
  const sep = `| --- | ${cols.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`;
  const row = (label: string, get: (k: Contender) => number | undefined, d: number, ratios = true) => {
    const v = (k: Contender) => get(k) ?? Number.NaN;
    const r = (a: number, b: number) => (ratios ? f(a / b, 3) : '');
    return `| ${label} | ${cols.map((k) => f(v(k), d)).join(' | ')} | ${r(v('product'), v('peerDefault'))} | ${r(v('product'), v('peerTuned'))} | ${r(v('product'), v('floor'))} |`;
  };
  const lines = [
    head,
    sep,
    row(
      'Handler file (kB; the CDK default build also loads the AWS SDK from node_modules)',
      (k) => c.bytes[k] / 1000,
      1,
    ),
  ];
  if (cold) {
    const p = cold.perContender;
    lines.push(
      row(
        `Cold: spawn → first token, median of ${cold.runs}, ${cold.rttMs} ms round trips (ms)`,
        (k) => p[k].coldMs,
        1,
      ),
      row('Cold: p90 (ms)', (k) => p[k].coldP90Ms, 1),
      row('Cold: import / init (ms)', (k) => p[k].importMs, 1),
      row('Cold: first invocation (ms)', (k) => p[k].firstRequestMs, 1),
      row('Cold: peak RSS (MB)', (k) => p[k].peakRssMb, 1),
      `| Cold: Secrets Manager reads / JWKS fetches per cold start, median | ${cols.map((k) => `${p[k].secretsReads} / ${p[k].jwksFetches}`).join(' | ')} | | | |`,
    );
  }
  if (warm) {
    const p = warm.perContender;
    const w = (k: Contender) => p[k];
    lines.push(
      row(
        `Warm: CPU per invocation, median of ${warm.rounds} batches of ${warm.batch} (µs)`,
        (k) => w(k)?.cpuUsPerInvocation,
        0,
      ),
      row('Warm: duration p50 (ms)', (k) => w(k)?.wallP50Ms, 3),
      row('Warm: duration p99 (ms)', (k) => w(k)?.wallP99Ms, 3),
      `| Warm: Secrets Manager reads / JWKS fetches | ${cols.map((k) => (w(k) ? `${w(k).secretsReads} / ${w(k).jwksFetches} in ${w(k).invocations}` : '—')).join(' | ')} | | | |`,
      `| Warm: CPU ratio, median of the per-round ratios | | | | | ${f(warm.roundRatios.productOverPeerDefault, 3)} | ${f(warm.roundRatios.productOverPeerTuned, 3)} | ${f(warm.roundRatios.productOverFloor, 3)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const config = serverlessConfig();
  const stages = new Set((process.env.BENCH_STAGES ?? 'serverless-cold,serverless-warm').split(','));
  const outDir = process.env.BENCH_OUT ?? fileURLToPath(new URL('./results/', import.meta.url));
  const workDir = join(PROJECT_ROOT, 'dist', 'bench', 'serverless');
  mkdirSync(workDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  const standIns = await startFleetStandIns();
  try {
    const contenders = await prepareContenders(standIns, workDir, config.productRoot);
    const cold = stages.has('serverless-cold') ? await runServerlessCold(standIns, contenders, config) : undefined;
    const warm = stages.has('serverless-warm') ? await runServerlessWarm(standIns, contenders, config) : undefined;
    const md = `# Serverless comparison (\`npm run bench:serverless\`)\n\nRun of ${startedAt}, Node ${process.version}, product tree ${config.productRoot} (${contenders.productTree}), load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}.\n\n${serverlessMarkdown(contenders, cold, warm)}`;
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, 'serverless.json'),
      `${JSON.stringify({ startedAt, loadAtStart, node: process.version, config, bytes: contenders.bytes, productTree: contenders.productTree, cold, warm }, null, 2)}\n`,
    );
    writeFileSync(join(outDir, 'serverless.md'), md);
    process.stdout.write(md);
  } finally {
    await standIns.close();
  }
}

if (import.meta.main) await main();
