// lambda/plaid/plaid-client.ts times calls out with one watchdog armed for the earliest deadline
// in flight (not a timer per call). These tests fail if a call outlives its own budget because
// another call's later deadline was armed first, if a call that answers in time is cut off, or if
// the watchdog keeps the process alive. A loopback server holds requests to make Plaid slow.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createPlaidClient } from '../../lambda/plaid/plaid-client.ts';

async function slowPlaid() {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const delay = Number(req.url?.split('delay=')[1] ?? 0);
    if (delay < 0) held.push(res);
    else
      setTimeout(
        () =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ link_token: 'link-sandbox-x', expiration: '2030-01-01T00:00:00Z', request_id: 'r' })),
        delay,
      );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    server.close();
  };
  return { baseUrl, close };
}

const credentials = { client_id: 'c', secret: 's' };
const body = { client_name: 'x' };

test('each call times out at its own deadline, whatever the deadlines of the calls in flight before it', async () => {
  const plaid = await slowPlaid();
  const client = createPlaidClient({ minRetryBudgetMs: 1e9 });
  try {
    const started = performance.now();
    const long = client.call(`/hold?delay=-1`, {
      baseUrl: plaid.baseUrl,
      credentials,
      body,
      deadline: Date.now() + 1500,
      repeatable: false,
      read: (j) => j,
    });
    const short = client.call(`/hold?delay=-1`, {
      baseUrl: plaid.baseUrl,
      credentials,
      body,
      deadline: Date.now() + 150,
      repeatable: false,
      read: (j) => j,
    });
    const shortOutcome = await short;
    const shortMs = performance.now() - started;
    assert.deepEqual(shortOutcome, { ok: false, kind: 'timeout', attempts: 1 });
    assert.ok(shortMs >= 140 && shortMs < 1000, `the 150 ms call timed out after ${shortMs.toFixed(0)} ms`);
    const longOutcome = await long;
    const longMs = performance.now() - started;
    assert.deepEqual(longOutcome, { ok: false, kind: 'timeout', attempts: 1 });
    assert.ok(longMs >= 1400 && longMs < 2500, `the 1500 ms call timed out after ${longMs.toFixed(0)} ms`);
  } finally {
    await plaid.close();
  }
});

test('a call answered within its budget is not cut off when an earlier call timed out meanwhile', async () => {
  const plaid = await slowPlaid();
  const client = createPlaidClient({ minRetryBudgetMs: 1e9 });
  try {
    const slow = client.call(`/hold?delay=-1`, {
      baseUrl: plaid.baseUrl,
      credentials,
      body,
      deadline: Date.now() + 100,
      repeatable: false,
      read: (j) => j,
    });
    const answered = client.createLinkToken({
      baseUrl: `${plaid.baseUrl}`,
      credentials,
      body,
      deadline: Date.now() + 2000,
    });
    assert.equal((await slow).ok, false);
    // /link/token/create answers at once (no delay in its URL): well inside 2 s.
    const outcome = await answered;
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
  } finally {
    await plaid.close();
  }
});

test('the watchdog never keeps the process alive on its own', async () => {
  const script = `
    import { createServer } from 'node:http';
    import { createPlaidClient } from ${JSON.stringify(new URL('../../lambda/plaid/plaid-client.ts', import.meta.url).href)};
    const server = createServer((req, res) => { req.resume(); res.end('{"link_token":"l","expiration":"e"}'); }).listen(0, '127.0.0.1', async () => {
      const out = await createPlaidClient().createLinkToken({ baseUrl: 'http://127.0.0.1:' + server.address().port, credentials: { client_id: 'c', secret: 's' }, body: {}, deadline: Date.now() + 60000 });
      server.closeAllConnections(); server.close();
      console.log(out.ok);
    });`;
  const { spawn } = await import('node:child_process');
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.equal(out.trim(), 'true');
  assert.ok(performance.now() - started < 20000, 'exited without waiting for the 60 s budget');
});
