// Measures the bundled handler the way Lambda runs it, to size the function (memory, timeout)
// and to work out its cost: `npm run measure -- [cold runs] [warm requests]`.
// Each run is a fresh execution environment (bench/runtime/worker.mjs): it imports the bundle
// built by the deploy's own build, serves one cold request (JWKS, both secrets and Plaid fetched)
// and then warm requests (everything cached, Plaid called each time), as built and with source
// maps on. Plaid, Secrets Manager and the identity provider are the stand-ins on loopback,
// answering at once, so the numbers are the function's own work; docs/operations.md adds Plaid's
// latency and the TLS handshakes on top.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProduct, productRoot, PROJECT_ROOT } from './lib/builds.ts';
import { median, percentile, round } from './lib/harness.ts';
import { startWorker, type Batch, type Worker } from './lib/processes.ts';
import { demoTenants, lambdaEnv, linkTokenReq, startStandIns } from './lib/standins.ts';

const coldRuns = Number(process.argv[2] ?? 15);
const warmRequests = Number(process.argv[3] ?? 300);

const standIns = await startStandIns();
try {
  const dir = join(PROJECT_ROOT, 'dist', 'bench', 'measure');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tenants.json'), JSON.stringify(demoTenants(standIns)));
  const { handlerFile } = buildProduct(productRoot(process.env), join(dir, 'asset'), join(dir, 'tenants.json'));
  const [token] = await standIns.mint(['measure-user']);
  const request = linkTokenReq(token!, undefined, { profile: 'default', platform: 'web' });

  const measure = async (label: string, nodeOptions: string) => {
    const runs: Array<{ init: Worker['init']; first: Batch; warm: Batch }> = [];
    for (let run = 0; run < coldRuns; run++) {
      const env = { ...lambdaEnv(standIns), NODE_OPTIONS: nodeOptions, LOG_LEVEL: 'info', BENCH_COUNT_LOG_BYTES: '1' };
      const worker = await startWorker(label, handlerFile, env, 'pipe');
      worker.child.stdout!.resume();
      try {
        const first = await worker.run([request]);
        const warm = await worker.run(Array.from({ length: warmRequests }, () => request));
        runs.push({ init: worker.init, first, warm });
      } finally {
        await worker.close();
      }
    }
    const warm = runs.flatMap((r) => r.warm.wallMs);
    const m = (f: (r: (typeof runs)[number]) => number) => round(median(runs.map(f)), 2);
    return {
      label,
      cold_runs: runs.length,
      import_ms_median: m((r) => r.init.importMs),
      import_ms_max: round(Math.max(...runs.map((r) => r.init.importMs)), 2),
      import_cpu_ms_median: m((r) => r.init.importCpuMs),
      first_request_ms_median: m((r) => r.first.wallMs[0]!),
      first_request_cpu_ms_median: m((r) => r.first.cpuMs),
      warm_requests: warm.length,
      warm_ms_p50: round(median(warm), 2),
      warm_ms_p99: round(percentile(warm, 0.99), 2),
      warm_cpu_ms_per_request: m((r) => r.warm.cpuMs / warmRequests),
      rss_mb_after_init_median: m((r) => r.init.rssMb),
      rss_mb_after_warm_max: Math.max(...runs.map((r) => r.warm.memory.rssMb)),
      heap_used_mb_after_warm_max: Math.max(...runs.map((r) => r.warm.memory.heapUsedMb)),
      function_log_bytes_per_warm_request: m((r) => r.warm.logBytes / warmRequests),
    };
  };
  const report = {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    plain: await measure('bundle as deployed', ''),
    sourceMaps: await measure('with NODE_OPTIONS=--enable-source-maps', '--enable-source-maps'),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  await standIns.close();
}
