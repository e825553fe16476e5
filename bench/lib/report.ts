// Turns the benchmark's measurements into one table (terminal and Markdown), the ratios
// product/peer and product/floor, and the issue's targets checked against them.
import type { BundleReport } from './bundle.ts';
import type { LoadResult } from './load.ts';
import { issueTargets, targetsMarkdown, type TargetCheck } from './targets.ts';
import type { SweepResult } from '../tenants.ts';
import { serverlessMarkdown, type ColdFigures, type Contenders, type WarmFigures } from '../serverless.ts';
import { sweepMarkdown } from '../tenants.ts';

type Summary = { median: number; min: number; max: number; p90: number };
export type DurationStats = { count: number; p50: number; p90: number; p99: number; mean: number };
export type WarmRun = LoadResult & {
  upstreamCalls: Upstream;
  handlerDurationMs?: DurationStats;
  rounds?: Array<{ rps: number; p50Ms: number; p99Ms: number; cpuMsPerRequest: number; handlerP50Ms?: number }>;
  requestsAllRounds?: number;
  upstreamCallsAllRounds?: Upstream;
};
type Upstream = { plaid: number; secrets: number; jwks: number };
type TargetName = 'product' | 'peer' | 'floor' | 'emulator';

export interface Results {
  meta: {
    startedAt: string;
    finishedAt?: string;
    node: string;
    nproc: number;
    cpuModel: string;
    kernel: string;
    memTotalMb: number;
    loadAvgAtStart: number[];
    loadAvgAtEnd?: number[];
  };
  config: Record<string, unknown>;
  bundle: BundleReport;
  peerCode: { bytes: number; files: number };
  cold?: {
    runs: number;
    product: {
      totalMs: Summary;
      phases: Record<string, Summary>;
      peakRssKb: number;
      upstreamCallsPerStart: Upstream;
      samplesMs: number[];
    };
    peer: { totalMs: Summary; phases: Record<string, Summary>; peakRssKb: number; samplesMs: number[] };
    /** The product's Secrets Manager reader alone (AWS SDK bare client), spawn → one secret read. */
    sdkAlone?: { totalMs: Summary; samplesMs: number[] };
    /** The product's cold path with a round trip added to the JWKS and Secrets Manager, prefetch at init on and off. */
    withUpstreamRtt?: { rttMs: number; prefetchOn: Summary; prefetchOff: Summary };
  };
  warm?: {
    runs: Record<string, Record<TargetName, WarmRun>>;
    peakRssKb: Record<TargetName, number>;
  };
  clients?: Record<string, Record<'c1' | 'c32', { cpuMsPerCall: number; msPerCall: number; callsPerSecond: number }>>;
  alternatives?: Array<{
    name: string;
    transport: 'https' | 'http';
    bytes: number;
    gzipBytes: number;
    importMs: number;
    firstReadMs: number;
  }>;
  /** The tenant-count sweep (bench/tenants.ts). */
  tenants?: SweepResult;
  /** Product, serverless peer (two builds) and stack floor (bench/serverless.ts). */
  serverless?: {
    productRoot: string;
    productTree: string;
    bytes: Contenders['bytes'];
    cold?: ColdFigures;
    warm?: WarmFigures;
  };
}

/** Issue 13's targets, from the stages of this run that measured them. */
export function targets(r: Results): TargetCheck[] {
  const warmProduct = Object.values(r.warm?.runs ?? {}).map((run) => run.product);
  return issueTargets({
    ...(r.tenants ? { sweep: r.tenants } : {}),
    ...(r.serverless?.cold ? { serverlessCold: r.serverless.cold } : {}),
    ...(r.serverless?.warm ? { serverlessWarm: r.serverless.warm } : {}),
    // The product tree's own index.mjs when the comparison built one (BENCH_PRODUCT_ROOT), else this checkout's.
    bundleBytes: r.serverless?.bytes.product ?? r.bundle.bytes,
    ...(warmProduct.length
      ? {
          otherWarmProductCalls: {
            secrets: sum(warmProduct.map((p) => (p.upstreamCallsAllRounds ?? p.upstreamCalls).secrets)),
            jwks: sum(warmProduct.map((p) => (p.upstreamCallsAllRounds ?? p.upstreamCalls).jwks)),
            requests: sum(warmProduct.map((p) => p.requestsAllRounds ?? p.requests)),
          },
        }
      : {}),
  });
}

