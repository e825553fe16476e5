// The benchmark, on loopback only: `node bench/run.ts [suite] [options]`, through the npm scripts.
//   all (npm run bench)                the stages of BENCH_STAGES: the tenant-count sweep, the product
//                                      against the serverless peer and the stack floor (cold, warm), and
//                                      the Express comparison (cold, warm, clients, alternatives)
//   tenants (npm run bench:tenants)    the sweep alone; serverless (npm run bench:serverless) that comparison alone
//   paths (npm run bench:paths)        a baseline commit's build against the current one, route by route
//   trees (npm run bench:tenants:trees -- --tree name=/path[,KEY=VALUE] … [--floor] [--runs n]
//         [--counts 1,10] [--rtt ms])  the sweep of several source trees side by side
//   --render <summary.json>            renders a summary written by an earlier run again
// Each writes <suite>.md and a compact <suite>.json of the summary figures (all: latest.*) into
// BENCH_OUT. Knobs and method: bench/README.md. A benchmark, not a test: it fails only if
// something does not work (a broken answer, a server that does not start), never on a time.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { productRoot, PROJECT_ROOT } from './lib/builds.ts';
import { describeTree, finish, intKnob, listKnob, log, machine, writeResults, type Env } from './lib/harness.ts';
import { latestMarkdown, targetsOf, type LatestSummary } from './lib/report.ts';
import { startStandIns } from './lib/standins.ts';
import { runExpress } from './stages/express.ts';
import { pathsMarkdown, runPaths, type PathsSummary } from './stages/paths.ts';
import { prepareContenders, runServerlessCold, runServerlessWarm } from './stages/serverless.ts';
import { runSweep, sweepMarkdown, type Tree } from './stages/sweep.ts';

const SUITES: Record<string, string> = {
  all: 'tenants,serverless,cold,warm,clients,alternatives',
  tenants: 'tenants',
  serverless: 'serverless',
};
const env: Env = process.env;
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    render: { type: 'string' },
    tree: { type: 'string', multiple: true },
    floor: { type: 'boolean', default: false },
    runs: { type: 'string' },
    counts: { type: 'string' },
    rtt: { type: 'string' },
  },
});
const suite = positionals[0] ?? 'all';
const work = join(PROJECT_ROOT, 'dist', 'bench', suite);
const rttMs = intKnob(
  { ...env, BENCH_UPSTREAM_RTT_MS: values.rtt ?? env.BENCH_UPSTREAM_RTT_MS },
  'BENCH_UPSTREAM_RTT_MS',
  20,
);
const coldRuns = intKnob(env, 'BENCH_COLD_RUNS', 15, 1);
const counts = (values.counts?.split(',') ?? listKnob(env, 'BENCH_SWEEP_COUNTS', '1,10,100,1000'))
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const prefetch = listKnob(env, 'BENCH_SWEEP_PREFETCH', suite === 'trees' ? 'on' : 'on,off').filter(
  (p): p is 'on' | 'off' => p === 'on' || p === 'off',
);
const sweepRuns = values.runs ? Number(values.runs) : intKnob(env, 'BENCH_SWEEP_RUNS', suite === 'trees' ? 7 : 9, 1);

