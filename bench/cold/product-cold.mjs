// One cold start of the product, as Lambda does it: a fresh Node process imports the bundled
// handler (init: settings, tenants, clients) and invokes it once with an API Gateway HTTP API
// (payload 2.0) event. The first invocation pays what a real cold start pays: the JWKS fetch,
// the Secrets Manager reads and a new connection to Plaid (all on loopback here).
// Plain JavaScript on purpose: no TypeScript stripping in the measured process.
//   node bench/cold/product-cold.mjs <bundle/index.mjs>   (env: BENCH_TOKEN, BENCH_ORIGIN)
// Prints one line "BENCH_RESULT {...}" on stdout, then exits.
// No static imports: whatever this script needs is loaded after the measured part, so that
// "Node boot" is Node's own start and "import + init" is the bundle's alone.
const scriptStart = performance.now();
const { handler } = await import(new URL(`file://${process.argv[2]}`).href);
const imported = performance.now();
const randomUUID = () => `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;

const now = new Date();
const body = JSON.stringify({ platform: 'web' });
const event = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/link-token',
  rawQueryString: '',
  headers: {
    accept: 'application/json',
    authorization: `Bearer ${process.env.BENCH_TOKEN}`,
    'content-length': String(Buffer.byteLength(body)),
    'content-type': 'application/json',
    host: 'api.example.com',
    origin: process.env.BENCH_ORIGIN,
    'user-agent': 'bench',
  },
  requestContext: {
    accountId: 'bench',
    apiId: 'bench',
    domainName: 'api.example.com',
    domainPrefix: 'api',
    http: { method: 'POST', path: '/link-token', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: randomUUID(),
    routeKey: '$default',
    stage: '$default',
    time: now.toISOString(),
    timeEpoch: now.getTime(),
  },
  body,
  isBase64Encoded: false,
};
const deadline = Date.now() + 12_000;
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'link-token-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:link-token-bench',
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/link-token-bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done() {},
  fail() {},
  succeed() {},
};
const response = await handler(event, context);
const answered = performance.now();

const { readFileSync } = await import('node:fs');
const status = readFileSync('/proc/self/status', 'utf8');
const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
const result = {
  statusCode: response?.statusCode,
  hasLinkToken: typeof JSON.parse(response?.body ?? '{}').link_token === 'string',
  bootMs: scriptStart,
  importMs: imported - scriptStart,
  firstInvokeMs: answered - imported,
  peakRssKb: kb('VmHWM'),
  cpuUs: process.cpuUsage(),
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
