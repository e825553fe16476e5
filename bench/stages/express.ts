// The Express comparison, kept as information without targets: the product behind the local API
// Gateway emulator against a Plaid quickstart-style Express server (contenders/express-peer.cjs)
// and the Plaid stand-in called directly (the floor there), and the choices behind the figures.
//   cold: fresh processes, alternating: the product (spawn → first token), the peer (spawn →
//         listening → first token), the AWS SDK alone reading one secret; then the product with
//         the JWKS and Secrets Manager answering after a round trip, prefetch at init on and off;
//         then one more product cold start under V8 coverage (which bundled code runs at all)
//   warm: autocannon at each concurrency against each server in its own process, CPU from /proc
//   clients: the product's Plaid call through each candidate HTTP client (contenders/http-clients.ts)
//   alternatives: one cold GetSecretValue through AWS SDK variants, over TLS on loopback
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DEMO_PLAID_SECRET_ID } from '../../local/demo-tenants.ts';
import { LAMBDA_BUNDLING } from '../../infra/lambda-bundling.ts';
import { analyseBundle, executedShares, type Contributor } from '../lib/bundle.ts';
import { buildEmulator, buildProduct, buildSecretReader } from '../lib/builds.ts';
import { keyed, log, median, percentile, round } from '../lib/harness.ts';
import { runLoad, statusKb, type LoadResult, type LoadTarget } from '../lib/load.ts';
import { coldStart, exited, freePort, stop, waitForLine, waitForPort, type ColdStart } from '../lib/processes.ts';
import { demoTenants, lambdaEnv, linkTokenReq, type StandIns } from '../lib/standins.ts';

const PEER_SCRIPT = fileURLToPath(new URL('../contenders/express-peer.cjs', import.meta.url));
const CLIENTS_SCRIPT = fileURLToPath(new URL('../contenders/http-clients.ts', import.meta.url));
const TOKEN_POOL = 256;
const SECRET_READS = 7;

export const WARM_TARGETS = ['product', 'peer', 'floor', 'emulator'] as const;
export type WarmTarget = (typeof WARM_TARGETS)[number];

export interface ExpressConfig {
  coldRuns: number;
  rttMs: number;
  warmSeconds: number;
  warmupSeconds: number;
  concurrency: number[];
  rounds: number;
  stages: Set<string>;
}

type Summary = { medianMs: number; p90Ms: number };
export interface WarmFigures extends Omit<LoadResult, 'failures'> {
  handlerP50Ms?: number;
}

export interface ExpressResult {
  bundle: { bytes: number; gzipBytes: number; contributors: Contributor[] };
  peerCode: { bytes: number; files: number };
  cold?: {
    runs: number;
    product: Summary & {
      nodeBootMs: number;
      importMs: number;
      firstInvokeMs: number;
      peakRssMb: number;
      plaid: number;
      secrets: number;
      jwks: number;
    };
    peer: Summary & { startToListenMs: number; firstRequestMs: number; peakRssMb: number };
    sdkAloneMs: number;
    withRtt?: { rttMs: number; prefetchOnMs: number; prefetchOffMs: number };
  };
  warm?: {
    runs: Record<string, Record<WarmTarget, WarmFigures>>;
    peakRssMb: Record<WarmTarget, number>;
    productCalls: { secrets: number; jwks: number; requests: number };
  };
  clients?: Record<string, Record<'c1' | 'c32', { cpuMsPerCall: number; msPerCall: number; callsPerSecond: number }>>;
  alternatives?: Array<{
    name: string;
    transport: string;
    bytes: number;
    gzipBytes: number;
    importMs: number;
    firstReadMs: number;
  }>;
}

const summary = (values: number[]): Summary => ({
  medianMs: round(median(values), 2),
  p90Ms: round(percentile(values, 0.9), 2),
});

