// A warm execution environment: imports one bundled handler (and reports how long that took),
// then on each {id, requests} message over IPC invokes it once per request, one at a time, as
// Lambda does. It answers with the CPU time of the whole batch (process.cpuUsage around it, user +
// system), each invocation's wall time (what Lambda bills as Duration), on request each
// invocation's own CPU time, the statuses, and the invocations that did not answer as expected.
// Events are built before the measured loop; nothing else runs here between invocations.
//   node bench/runtime/worker.mjs <bundle>   (env: the function's settings)
import { apiEvent, hasLinkToken, lambdaContext } from './event.mjs';

// With BENCH_COUNT_LOG_BYTES, the bytes the function writes to stdout (its log lines) are counted.
let logBytes = 0;
if (process.env.BENCH_COUNT_LOG_BYTES) {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    logBytes += Buffer.byteLength(chunk);
    return write(chunk, ...rest);
  };
}

const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const cpuSince = (start) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { handler } = await import(new URL(`file://${process.argv[2]}`).href);
const init = { importMs: performance.now() - t0, importCpuMs: cpuSince(cpu0), rssMb: mb(process.memoryUsage().rss) };

process.on('message', async ({ id, requests, expect, keepBodies, perInvocationCpu }) => {
  const events = requests.map((r) => apiEvent(r));
  const contexts = requests.map(() => lambdaContext());
  const wallMs = new Float64Array(requests.length);
  const cpuMsEach = new Float64Array(perInvocationCpu ? requests.length : 0);
  const responses = new Array(requests.length);
  const logBytesBefore = logBytes;
  const batchCpu = process.cpuUsage();
  for (let i = 0; i < events.length; i++) {
    const cpu = perInvocationCpu ? process.cpuUsage() : undefined;
    const start = performance.now();
    responses[i] = await handler(events[i], contexts[i]);
    wallMs[i] = performance.now() - start;
    if (cpu) cpuMsEach[i] = cpuSince(cpu);
  }
  const cpuMs = cpuSince(batchCpu);
  const broken = [];
  responses.forEach((r, i) => {
    const linkToken = requests[i].path === '/link-token' && expect === 200;
    if ((r?.statusCode !== expect || (linkToken && !hasLinkToken(r))) && broken.length < 3)
      broken.push({ index: i, status: r?.statusCode, body: String(r?.body ?? '').slice(0, 200) });
  });
  const memory = process.memoryUsage();
  process.send({
    id,
    cpuMs,
    wallMs: [...wallMs],
    cpuMsEach: [...cpuMsEach],
    statuses: responses.map((r) => r?.statusCode),
    bodies: keepBodies ? responses.map((r) => r?.body) : [],
    broken,
    memory: { rssMb: mb(memory.rss), heapUsedMb: mb(memory.heapUsed) },
    logBytes: logBytes - logBytesBefore,
  });
});
process.send(init);