async function main(): Promise<void> {
  if (values.render) {
    const summary = JSON.parse(readFileSync(values.render, 'utf8')) as LatestSummary | PathsSummary;
    const markdown = 'linkTokenCold' in summary ? pathsMarkdown(summary) : latestMarkdown(summary);
    writeFileSync(values.render.replace(/\.json$/, '.md'), markdown);
    return void process.stdout.write(markdown);
  }
  const started = machine();
  const root = productRoot(env);
  if (suite === 'paths') {
    const standIns = await startStandIns({ vault: true });
    try {
      const config = {
        coldRuns,
        warmRounds: intKnob(env, 'BENCH_WARM_ROUNDS', 5, 1),
        warmBatch: intKnob(env, 'BENCH_WARM_BATCH', 300, 10),
        baseline: env.BENCH_BASELINE ?? '6da99b1',
        currentRoot: root,
      };
      const summary = await runPaths(standIns, work, config, started);
      summary.meta = { ...summary.meta, ...finish(started) };
      return writeResults(env, 'paths', pathsMarkdown(summary), summary);
    } finally {
      await standIns.close();
    }
  }
  if (suite === 'trees') {
    const trees: Tree[] = (values.tree ?? [`this=${root}`]).map((spec) => {
      const [head, ...settings] = spec.split(',');
      const [name, path] = head!.split('=') as [string, string];
      return {
        name,
        root: resolve(path),
        env: Object.fromEntries(settings.map((kv) => kv.split('=') as [string, string])),
      };
    });
    const standIns = await startStandIns({ keyPool: intKnob(env, 'BENCH_ISSUER_KEY_POOL', 16, 1) });
    try {
      const sweep = await runSweep(standIns, work, {
        trees,
        counts,
        runs: sweepRuns,
        prefetch,
        rttMs,
        floor: values.floor ?? false,
      });
      return writeResults(
        env,
        'trees',
        `# Tenant-count sweep of several trees\n\nRun of ${started.startedAt}.\n\n${sweepMarkdown(sweep)}`,
        { meta: finish(started), sweep },
      );
    } finally {
      await standIns.close();
    }
  }
  if (!SUITES[suite]) throw new Error(`unknown suite ${suite}: all, tenants, serverless, paths or trees`);
  const stages = new Set(
    listKnob(env, 'BENCH_STAGES', SUITES[suite]).flatMap((s) =>
      s === 'serverless' ? ['serverless-cold', 'serverless-warm'] : [s],
    ),
  );
  const config = {
    stages: [...stages],
    coldRuns,
    upstreamRttMs: rttMs,
    sweep: { counts, runs: sweepRuns, prefetch },
    warmRounds: intKnob(env, 'BENCH_WARM_ROUNDS', 7, 1),
    warmBatch: intKnob(env, 'BENCH_WARM_BATCH', 300, 10),
    express: {
      warmSeconds: intKnob(env, 'BENCH_WARM_SECONDS', 5, 1),
      warmupSeconds: intKnob(env, 'BENCH_WARMUP_SECONDS', 1),
      concurrency: listKnob(env, 'BENCH_CONCURRENCY', '1,32')
        .map(Number)
        .filter((n) => n > 0),
      rounds: intKnob(env, 'BENCH_ROUNDS', 3, 1),
    },
  };
  log('starting the stand-ins (own process)');
  const standIns = await startStandIns({ keyPool: intKnob(env, 'BENCH_ISSUER_KEY_POOL', 16, 1) });
  try {
    const summary: LatestSummary = { meta: { ...started, productRoot: root, productTree: describeTree(root) }, config };
    if (stages.has('tenants')) {
      summary.sweep = await runSweep(standIns, join(work, 'tenants'), {
        trees: [{ name: 'product', root }],
        counts,
        runs: sweepRuns,
        prefetch,
        rttMs,
        floor: false,
      });
    }
    if (stages.has('serverless-cold') || stages.has('serverless-warm')) {
      const contenders = await prepareContenders(standIns, join(work, 'serverless'), root);
      summary.serverless = {
        bytes: contenders.bytes,
        ...(stages.has('serverless-cold') && { cold: await runServerlessCold(standIns, contenders, coldRuns, rttMs) }),
        ...(stages.has('serverless-warm') && {
          warm: await runServerlessWarm(standIns, contenders, config.warmRounds, config.warmBatch),
        }),
      };
    }
    if (['cold', 'warm', 'clients', 'alternatives'].some((s) => stages.has(s))) {
      summary.express = await runExpress(standIns, root, join(work, 'express'), {
        ...config.express,
        coldRuns,
        rttMs,
        stages,
      });
    }
    summary.meta = { ...summary.meta, ...finish(started) };
    writeResults(env, suite === 'all' ? 'latest' : suite, latestMarkdown(summary), {
      ...summary,
      targets: targetsOf(summary),
    });
  } finally {
    await standIns.close();
  }
}

await main();
