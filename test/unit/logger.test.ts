// The function's log lines: Powertools for AWS Lambda's keys on every line (so Logs Insights
// queries written for Powertools work), `event` kept for the stack's metric filters, the
// redaction safety net, and a child's fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, redact, xrayTraceId } from '../../lambda/log/logger.ts';

const TRACE = 'Root=1-00000000-000000000000000000000001;Parent=0000000000000001;Sampled=1';
const context = (awsRequestId: string) => ({
  awsRequestId,
  functionName: 'link-token-prod',
  memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:link-token-prod',
});

function capture(env: Record<string, string | undefined> = {}, level?: 'debug' | 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createLogger({
    level,
    // The same object: a test changes the trace header between invocations, as the runtime does.
    env: Object.assign(env, { AWS_LAMBDA_FUNCTION_NAME: 'link-token-prod', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' }),
    now: () => new Date('2026-12-01T12:00:00.000Z'),
    write: (line) => {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  });
  return { logger, lines, raw };
}

test("each line carries Powertools' keys, with event kept beside message", () => {
  const env: Record<string, string | undefined> = { _X_AMZN_TRACE_ID: TRACE };
  const { logger, lines } = capture(env);
  logger.startInvocation(context('req-1'));
  logger.child({ correlation_id: 'api-1' }).child({ tenant: 'acme' }).info('plaid.link_token_created', { attempts: 1 });
  assert.deepEqual(lines[0], {
    level: 'INFO',
    message: 'plaid.link_token_created',
    timestamp: '2026-12-01T12:00:00.000Z',
    service: 'link-token',
    cold_start: true,
    function_name: 'link-token-prod',
    function_memory_size: 512,
    function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:link-token-prod',
    function_request_id: 'req-1',
    xray_trace_id: '1-00000000-000000000000000000000001',
    event: 'plaid.link_token_created',
    correlation_id: 'api-1',
    tenant: 'acme',
    attempts: 1,
  });
});

test('cold_start is true on the first invocation of an environment only; request and trace ids follow each invocation', () => {
  const env: Record<string, string | undefined> = { _X_AMZN_TRACE_ID: TRACE };
  const { logger, lines } = capture(env);
  logger.info('function.initialised');
  logger.startInvocation(context('req-1'));
  logger.warn('first');
  logger.error('first.again');
  env._X_AMZN_TRACE_ID = 'Root=1-00000000-000000000000000000000002;Sampled=0';
  logger.startInvocation(context('req-2'));
  logger.info('second');
  delete env._X_AMZN_TRACE_ID;
  logger.startInvocation(context('req-3'));
  logger.debug('hidden');
  logger.info('third');
  assert.deepEqual(
    lines.map((l) => [l.message, l.level, l.cold_start, l.function_request_id, l.xray_trace_id]),
    [
      ['function.initialised', 'INFO', true, undefined, undefined],
      ['first', 'WARN', true, 'req-1', '1-00000000-000000000000000000000001'],
      ['first.again', 'ERROR', true, 'req-1', '1-00000000-000000000000000000000001'],
      ['second', 'INFO', false, 'req-2', '1-00000000-000000000000000000000002'],
      ['third', 'INFO', false, 'req-3', undefined],
    ],
  );
  assert.ok(!('xray_trace_id' in lines[4]!), 'no xray_trace_id key when the invocation is not traced');
});

test('the level threshold holds, DEBUG is written upper case when enabled', () => {
  const { logger, lines } = capture({}, 'debug');
  logger.debug('request.preflight', { status: 204 });
  assert.equal(lines[0]!.level, 'DEBUG');
  const quiet = capture();
  quiet.logger.debug('request.preflight');
  assert.equal(quiet.lines.length, 0);
});

test('a field named like a Powertools key never replaces it, and is kept as data_<key>', () => {
  const { logger, lines, raw } = capture();
  logger.startInvocation(context('req-1'));
  logger
    .child({ service: 'other' })
    .warn('config.warning', { message: 'field x is deprecated', level: 'low', tenant: 'acme' });
  const line = lines[0]!;
  assert.equal(line.message, 'config.warning');
  assert.equal(line.level, 'WARN');
  assert.equal(line.service, 'link-token');
  assert.equal(line.data_message, 'field x is deprecated');
  assert.equal(line.data_level, 'low');
  assert.equal(line.data_service, 'other');
  for (const key of ['"message"', '"level"', '"service"'])
    assert.equal(raw[0]!.split(key).length - 1, 1, `${key} appears once`);
});

test("a line's field overrides its child's field of the same name, written once", () => {
  const { logger, lines, raw } = capture();
  logger.child({ status: 200, tenant: 'acme' }).info('request.rejected', { status: 401 });
  assert.equal(lines[0]!.status, 401);
  assert.equal(lines[0]!.tenant, 'acme');
  assert.equal(raw[0]!.split('"status"').length - 1, 1);
});

test('anything shaped like a JWT, a bearer credential or a full link token is cut, at any depth and in a child', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
  const linkToken = 'link-sandbox-00000000-0000-4000-8000-000000000007';
  const { logger, raw, lines } = capture();
  logger.child({ note: `Bearer ${jwt}` }).error('request.failed', {
    detail: `got ${linkToken}`,
    nested: { list: [jwt, { deep: `bearer abc.def` }] },
    path: '/link-token',
  });
  assert.ok(!raw[0]!.includes(jwt) && !raw[0]!.includes('6d1f3f6e-1e0b') && !raw[0]!.includes('abc.def'), raw[0]);
  assert.equal(lines[0]!.detail, 'got link-sandbox-[redacted]');
  assert.equal(lines[0]!.path, '/link-token', 'a route path is not a link token');
  assert.equal(redact('LINK-PRODUCTION-0123abcd-ef'), 'LINK-PRODUCTION-[redacted]');
  assert.equal(redact('link-token plaid.link_token_created'), 'link-token plaid.link_token_created');
});

test("xray_trace_id is the trace header's Root", () => {
  assert.equal(xrayTraceId(TRACE), '1-00000000-000000000000000000000001');
  assert.equal(xrayTraceId('Parent=0000000000000001;Root=1-abc-def;Sampled=1'), '1-abc-def');
  assert.equal(xrayTraceId('Parent=0000000000000001'), undefined);
  assert.equal(xrayTraceId(undefined), undefined);
});

test('service comes from POWERTOOLS_SERVICE_NAME when set, as with Powertools', () => {
  const { logger, lines } = capture({ POWERTOOLS_SERVICE_NAME: 'payments-bff' });
  logger.info('x');
  assert.equal(lines[0]!.service, 'payments-bff');
});
