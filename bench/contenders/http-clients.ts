// Child process of the benchmark: the same Plaid call (the body the product sends) through each
// candidate HTTP client, against the Plaid stand-in, with this process's CPU time per call.
//   node client-compare.ts   (env: BENCH_PLAID_URL, BENCH_PLAID_BODY, BENCH_PLAID_CLIENT_ID, BENCH_PLAID_SECRET)
// Prints one JSON line: { [client]: { c1: {cpuMsPerCall, msPerCall, callsPerSecond}, c32: {...} } }.
import http from 'node:http';
import { Configuration, PlaidApi } from 'plaid';
import { Pool } from 'undici';

const url = new URL('/link/token/create', process.env.BENCH_PLAID_URL);
const body = process.env.BENCH_PLAID_BODY!;
const parsedBody = JSON.parse(body) as Record<string, unknown>;
const headers = {
  'content-type': 'application/json',
  accept: 'application/json',
  'plaid-version': '2020-09-14',
  'plaid-client-id': process.env.BENCH_PLAID_CLIENT_ID!,
  'plaid-secret': process.env.BENCH_PLAID_SECRET!,
  'user-agent': 'bench',
};

// What lambda/plaid/plaid-client.ts does: node:http(s) with a keep-alive agent.
const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 64, scheduling: 'lifo' });
const nodeHttp = () =>
  new Promise<string>((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

// Node's built-in fetch (undici).
const viaFetch = async () => (await fetch(url, { method: 'POST', headers, body })).text();

// The peer's client: the official SDK (axios underneath).
const plaid = new PlaidApi(
  new Configuration({
    basePath: url.origin,
    baseOptions: {
      headers: {
        'PLAID-CLIENT-ID': headers['plaid-client-id'],
        'PLAID-SECRET': headers['plaid-secret'],
        'Plaid-Version': '2020-09-14',
      },
    },
  }),
);
const viaSdk = async () => JSON.stringify((await plaid.linkTokenCreate(parsedBody as never)).data);

// undici's own request API from npm (not fetch): the fast path undici offers, with a pool of
// keep-alive connections like the product's agent.
const pool = new Pool(url.origin, { connections: 64 });
const viaUndiciPool = async () => {
  const res = await pool.request({
    method: 'POST',
    path: url.pathname,
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  return res.body.text();
};

const clients: Record<string, () => Promise<string>> = {
  'node:http + keep-alive Agent (the product)': nodeHttp,
  'undici Pool.request (npm package)': viaUndiciPool,
  'fetch (undici, built in)': viaFetch,
  'plaid SDK (axios; the peer)': viaSdk,
};

type Figures = { cpuMsPerCall: number; msPerCall: number; callsPerSecond: number };

async function measure(call: () => Promise<string>, connections: number, total: number): Promise<Figures> {
  const loop = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const text = await call();
      if (!text.includes('link_token')) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, () => loop(Math.ceil(200 / connections))));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, () => loop(Math.ceil(total / connections))));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const calls = Math.ceil(total / connections) * connections;
  // msPerCall is the latency of one call only when connections is 1.
  return {
    cpuMsPerCall: (used.user + used.system) / 1000 / calls,
    msPerCall: elapsed / calls,
    callsPerSecond: (calls * 1000) / elapsed,
  };
}

const out: Record<string, { c1: Figures; c32: Figures }> = {};
for (const [name, call] of Object.entries(clients)) {
  out[name] = {
    c1: await measure(call, 1, Number(process.env.BENCH_CLIENT_CALLS ?? 1500)),
    c32: await measure(call, 32, Number(process.env.BENCH_CLIENT_CALLS ?? 1500) * 2),
  };
}
agent.destroy();
await pool.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