export async function runExpress(
  standIns: StandIns,
  root: string,
  workDir: string,
  config: ExpressConfig,
): Promise<ExpressResult> {
  mkdirSync(workDir, { recursive: true });
  const tenantsFile = join(workDir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify(demoTenants(standIns)));
  log(`building the product from ${root} with the demo tenant`);
  const product = buildProduct(root, join(workDir, 'product'), tenantsFile);
  if (!product.metafile) throw new Error(`${root}'s build writes no metafile.json: its bundle cannot be analysed`);
  const bundle = analyseBundle({ metafile: product.metafile, outFile: product.handlerFile, projectRoot: root });
  const env = lambdaEnv(standIns);
  const tokens = await standIns.mint(Array.from({ length: TOKEN_POOL }, (_, i) => `bench-user-${i}`));
  const peerEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PLAID_CLIENT_ID: standIns.plaidCredentials.client_id,
    PLAID_SECRET: standIns.plaidCredentials.secret,
    PLAID_ENV: 'sandbox',
    PLAID_PRODUCTS: 'transactions',
    PLAID_COUNTRY_CODES: 'US,CA',
    PLAID_BASE_URL: standIns.plaidUrl,
  };
  const result: ExpressResult = {
    bundle: { bytes: bundle.bytes, gzipBytes: bundle.gzipBytes, contributors: bundle.contributors },
    peerCode: peerLoadedCode(),
  };
  const coldProduct = (i: number, extra: Record<string, string> = {}) =>
    coldStart(product.handlerFile, { ...env, ...extra }, linkTokenReq(tokens[i % tokens.length]!), {
      label: 'product',
    });

  if (config.stages.has('cold')) {
    const sdkAlone = await buildSecretReader('sdk-bare-client.ts', join(workDir, 'sdk-alone'));
    const samples = {
      product: [] as ColdStart[],
      calls: [] as Array<{ plaid: number; secrets: number; jwks: number }>,
      peer: [] as PeerCold[],
      sdk: [] as number[],
    };
    log(
      `cold path: ${config.coldRuns} fresh processes each (+1 discarded), alternating: product, peer, the AWS SDK alone`,
    );
    for (let i = -1; i < config.coldRuns; i++) {
      await standIns.reset();
      const p = await coldProduct(i + 1);
      const calls = await standIns.counters();
      const q = await coldPeer(peerEnv);
      const a = await coldStart(sdkAlone.handlerFile, env, DEMO_PLAID_SECRET_ID, { label: 'the AWS SDK alone' });
      if (i < 0) continue;
      samples.product.push(p);
      samples.calls.push(calls);
      samples.peer.push(q);
      samples.sdk.push(a.totalMs);
    }
    const m = <T>(list: T[], f: (x: T) => number) => round(median(list.map(f)), 2);
    result.cold = {
      runs: config.coldRuns,
      product: {
        ...summary(samples.product.map((s) => s.totalMs)),
        nodeBootMs: m(samples.product, (s) => s.bootMs),
        importMs: m(samples.product, (s) => s.importMs),
        firstInvokeMs: m(samples.product, (s) => s.firstInvokeMs),
        peakRssMb: round(m(samples.product, (s) => s.peakRssKb) / 1024, 1),
        plaid: m(samples.calls, (c) => c.plaid),
        secrets: m(samples.calls, (c) => c.secrets),
        jwks: m(samples.calls, (c) => c.jwks),
      },
      peer: {
        ...summary(samples.peer.map((s) => s.totalMs)),
        startToListenMs: m(samples.peer, (s) => s.listeningMs),
        firstRequestMs: m(samples.peer, (s) => s.totalMs - s.listeningMs),
        peakRssMb: round(m(samples.peer, (s) => s.peakRssKb) / 1024, 1),
      },
      sdkAloneMs: round(median(samples.sdk), 2),
    };
    // What prefetch at init is for: in production the JWKS and each Secrets Manager read are a
    // round trip to another service; with it, reads at init, all at once, against one after another
    // inside the first request.
    if (config.rttMs > 0) {
      log(
        `cold path with ${config.rttMs} ms round trips: prefetch at init on and off, ${config.coldRuns} each, alternating`,
      );
      const on: number[] = [];
      const off: number[] = [];
      await standIns.setUpstreamLatency(config.rttMs);
      try {
        for (let i = -1; i < config.coldRuns; i++) {
          const a = await coldProduct(i + 1, { INIT_PREFETCH: 'on' });
          const b = await coldProduct(i + 1, { INIT_PREFETCH: 'off' });
          if (i < 0) continue;
          on.push(a.totalMs);
          off.push(b.totalMs);
        }
      } finally {
        await standIns.setUpstreamLatency(0);
      }
      result.cold.withRtt = {
        rttMs: config.rttMs,
        prefetchOnMs: round(median(on), 2),
        prefetchOffMs: round(median(off), 2),
      };
    }
    log('one more cold start under V8 coverage: which bundled code runs at all');
    const dir = mkdtempSync(join(tmpdir(), 'bench-coverage-'));
    try {
      await coldProduct(0, { NODE_V8_COVERAGE: dir });
      const shares = executedShares({ coverageDir: dir, outFile: product.handlerFile, projectRoot: root });
      for (const c of result.bundle.contributors) {
        const s = shares.get(c.name);
        if (s && s.bytes > 0) c.executedShare = round(s.executed / s.bytes, 3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (config.stages.has('warm'))
    result.warm = await warmStage(standIns, product.handlerFile, workDir, env, peerEnv, tokens, config);
  if (config.stages.has('clients')) {
    log("HTTP clients: the product's Plaid call through node:http, undici, fetch and the plaid SDK");
    await coldProduct(1);
    const call = await standIns.lastPlaidRequest();
    const child = spawn(process.execPath, [CLIENTS_SCRIPT], {
      env: {
        PATH: process.env.PATH ?? '',
        BENCH_PLAID_URL: standIns.plaidUrl,
        BENCH_PLAID_BODY: JSON.stringify(call?.body),
        BENCH_PLAID_CLIENT_ID: standIns.plaidCredentials.client_id,
        BENCH_PLAID_SECRET: standIns.plaidCredentials.secret,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { line } = await waitForLine(child.stdout, (l) => l.startsWith('{'), child, 120_000);
    await exited(child);
    await standIns.reset();
    result.clients = JSON.parse(line) as ExpressResult['clients'];
  }
  if (config.stages.has('alternatives')) result.alternatives = await alternatives(standIns, env, workDir);
  return result;
}

interface PeerCold {
  totalMs: number;
  listeningMs: number;
  peakRssKb: number;
}

/** The Express peer from spawn to its first link token: listening, then one POST on a new connection. */
async function coldPeer(peerEnv: Record<string, string>): Promise<PeerCold> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [PEER_SCRIPT], {
    env: { ...peerEnv, APP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const listening = await waitForLine(child.stdout, (l) => l.includes('listening on port'), child);
    const body = await post(`http://127.0.0.1:${port}/api/create_link_token`);
    const answered = performance.now();
    if (typeof (JSON.parse(body) as { link_token?: unknown }).link_token !== 'string')
      throw new Error(`peer cold start answered ${body}`);
    return {
      totalMs: answered - started,
      listeningMs: listening.at - started,
      peakRssKb: statusKb(child.pid!, 'VmHWM'),
    };
  } finally {
    await stop(child);
  }
}

/** One POST on a fresh connection, as a browser's first call would be. */
function post(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(Buffer.concat(chunks).toString('utf8'))
          : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function warmStage(
  standIns: StandIns,
  handlerFile: string,
  workDir: string,
  env: Record<string, string>,
  peerEnv: Record<string, string>,
  tokens: string[],
  config: ExpressConfig,
): Promise<ExpressResult['warm']> {
  const emulator = (await buildEmulator(workDir)).handlerFile;
  const [productPort, peerPort, emulatorPort] = [await freePort(), await freePort(), await freePort()];
  // stdout (the function's and the sample's request logs) goes to /dev/null: written, not read.
  const stdio = ['ignore', 'ignore', 'inherit', 'ipc'] as const;
  const servers = {
    product: spawn(process.execPath, [emulator, handlerFile], {
      env: { ...env, PORT: String(productPort) },
      stdio: [...stdio],
    }),
    peer: spawn(process.execPath, [PEER_SCRIPT], {
      env: { ...peerEnv, APP_PORT: String(peerPort) },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
    emulator: spawn(process.execPath, [emulator, 'canned'], {
      env: { PATH: env.PATH, PORT: String(emulatorPort) },
      stdio: [...stdio],
    }),
  };
  const durations = () =>
    new Promise<{ p50: number }>((resolve) => {
      servers.product.once('message', resolve);
      servers.product.send({ type: 'durations' });
    });
  try {
    await Promise.all([
      waitForPort(productPort, servers.product),
      waitForPort(peerPort, servers.peer),
      waitForPort(emulatorPort, servers.emulator),
    ]);
    const req = linkTokenReq(tokens[0]!);
    const product: LoadTarget = {
      url: `http://127.0.0.1:${productPort}/link-token`,
      method: 'POST',
      headers: { ...req.headers, 'content-type': 'application/json' },
      body: req.body,
      headerVariants: tokens.map((token) => ({ authorization: `Bearer ${token}` })),
    };
    // The floor replays, straight at the Plaid stand-in, the very call the product makes.
    const first = await fetch(product.url, { method: 'POST', headers: product.headers, body: product.body });
    if (first.status !== 200) throw new Error(`product server answered ${first.status}: ${await first.text()}`);
    const call = await standIns.lastPlaidRequest();
    if (!call) throw new Error('the Plaid stand-in saw no request');
    const targets: Record<WarmTarget, { target: LoadTarget; pid: number }> = {
      floor: {
        target: {
          url: `${standIns.plaidUrl}${call.path}`,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'plaid-version': '2020-09-14',
            'plaid-client-id': standIns.plaidCredentials.client_id,
            'plaid-secret': standIns.plaidCredentials.secret,
          },
          body: JSON.stringify(call.body),
        },
        pid: standIns.pid,
      },
      product: { target: product, pid: servers.product.pid! },
      peer: {
        target: { url: `http://127.0.0.1:${peerPort}/api/create_link_token`, method: 'POST', headers: {} },
        pid: servers.peer.pid!,
      },
      emulator: {
        target: { ...product, url: `http://127.0.0.1:${emulatorPort}/link-token` },
        pid: servers.emulator.pid!,
      },
    };
    const runs: Record<string, Record<WarmTarget, WarmFigures>> = {};
    const productCalls = { secrets: 0, jwks: 0, requests: 0 };
    for (const connections of config.concurrency) {
      const rounds = keyed(WARM_TARGETS, () => [] as WarmFigures[]);
      for (let round = 0; round < config.rounds; round++) {
        for (const name of ['floor', 'product', 'peer', 'emulator'] as const) {
          const { target, pid } = targets[name];
          if (config.warmupSeconds > 0) await runLoad(target, connections, config.warmupSeconds, pid);
          await standIns.reset();
          if (name === 'product') await durations();
          log(`warm: ${name} at concurrency ${connections}, ${config.warmSeconds} s (round ${round + 1})`);
          const { failures, ...figures } = await runLoad(target, connections, config.warmSeconds, pid);
          if (failures > 0) throw new Error(`${name} at concurrency ${connections}: ${failures} failed requests`);
          const calls = await standIns.counters();
          if (name === 'product') {
            productCalls.secrets += calls.secrets;
            productCalls.jwks += calls.jwks;
            productCalls.requests += figures.requests;
          }
          rounds[name].push({ ...figures, ...(name === 'product' && { handlerP50Ms: (await durations()).p50 }) });
        }
      }
      // The round with the median throughput stands for the configuration.
      runs[`c${connections}`] = keyed(WARM_TARGETS, (t) => {
        const chosen = [...rounds[t]].sort((a, b) => a.rps - b.rps)[(rounds[t].length - 1) >> 1]!;
        const { requests, rps, p50Ms, p99Ms, cpuMsPerRequest, handlerP50Ms } = chosen;
        return {
          requests,
          rps: round(rps, 1),
          p50Ms: round(p50Ms, 4),
          p99Ms: round(p99Ms, 4),
          cpuMsPerRequest: round(cpuMsPerRequest, 4),
          ...(handlerP50Ms !== undefined && { handlerP50Ms: round(handlerP50Ms, 4) }),
        };
      });
    }
    const peakRssMb = keyed(WARM_TARGETS, (t) =>
      round(statusKb(t === 'floor' ? standIns.pid : servers[t].pid!, 'VmHWM') / 1024, 1),
    );
    return { runs, peakRssMb, productCalls };
  } finally {
    await Promise.all(Object.values(servers).map(stop));
  }
}

/**
 * GetSecretValue through the AWS SDK as the product uses it (bare client and one command,
 * module-first, credentials from the environment) against the default credential chain, the
 * CommonJS build and the aggregated client; one cold read each in fresh processes. Over https,
 * as in production: over plain http the SDK takes another path (node:http, which drags in undici).
 */
async function alternatives(
  standIns: StandIns,
  env: Record<string, string>,
  workDir: string,
): Promise<ExpressResult['alternatives']> {
  log('Secrets Manager: the AWS SDK variants, one cold read each, over TLS');
  const front = await tlsFront(new URL(standIns.secretsUrl), join(workDir, 'tls'));
  const childEnv = front
    ? { ...env, AWS_ENDPOINT_URL_SECRETS_MANAGER: front.url, NODE_EXTRA_CA_CERTS: front.caFile }
    : env;
  const productAlias = { ...LAMBDA_BUNDLING.alias };
  const { '@aws-sdk/credential-provider-node': _, ...defaultChain } = productAlias;
  const variants = [
    [
      'AWS SDK, bare client + command, module-first, credentials from the environment (the product)',
      'sdk-bare-client.ts',
      ['module', 'main'],
      productAlias,
    ],
    [
      'AWS SDK, bare client + command, module-first, default credential chain',
      'sdk-bare-client.ts',
      ['module', 'main'],
      defaultChain,
    ],
    [
      'AWS SDK, bare client + command, main-first (CommonJS), default credential chain',
      'sdk-bare-client.ts',
      ['main', 'module'],
      defaultChain,
    ],
    [
      'AWS SDK, aggregated SecretsManager client, module-first, default credential chain',
      'sdk-aggregated-client.ts',
      ['module', 'main'],
      defaultChain,
    ],
  ] as const;
  const out: NonNullable<ExpressResult['alternatives']> = [];
  for (const [i, [name, entry, mainFields, alias]] of variants.entries()) {
    const built = await buildSecretReader(entry, join(workDir, 'alternatives', String(i)), {
      mainFields: [...mainFields],
      alias,
    });
    const samples: ColdStart[] = [];
    for (let run = -1; run < SECRET_READS; run++) {
      const sample = await coldStart(built.handlerFile, childEnv, DEMO_PLAID_SECRET_ID, { label: name });
      if (run >= 0) samples.push(sample);
    }
    out.push({
      name,
      transport: front ? 'https' : 'http',
      bytes: built.bytes,
      gzipBytes: gzipSync(readFileSync(built.handlerFile)).length,
      importMs: round(median(samples.map((s) => s.importMs)), 2),
      firstReadMs: round(median(samples.map((s) => s.firstInvokeMs)), 2),
    });
  }
  await front?.close();
  await standIns.reset();
  return out;
}

/** A TLS-terminating proxy on loopback in front of `target`, with a throwaway self-signed certificate. */
async function tlsFront(target: URL, dir: string) {
  mkdirSync(dir, { recursive: true });
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', ...subject],
    { stdio: 'ignore' },
  );
  if (made.status !== 0) {
    log('openssl not available: comparing over plain http instead');
    return undefined;
  }
  const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (client) => {
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    caFile: cert,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What the Express peer loads before it can answer: every module file it requires, in bytes. */
function peerLoadedCode(): { bytes: number; files: number } {
  const script =
    `const fs=require('fs');require(${JSON.stringify(PEER_SCRIPT)});` +
    `let b=0,n=0;for(const f of Object.keys(require.cache)){b+=fs.statSync(f).size;n++}` +
    `process.stderr.write(JSON.stringify({bytes:b,files:n}));process.exit(0)`;
  const port = String(40_000 + Math.floor(Math.random() * 20_000));
  const out = spawnSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', APP_PORT: port },
    encoding: 'utf8',
  });
  return JSON.parse(out.stderr.trim().split('\n').at(-1) ?? '{}') as { bytes: number; files: number };
}
