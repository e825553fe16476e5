// `npm run bench:tenants`: the tenant-count sweep. For 1, 10, 100 and 1,000 generated tenants,
// each with its own issuer (bench/lib/issuers.ts), audience, origin and Plaid credentials secret
// (bench/lib/tenants-gen.ts), the product is bundled with that tenants file by the product tree's
// own build (bench/lib/product-build.ts; BENCH_PRODUCT_ROOT measures another worktree), and each
// cold start is a fresh process → import → one POST /link-token for a random tenant's user, with
// the JWKS and every Secrets Manager read answering after BENCH_UPSTREAM_RTT_MS. Per count and
// prefetch setting (on, the default, and off): median spawn → response, median first request
// (invoke → response), JWKS fetches and Secrets Manager reads during the cold start (counted at the
// stand-ins), peak RSS (VmHWM). Counts and settings interleaved run by run; medians.
// Also a stage of `npm run bench` (runTenantSweep). Fails only on a broken response, never on a time.
// Knobs: BENCH_SWEEP_COUNTS (1,10,100,1000), BENCH_SWEEP_RUNS (9), BENCH_SWEEP_PREFETCH (on,off),
// BENCH_UPSTREAM_RTT_MS (20), BENCH_PRODUCT_ROOT (this checkout), BENCH_OUT (bench/results).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateTenantsFile } from '../lambda/config/load-tenants.ts';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { coldInvoke, lambdaEnv, type ColdStart } from './lib/cold-run.ts';
import { startFleetStandIns, type FleetCounters, type FleetStandIns } from './lib/fleet-standins-client.ts';
import { buildProductBundle, describeTree, productRoot } from './lib/product-build.ts';
import { median } from './lib/stats.ts';
import { generateTenantsFile, sweepSchedule, sweepSecretIds, tenantAudience, tenantOrigin } from './lib/tenants-gen.ts';

const int = (value: string | undefined, fallback: number) =>
  value && Number.isFinite(Number(value)) ? Math.trunc(Number(value)) : fallback;
const log = (message: string) => process.stderr.write(`[bench:tenants] ${message}\n`);

export interface SweepConfig {
  counts: number[];
  runs: number;
  prefetch: Array<'on' | 'off'>;
  rttMs: number;
  productRoot: string;
}

export function sweepConfig(env: Readonly<Record<string, string | undefined>> = process.env): SweepConfig {
  const counts = (env.BENCH_SWEEP_COUNTS ?? '1,10,100,1000')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const prefetch = (env.BENCH_SWEEP_PREFETCH ?? 'on,off')
    .split(',')
    .filter((p): p is 'on' | 'off' => p === 'on' || p === 'off');
  return {
    counts: [...new Set(counts)].sort((a, b) => a - b),
    runs: Math.max(1, int(env.BENCH_SWEEP_RUNS, 9)),
    prefetch: prefetch.length ? [...new Set(prefetch)] : ['on', 'off'],
    rttMs: Math.max(0, int(env.BENCH_UPSTREAM_RTT_MS, 20)),
    productRoot: productRoot(env),
  };
}

export interface SweepCell {
  tenants: number;
  prefetch: 'on' | 'off';
  runs: number;
  coldMs: number;
  coldP90Ms: number;
  firstRequestMs: number;
  importMs: number;
  jwksFetches: number;
  jwksFetchesMax: number;
  secretsReads: number;
  secretsReadsMax: number;
  peakRssMb: number;
  samples: Array<{
    tenant: number;
    coldMs: number;
    importMs: number;
    firstRequestMs: number;
    jwks: number;
    secrets: number;
    peakRssMb: number;
  }>;
}

