// What every benchmark run shares: its knobs, order statistics, number formatting, the machine it
// ran on, Markdown tables, and the two result files it writes (a Markdown report and a compact JSON
// of the summary figures, never the samples).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Env = Readonly<Record<string, string | undefined>>;

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export const log = (message: string): boolean => process.stderr.write(`[bench] ${message}\n`);

/** A whole-number knob: its value when it is a number, else the default, never below `min`. */
export function intKnob(env: Env, name: string, fallback: number, min = 0): number {
  const value = Number(env[name]);
  return Math.max(min, env[name] && Number.isFinite(value) ? Math.trunc(value) : fallback);
}

export function listKnob(env: Env, name: string, fallback: string): string[] {
  return (env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Nearest-rank percentile (q in 0..1). */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** An object with one entry per key. */
export const keyed = <K extends string, T>(keys: readonly K[], f: (key: K) => T): Record<K, T> =>
  Object.fromEntries(keys.map((k) => [k, f(k)])) as Record<K, T>;

export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Rounded for the JSON: figures, not float noise. */
export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Number.isFinite(n) ? Math.round(n * f) / f : n;
}

/** Grouped digits, `digits` decimals; "—" for a figure that was not measured. */
export function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ratio = (a: number | undefined, b: number | undefined, digits = 3): string =>
  a === undefined || b === undefined || !b ? '' : fmt(a / b, digits);

/** A Markdown table; columns whose cells are all numbers are right-aligned. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const numeric = (i: number) =>
    rows.every((r) => /^(-?[\d.,]+( \/ [\d.,]+| \([\d.,]+\))?%?|—|n\/a|)$/.test(r[i] ?? ''));
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i > 0 && numeric(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export interface Machine {
  startedAt: string;
  finishedAt?: string;
  node: string;
  cpus: number;
  cpuModel: string;
  kernel: string;
  memGb: number;
  loadAtStart: number[];
  loadAtEnd?: number[];
}

export function machine(): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: (model ?? 'unknown').trim(),
    kernel: release(),
    memGb: Math.round(memKb / 2 ** 20),
    loadAtStart: loadavg().map((n) => round(n, 2)),
  };
}

export function finish(m: Machine): Machine {
  return { ...m, finishedAt: new Date().toISOString(), loadAtEnd: loadavg().map((n) => round(n, 2)) };
}

export const machineLine = (m: Machine): string =>
  `${m.startedAt}: ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.loadAtStart.join(' ')}${m.loadAtEnd ? `, at end ${m.loadAtEnd.join(' ')}` : ''}`;

/** The commit of a source tree, with "+dirty" when it has uncommitted changes. */
export function describeTree(root: string): string {
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

/**
 * JSON with one line per object whose values are all plain (a row of figures), so that the
 * committed summary reads as a table and stays short.
 */
export function compactJson(value: unknown, indent = ''): string {
  const flat = (v: unknown) =>
    v === null || typeof v !== 'object' || Object.values(v).every((x) => x === null || typeof x !== 'object');
  if (flat(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value as object).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/** Writes <name>.md and <name>.json into BENCH_OUT (default bench/results/), and prints the report. */
export function writeResults(env: Env, name: string, markdown: string, summary: unknown): void {
  const dir = env.BENCH_OUT ?? RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), markdown);
  writeFileSync(join(dir, `${name}.json`), `${compactJson(summary)}\n`);
  process.stdout.write(markdown);
  log(`wrote ${join(dir, `${name}.md`)} and ${name}.json`);
}