export interface StackFloor {
  /** The target this floor bounds, as targets() names it. */
  target: string;
  value: number;
  unit: 'ratio' | 'ms';
  /** What was added up, all measured in this run. */
  made_of: string;
}

const PRODUCT_CLIENT_PREFIX = 'node:http';

/**
 * The least any product built this way could score on a target, from parts measured in the
 * same run: Node plus the AWS SDK reading one secret (cold), the local API Gateway emulator
 * answering without the function plus one Plaid call through the product's HTTP client (warm).
 * A floor above a target's limit means no code of ours can meet that target with this stack.
 */
export function stackFloors(r: Results): StackFloor[] {
  const floors: StackFloor[] = [];
  if (r.cold?.sdkAlone) {
    floors.push({
      target: 'cold path, product/peer (median)',
      value: round(r.cold.sdkAlone.totalMs.median / r.cold.peer.totalMs.median, 4),
      unit: 'ratio',
      made_of: `Node + the AWS SDK reading one secret: ${fmt(r.cold.sdkAlone.totalMs.median, 1)} ms against the peer's ${fmt(r.cold.peer.totalMs.median, 1)} ms`,
    });
  }
  const client = Object.entries(r.clients ?? {}).find(([name]) => name.startsWith(PRODUCT_CLIENT_PREFIX))?.[1];
  for (const [key, run] of Object.entries(r.warm?.runs ?? {})) {
    const call = client?.[key as 'c1' | 'c32'];
    if (!call) continue;
    const cpu = run.emulator.cpuMsPerRequest + call.cpuMsPerCall;
    floors.push({
      target: `CPU per warm request at ${label(key)}, product/peer (whole process, emulator included)`,
      value: round(cpu / run.peer.cpuMsPerRequest, 4),
      unit: 'ratio',
      made_of: `emulator alone ${fmt(run.emulator.cpuMsPerRequest, 3)} ms + one Plaid call through node:http ${fmt(call.cpuMsPerCall, 3)} ms = ${fmt(cpu, 3)} ms of CPU against the peer's ${fmt(run.peer.cpuMsPerRequest, 3)} ms`,
    });
    if (key === 'c1') {
      floors.push({
        target: 'p50 latency added over the floor at c=1 (through the local API Gateway emulator)',
        value: round(run.emulator.latencyMs.p50 + call.msPerCall - run.floor.latencyMs.p50, 4),
        unit: 'ms',
        made_of: `emulator alone p50 ${fmt(run.emulator.latencyMs.p50, 3)} ms + one Plaid call through node:http ${fmt(call.msPerCall, 3)} ms − floor p50 ${fmt(run.floor.latencyMs.p50, 3)} ms: the product's own hop plus its Plaid call, before any JWT check or logging`,
      });
      floors.push({
        target: '  the same, function only (handler duration p50 − floor p50)',
        value: round(call.msPerCall - run.floor.latencyMs.p50, 4),
        unit: 'ms',
        made_of: `one Plaid call through node:http ${fmt(call.msPerCall, 3)} ms − floor p50 ${fmt(run.floor.latencyMs.p50, 3)} ms, before any JWT check or logging`,
      });
    }
  }
  return floors;
}

const COLUMNS: readonly TargetName[] = ['product', 'peer', 'floor', 'emulator'];

