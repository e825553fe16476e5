// One cold start of one route, as Lambda does it: a fresh Node process imports the bundled
// handler (init) and invokes it once with the request in BENCH_REQUEST (JSON {method, path,
// headers, body}); modelled on bench/cold/product-cold.mjs, for any route.
//   node bench/paths/cold.mjs <bundle/index.mjs>   (env: BENCH_REQUEST and the function's settings)
// Prints one line "BENCH_RESULT {...}" on stdout, then exits.
import { apiEvent, lambdaContext } from './event.mjs';

const scriptStart = performance.now();
const request = JSON.parse(process.env.BENCH_REQUEST);
const { handler } = await import(new URL(`file://${process.argv[2]}`).href);
const imported = performance.now();
const response = await handler(apiEvent(request), lambdaContext());
const answered = performance.now();

const { readFileSync } = await import('node:fs');
const status = readFileSync('/proc/self/status', 'utf8');
const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
const result = {
  statusCode: response?.statusCode,
  body: String(response?.body ?? '').slice(0, 300),
  bootMs: scriptStart,
  importMs: imported - scriptStart,
  firstInvokeMs: answered - imported,
  peakRssKb: kb('VmHWM'),
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
