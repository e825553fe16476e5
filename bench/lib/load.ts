// Closed-loop HTTP load with autocannon, with latencies kept at sub-millisecond precision:
// autocannon's own histogram rounds to whole milliseconds, too coarse for a 0.3 ms target, so
// every response time it reports (a float, from process.hrtime) is recorded here instead.
import autocannon from 'autocannon';
import { cpuMs } from './proc.ts';
import { percentile } from './stats.ts';

export interface LoadTarget {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  /** Per-request header sets cycled through on every connection (e.g. one bearer token per user). */
  headerVariants?: Array<Record<string, string>>;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  errors: number;
  non2xx: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** CPU time (user + system) of the measured process per completed request, in milliseconds. */
  cpuMsPerRequest: number;
  cpuMsPerRequestUser: number;
  cpuMsPerRequestSystem: number;
  cpuMsTotal: number;
}

export async function runLoad(
  target: LoadTarget,
  opts: { connections: number; durationS: number; measurePid: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  const cpuBefore = cpuMs(opts.measurePid);
  const started = performance.now();
  const instance = autocannon({
    url: target.url,
    method: target.method,
    headers: target.headers,
    body: target.body,
    connections: opts.connections,
    duration: opts.durationS,
    pipelining: 1,
    timeout: 10,
    ...(target.headerVariants
      ? {
          requests: target.headerVariants.map((h) => ({
            method: target.method,
            headers: { ...target.headers, ...h },
            body: target.body,
          })),
        }
      : {}),
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
    else non2xx++;
  });
  const result = await instance;
  const elapsedS = (performance.now() - started) / 1000;
  const cpuAfter = cpuMs(opts.measurePid);
  const user = cpuAfter.user - cpuBefore.user;
  const system = cpuAfter.system - cpuBefore.system;
  const sorted = Float64Array.from(latencies).sort();
  const completed = latencies.length + non2xx;
  const per = (ms: number) => (completed ? ms / completed : Number.NaN);
  return {
    connections: opts.connections,
    durationS: elapsedS,
    requests: latencies.length,
    errors: result.errors + result.timeouts,
    non2xx,
    rps: latencies.length / elapsedS,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      mean: latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1),
      max: sorted.at(-1) ?? Number.NaN,
    },
    cpuMsPerRequest: per(user + system),
    cpuMsPerRequestUser: per(user),
    cpuMsPerRequestSystem: per(system),
    cpuMsTotal: user + system,
  };
}
