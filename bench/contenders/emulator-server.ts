// The product behind the local API Gateway emulator (local/server.ts), for the warm-path runs:
// the bundled handler is imported once (as in a warm Lambda execution environment) and every
// HTTP request becomes one invocation. bench/run.ts bundles this file with esbuild before it
// runs it, so the measured process carries no TypeScript loader.
//   node product-server.mjs <bundle/index.mjs>   (env: PORT and the function's own settings)
// Over the IPC channel it reports how long the invocations took (what Lambda bills as
// Duration): {type: 'durations'} → {count, p50, p90, p99, mean} in ms, and the record restarts.
import { pathToFileURL } from 'node:url';
import { startLocalApiServer, type LambdaHandler } from '../../local/server.ts';

// `canned` instead of a bundle: the emulator alone, answering what the function answers
// without doing any of its work (the benchmark's "emulator" column).
const handlerFile = process.argv[2];
if (!handlerFile) throw new Error('usage: product-server.mjs <handler bundle | canned>');
const handler: LambdaHandler =
  handlerFile === 'canned'
    ? () =>
        Promise.resolve({
          statusCode: 200,
          headers: {
            'content-type': 'application/json',
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff',
            vary: 'Origin',
          },
          body: JSON.stringify({
            link_token: `link-sandbox-${crypto.randomUUID()}`,
            expiration: new Date(Date.now() + 4 * 3600_000).toISOString(),
          }),
        })
    : ((await import(pathToFileURL(handlerFile).href)) as { handler: LambdaHandler }).handler;

let durations = new Float64Array(1 << 16);
let count = 0;
const timed: LambdaHandler = async (event, context) => {
  const started = performance.now();
  try {
    return await handler(event, context);
  } finally {
    if (count === durations.length) {
      const bigger = new Float64Array(durations.length * 2);
      bigger.set(durations);
      durations = bigger;
    }
    durations[count++] = performance.now() - started;
  }
};

process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'durations') return;
  const sorted = durations.slice(0, count).sort();
  const at = (q: number) => (count ? sorted[Math.min(count, Math.max(1, Math.ceil(q * count))) - 1]! : Number.NaN);
  process.send?.({
    type: 'durations',
    count,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    mean: count ? sorted.reduce((a, b) => a + b, 0) / count : Number.NaN,
  });
  count = 0;
});

const server = await startLocalApiServer({
  handler: timed,
  port: Number(process.env.PORT ?? 0),
  host: '127.0.0.1',
  functionTimeoutMs: 12_000,
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
