// `npm run soak`: the local stack, started as `npm start` starts it (node local/start.ts, the
// bundled handler behind the local API Gateway), under steady closed-loop load for a set time
// with valid tokens for many users. Reports requests, errors by status, p50/p99 latency, what
// reached the upstreams, and the stack process's RSS sampled over time, ending with a verdict on
// whether memory stayed flat. A soak, not a benchmark: nothing here is judged on time; it fails
// (exit 1) on any error answer or on memory that grows, and refuses bad knobs (exit 2).
//
// Knobs (flag or environment variable; docs/testing.md):
//   --seconds         SOAK_SECONDS         600   how long the load runs
//   --concurrency     SOAK_CONCURRENCY     16    connections, each one request at a time
//   --users           SOAK_USERS           500   distinct users (one token each), cycled
//   --sample-seconds  SOAK_SAMPLE_SECONDS  10    RSS and latency sampling interval
//   --warmup-seconds  SOAK_WARMUP_SECONDS  min(60, seconds / 5)  samples before this are not judged
//   --rss-tolerance   SOAK_RSS_TOLERANCE   0.05  growth (fraction) still called flat
//   --standins        SOAK_STANDINS        separate  'separate': the stand-ins run in a process of
//                                          their own (bench/lib/standins-process.ts) whose request
//                                          log is emptied at every sample; 'stack': the stand-ins
//                                          `npm start` starts in its own process, as a developer
//                                          runs it (their request log then counts in its RSS)
//   --out             SOAK_OUT             test-artifacts/soak.json
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { demoTenantsFile } from '../local/demo-tenants.ts';
import { median, percentile } from './lib/harness.ts';
import { cpuMs, statusKb } from './lib/load.ts';
import { stop } from './lib/processes.ts';
import { startStandIns, type Counters, type StandIns } from './lib/standins.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The origin the soak's browser-like requests send; the soak tenant allows it. */
const SOAK_ORIGIN = 'https://soak.example';
/** What each user asks for in turn: every platform, both profiles, a chosen language. */
const BODIES = [
  { platform: 'web' },
  { platform: 'ios', profile: 'payments' },
  { platform: 'android', language: 'fr' },
  { platform: 'web', profile: 'payments', language: 'es' },
];

// ---- knobs ----

interface Config {
  seconds: number;
  concurrency: number;
  users: number;
  sampleSeconds: number;
  warmupSeconds: number;
  rssTolerance: number;
  standins: 'separate' | 'stack';
  out: string;
}

class KnobError extends Error {}

/** The soak tenant's tokens live for the run plus an hour; max_token_lifetime_seconds defaults to 24 h. */
const MAX_SOAK_SECONDS = 86_400 - 3600;

