// `npm run bench`'s report: the targets checked against this run's figures, then each stage's
// table. Rendered from the summary alone (bench/results/latest.json), so a committed run can be
// rendered again: `npm run bench -- --render <summary.json>`.
import { serverlessMarkdown, type ServerlessResult } from '../stages/serverless.ts';
import { WARM_TARGETS, type ExpressResult, type WarmTarget } from '../stages/express.ts';
import { sweepMarkdown, type SweepResult } from '../stages/sweep.ts';
import { fmt, keyed, machineLine, mdTable, ratio, type Machine } from './harness.ts';
import { issueTargets, targetsMarkdown } from './targets.ts';

export interface LatestSummary {
  meta: Machine & { productRoot: string; productTree: string };
  config: Record<string, unknown>;
  sweep?: SweepResult;
  serverless?: ServerlessResult;
  express?: ExpressResult;
}

export function targetsOf(r: LatestSummary) {
  const calls = r.express?.warm?.productCalls;
  return issueTargets({
    ...(r.sweep && { sweep: { cells: r.sweep.cells.filter((c) => c.tree === r.sweep!.trees[0]?.name) } }),
    ...(r.serverless?.cold && { serverlessCold: r.serverless.cold }),
    ...(r.serverless?.warm && { serverlessWarm: r.serverless.warm }),
    ...((r.serverless ?? r.express) && { bundleBytes: r.serverless?.bytes.product ?? r.express!.bundle.bytes }),
    ...(calls && { otherWarmProductCalls: calls }),
  });
}

const COLUMNS = ['product', 'peer', 'floor', 'emulator'] as const;

