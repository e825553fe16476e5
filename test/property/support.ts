// Shared pieces of the property tests: how many cases and which seed (environment knobs), a raw
// HTTP client that sends exactly the header list and bytes a case describes (fetch would merge,
// validate or add headers), and the check that nothing of a token comes back.
import http from 'node:http';
import type { TestContext } from 'node:test';
import fc from 'fast-check';

/** Cases per property in `npm test`; `npm run test:property:long` raises it. */
const DEFAULT_RUNS = 50;
/** Fixed so that `npm test` is reproducible; any failure prints the seed and path to replay it. */
const DEFAULT_SEED = 20_260_427;

function integerFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be an integer of at least ${min}, got ${raw}`);
  return value;
}

export const PROPERTY_RUNS = integerFromEnv('PROPERTY_RUNS', DEFAULT_RUNS, 1);
// fast-check seeds are 32-bit integers and it prints negative ones too.
export const PROPERTY_SEED = integerFromEnv('PROPERTY_SEED', DEFAULT_SEED, -(2 ** 31));
/** Replays one shrunk counterexample (fast-check's "path"); use with --test-name-pattern. */
export const PROPERTY_PATH = process.env.PROPERTY_PATH?.trim() || undefined;

/** Runs a property with the run count and seed from the environment, and says which on the report. */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  t: TestContext,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  opts: { runsFactor?: number } = {},
): Promise<void> {
  const numRuns = Math.max(1, Math.round(PROPERTY_RUNS * (opts.runsFactor ?? 1)));
  t.diagnostic(
    `fast-check seed ${PROPERTY_SEED}, ${numRuns} runs${PROPERTY_PATH ? `, replaying path ${PROPERTY_PATH}` : ''}`,
  );
  await fc.assert(property, { numRuns, seed: PROPERTY_SEED, ...(PROPERTY_PATH ? { path: PROPERTY_PATH } : {}) });
}

export interface RawResponse {
  readonly status: number;
  /** Header names (lower case) and values as received, repeated names kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly text: string;
  header(name: string): string | undefined;
  json(): any;
  /** Status, every header and the body as one string: what the leak checks search. */
  readonly transcript: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * One request with exactly these headers, in this order and casing, repeated names included.
 * Host and Content-Length are added unless the list has them. A server that closes the
 * connection without an answer (as Node does for some malformed requests) rejects.
 */
export function rawCall(
  baseUrl: string,
  opts: {
    method?: string;
    path?: string;
    headers: ReadonlyArray<readonly [string, string]>;
    body?: string | Uint8Array;
  },
): Promise<RawResponse> {
  const url = new URL(opts.path ?? '/link-token', baseUrl);
  const body =
    opts.body === undefined
      ? undefined
      : typeof opts.body === 'string'
        ? Buffer.from(opts.body, 'utf8')
        : Buffer.from(opts.body);
  const names = new Set(opts.headers.map(([name]) => name.toLowerCase()));
  const flat: string[] = [];
  if (!names.has('host')) flat.push('host', url.host);
  for (const [name, value] of opts.headers) flat.push(name, value);
  if (body !== undefined && !names.has('content-length')) flat.push('content-length', String(body.length));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'POST', headers: flat, agent, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
        resolve({
          status: res.statusCode ?? 0,
          headers,
          text,
          header: (name) => headers.find(([n]) => n === name.toLowerCase())?.[1],
          json: () => JSON.parse(text),
          transcript: `${res.statusCode} ${headers.map(([n, v]) => `${n}: ${v}`).join('\n')}\n\n${text}`,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Parts of a secret this long or longer count as leaked (shorter runs occur by chance). */
export const LEAK_WINDOW = 17;

/** The first run of LEAK_WINDOW characters of `secret` that `seen` contains, if any. */
export function leakedPart(secret: string, seen: string): string | undefined {
  if (secret.length < LEAK_WINDOW || seen.length < LEAK_WINDOW) return undefined;
  const windows = new Set<string>();
  for (let i = 0; i + LEAK_WINDOW <= seen.length; i++) windows.add(seen.slice(i, i + LEAK_WINDOW));
  for (let i = 0; i + LEAK_WINDOW <= secret.length; i++) {
    const part = secret.slice(i, i + LEAK_WINDOW);
    if (windows.has(part)) return part;
  }
  return undefined;
}

/**
 * For large texts (every log line of a run): whether `seen` holds a run of 2 × (LEAK_WINDOW − 1)
 * characters of any secret. Windows of the secrets are sampled every LEAK_WINDOW − 1 characters,
 * so any such run contains one; this keeps the set small enough for megabytes of logs.
 */
export function leakedPartInBulk(secrets: Iterable<string>, seen: string): string | undefined {
  const sampled = new Set<string>();
  for (const secret of secrets) {
    for (let i = 0; i + LEAK_WINDOW <= secret.length; i += LEAK_WINDOW - 1)
      sampled.add(secret.slice(i, i + LEAK_WINDOW));
  }
  if (sampled.size === 0) return undefined;
  for (let i = 0; i + LEAK_WINDOW <= seen.length; i++) {
    const part = seen.slice(i, i + LEAK_WINDOW);
    if (sampled.has(part)) return part;
  }
  return undefined;
}
