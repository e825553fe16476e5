// A warm execution environment for `npm run bench:paths`: imports the bundled handler once, then,
// on each {id, requests} message over IPC, invokes it once per request, one at a time, and
// answers with each invocation's wall time (what Lambda bills as Duration) and CPU time of this
// process during it (process.cpuUsage, user + system, µs resolution), plus status codes and the
// bodies the driver asked to keep (keepBodies). Nothing else runs in this process between
// invocations, so the CPU of an invocation is the handler's own (and the SDK's sockets it drives).
//   node bench/paths/worker.mjs <bundle/index.mjs>   (env: the function's settings)
import { apiEvent, lambdaContext } from './event.mjs';

const { handler } = await import(new URL(`file://${process.argv[2]}`).href);

process.on('message', async ({ id, requests, keepBodies }) => {
  const wallMs = new Float64Array(requests.length);
  const cpuMs = new Float64Array(requests.length);
  const statuses = new Array(requests.length);
  const bodies = [];
  for (let i = 0; i < requests.length; i++) {
    const event = apiEvent(requests[i]);
    const context = lambdaContext();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const response = await handler(event, context);
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    wallMs[i] = t1 - t0;
    cpuMs[i] = (cpu.user + cpu.system) / 1000;
    statuses[i] = response?.statusCode;
    if (keepBodies) bodies.push(response?.body);
  }
  process.send({ id, wallMs: [...wallMs], cpuMs: [...cpuMs], statuses, bodies });
});
process.send({ ready: true });
