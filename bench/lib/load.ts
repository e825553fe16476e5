// Closed-loop HTTP load with autocannon, and what Linux's /proc says of the process under it. Every
// response time autocannon reports (a float, from process.hrtime) is kept: its own histogram
// rounds to whole milliseconds, too coarse for the sub-millisecond figures compared here.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { percentile } from './harness.ts';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time of a process (every thread), user + system, in ms; one clock tick of resolution. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is parenthesised and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** A field of /proc/<pid>/status in kB: VmHWM is the peak resident set size. */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

export interface LoadTarget {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  /** Header sets cycled through on every connection (one bearer token per user). */
  headerVariants?: Array<Record<string, string>>;
}

export interface LoadResult {
  requests: number;
  /** Non-2xx answers, connection errors and timeouts. */
  failures: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the measured process per completed request. */
  cpuMsPerRequest: number;
}

export async function runLoad(
  target: LoadTarget,
  connections: number,
  seconds: number,
  measurePid: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  const cpuBefore = cpuMs(measurePid);
  const started = performance.now();
  const { headerVariants, ...request } = target;
  const variants = headerVariants?.map((h) => ({ ...request, headers: { ...request.headers, ...h } }));
  const instance = autocannon({
    ...request,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    ...(variants && { requests: variants }),
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
    else non2xx++;
  });
  const result = await instance;
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = cpuMs(measurePid) - cpuBefore;
  return {
    requests: latencies.length,
    failures: non2xx + result.errors + result.timeouts,
    rps: latencies.length / elapsedS,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuMsPerRequest: cpu / (latencies.length + non2xx || Number.NaN),
  };
}
