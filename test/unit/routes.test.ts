// The route table (lambda/config/routes.ts) is what the stack deploys: one API Gateway route per
// path and method. Here the function's HTTP adapter is asked every method on every path of the
// table and on paths beside them: it answers on exactly the table's routes (405 with the table's
// methods in Allow for the others, 404 off the table), so a route added on one side only fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTES, routeMethods } from '../../lambda/config/routes.ts';
import { ServiceFailure } from '../../lambda/domain/failure.ts';
import { createHttpApi } from '../../lambda/http/http-api.ts';
import { createLogger } from '../../lambda/log/logger.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

// Authentication is the adapter's first dependency: refusing every token keeps the use cases,
// which would need Plaid and the vault, out of this test.
const api = createHttpApi({
  tenants: { get: () => undefined, anyOrigins: new Set<string>() },
  authenticate: async () => {
    throw new ServiceFailure('missing_token', 'Send a bearer token.');
  },
  // No use case runs unauthenticated, and no webhook of an unknown tenant is processed.
  deps: new Proxy({} as never, { get: (_, port) => assert.fail(`no use case may run here (${String(port)})`) }),
  logger: createLogger({ write: () => {} }),
});

const eventOf = (method: string, path: string): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body: '{}',
    requestContext: { http: { method, path }, stage: '$default', domainName: 'api.example.com', requestId: 'r' },
  }) as unknown as APIGatewayProxyEventV2;

/** A concrete request path of a route template. */
const concrete = (template: string) => template.replace('{item_id}', 'item-1').replace('{tenant_id}', 'acme-budget');

test('every route of the table is answered with its methods, and every other method is refused with 405 naming them', async () => {
  for (const route of ROUTES) {
    for (const method of METHODS) {
      const response = await api(eventOf(method, concrete(route.path)), 'r');
      const where = `${method} ${route.path}`;
      const methods: readonly string[] = routeMethods(route);
      if (!methods.includes(method)) {
        assert.equal(response.statusCode, 405, where);
        assert.deepEqual(new Set(response.headers.allow!.split(', ')), new Set(methods), `${where}: Allow`);
      } else if (method === 'OPTIONS') {
        assert.equal(response.statusCode, 204, where);
      } else {
        // Reached the route: refused for want of a token (users) or of Plaid's signature (Plaid).
        const problem = JSON.parse(response.body as string);
        assert.equal(response.statusCode, 401, where);
        assert.match(
          problem.type,
          route.caller === 'plaid' ? /webhook-not-verified$/ : /authentication-required$/,
          where,
        );
      }
    }
  }
});

test('paths beside the table are 404 for every method', async () => {
  const beside = [
    '/',
    '/link-token/x',
    '/link-tokens',
    '/items/item-1/x',
    '/webhooks/plaid',
    '/webhooks/plaid/',
    '/webhooks',
    '/item',
  ];
  for (const path of beside) {
    for (const method of METHODS) {
      const response = await api(eventOf(method, path), 'r');
      assert.equal(response.statusCode, 404, `${method} ${path}`);
    }
  }
});