/** The Express comparison's table, its floors, and the notes that say how to read it. */
function expressMarkdown(e: ExpressResult): string[] {
  const rows: string[][] = [];
  type Values = Partial<Record<WarmTarget, number>>;
  const row = (metric: string, v: Values, digits = 2, text: Partial<Record<WarmTarget, string>> = {}) =>
    rows.push([
      metric,
      ...COLUMNS.map((c) => text[c] ?? fmt(v[c], digits)),
      ratio(v.product, v.peer),
      ratio(v.product, v.floor),
    ]);
  row('Bundle, minified (kB)', { product: e.bundle.bytes / 1000 }, 1, {
    peer: `unbundled: ${fmt(e.peerCode.bytes / 1e6, 1)} MB of JS, ${e.peerCode.files} files`,
  });
  row('Bundle, gzipped (kB)', { product: e.bundle.gzipBytes / 1000 }, 1);
  const c = e.cold;
  if (c) {
    row(
      `Cold path, spawn → first token, median of ${c.runs} (ms)`,
      { product: c.product.medianMs, peer: c.peer.medianMs },
      1,
    );
    row('Cold path, p90 (ms)', { product: c.product.p90Ms, peer: c.peer.p90Ms }, 1);
    row(
      'Cold path of the AWS SDK alone, spawn → one secret read, median (ms)',
      { product: c.sdkAloneMs, peer: c.peer.medianMs },
      1,
    );
    if (c.withRtt) {
      row(
        `Cold path with ${c.withRtt.rttMs} ms JWKS and Secrets Manager round trips, prefetch at init on / off, median (ms)`,
        {},
        1,
        {
          product: `${fmt(c.withRtt.prefetchOnMs)} / ${fmt(c.withRtt.prefetchOffMs)}`,
        },
      );
    }
  }
  const nodeHttp = Object.entries(e.clients ?? {}).find(([name]) => name.startsWith('node:http'))?.[1];
  const floors: string[] = [];
  if (c) {
    floors.push(
      `cold path, product/peer (median): floor of the stack ${fmt(c.sdkAloneMs / c.peer.medianMs, 3)} ratio (Node + the AWS SDK reading one secret: ${fmt(c.sdkAloneMs)} ms against the peer's ${fmt(c.peer.medianMs)} ms)`,
    );
  }
  for (const [key, run] of Object.entries(e.warm?.runs ?? {})) {
    const at = `c=${key.slice(1)}`;
    const pick = (f: (x: (typeof run)[WarmTarget]) => number): Values => keyed(WARM_TARGETS, (t) => f(run[t]));
    row(
      `Warm ${at}: requests/s`,
      pick((x) => x.rps),
      0,
    );
    row(
      `Warm ${at}: p50 latency (ms)`,
      pick((x) => x.p50Ms),
      3,
    );
    row(
      `Warm ${at}: p99 latency (ms)`,
      pick((x) => x.p99Ms),
      3,
    );
    row(
      `Warm ${at}: CPU per request (ms)`,
      pick((x) => x.cpuMsPerRequest),
      3,
    );
    row(`Warm ${at}: handler duration p50, what Lambda bills (ms)`, { product: run.product.handlerP50Ms }, 3);
    const floorP50 = run.floor.p50Ms;
    if (key === 'c1') {
      const over = (x: number) => x - floorP50;
      row(
        `Warm ${at}: p50 added over the floor (ms)`,
        { product: over(run.product.p50Ms), peer: over(run.peer.p50Ms), emulator: over(run.emulator.p50Ms) },
        3,
      );
      row(
        `Warm ${at}: handler duration p50 − floor p50 (ms)`,
        { product: over(run.product.handlerP50Ms ?? Number.NaN) },
        3,
      );
    }
    const call = nodeHttp?.[key as 'c1' | 'c32'];
    if (!call) continue;
    const cpu = run.emulator.cpuMsPerRequest + call.cpuMsPerCall;
    floors.push(
      `CPU per warm request at ${at}, product/peer (whole process, emulator included): floor of the stack ${fmt(cpu / run.peer.cpuMsPerRequest, 3)} ratio (emulator alone ${fmt(run.emulator.cpuMsPerRequest, 3)} ms + one Plaid call through node:http ${fmt(call.cpuMsPerCall, 3)} ms = ${fmt(cpu, 3)} ms of CPU against the peer's ${fmt(run.peer.cpuMsPerRequest, 3)} ms)`,
    );
    if (key === 'c1') {
      floors.push(
        `p50 latency added over the floor at c=1 (through the local API Gateway emulator): floor of the stack ${fmt(run.emulator.p50Ms + call.msPerCall - floorP50, 3)} ms (emulator alone p50 ${fmt(run.emulator.p50Ms, 3)} ms + one Plaid call through node:http ${fmt(call.msPerCall, 3)} ms − floor p50 ${fmt(floorP50, 3)} ms: the product's own hop plus its Plaid call, before any JWT check or logging)`,
        `the same, function only (handler duration p50 − floor p50): floor of the stack ${fmt(call.msPerCall - floorP50, 3)} ms (one Plaid call through node:http ${fmt(call.msPerCall, 3)} ms − floor p50 ${fmt(floorP50, 3)} ms, before any JWT check or logging)`,
      );
    }
  }
  // The floor's process also holds the other stand-ins and every request they recorded: not comparable.
  const w = e.warm;
  if (w)
    row(
      'Peak RSS, warm server (MB)',
      { product: w.peakRssMb.product, peer: w.peakRssMb.peer, emulator: w.peakRssMb.emulator },
      1,
    );
  if (c)
    row('Peak RSS, cold process after first token (MB)', { product: c.product.peakRssMb, peer: c.peer.peakRssMb }, 1);
  if (w) {
    row('Warm: Secrets Manager calls / JWKS fetches', {}, 0, {
      product: `${w.productCalls.secrets} / ${w.productCalls.jwks} in ${w.productCalls.requests} requests`,
      peer: 'n/a (no auth, keys in env)',
    });
  }
  const header = [
    '',
    'product',
    'peer (Express + plaid SDK)',
    'floor (Plaid stand-in)',
    'emulator only',
    'product/peer',
    'product/floor',
  ];
  const notes = [
    ...(c
      ? [
          `Cold product, medians: Node boot ${fmt(c.product.nodeBootMs)} ms, import + init ${fmt(c.product.importMs)} ms, first invocation ${fmt(c.product.firstInvokeMs)} ms (${c.product.jwks} JWKS fetch, ${c.product.secrets} Secrets Manager reads, ${c.product.plaid} Plaid call).`,
          `Cold peer, medians: spawn → listening ${fmt(c.peer.startToListenMs)} ms, first request ${fmt(c.peer.firstRequestMs)} ms.`,
        ]
      : []),
    "The peer is Plaid's quickstart pattern as Plaid ships it: no caller authentication, keys from the environment, the response pretty-printed to stdout. The product verifies an RS256 JWT on every request (256 distinct users' tokens, cycled), derives an HMAC client_user_id, logs JSON lines, and reads its keys from Secrets Manager on a cold start.",
    'Product warm figures go through the local API Gateway emulator (local/server.ts), in the same process, so its HTTP work counts in the product\'s CPU; "emulator only" is that emulator answering a canned token without the function. Floor = the Plaid stand-in called directly (its process\'s CPU).',
    'Handler duration = time inside handler(event, context) per invocation, measured in the product process: what Lambda reports and bills as Duration.',
    'Latency percentiles are per response at sub-millisecond precision (autocannon response times); CPU is utime+stime of the server process from /proc (10 ms ticks) over the measured run. Loopback on a shared 2-vCPU VM: every wake-up of another process costs tens of µs, for every column alike.',
  ];
  const contributors = e.bundle.contributors.map((x) => [
    x.name,
    String(x.bytes),
    `${fmt((x.bytes / e.bundle.bytes) * 100, 1)}%`,
    x.executedShare === undefined ? '—' : `${fmt(x.executedShare * 100, 0)}%`,
    x.lazy ? 'lazy' : 'eager',
    x.via.join(' ← ') || '(entry)',
    x.why,
  ]);
  const alt = e.alternatives;
  return [
    '## Express peer, emulator and Plaid stand-in (information, no targets)',
    '',
    'The earlier comparison, kept as information: the product behind the local API Gateway emulator against a Plaid quickstart-style Express server, at concurrency 1 and 32. Not a Lambda scenario (an execution environment serves one request at a time), so it carries no target.',
    '',
    mdTable(header, rows),
    '',
    ...(floors.length ? ['Floors of that comparison (same run):', '', ...floors.map((l) => `- ${l}`), ''] : []),
    '## Notes',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    '## Bundle contributors',
    '',
    `${fmt(e.bundle.bytes / 1000)} kB minified, ${fmt(e.bundle.gzipBytes / 1000)} kB gzipped. "Ran at cold start": share of the contributor's bytes that V8 executed during import and the first request. "lazy": reached only through import()/require(), evaluated on first use.`,
    '',
    mdTable(
      ['contributor', 'bytes', 'share', 'ran at cold start', 'init', 'pulled in by', 'why it is there'],
      contributors,
    ),
    '',
    ...(e.clients
      ? [
          '## HTTP clients',
          '',
          "The product's Plaid call through each candidate client, against the Plaid stand-in: CPU of the calling process per call, sequential (c=1) and 32 at a time.",
          '',
          mdTable(
            ['Plaid call through', 'CPU/call, c=1 (ms)', 'latency, c=1 (ms)', 'CPU/call, c=32 (ms)', 'calls/s, c=32'],
            Object.entries(e.clients).map(([name, f]) => [
              name,
              fmt(f.c1.cpuMsPerCall, 3),
              fmt(f.c1.msPerCall, 3),
              fmt(f.c32.cpuMsPerCall, 3),
              fmt(f.c32.callsPerSecond, 0),
            ]),
          ),
          '',
        ]
      : []),
    ...(alt?.length
      ? [
          '## Secrets Manager client',
          '',
          `One GetSecretValue in a fresh process (import, then the first read; median of 7) over ${alt[0]!.transport} (a TLS front on loopback, as production is https), each bundled with the deploy's esbuild settings.`,
          '',
          mdTable(
            ['GetSecretValue through', 'bundle (kB)', 'gzipped (kB)', 'cold import (ms)', 'first read (ms)'],
            alt.map((a) => [a.name, fmt(a.bytes / 1000), fmt(a.gzipBytes / 1000), fmt(a.importMs), fmt(a.firstReadMs)]),
          ),
          '',
        ]
      : []),
  ];
}

