// Measures the bundled handler the way Lambda runs it, to size the function (memory, timeout)
// and to work out its cost: `npm run measure -- [cold runs] [warm requests]`.
// Each run is a fresh Node process (a cold start): it imports the bundle built by the deploy's
// own settings (local/build.ts), serves one cold request (JWKS, both secrets and Plaid fetched)
// and then warm requests (everything cached, Plaid called each time). Plaid, Secrets Manager and
// the identity provider are the local stand-ins on loopback, answering at once, so the numbers
// are the function's own work; docs/operations.md adds Plaid's latency and the TLS handshakes on top.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { buildLambdaBundle } from '../local/build.ts';
import { demoTenantsFile, DEMO_AUDIENCE, DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID } from '../local/demo-tenants.ts';
import { startOidcIssuer } from '../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../local/standins/plaid.ts';
import { startSecretsManagerStandIn } from '../local/standins/secrets-manager.ts';
import { lambdaContext } from '../local/server.ts';

const ORIGIN = 'https://app.example.com';

interface RunResult {
  readonly importMs: number;
  readonly importCpuMs: number;
  readonly firstRequestMs: number;
  readonly firstRequestCpuMs: number;
  readonly warmMs: readonly number[];
  readonly warmCpuMsPerRequest: number;
  readonly rssMbAfterInit: number;
  readonly rssMbAfterWarm: number;
  readonly heapUsedMbAfterWarm: number;
  readonly logBytesPerWarmRequest: number;
  readonly statuses: readonly number[];
}

