// API Gateway HTTP API (payload 2.0) events and a Lambda context, as the cold start and the warm
// environment hand them to a bundled handler. Plain JavaScript: the measured processes carry no
// TypeScript loader. A request is {method, path, headers, body} with lower-case header names.
let sequence = 0;
const requestId = () => `${process.pid.toString(16)}-${(sequence++).toString(16)}-${Date.now().toString(16)}`;

export function apiEvent({ method, path, headers = {}, body }) {
  const now = new Date();
  const all = { accept: 'application/json', host: 'api.example.com', 'user-agent': 'bench', ...headers };
  if (body !== undefined) {
    all['content-type'] ??= 'application/json';
    all['content-length'] = String(Buffer.byteLength(body));
  }
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: all,
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: requestId(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

export function lambdaContext() {
  const deadline = Date.now() + 12_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'link-token-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:link-token-bench',
    memoryLimitInMB: '512',
    awsRequestId: requestId(),
    logGroupName: '/aws/lambda/link-token-bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
}

/** Whether an answer carries a link token (every successful POST /link-token does). */
export function hasLinkToken(response) {
  try {
    return typeof JSON.parse(response?.body ?? '{}').link_token === 'string';
  } catch {
    return false;
  }
}
