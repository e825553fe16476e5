// A warm execution environment: imports one bundled handler, then on each {id, requests}
// message invokes it once per request, one at a time (as Lambda does), and answers with the CPU
// time of the whole batch (process.cpuUsage around it, user + system), each invocation's wall
// time, and any invocation that did not answer 200 with a link token.
//   node bench/serverless/worker.mjs <handler file>   (env: the function's settings)
// Plain JavaScript: the measured process carries no TypeScript loader.
import { apiEvent, lambdaContext } from '../paths/event.mjs';

const { handler } = await import(new URL(`file://${process.argv[2]}`).href);

process.on('message', async ({ id, requests }) => {
  const events = requests.map((r) => apiEvent(r));
  const contexts = requests.map(() => lambdaContext());
  const wallMs = new Float64Array(requests.length);
  const responses = new Array(requests.length);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < events.length; i++) {
    const t0 = performance.now();
    responses[i] = await handler(events[i], contexts[i]);
    wallMs[i] = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  const broken = [];
  responses.forEach((r, i) => {
    let ok = r?.statusCode === 200;
    if (ok) {
      try {
        ok = typeof JSON.parse(r.body).link_token === 'string';
      } catch {
        ok = false;
      }
    }
    if (!ok && broken.length < 3)
      broken.push({ index: i, statusCode: r?.statusCode, body: String(r?.body ?? '').slice(0, 200) });
  });
  process.send({ id, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: [...wallMs], broken });
});
process.send({ ready: true });