async function measure(coldRuns: number, warmRequests: number, nodeOptions: string): Promise<RunResult[]> {
  const issuer = await startOidcIssuer();
  const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  const plaid = await startPlaidStandIn({});
  const secrets = await startSecretsManagerStandIn({
    secrets: {
      [DEMO_PLAID_SECRET_ID]: JSON.stringify({ client_id: clientId, secret }),
      [DEMO_KEY_SECRET_ID]: 'measurement-only-client-user-id-key-0123456789abcdef',
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'link-token-measure-'));
  const tenantsFile = join(dir, 'tenants-source.json');
  writeFileSync(
    tenantsFile,
    JSON.stringify(demoTenantsFile({ issuer: issuer.issuer, origins: [ORIGIN], withOAuthRedirect: false })),
  );
  const bundle = await buildLambdaBundle({ outdir: join(dir, 'asset'), tenantsFile });
  const token = issuer.mint({ sub: 'measure-user', aud: DEMO_AUDIENCE }, { expiresInSeconds: 3600 });

  const results: RunResult[] = [];
  try {
    for (let run = 0; run < coldRuns; run++) {
      const child = fork(fileURLToPath(import.meta.url), ['--child', bundle.handlerFile, token, String(warmRequests)], {
        env: {
          PATH: process.env.PATH,
          NODE_OPTIONS: nodeOptions,
          PLAID_BASE_URL: plaid.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'measure',
          AWS_SECRET_ACCESS_KEY: 'measure',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      let logBytes = 0;
      child.stdout!.on('data', (chunk: Buffer) => (logBytes += chunk.length));
      const result = await new Promise<RunResult & { logBytesBeforeWarm: number }>((resolve, reject) => {
        child.on('message', (message) => resolve(message as RunResult & { logBytesBeforeWarm: number }));
        child.once('exit', (code) => code !== 0 && reject(new Error(`measurement run exited with ${code}`)));
      });
      await new Promise((resolve) => child.once('exit', resolve));
      results.push({
        ...result,
        logBytesPerWarmRequest: warmRequests ? (logBytes - result.logBytesBeforeWarm) / warmRequests : 0,
      });
    }
  } finally {
    await Promise.all([issuer.close(), plaid.close(), secrets.close()]);
  }
  return results;
}

/** The child: one execution environment, from import (init) to warm requests. */
async function runChild(handlerFile: string, token: string, warmRequests: number): Promise<void> {
  let logBytes = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };

  let cpu = process.cpuUsage();
  let started = performance.now();
  const { handler } = (await import(pathToFileURL(handlerFile).href)) as {
    handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode: number }>;
  };
  const importMs = performance.now() - started;
  const importCpuMs = cpuMs(cpu);
  const rssMbAfterInit = mb(process.memoryUsage().rss);

  const statuses: number[] = [];
  const invoke = async () => {
    const response = await handler(linkTokenEvent(token), lambdaContext(12_000));
    statuses.push(response.statusCode);
  };
  cpu = process.cpuUsage();
  started = performance.now();
  await invoke();
  const firstRequestMs = performance.now() - started;
  const firstRequestCpuMs = cpuMs(cpu);

  const logBytesBeforeWarm = logBytes;
  const warmMs: number[] = [];
  cpu = process.cpuUsage();
  for (let i = 0; i < warmRequests; i++) {
    started = performance.now();
    await invoke();
    warmMs.push(performance.now() - started);
  }
  const warmCpuMsPerRequest = warmRequests ? cpuMs(cpu) / warmRequests : 0;
  const memory = process.memoryUsage();
  process.send!({
    importMs,
    importCpuMs,
    firstRequestMs,
    firstRequestCpuMs,
    warmMs,
    warmCpuMsPerRequest,
    rssMbAfterInit,
    rssMbAfterWarm: mb(memory.rss),
    heapUsedMbAfterWarm: mb(memory.heapUsed),
    logBytesBeforeWarm,
    statuses: [...new Set(statuses)],
  });
  process.disconnect();
}

function linkTokenEvent(token: string): APIGatewayProxyEventV2 {
  const now = Date.now();
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: 'POST /link-token',
    rawPath: '/link-token',
    rawQueryString: '',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: ORIGIN },
    requestContext: {
      accountId: '000000000000',
      apiId: 'measure',
      domainName: 'measure.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'measure',
      http: {
        method: 'POST',
        path: '/link-token',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'measure-function',
      },
      requestId,
      routeKey: 'POST /link-token',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: JSON.stringify({ profile: 'default', platform: 'web' }),
    isBase64Encoded: false,
  };
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const median = (values: readonly number[]) => percentile(values, 50);
const round = (value: number) => Math.round(value * 100) / 100;

function summarize(label: string, runs: readonly RunResult[]) {
  const warm = runs.flatMap((r) => r.warmMs);
  return {
    label,
    cold_runs: runs.length,
    statuses: [...new Set(runs.flatMap((r) => r.statuses))],
    import_ms_median: round(median(runs.map((r) => r.importMs))),
    import_ms_max: round(Math.max(...runs.map((r) => r.importMs))),
    import_cpu_ms_median: round(median(runs.map((r) => r.importCpuMs))),
    first_request_ms_median: round(median(runs.map((r) => r.firstRequestMs))),
    first_request_cpu_ms_median: round(median(runs.map((r) => r.firstRequestCpuMs))),
    warm_requests: warm.length,
    warm_ms_p50: round(median(warm)),
    warm_ms_p99: round(percentile(warm, 99)),
    warm_cpu_ms_per_request: round(median(runs.map((r) => r.warmCpuMsPerRequest))),
    rss_mb_after_init_median: median(runs.map((r) => r.rssMbAfterInit)),
    rss_mb_after_warm_max: Math.max(...runs.map((r) => r.rssMbAfterWarm)),
    heap_used_mb_after_warm_max: Math.max(...runs.map((r) => r.heapUsedMbAfterWarm)),
    function_log_bytes_per_warm_request: round(median(runs.map((r) => r.logBytesPerWarmRequest))),
  };
}

if (import.meta.main) {
  if (process.argv[2] === '--child') {
    await runChild(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
  } else {
    const coldRuns = Number(process.argv[2] ?? 15);
    const warmRequests = Number(process.argv[3] ?? 300);
    const report = {
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      plain: summarize('bundle as deployed', await measure(coldRuns, warmRequests, '')),
      sourceMaps: summarize(
        'with NODE_OPTIONS=--enable-source-maps',
        await measure(coldRuns, warmRequests, '--enable-source-maps'),
      ),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  }
}
