// One cold start, as Lambda does it: a fresh Node process imports the bundle (init) and invokes
// its handler once with the request in BENCH_REQUEST ({method, path, headers, body}), or, for a
// bundle exporting read(secretId), reads the secret BENCH_SECRET_ID once.
//   node bench/runtime/cold.mjs <bundle>   (env: BENCH_REQUEST or BENCH_SECRET_ID, the function's settings)
// Prints one line "BENCH_RESULT {...}" on stdout, then exits. No static import: whatever this
// script needs is loaded after the bundle, so that boot is Node's own start and import the bundle's.
const scriptStart = performance.now();
const bundle = await import(new URL(`file://${process.argv[2]}`).href);
const imported = performance.now();
const { apiEvent, lambdaContext, hasLinkToken } = await import('./event.mjs');
const secretId = process.env.BENCH_SECRET_ID;
const event = secretId ? undefined : apiEvent(JSON.parse(process.env.BENCH_REQUEST));
const invoked = performance.now();
const response = secretId
  ? { statusCode: typeof (await bundle.read(secretId)) === 'string' ? 200 : 500 }
  : await bundle.handler(event, lambdaContext());
const answered = performance.now();

const { readFileSync } = await import('node:fs');
const peakRssKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
const cpu = process.cpuUsage();
const result = {
  statusCode: response?.statusCode,
  body: String(response?.body ?? '').slice(0, 300),
  linkToken: hasLinkToken(response),
  bootMs: scriptStart,
  importMs: imported - scriptStart,
  firstInvokeMs: answered - invoked,
  peakRssKb,
  cpuMs: (cpu.user + cpu.system) / 1000,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