export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string' },
      concurrency: { type: 'string' },
      users: { type: 'string' },
      'sample-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'rss-tolerance': { type: 'string' },
      standins: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  const knob = (flag: keyof typeof values, name: string) => {
    const raw = (values[flag] as string | undefined) ?? env[name];
    return { raw: raw === undefined || raw.trim() === '' ? undefined : raw.trim(), label: `--${flag} / ${name}` };
  };
  const integer = (flag: keyof typeof values, name: string, fallback: number, min: number): number => {
    const { raw, label } = knob(flag, name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
      throw new KnobError(`${label} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}`);
    }
    return Number(raw);
  };
  const seconds = integer('seconds', 'SOAK_SECONDS', 600, 1);
  // Tokens live for the soak plus an hour, and a tenant refuses tokens living over 24 h by default.
  if (seconds > MAX_SOAK_SECONDS)
    throw new KnobError(`--seconds / SOAK_SECONDS must be at most ${MAX_SOAK_SECONDS} (23 h), got ${seconds}`);
  const concurrency = integer('concurrency', 'SOAK_CONCURRENCY', 16, 1);
  const users = integer('users', 'SOAK_USERS', 500, 1);
  const sampleSeconds = integer('sample-seconds', 'SOAK_SAMPLE_SECONDS', 10, 1);
  const warmupSeconds = integer('warmup-seconds', 'SOAK_WARMUP_SECONDS', Math.min(60, Math.floor(seconds / 5)), 0);
  const tolerance = knob('rss-tolerance', 'SOAK_RSS_TOLERANCE');
  const rssTolerance = tolerance.raw === undefined ? 0.05 : Number(tolerance.raw);
  if (tolerance.raw !== undefined && (!/^\d*\.?\d+$/.test(tolerance.raw) || !(rssTolerance > 0 && rssTolerance < 1))) {
    throw new KnobError(
      `${tolerance.label} must be a fraction between 0 and 1 (0.05 is 5%), got ${JSON.stringify(tolerance.raw)}`,
    );
  }
  const standins = knob('standins', 'SOAK_STANDINS').raw ?? 'separate';
  if (standins !== 'separate' && standins !== 'stack') {
    throw new KnobError(`--standins / SOAK_STANDINS must be "separate" or "stack", got ${JSON.stringify(standins)}`);
  }
  if (sampleSeconds > seconds)
    throw new KnobError(`--sample-seconds (${sampleSeconds}) must not exceed --seconds (${seconds})`);
  if (warmupSeconds >= seconds)
    throw new KnobError(`--warmup-seconds (${warmupSeconds}) must be less than --seconds (${seconds})`);
  // The stack's own dev sign-in gives tokens an hour's lifetime.
  if (standins === 'stack' && seconds > 3000)
    throw new KnobError('--standins stack mints dev tokens valid for an hour: keep --seconds at 3000 or less');
  const out = resolve(knob('out', 'SOAK_OUT').raw ?? join(PROJECT_ROOT, 'test-artifacts', 'soak.json'));
  return { seconds, concurrency, users, sampleSeconds, warmupSeconds, rssTolerance, standins, out };
}

function usage(): string {
  return `Usage: npm run soak -- [--seconds N] [--concurrency N] [--users N] [--sample-seconds N] [--warmup-seconds N] [--rss-tolerance F] [--standins separate|stack] [--out FILE]
Each flag can also be given as an environment variable: SOAK_SECONDS, SOAK_CONCURRENCY, ... (docs/testing.md).`;
}

// ---- the stack under load ----

interface Stack {
  readonly child: ChildProcess;
  readonly apiUrl: string;
  /** The JS heap after each full (mark-compact) GC, from V8's --trace-gc lines. */
  readonly majorGcs: Array<{ at: number; heapAfterMb: number }>;
  /** Lines the stack printed once ready: JSON log lines by level, and anything else (last few kept). */
  readonly logLines: { total: number; warn: number; error: number; other: number; lastNotable: string[] };
}

