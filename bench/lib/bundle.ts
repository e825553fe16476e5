// What the bundle is made of: size, gzipped size, and contributors (from esbuild's metafile),
// each with the import chain that pulls it in, why it is there, and (from V8 coverage of one
// cold start) how much of it runs at all during init and the first request.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';

export interface Contributor {
  name: string;
  bytes: number;
  share: number;
  files: number;
  /** Package-level import chain from the handler, nearest importer first. */
  via: string[];
  /** Reachable only through dynamic import() / require(): evaluated lazily, on first use. */
  lazy: boolean;
  why: string;
  /** Share of its bytes that ran during init + the first request (V8 block coverage). */
  executedShare?: number;
}

export interface BundleReport {
  file: string;
  bytes: number;
  gzipBytes: number;
  contributors: Contributor[];
}

const PROJECT = 'lambda/';
const RUNTIME = '(esbuild runtime, banner)';

// Why each dependency is in the bundle. A contributor missing here is reported as unexplained.
const WHY: Record<string, string> = {
  'lambda/config/':
    'settings and the tenants file: schema, rules, Plaid vocabularies (the schema and rules run at build and for a raw TENANTS_FILE only: the deployed cold start reads the compiled form)',
  'lambda/domain/': 'the use case: tenant, identity, client choices, link token request, client_user_id',
  'lambda/http/': 'the API Gateway adapter: routing, CORS, body rules, problem+json',
  'lambda/auth/': 'bearer token verification around aws-jwt-verify, JWKS fetcher',
  'lambda/secrets/': 'Secrets Manager reader (bounded SDK timeouts and attempts) and the in-memory secret cache',
  'lambda/runtime/':
    'node:http loaded through require (~25 ms less cold start); the SDK credential chain reduced to the environment (135 kB less); prefetch at init',
  'lambda/plaid/': 'the Plaid call: budget, one retry, typed outcomes; credentials secret',
  'lambda/log/': 'structured JSON logs with redaction',
  'lambda/handler.ts': 'composition root and the early timeout',
  [RUNTIME]: 'module wrappers and the createRequire banner',
  'aws-jwt-verify': 'JWT signature and claims verification, JWKS cache',
  valibot: 'validation of settings, the tenants file, the request body and the credentials secret',
  '@middy/core': 'handler wrapper: early timeout that still answers 504 with a problem body',
  '@middy/util': 'used by @middy/core',
  '@aws-sdk/client-secrets-manager': 'Secrets Manager client and the GetSecretValue command',
  '@aws-sdk/core': 'AWS SDK: JSON protocol, SigV4 auth scheme',
  '@smithy/core': 'AWS SDK: middleware stack, serde, endpoints, retries',
  '@smithy/signature-v4': 'AWS SDK: SigV4 request signing',
  '@smithy/node-http-handler': 'AWS SDK: HTTP transport',
  '@aws-sdk/credential-provider-env': 'AWS SDK: credentials from the environment (what Lambda uses)',
  '@aws/lambda-invoke-store': 'AWS SDK: Lambda trace-id propagation (recursion detection)',
  '@smithy/types': 'AWS SDK: shared constants',
};

