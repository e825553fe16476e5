// One cold GetSecretValue: a fresh process imports a bundle exporting read(secretId) and reads
// one secret from the Secrets Manager stand-in. Plain JavaScript: nothing else is loaded.
//   node bench/cold/secrets-cold.mjs <bundle.mjs> <secretId>
// Prints "BENCH_RESULT {importMs, readMs, ok}" on stdout, then exits.
const started = performance.now();
const { read } = await import(new URL(`file://${process.argv[2]}`).href);
const imported = performance.now();
const value = await read(process.argv[3]);
const done = performance.now();
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ importMs: imported - started, readMs: done - imported, ok: typeof value === 'string' })}\n`,
  () => process.exit(0),
);