// V8's line for a full GC: "[pid:0x…]  5234 ms: Mark-Compact (reduce) 12.3 (15.0) -> 10.1 (14.0) MB, …".
const GC_LINE = /^\[\d+:0x[0-9a-f]+\]/;
const MAJOR_GC = /: Mark-Compact[^\d]*[\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;

/**
 * Starts node local/start.ts as `npm start` does (plus V8's --trace-gc, whose lines tell the JS
 * heap from what else holds the RSS) and resolves once it prints local.ready.
 */
function startStack(env: Record<string, string>): Promise<Stack> {
  const child = spawn(process.execPath, ['--trace-gc', 'local/start.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logLines = { total: 0, warn: 0, error: 0, other: 0, lastNotable: [] as string[] };
  const majorGcs: Array<{ at: number; heapAfterMb: number }> = [];
  return new Promise((resolvePromise, reject) => {
    const early: string[] = [];
    const timer = setTimeout(
      () => reject(new Error(`the local stack did not start within 60 s:\n${early.join('\n')}`)),
      60_000,
    );
    let ready = false;
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the local stack exited with ${code}:\n${early.join('\n')}`));
    };
    child.once('exit', onExit);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (GC_LINE.test(line)) {
          const major = MAJOR_GC.exec(line);
          if (major) majorGcs.push({ at: performance.now(), heapAfterMb: Number(major[1]) });
          return;
        }
        if (!ready) {
          early.push(line);
          if (line.includes('"local.ready"')) {
            ready = true;
            clearTimeout(timer);
            child.off('exit', onExit);
            resolvePromise({ child, apiUrl: (JSON.parse(line) as { api: string }).api, majorGcs, logLines });
          }
          return;
        }
        // Counted, not kept: a soak's worth of log lines would be the soak's own leak.
        logLines.total++;
        // The function writes Powertools' upper-case levels (ERROR, WARN); the local stack's own lines may not.
        const kind = !line.startsWith('{')
          ? 'other'
          : /"level":"error"/i.test(line)
            ? 'error'
            : /"level":"warn"/i.test(line)
              ? 'warn'
              : undefined;
        if (kind === undefined) return;
        logLines[kind]++;
        logLines.lastNotable = [...logLines.lastNotable.slice(-4), line.slice(0, 300)];
      });
    }
  });
}

interface Sample {
  /** Seconds since the load started. */
  t: number;
  rssKb: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** The JS heap after the latest full GC so far, if there was one. */
  heapAfterGcMb: number | null;
}

/** Latencies at 10 µs resolution, counted per value: bounded memory however long the soak runs. */
class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  total = 0;
  add(ms: number): void {
    const key = Math.round(ms * 100);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;
  }
  percentile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.min(this.total, Math.max(1, Math.ceil(q * this.total)));
    let seen = 0;
    for (const key of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(key)!;
      if (seen >= rank) return key / 100;
    }
    return Number.NaN;
  }
  max(): number {
    return this.total === 0 ? Number.NaN : Math.max(...this.counts.keys()) / 100;
  }
}

export interface MemoryVerdict {
  verdict: 'flat' | 'growing' | 'inconclusive';
  reason: string;
  pointsJudged: number;
  firstThird?: { medianMb: number; minMb: number };
  lastThird?: { medianMb: number; minMb: number };
  /** Least-squares slope over the judged span: printed to read, not judged (see memoryVerdict). */
  slopeMbPerMinute?: number;
}

/** Below this, GC timing alone moves the figures compared (a few MB of young generation). */
const MIN_GROWTH_MB = 5;

/**
 * Growing when, after warm-up, both the median and the minimum of the last third of the points
 * exceed those of the first third by more than `tolerance` (and by MIN_GROWTH_MB). Node's RSS is
 * a sawtooth (the heap grows, a full GC returns memory): a leak lifts the troughs, while one late
 * step up of the heap lifts only the median, and the slope most of all, so the slope is reported
 * but not judged.
 */
export function memoryVerdict(
  points: ReadonlyArray<{ t: number; mb: number }>,
  warmupSeconds: number,
  tolerance: number,
): MemoryVerdict {
  const judged = points.filter((p) => p.t >= warmupSeconds);
  if (judged.length < 6) {
    return {
      verdict: 'inconclusive',
      reason: `only ${judged.length} points after warm-up (6 needed): run longer or sample more often`,
      pointsJudged: judged.length,
    };
  }
  const third = Math.floor(judged.length / 3);
  const stats = (part: ReadonlyArray<{ mb: number }>) => ({
    medianMb: round(median(part.map((p) => p.mb)), 2),
    minMb: round(Math.min(...part.map((p) => p.mb)), 2),
  });
  const first = stats(judged.slice(0, third));
  const last = stats(judged.slice(-third));
  const n = judged.length;
  const meanT = judged.reduce((a, p) => a + p.t, 0) / n;
  const meanMb = judged.reduce((a, p) => a + p.mb, 0) / n;
  const slopeMbPerS =
    judged.reduce((a, p) => a + (p.t - meanT) * (p.mb - meanMb), 0) /
    judged.reduce((a, p) => a + (p.t - meanT) ** 2, 0);
  const allowance = Math.max(tolerance * first.medianMb, MIN_GROWTH_MB);
  const grew = last.medianMb - first.medianMb > allowance && last.minMb - first.minMb > allowance;
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;
  return {
    verdict: grew ? 'growing' : 'flat',
    reason:
      `last third vs first third: median ${last.medianMb.toFixed(1)} vs ${first.medianMb.toFixed(1)} MB (${pct(last.medianMb, first.medianMb)}), ` +
      `minimum ${last.minMb.toFixed(1)} vs ${first.minMb.toFixed(1)} MB (${pct(last.minMb, first.minMb)}); allowed +${allowance.toFixed(1)} MB; ` +
      `slope ${(slopeMbPerS * 60).toFixed(2)} MB/min over ${Math.round(judged.at(-1)!.t - judged[0]!.t)} s`,
    pointsJudged: n,
    firstThird: first,
    lastThird: last,
    slopeMbPerMinute: round(slopeMbPerS * 60, 3),
  };
}

/**
 * RSS troughs follow full GCs: unless each third of the judged span saw one, a step up of the
 * sawtooth cannot be told from growth, and RSS that grew is inconclusive instead (run longer).
 * RSS that rose from nearly every sample to the next is no step of a sawtooth: it stays growing.
 */
export function sawtoothUnresolved(
  rss: ReadonlyArray<{ t: number; mb: number }>,
  fullGcs: ReadonlyArray<{ t: number }>,
  warmupSeconds: number,
  grew: MemoryVerdict,
): MemoryVerdict | undefined {
  const judged = rss.filter((p) => p.t >= warmupSeconds);
  if (judged.length < 6) return undefined;
  const rises = judged.slice(1).filter((p, i) => p.mb - judged[i]!.mb > 0.5).length;
  if (rises >= 0.8 * (judged.length - 1)) return undefined;
  const third = Math.floor(judged.length / 3);
  const spans = [judged.slice(0, third), judged.slice(third, judged.length - third), judged.slice(-third)];
  const without = spans.findIndex(
    (span) => !fullGcs.some((g) => g.t > span[0]!.t - (judged[1]!.t - judged[0]!.t) && g.t <= span.at(-1)!.t),
  );
  if (without === -1) return undefined;
  return {
    verdict: 'inconclusive',
    reason: `${grew.reason}; but no full GC in the ${['first', 'middle', 'last'][without]} third of the samples, so a step of the sawtooth cannot be told from growth: run longer`,
    pointsJudged: judged.length,
    firstThird: grew.firstThird,
    lastThird: grew.lastThird,
    slopeMbPerMinute: grew.slopeMbPerMinute,
  };
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof KnobError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    process.stderr.write(`soak: ${(error as Error).message}\n${usage()}\n`);
    return 2;
  }
  const log = (message: string) => process.stderr.write(`[soak] ${message}\n`);
  const startedAt = new Date();
  const workDir = mkdtempSync(join(tmpdir(), 'link-token-soak-'));

  // The stack's environment: what a developer's shell would give `npm start`.
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '', PORT: '0', LOCAL_WORK_DIR: workDir };
  if (process.env.LOG_LEVEL) childEnv.LOG_LEVEL = process.env.LOG_LEVEL;
  let standIns: StandIns | undefined;
  if (config.standins === 'separate') {
    log('starting the stand-ins (own process)');
    standIns = await startStandIns();
    const tenantsFile = join(workDir, 'tenants.json');
    writeFileSync(
      tenantsFile,
      JSON.stringify(demoTenantsFile({ issuer: standIns.issuer, origins: [SOAK_ORIGIN], withOAuthRedirect: true })),
    );
    Object.assign(childEnv, {
      TENANTS_FILE: tenantsFile,
      PLAID_BASE_URL: standIns.plaidUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: standIns.secretsUrl,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'soak',
      AWS_SECRET_ACCESS_KEY: 'soak',
    });
  }
  log('starting the local stack (node local/start.ts)');
  const stack = await startStack(childEnv);
  const pid = stack.child.pid!;
  let stackExit: number | null | undefined;
  stack.child.once('exit', (code) => (stackExit = code));

  try {
    log(`minting ${config.users} users' tokens`);
    const tokens = await mintTokens(config, stack.apiUrl, standIns);
    // User i sends BODIES[i mod 4] (every platform, both profiles, a chosen language); a quarter
    // of the users send the browser Origin the tenant allows, the rest none, as native apps do.
    const requests = tokens.map((token, i) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      if (config.standins === 'separate' && i % 4 === 0) headers.origin = SOAK_ORIGIN;
      return { method: 'POST', path: '/link-token', headers, body: JSON.stringify(BODIES[i % BODIES.length]) };
    });
    // Forget what init fetched (signing keys, secrets): the upstream counts are the load's.
    await standIns?.reset();

    const statuses = new Map<number, number>();
    const histogram = new LatencyHistogram();
    let window: number[] = [];
    let windowNon2xx = 0;
    let windowErrors = 0;
    let connectionErrors = 0;
    const samples: Sample[] = [];
    const upstream: Counters = { plaid: 0, secrets: 0, jwks: 0, events: 0 };
    const upstreamTimeline: Array<Counters & { t: number }> = [];
    const rssAtStartKb = statusKb(pid, 'VmRSS');
    const cpuBefore = cpuMs(pid);

    log(
      `load: ${config.seconds} s at concurrency ${config.concurrency}, ${config.users} users; sampling every ${config.sampleSeconds} s`,
    );
    const loadStarted = performance.now();
    const instance = autocannon({
      url: stack.apiUrl,
      connections: config.concurrency,
      duration: config.seconds,
      pipelining: 1,
      timeout: 10,
      requests,
    });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      histogram.add(responseTimeMs);
      window.push(responseTimeMs);
      if (statusCode < 200 || statusCode >= 300) windowNon2xx++;
    });
    instance.on('reqError', () => {
      connectionErrors++;
      windowErrors++;
    });
    const stopEarly = () => {
      log('interrupted: stopping the load, reporting what ran');
      instance.stop();
    };
    process.once('SIGINT', stopEarly);

    const header = `${pad('t (s)', 6)} ${pad('requests', 9)} ${pad('req/s', 8)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('non-2xx', 7)} ${pad('errors', 6)} ${pad('RSS MB', 7)} ${pad('heap MB', 8)}`;
    log(header);
    const sampler = setInterval(() => {
      void (async () => {
        const t = Math.round((performance.now() - loadStarted) / 1000);
        if (stackExit !== undefined) return;
        const sorted = Float64Array.from(window).sort();
        const sample: Sample = {
          t,
          rssKb: statusKb(pid, 'VmRSS'),
          requests: window.length,
          non2xx: windowNon2xx,
          errors: windowErrors,
          p50Ms: round(percentile(sorted, 0.5), 3),
          p99Ms: round(percentile(sorted, 0.99), 3),
          heapAfterGcMb: stack.majorGcs.at(-1)?.heapAfterMb ?? null,
        };
        window = [];
        windowNon2xx = 0;
        windowErrors = 0;
        samples.push(sample);
        log(formatSample(sample, config.sampleSeconds));
        if (standIns) {
          // Read and empty together: the stand-in records every request it sees.
          const [counters] = await Promise.all([standIns.counters(), standIns.reset()]);
          upstream.plaid += counters.plaid;
          upstream.secrets += counters.secrets;
          upstream.jwks += counters.jwks;
          upstreamTimeline.push({ t, ...counters });
        }
      })();
    }, config.sampleSeconds * 1000);

    const result = await instance;
    clearInterval(sampler);
    process.off('SIGINT', stopEarly);
    const elapsedS = (performance.now() - loadStarted) / 1000;
    const cpuAfter = cpuMs(pid);
    if (standIns) {
      const counters = await standIns.counters();
      upstream.plaid += counters.plaid;
      upstream.secrets += counters.secrets;
      upstream.jwks += counters.jwks;
    }
    if (stackExit !== undefined) throw new Error(`the local stack exited (code ${stackExit}) during the soak`);
    const rssAtEndKb = statusKb(pid, 'VmRSS');
    const peakRssKb = statusKb(pid, 'VmHWM');

    const total = histogram.total;
    const ok = [...statuses].filter(([s]) => s >= 200 && s < 300).reduce((a, [, n]) => a + n, 0);
    const majorGcs = stack.majorGcs
      .map((g) => ({ t: round((g.at - loadStarted) / 1000, 1), mb: g.heapAfterMb }))
      .filter((g) => g.t >= 0);
    const heapVerdict = memoryVerdict(majorGcs, config.warmupSeconds, config.rssTolerance);
    const rssPoints = samples.map((s) => ({ t: s.t, mb: s.rssKb / 1024 }));
    const rssVerdict = memoryVerdict(rssPoints, config.warmupSeconds, config.rssTolerance);
    const verdict =
      rssVerdict.verdict === 'growing'
        ? (sawtoothUnresolved(rssPoints, majorGcs, config.warmupSeconds, rssVerdict) ?? rssVerdict)
        : rssVerdict;
    const errorCount = total - ok + connectionErrors + result.timeouts;
    // One Plaid call per token issued: the stand-in may also have seen the requests still in
    // flight when the load stopped (at most one per connection), never fewer calls than tokens.
    const plaidCallsMatch = standIns ? upstream.plaid >= ok && upstream.plaid <= ok + config.concurrency : undefined;
    const report = {
      meta: {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        node: process.version,
        nproc: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        kernel: release(),
        loadAvgAtEnd: loadavg(),
      },
      config: { ...config, out: undefined },
      stack: { pid, command: 'node local/start.ts', standins: config.standins },
      elapsedSeconds: round(elapsedS, 1),
      requests: total,
      requestsPerSecond: round(total / elapsedS, 1),
      statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
      errors: { total: errorCount, non2xx: total - ok, connection: connectionErrors, timeouts: result.timeouts },
      latencyMs: {
        p50: histogram.percentile(0.5),
        p90: histogram.percentile(0.9),
        p99: histogram.percentile(0.99),
        max: histogram.max(),
      },
      cpuMsPerRequest: total ? round((cpuAfter - cpuBefore) / total, 3) : null,
      upstream: standIns
        ? { ...upstream, plaidCallsMatchTokens: plaidCallsMatch, timeline: upstreamTimeline }
        : 'not counted: the stand-ins run inside the stack (--standins stack)',
      logLines: stack.logLines,
      rss: {
        startMb: round(rssAtStartKb / 1024, 1),
        endMb: round(rssAtEndKb / 1024, 1),
        peakMb: round(peakRssKb / 1024, 1),
      },
      memory: verdict,
      heapAfterFullGc: { ...heapVerdict, fullGcs: majorGcs },
      samples,
    };

    mkdirSync(dirname(config.out), { recursive: true });
    writeFileSync(config.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${renderTable(report, samples, config, header)}\nJSON: ${config.out}\n`);
    return errorCount === 0 &&
      verdict.verdict !== 'growing' &&
      heapVerdict.verdict !== 'growing' &&
      plaidCallsMatch !== false
      ? 0
      : 1;
  } finally {
    await stop(stack.child);
    await standIns?.close();
  }
}

/** One token per user, valid for the whole soak and an hour more. */
async function mintTokens(config: Config, apiUrl: string, standIns: StandIns | undefined): Promise<string[]> {
  const users = Array.from({ length: config.users }, (_, i) => `soak-user-${i}`);
  if (standIns) {
    const lifetime = config.seconds + 3600;
    return standIns.mint(users, { expiresInSeconds: lifetime });
  }
  // The stack's own issuer mints through the dev sign-in the demo page uses (an hour's lifetime).
  const tokens: string[] = [];
  for (const sub of users) {
    const res = await fetch(`${apiUrl}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub }),
    });
    if (!res.ok) throw new Error(`dev sign-in answered ${res.status}: ${await res.text()}`);
    tokens.push(((await res.json()) as { access_token: string }).access_token);
  }
  return tokens;
}