export function packageOf(path: string): string {
  const normalized = path.replaceAll('\\', '/');
  const at = normalized.lastIndexOf('node_modules/');
  if (at >= 0) {
    const parts = normalized.slice(at + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const own = /^lambda\/(.+)$/.exec(normalized);
  if (own) {
    const parts = own[1]!.split('/');
    return parts.length > 1 ? `${PROJECT}${parts[0]}/` : `${PROJECT}${parts[0]}`;
  }
  return normalized;
}

export function analyseBundle(opts: { metafile: Metafile; outFile: string; projectRoot: string }): BundleReport {
  const outKey = relative(opts.projectRoot, opts.outFile).replaceAll('\\', '/');
  const output = opts.metafile.outputs[outKey];
  if (!output) throw new Error(`metafile has no output ${outKey}`);
  const code = readFileSync(opts.outFile);

  const byPackage = new Map<string, { bytes: number; files: number }>();
  let attributed = 0;
  for (const [path, input] of Object.entries(output.inputs)) {
    const name = packageOf(path);
    const entry = byPackage.get(name) ?? { bytes: 0, files: 0 };
    entry.bytes += input.bytesInOutput;
    entry.files += 1;
    byPackage.set(name, entry);
    attributed += input.bytesInOutput;
  }
  byPackage.set(RUNTIME, { bytes: output.bytes - attributed, files: 0 });

  const chains = importChains(opts.metafile, 'lambda/handler.ts');
  const contributors = [...byPackage.entries()]
    .map(([name, { bytes, files }]) => ({
      name,
      bytes,
      files,
      share: bytes / output.bytes,
      via: chains.get(name)?.via ?? [],
      lazy: chains.get(name)?.lazy ?? false,
      why:
        WHY[name] ??
        (name.startsWith('@smithy/') || name.startsWith('@aws-sdk/')
          ? 'AWS SDK internals'
          : 'UNEXPLAINED: add a reason in bench/lib/bundle.ts'),
    }))
    .sort((a, b) => b.bytes - a.bytes);
  return { file: outKey, bytes: output.bytes, gzipBytes: gzipSync(code).length, contributors };
}

/** Breadth-first from the entry: for each package, the packages its first file is reached through. */
function importChains(metafile: Metafile, entry: string): Map<string, { via: string[]; lazy: boolean }> {
  const parent = new Map<string, { from: string; lazy: boolean } | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    const lazyHere = parent.get(file)?.lazy ?? false;
    for (const imp of metafile.inputs[file]?.imports ?? []) {
      if (imp.external || parent.has(imp.path) || !metafile.inputs[imp.path]) continue;
      parent.set(imp.path, {
        from: file,
        lazy: lazyHere || imp.kind === 'dynamic-import' || imp.kind === 'require-call',
      });
      queue.push(imp.path);
    }
  }
  // A package is lazy only if every one of its files is reached lazily on the first path found;
  // eager reach of any file wins.
  const result = new Map<string, { via: string[]; lazy: boolean }>();
  for (const [file, link] of parent) {
    const name = packageOf(file);
    const known = result.get(name);
    if (known && (!known.lazy || link?.lazy)) continue;
    const via: string[] = [];
    for (let step = link; step; step = parent.get(step.from) ?? null) {
      const pkg = packageOf(step.from);
      if (pkg !== name && via.at(-1) !== pkg) via.push(pkg);
    }
    result.set(name, { via, lazy: link?.lazy ?? false });
  }
  return result;
}

/**
 * Share of each contributor's bytes that ran, from a NODE_V8_COVERAGE directory written by one
 * cold start (import + first request). Bytes are attributed to sources through the source map.
 */
export function executedShares(opts: {
  coverageDir: string;
  outFile: string;
  projectRoot: string;
}): Map<string, { bytes: number; executed: number }> {
  const code = readFileSync(opts.outFile, 'utf8');
  const url = pathToFileURL(resolve(opts.outFile)).href;
  const counts = new Int32Array(code.length).fill(-1);
  type Range = { startOffset: number; endOffset: number; count: number };
  const ranges: Range[] = [];
  for (const file of readdirSync(opts.coverageDir)) {
    if (!file.endsWith('.json')) continue;
    const data = JSON.parse(readFileSync(join(opts.coverageDir, file), 'utf8')) as {
      result: Array<{ url: string; functions: Array<{ ranges: Range[] }> }>;
    };
    for (const script of data.result) {
      if (script.url.split('?')[0] !== url) continue;
      for (const fn of script.functions) ranges.push(...fn.ranges);
    }
  }
  if (ranges.length === 0) throw new Error(`no coverage for ${url} in ${opts.coverageDir}`);
  // Nested ranges: paint outer before inner so the innermost count wins.
  ranges.sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
  for (const r of ranges) counts.fill(r.count, r.startOffset, Math.min(r.endOffset, code.length));
  const executedPrefix = new Uint32Array(code.length + 1);
  for (let i = 0; i < code.length; i++) executedPrefix[i + 1] = executedPrefix[i]! + (counts[i]! > 0 ? 1 : 0);

  const map = JSON.parse(readFileSync(`${opts.outFile}.map`, 'utf8')) as { sources: string[]; mappings: string };
  const mapDir = dirname(resolve(opts.outFile));
  const sourcePackages = map.sources.map((s) => packageOf(relative(opts.projectRoot, resolve(mapDir, s))));
  const lineStarts = [0];
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) lineStarts.push(i + 1);

  const totals = new Map<string, { bytes: number; executed: number }>();
  const add = (name: string, from: number, to: number) => {
    if (to <= from) return;
    const t = totals.get(name) ?? { bytes: 0, executed: 0 };
    t.bytes += to - from;
    t.executed += executedPrefix[to]! - executedPrefix[from]!;
    totals.set(name, t);
  };
  let sourceIndex = 0;
  const lines = map.mappings.split(';');
  for (let line = 0; line < lines.length; line++) {
    const lineStart = lineStarts[line] ?? code.length;
    const lineEnd = (lineStarts[line + 1] ?? code.length + 1) - 1;
    let column = 0;
    let previous: { offset: number; source: number | undefined } | undefined;
    for (const segment of lines[line]!.split(',')) {
      if (!segment) continue;
      const fields = decodeVlq(segment);
      column += fields[0]!;
      const source = fields.length >= 4 ? (sourceIndex += fields[1]!) : undefined;
      const offset = lineStart + column;
      if (previous)
        add(previous.source === undefined ? RUNTIME : sourcePackages[previous.source]!, previous.offset, offset);
      previous = { offset, source };
    }
    if (previous)
      add(previous.source === undefined ? RUNTIME : sourcePackages[previous.source]!, previous.offset, lineEnd);
  }
  return totals;
}

const VLQ_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = VLQ_CHARS.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}