export interface SweepResult {
  productRoot: string;
  productTree: string;
  rttMs: number;
  runs: number;
  bundleBytes: Record<string, number>;
  cells: SweepCell[];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function runTenantSweep(opts: {
  standIns: FleetStandIns;
  workDir: string;
  config: SweepConfig;
}): Promise<SweepResult> {
  const { standIns, workDir, config } = opts;
  mkdirSync(workDir, { recursive: true });
  const maxCount = Math.max(...config.counts);
  await standIns.seed(sweepSecretIds(maxCount));
  const bundles = new Map<number, string>();
  const bundleBytes: Record<string, number> = {};
  for (const count of config.counts) {
    const file = generateTenantsFile(count, standIns.issuersUrl);
    // The schema this checkout ships accepts it; the product tree's build and cold start check it again.
    validateTenantsFile(file, `generated ${count} tenants`);
    const tenantsFile = join(workDir, `tenants-${count}.json`);
    writeFileSync(tenantsFile, JSON.stringify(file));
    log(`building the product from ${config.productRoot} with ${count} tenant(s)`);
    const handlerFile = buildProductBundle(config.productRoot, join(workDir, `product-${count}`), tenantsFile);
    bundles.set(count, handlerFile);
    bundleBytes[String(count)] = statSync(handlerFile).size;
  }

  const env = lambdaEnv(standIns);
  const once = async (
    count: number,
    prefetch: 'on' | 'off',
  ): Promise<{ tenant: number; cold: ColdStart; calls: FleetCounters }> => {
    // A random tenant, a new user: nothing of a previous run can help this cold start.
    const tenant = Math.floor(Math.random() * count);
    const [token] = await standIns.mint([
      {
        issuer: tenant,
        claims: {
          sub: `sweep-user-${Math.random().toString(36).slice(2)}`,
          aud: tenantAudience(tenant),
          email: 'sweep.user@example.com',
          email_verified: true,
        },
      },
    ]);
    await standIns.reset();
    const cold = await coldInvoke(
      `${count} tenants, prefetch ${prefetch}`,
      bundles.get(count)!,
      { ...env, INIT_PREFETCH: prefetch },
      token!,
      tenantOrigin(tenant),
    );
    return { tenant, cold, calls: await standIns.counters() };
  };

  await standIns.setUpstreamLatency(config.rttMs);
  const samples = new Map<string, SweepCell['samples']>();
  try {
    // One discarded pass: the first start of each bundle pays for reading it from disk.
    for (const count of config.counts) await once(count, config.prefetch[0]!);
    const schedule = sweepSchedule(config.runs, config.counts, config.prefetch);
    log(
      `${schedule.length} cold starts (${config.runs} per count and prefetch setting, interleaved), ${config.rttMs} ms JWKS and Secrets Manager round trips`,
    );
    for (const { count, prefetch } of schedule) {
      const { tenant, cold, calls } = await once(count, prefetch);
      const key = `${count}/${prefetch}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key)!.push({
        tenant,
        coldMs: round(cold.totalMs),
        importMs: round(cold.importMs),
        firstRequestMs: round(cold.firstInvokeMs),
        jwks: calls.jwks,
        secrets: calls.secrets,
        peakRssMb: round(cold.peakRssKb / 1024, 1),
      });
    }
  } finally {
    await standIns.setUpstreamLatency(0);
    await standIns.reset();
  }

  const cells: SweepCell[] = [];
  for (const count of config.counts) {
    for (const prefetch of config.prefetch) {
      const s = samples.get(`${count}/${prefetch}`) ?? [];
      const sortedCold = s.map((x) => x.coldMs).sort((a, b) => a - b);
      cells.push({
        tenants: count,
        prefetch,
        runs: s.length,
        coldMs: median(sortedCold),
        coldP90Ms: sortedCold[Math.max(0, Math.ceil(0.9 * sortedCold.length) - 1)] ?? Number.NaN,
        firstRequestMs: median(s.map((x) => x.firstRequestMs)),
        importMs: median(s.map((x) => x.importMs)),
        jwksFetches: median(s.map((x) => x.jwks)),
        jwksFetchesMax: Math.max(...s.map((x) => x.jwks)),
        secretsReads: median(s.map((x) => x.secrets)),
        secretsReadsMax: Math.max(...s.map((x) => x.secrets)),
        peakRssMb: median(s.map((x) => x.peakRssMb)),
        samples: s,
      });
    }
  }
  return {
    productRoot: config.productRoot,
    productTree: describeTree(config.productRoot),
    rttMs: config.rttMs,
    runs: config.runs,
    bundleBytes,
    cells,
  };
}

/** The sweep as Markdown: one row per tenant count and prefetch setting. */
export function sweepMarkdown(r: SweepResult): string {
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const lines = [
    `Product tree ${r.productRoot} (${r.productTree}); ${r.runs} cold starts per row, interleaved; JWKS and Secrets Manager answer after ${r.rttMs} ms; a random tenant's new user each time. Medians.`,
    '',
    '| tenants | prefetch | spawn → first token (ms) | p90 (ms) | first request, invoke → response (ms) | JWKS fetches per cold start (max) | Secrets Manager reads (max) | peak RSS (MB) | index.mjs (kB) |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.cells.map(
      (c) =>
        `| ${c.tenants.toLocaleString('en-US')} | ${c.prefetch} | ${f(c.coldMs)} | ${f(c.coldP90Ms)} | ${f(c.firstRequestMs)} | ${c.jwksFetches} (${c.jwksFetchesMax}) | ${c.secretsReads} (${c.secretsReadsMax}) | ${f(c.peakRssMb)} | ${f((r.bundleBytes[String(c.tenants)] ?? Number.NaN) / 1000)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const config = sweepConfig();
  const outDir = process.env.BENCH_OUT ?? fileURLToPath(new URL('./results/', import.meta.url));
  const workDir = join(PROJECT_ROOT, 'dist', 'bench', 'tenants');
  mkdirSync(workDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  log('starting the stand-ins (own process): Plaid, Secrets Manager, many issuers');
  const standIns = await startFleetStandIns();
  try {
    const result = await runTenantSweep({ standIns, workDir, config });
    const md = `# Tenant-count sweep (\`npm run bench:tenants\`)\n\nRun of ${startedAt}, Node ${process.version}, load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}.\n\n${sweepMarkdown(result)}`;
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, 'tenants.json'),
      `${JSON.stringify({ startedAt, loadAtStart, node: process.version, ...result }, null, 2)}\n`,
    );
    writeFileSync(join(outDir, 'tenants.md'), md);
    process.stdout.write(md);
  } finally {
    await standIns.close();
  }
}

if (import.meta.main) await main();