function formatSample(s: Sample, intervalS: number): string {
  return `${pad(String(s.t), 6)} ${pad(String(s.requests), 9)} ${pad((s.requests / intervalS).toFixed(1), 8)} ${pad(fmt(s.p50Ms, 2), 7)} ${pad(fmt(s.p99Ms, 2), 7)} ${pad(String(s.non2xx), 7)} ${pad(String(s.errors), 6)} ${pad((s.rssKb / 1024).toFixed(1), 7)} ${pad(s.heapAfterGcMb === null ? '—' : s.heapAfterGcMb.toFixed(1), 8)}`;
}

/** What the closing table reads of the soak's report (the JSON holds more). */
interface SoakReport {
  meta: { nproc: number; cpuModel: string; node: string; loadAvgAtEnd: number[] };
  stack: { pid: number; command: string };
  elapsedSeconds: number;
  requests: number;
  requestsPerSecond: number;
  statuses: Record<string, number>;
  errors: { total: number; non2xx: number; connection: number; timeouts: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  cpuMsPerRequest: number | null;
  upstream: string | (Counters & { plaidCallsMatchTokens?: boolean });
  logLines: Stack['logLines'];
  rss: { startMb: number; endMb: number; peakMb: number };
  memory: MemoryVerdict;
  heapAfterFullGc: MemoryVerdict;
}

function renderTable(r: SoakReport, samples: readonly Sample[], config: Config, header: string): string {
  const up =
    typeof r.upstream === 'string'
      ? r.upstream
      : `Plaid ${r.upstream.plaid} calls (${r.upstream.plaidCallsMatchTokens ? 'one per token' : 'NOT one per token'}), JWKS ${r.upstream.jwks} fetches, Secrets Manager ${r.upstream.secrets} reads`;
  const growing = r.memory.verdict === 'growing' || r.heapAfterFullGc.verdict === 'growing';
  const mismatch = typeof r.upstream !== 'string' && r.upstream.plaidCallsMatchTokens === false;
  const pass = r.errors.total === 0 && !growing && !mismatch;
  const lines = [
    '',
    `Soak: ${r.elapsedSeconds} s at concurrency ${config.concurrency}, ${config.users} users, stand-ins ${config.standins}; local stack pid ${r.stack.pid} (${r.stack.command})`,
    `  ${r.meta.nproc} × ${r.meta.cpuModel}, Node ${r.meta.node}; load average at end ${r.meta.loadAvgAtEnd.map((n) => n.toFixed(2)).join(' ')}`,
    '',
    `requests      ${r.requests} (${r.requestsPerSecond}/s)`,
    `by status     ${
      Object.entries(r.statuses)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ') || 'none'
    }`,
    `errors        ${r.errors.total} (non-2xx ${r.errors.non2xx}, connection ${r.errors.connection}, timeouts ${r.errors.timeouts})`,
    `latency       p50 ${fmt(r.latencyMs.p50, 2)} ms, p90 ${fmt(r.latencyMs.p90, 2)} ms, p99 ${fmt(r.latencyMs.p99, 2)} ms, max ${fmt(r.latencyMs.max, 1)} ms`,
    `CPU/request   ${r.cpuMsPerRequest ?? 'n/a'} ms (stack process)`,
    `upstream      ${up}`,
    `log lines     ${r.logLines.total} (warn ${r.logLines.warn}, error ${r.logLines.error}, not JSON ${r.logLines.other})`,
    ...r.logLines.lastNotable.map((l) => `  ${l}`),
    `RSS           start ${r.rss.startMb} MB, end ${r.rss.endMb} MB, peak ${r.rss.peakMb} MB`,
    '',
    header,
    ...samples.map((s) => formatSample(s, config.sampleSeconds)),
    '',
    '(heap MB: the JS heap after the latest full GC, from --trace-gc)',
    '',
    `Memory (RSS): ${r.memory.verdict.toUpperCase()} (warm-up ${config.warmupSeconds} s, ${r.memory.pointsJudged} samples judged): ${r.memory.reason}`,
    `JS heap after full GCs: ${r.heapAfterFullGc.verdict.toUpperCase()} (${r.heapAfterFullGc.pointsJudged} full GCs judged): ${r.heapAfterFullGc.reason}`,
    `Verdict: ${pass ? 'PASS' : 'FAIL'}${r.errors.total ? ` (${r.errors.total} errors)` : ''}${growing ? ' (memory grows)' : ''}` +
      `${mismatch ? ' (Plaid calls do not match the tokens issued)' : ''}${r.memory.verdict === 'inconclusive' ? ' (memory not judged)' : ''}`,
  ];
  return lines.join('\n');
}

const pad = (s: string, width: number) => s.padStart(width);
const round = (n: number, digits: number) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);
const fmt = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`soak: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
