// A local stand-in for API Gateway's HTTP API: it turns each HTTP request into a payload 2.0
// event, invokes the bundled production handler in this process and writes its structured
// result back. It also serves the demo page, a few fixed files (the OpenAPI description at
// /openapi.json, the demo's bundle of the browser client) and, for the demo only, a dev sign-in route.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { FUNCTION_MEMORY_MB } from '../infra/function-sizing.ts';

export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

/** A dev route's answer; contentType defaults to application/json (problem answers say application/problem+json). */
export interface DevAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

export interface LocalApiServer {
  readonly url: string;
  readonly port: number;
  /** Starts sending calls to the function (after its init has finished). */
  setHandler(handler: LambdaHandler): void;
  close(): Promise<void>;
}

// API Gateway refuses payloads over 10 MB; the function enforces its own, smaller limit.
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
// The demo page, also where Plaid's OAuth flow returns to (the demo tenant's redirect_uri).
const PAGE_PATHS = new Set(['/', '/oauth-return']);
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.png': 'image/png',
};

export async function startLocalApiServer(opts: {
  /**
   * The function; left out when it is loaded later (setHandler), e.g. because its config needs
   * the port. Until then every call to it is a 503 with Retry-After, never a 500.
   */
  handler?: LambdaHandler;
  port?: number;
  host?: string;
  /** Emulates the function's timeout through context.getRemainingTimeInMillis. */
  functionTimeoutMs: number;
  /** Folder served at / (the demo page); only GET of files inside it. */
  staticDir?: string;
  /** Dev-only sign-in (POST /dev/token): body in, status and JSON out; a body that is not JSON is a 400 problem. */
  devToken?: (body: unknown) => Promise<DevAnswer>;
  /**
   * Other dev-only POST routes for the demo page (e.g. '/dev/plaid-link/success'), each body in,
   * status and JSON out. Never part of the deployed API: only this local server has them.
   */
  devRoutes?: Readonly<Record<string, (body: unknown) => Promise<DevAnswer>>>;
  /** Files served on GET at fixed paths (e.g. '/openapi.json'), ahead of the demo folder. */
  files?: Readonly<Record<string, { file: string; headers?: Record<string, string> }>>;
}): Promise<LocalApiServer> {
  let handler = opts.handler;
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      const fixed =
        req.method === 'GET' && opts.files && Object.hasOwn(opts.files, url.pathname)
          ? opts.files[url.pathname]
          : undefined;
      if (fixed) return await serveFile(fixed.file, res, fixed.headers);
      if (
        req.method === 'GET' &&
        opts.staticDir &&
        (PAGE_PATHS.has(url.pathname) || url.pathname.startsWith('/demo/'))
      ) {
        return await serveStatic(
          opts.staticDir,
          PAGE_PATHS.has(url.pathname) ? '/index.html' : url.pathname.slice('/demo'.length),
          res,
        );
      }
      const body = await readBody(req);
      if (body === undefined) return sendJson(res, 413, { message: 'Request Entity Too Large' });
      if (url.pathname === '/dev/token' && opts.devToken && req.method === 'POST') {
        let input: unknown;
        try {
          input = body.length ? JSON.parse(body.toString('utf8')) : {};
        } catch {
          return sendJson(
            res,
            400,
            { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'The body is not valid JSON.' },
            'application/problem+json',
          );
        }
        const answer = await opts.devToken(input);
        return sendJson(res, answer.status, answer.body, answer.contentType);
      }
      const devRoute =
        req.method === 'POST' && opts.devRoutes && Object.hasOwn(opts.devRoutes, url.pathname)
          ? opts.devRoutes[url.pathname]
          : undefined;
      if (devRoute) {
        let input: unknown;
        try {
          input = body.length ? JSON.parse(body.toString('utf8')) : {};
        } catch {
          return sendJson(res, 400, { message: 'The body is not valid JSON.' });
        }
        const answer = await devRoute(input);
        return sendJson(res, answer.status, answer.body, answer.contentType);
      }
      if (!handler) return sendNotReady(res);
      const event = toEvent(req, url, body);
      const result = await handler(event, lambdaContext(opts.functionTimeoutMs));
      writeResult(res, result);
    } catch (error) {
      // What API Gateway answers when the integration fails; the function itself never gets here.
      process.stderr.write(
        `local server: integration error: ${(error as Error)?.name}: ${(error as Error)?.message}\n`,
      );
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
    }
  };
  // serve answers every failure itself (500, or the connection destroyed), so nothing is awaited here.
  const server = http.createServer((req, res) => void serve(req, res));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`,
    port,
    setHandler: (loaded) => {
      handler = loaded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > GATEWAY_MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function toEvent(req: http.IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') continue;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const now = new Date();
  const isText = body.length === 0 || isTextContent(headers['content-type']);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: req.headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
  };
}

function isTextContent(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    type.includes('json') ||
    type.includes('xml') ||
    type === 'application/x-www-form-urlencoded'
  );
}

/** A Lambda context whose remaining time counts down from timeoutMs, as the runtime's does. */
export function lambdaContext(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'link-token-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:link-token-local',
    // The deployed function's, so its logs' function_memory_size is what Lambda would report.
    memoryLimitInMB: String(FUNCTION_MEMORY_MB),
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/link-token-local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function writeResult(res: http.ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | undefined): void {
  // API Gateway's rule for payload 2.0: anything without a statusCode is a 200 JSON body.
  if (result === undefined || typeof result === 'string' || result.statusCode === undefined) {
    return sendJson(res, 200, result ?? null);
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies?.length) res.setHeader('set-cookie', result.cookies);
  res.statusCode = result.statusCode;
  res.end(result.body === undefined ? undefined : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'));
}

/** RFC 9457 problem+json: the function's init has not finished yet. */
function sendNotReady(res: http.ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'retry-after': '1' });
  res.end(
    JSON.stringify({
      type: 'about:blank',
      title: 'Service starting',
      status: 503,
      detail: 'The local stack is still loading the function; retry in a second.',
    }),
  );
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function serveStatic(root: string, pathname: string, res: http.ServerResponse): Promise<void> {
  const file = normalize(join(root, decodeURIComponent(pathname)));
  if (!file.startsWith(normalize(root))) return sendJson(res, 404, { message: 'Not Found' });
  return serveFile(file, res);
}

async function serveFile(file: string, res: http.ServerResponse, headers: Record<string, string> = {}): Promise<void> {
  try {
    const content = await readFile(file);
    res.writeHead(200, {
      'content-type': STATIC_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    });
    res.end(content);
  } catch {
    sendJson(res, 404, { message: 'Not Found' });
  }
}