export function latestMarkdown(r: LatestSummary): string {
  return [
    '# Benchmark: latest run',
    '',
    `Machine: ${machineLine(r.meta)}.`,
    '',
    'Rerun: `npm run bench` (writes bench/results/latest.json and this file; see bench/README.md).',
    '',
    '## Targets',
    '',
    'Ratios within this run; the machine is shared, so each figure is a median of interleaved runs.',
    '',
    targetsMarkdown(targetsOf(r)),
    '',
    ...(r.serverless
      ? [
          '## Product, serverless peer and stack floor',
          '',
          "Cold: a fresh process imports the handler and invokes it once with an API Gateway v2 event (spawn → response), the JWKS and each Secrets Manager read answering after the round trip; interleaved. Warm: the handler invoked in process one request at a time, as Lambda runs it, 256 users' tokens; CPU per invocation from process.cpuUsage around each batch; batches interleaved. Peer: bench/contenders/peer-handler.ts (aws-jwt-verify, @aws-sdk/client-secrets-manager cached in module scope, the plaid SDK); CDK default build = CommonJS, not minified, @aws-sdk/* and @smithy/* left to node_modules as to the runtime; tuned = one minified ES module with everything. Floor: bench/contenders/floor-handler.ts with the product's bundling (one secret read with the SDK, one keep-alive node:http POST of a fixed body, its JSON read).",
          '',
          `Product tree: ${r.meta.productRoot} (${r.meta.productTree}).`,
          '',
          serverlessMarkdown(r.serverless),
        ]
      : []),
    ...(r.sweep ? ['## Tenant-count sweep', '', sweepMarkdown(r.sweep)] : []),
    ...(r.express ? expressMarkdown(r.express) : []),
  ].join('\n');
}