export function renderReport(r: Results): { text: string; markdown: string; json: unknown } {
  const rows: string[][] = [];
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || !b ? '' : fmt(a / b, 3);
  type Values = Partial<Record<TargetName, number>>;
  const row = (metric: string, values: Values, digits = 2, text: Partial<Record<TargetName, string>> = {}) =>
    rows.push([
      metric,
      ...COLUMNS.map((c) => text[c] ?? (values[c] === undefined ? '—' : fmt(values[c]!, digits))),
      ratio(values.product, values.peer),
      ratio(values.product, values.floor),
    ]);

  row('Bundle, minified (kB)', { product: r.bundle.bytes / 1000 }, 1, {
    peer: `unbundled: ${fmt(r.peerCode.bytes / 1e6, 1)} MB of JS, ${r.peerCode.files} files`,
  });
  row('Bundle, gzipped (kB)', { product: r.bundle.gzipBytes / 1000 }, 1);
  if (r.cold) {
    row(
      `Cold path, spawn → first token, median of ${r.cold.runs} (ms)`,
      { product: r.cold.product.totalMs.median, peer: r.cold.peer.totalMs.median },
      1,
    );
    row('Cold path, p90 (ms)', { product: r.cold.product.totalMs.p90, peer: r.cold.peer.totalMs.p90 }, 1);
    if (r.cold.sdkAlone) {
      row(
        'Cold path of the AWS SDK alone, spawn → one secret read, median (ms)',
        { product: r.cold.sdkAlone.totalMs.median, peer: r.cold.peer.totalMs.median },
        1,
      );
    }
    const rtt = r.cold.withUpstreamRtt;
    if (rtt) {
      row(
        `Cold path with ${rtt.rttMs} ms JWKS and Secrets Manager round trips, prefetch at init on / off, median (ms)`,
        {},
        1,
        {
          product: `${fmt(rtt.prefetchOn.median, 1)} / ${fmt(rtt.prefetchOff.median, 1)}`,
        },
      );
    }
  }
  for (const [key, run] of Object.entries(r.warm?.runs ?? {})) {
    const c = label(key);
    const pick = (f: (x: WarmRun) => number) => Object.fromEntries(COLUMNS.map((n) => [n, f(run[n])])) as Values;
    row(
      `Warm ${c}: requests/s`,
      pick((x) => x.rps),
      0,
    );
    row(
      `Warm ${c}: p50 latency (ms)`,
      pick((x) => x.latencyMs.p50),
      3,
    );
    row(
      `Warm ${c}: p99 latency (ms)`,
      pick((x) => x.latencyMs.p99),
      3,
    );
    row(
      `Warm ${c}: CPU per request (ms)`,
      pick((x) => x.cpuMsPerRequest),
      3,
    );
    if (run.product.handlerDurationMs) {
      row(`Warm ${c}: handler duration p50, what Lambda bills (ms)`, { product: run.product.handlerDurationMs.p50 }, 3);
    }
    if (key === 'c1') {
      row(
        `Warm ${c}: p50 added over the floor (ms)`,
        {
          product: run.product.latencyMs.p50 - run.floor.latencyMs.p50,
          peer: run.peer.latencyMs.p50 - run.floor.latencyMs.p50,
          emulator: run.emulator.latencyMs.p50 - run.floor.latencyMs.p50,
        },
        3,
      );
      if (run.product.handlerDurationMs) {
        row(
          `Warm ${c}: handler duration p50 − floor p50 (ms)`,
          { product: run.product.handlerDurationMs.p50 - run.floor.latencyMs.p50 },
          3,
        );
      }
    }
  }
  // The floor's process also holds the other stand-ins and every request they recorded: not comparable.
  if (r.warm)
    row(
      'Peak RSS, warm server (MB)',
      {
        product: r.warm.peakRssKb.product / 1024,
        peer: r.warm.peakRssKb.peer / 1024,
        emulator: r.warm.peakRssKb.emulator / 1024,
      },
      1,
    );
  if (r.cold)
    row(
      'Peak RSS, cold process after first token (MB)',
      { product: r.cold.product.peakRssKb / 1024, peer: r.cold.peer.peakRssKb / 1024 },
      1,
    );
  if (r.warm) {
    const warmProduct = Object.values(r.warm.runs).map((run) => run.product);
    row('Warm: Secrets Manager calls / JWKS fetches', {}, 0, {
      product: `${sum(warmProduct.map((p) => (p.upstreamCallsAllRounds ?? p.upstreamCalls).secrets))} / ${sum(warmProduct.map((p) => (p.upstreamCallsAllRounds ?? p.upstreamCalls).jwks))} in ${sum(warmProduct.map((p) => p.requestsAllRounds ?? p.requests))} requests`,
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

  const checks = targets(r);
  const checkLines = checks.map(
    (c) =>
      `${c.met === null ? '[ ]' : c.met ? '[x]' : '[!]'} ${c.target}: ${c.value === null ? 'not measured' : fmt(c.value, c.unit === 'ratio' ? 3 : c.unit === 'MB' ? 1 : 0)} ${c.unit} (target ≤ ${c.limit})${c.met === false ? '  NOT MET' : ''}${c.value === null ? '' : ` — ${c.detail}`}`,
  );
  // The Express comparison's floors, kept as information: its targets were superseded by issue 13's.
  const floors = stackFloors(r);
  const floorLines = floors.map(
    (f) => `${f.target.trim()}: floor of the stack ${fmt(f.value, 3)} ${f.unit} (${f.made_of})`,
  );
  const sweepSection = r.tenants ? sweepMarkdown(r.tenants) : '';
  const serverlessSection = r.serverless ? serverlessMarkdown(r.serverless, r.serverless.cold, r.serverless.warm) : '';

  const notes: string[] = [];
  if (r.cold) {
    const p = r.cold.product;
    const q = r.cold.peer;
    notes.push(
      `Cold product, medians: Node boot ${fmt(p.phases.nodeBootMs!.median, 1)} ms, import + init ${fmt(p.phases.importInitMs!.median, 1)} ms, first invocation ${fmt(p.phases.firstInvokeMs!.median, 1)} ms ` +
        `(${p.upstreamCallsPerStart.jwks} JWKS fetch, ${p.upstreamCallsPerStart.secrets} Secrets Manager reads, ${p.upstreamCallsPerStart.plaid} Plaid call).`,
      `Cold peer, medians: spawn → listening ${fmt(q.phases.startToListenMs!.median, 1)} ms, first request ${fmt(q.phases.firstRequestMs!.median, 1)} ms.`,
    );
  }
  notes.push(
    "The peer is Plaid's quickstart pattern as Plaid ships it: no caller authentication, keys from the environment, the response pretty-printed to stdout. The product verifies an RS256 JWT on every request (256 distinct users' tokens, cycled), derives an HMAC client_user_id, logs JSON lines, and reads its keys from Secrets Manager on a cold start.",
    'Product warm figures go through the local API Gateway emulator (local/server.ts), in the same process, so its HTTP work counts in the product\'s CPU; "emulator only" is that emulator answering a canned token without the function. Floor = the Plaid stand-in called directly (its process\'s CPU).',
    'Handler duration = time inside handler(event, context) per invocation, measured in the product process: what Lambda reports and bills as Duration.',
    'Latency percentiles are per response at sub-millisecond precision (autocannon response times); CPU is utime+stime of the server process from /proc (10 ms ticks) over the measured run. Loopback on a shared 2-vCPU VM: every wake-up of another process costs tens of µs, for every column alike.',
  );

  const contributorRows = r.bundle.contributors.map((c) => [
    c.name,
    String(c.bytes),
    `${fmt(c.share * 100, 1)}%`,
    c.executedShare === undefined ? '—' : `${fmt(c.executedShare * 100, 0)}%`,
    c.lazy ? 'lazy' : 'eager',
    c.via.join(' ← ') || '(entry)',
    c.why,
  ]);
  const contributorHeader = [
    'contributor',
    'bytes',
    'share',
    'ran at cold start',
    'init',
    'pulled in by',
    'why it is there',
  ];

  const clientHeader = [
    'Plaid call through',
    'CPU/call, c=1 (ms)',
    'latency, c=1 (ms)',
    'CPU/call, c=32 (ms)',
    'calls/s, c=32',
  ];
  const clientRows = Object.entries(r.clients ?? {}).map(([name, f]) => [
    name,
    fmt(f.c1.cpuMsPerCall, 3),
    fmt(f.c1.msPerCall, 3),
    fmt(f.c32.cpuMsPerCall, 3),
    fmt(f.c32.callsPerSecond, 0),
  ]);
  const altHeader = ['GetSecretValue through', 'bundle (kB)', 'gzipped (kB)', 'cold import (ms)', 'first read (ms)'];
  const altRows = (r.alternatives ?? []).map((a) => [
    a.name,
    fmt(a.bytes / 1000, 1),
    fmt(a.gzipBytes / 1000, 1),
    fmt(a.importMs, 1),
    fmt(a.firstReadMs, 1),
  ]);
  const choiceText = [
    ...(clientRows.length
      ? [
          '',
          "HTTP clients: the product's Plaid call, sequential (c=1) and 32 at a time, CPU of the calling process",
          plainTable(clientHeader, clientRows),
        ]
      : []),
    ...(altRows.length
      ? [
          '',
          `Secrets Manager: one cold read in a fresh process, over ${r.alternatives![0]!.transport} (median of 7)`,
          plainTable(altHeader, altRows),
        ]
      : []),
  ];
  const choiceMarkdown = [
    ...(clientRows.length
      ? [
          '## HTTP clients',
          '',
          "The product's Plaid call through each candidate client, against the Plaid stand-in: CPU of the calling process per call, sequential (c=1) and 32 at a time.",
          '',
          mdTable(clientHeader, clientRows),
          '',
        ]
      : []),
    ...(altRows.length
      ? [
          '## Secrets Manager client',
          '',
          `One GetSecretValue in a fresh process (import, then the first read; median of 7) over ${r.alternatives![0]!.transport} (a TLS front on loopback, as production is https), each bundled with the deploy's esbuild settings.`,
          '',
          mdTable(altHeader, altRows),
          '',
        ]
      : []),
  ];

  const m = r.meta;
  const machineLine = `${m.startedAt}: ${m.nproc} × ${m.cpuModel}, ${Math.round(m.memTotalMb / 1024)} GB, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.loadAvgAtStart.map((n) => n.toFixed(2)).join(' ')}`;

  const text = [
    '',
    `Benchmark — ${machineLine}`,
    '',
    ...(serverlessSection
      ? ['Serverless: product, serverless peer (CDK default build, tuned build), stack floor', serverlessSection]
      : []),
    ...(sweepSection ? ['Tenant-count sweep', sweepSection] : []),
    'Targets (issue 13)',
    ...checkLines,
    '',
    'Express peer, emulator and Plaid stand-in (information, no targets)',
    plainTable(header, rows),
    '',
    ...notes.map((n) => `* ${n}`),
    '',
    'Bundle contributors (esbuild metafile; "ran" = share of its bytes executed by init + first request, V8 coverage)',
    plainTable(
      contributorHeader.slice(0, 6),
      contributorRows.map((c, i) => [...c.slice(0, 5), r.bundle.contributors[i]!.via[0] ?? '(entry)']),
    ),
    ...choiceText,
    '',
  ].join('\n');

  const markdown = [
    '# Benchmark: latest run',
    '',
    `Machine: ${machineLine}.`,
    '',
    `Rerun: \`npm run bench\` (writes bench/results/latest.json and this file; see bench/README.md).`,
    '',
    '## Targets (issue 13)',
    '',
    'Ratios within this run; the machine is shared, so each figure is a median of interleaved runs.',
    '',
    targetsMarkdown(checks),
    '',
    ...(serverlessSection
      ? [
          '## Product, serverless peer and stack floor',
          '',
          "Cold: a fresh process imports the handler and invokes it once with an API Gateway v2 event (spawn → response), the JWKS and each Secrets Manager read answering after the round trip; interleaved. Warm: the handler invoked in process one request at a time, as Lambda runs it, 256 users' tokens; CPU per invocation from process.cpuUsage around each batch; batches interleaved. Peer: bench/serverless/peer-handler.ts (aws-jwt-verify, @aws-sdk/client-secrets-manager cached in module scope, the plaid SDK); CDK default build = CommonJS, not minified, @aws-sdk/* and @smithy/* left to node_modules as to the runtime; tuned = one minified ES module with everything. Floor: bench/serverless/floor-handler.ts with the product's bundling (one secret read with the SDK, one keep-alive node:http POST of a fixed body, its JSON read).",
          '',
          `Product tree: ${r.serverless!.productRoot} (${r.serverless!.productTree}).`,
          '',
          serverlessSection,
        ]
      : []),
    ...(sweepSection ? ['## Tenant-count sweep', '', sweepSection] : []),
    '## Express peer, emulator and Plaid stand-in (information, no targets)',
    '',
    'The earlier comparison, kept as information: the product behind the local API Gateway emulator against a Plaid quickstart-style Express server, at concurrency 1 and 32. Not a Lambda scenario (an execution environment serves one request at a time), so it carries no target.',
    '',
    mdTable(header, rows),
    '',
    ...(floorLines.length ? ['Floors of that comparison (same run):', '', ...floorLines.map((l) => `- ${l}`), ''] : []),
    '## Notes',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    '## Bundle contributors',
    '',
    `${fmt(r.bundle.bytes / 1000, 1)} kB minified, ${fmt(r.bundle.gzipBytes / 1000, 1)} kB gzipped. "Ran at cold start": share of the contributor's bytes that V8 executed during import and the first request. "lazy": reached only through import()/require(), evaluated on first use.`,
    '',
    mdTable(contributorHeader, contributorRows),
    '',
    ...choiceMarkdown,
  ].join('\n');

  const json = {
    ...r,
    ratios: ratios(r),
    targets: checks,
    stackFloors: floors,
  };
  return { text, markdown, json };
}

function ratios(r: Results): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const put = (key: string, a: number | undefined, b: number | undefined) => {
    out[key] = a === undefined || b === undefined || !b ? null : round(a / b, 4);
  };
  if (r.cold) put('cold.totalMs.median product/peer', r.cold.product.totalMs.median, r.cold.peer.totalMs.median);
  if (r.cold) put('cold.peakRss product/peer', r.cold.product.peakRssKb, r.cold.peer.peakRssKb);
  for (const [key, run] of Object.entries(r.warm?.runs ?? {})) {
    for (const other of ['peer', 'floor', 'emulator'] as const) {
      put(`warm.${key}.rps product/${other}`, run.product.rps, run[other].rps);
      put(`warm.${key}.p50 product/${other}`, run.product.latencyMs.p50, run[other].latencyMs.p50);
      put(`warm.${key}.p99 product/${other}`, run.product.latencyMs.p99, run[other].latencyMs.p99);
      put(`warm.${key}.cpuPerRequest product/${other}`, run.product.cpuMsPerRequest, run[other].cpuMsPerRequest);
    }
  }
  if (r.warm) put('warm.peakRss product/peer', r.warm.peakRssKb.product, r.warm.peakRssKb.peer);
  return out;
}

function label(key: string): string {
  return `c=${key.slice(1)}`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function fmt(n: number, digits: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function plainTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const numeric = (i: number) => rows.every((r) => /^(-?[\d.,]+%?|—|n\/a|)$/.test(r[i] ?? ''));
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i > 0 && numeric(i) ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
