// The thin HTTP adapter: an API Gateway HTTP API (payload 2.0) event in, a response out.
// Route → CORS → authenticate → tenant origin → body → use case. It owns statuses, headers and
// problem+json; the use cases know nothing of any of them. Routes:
//   POST /link-token               a link token (new, or update mode for one of the user's Items)
//   POST /items                    exchange Link's public_token; the Item is kept in the vault
//   GET /items                     the user's Items
//   DELETE /items/{item_id}        remove one of them, at Plaid and in the vault
//   POST /webhooks/plaid/{tenant}  Plaid's webhooks: no bearer token and no CORS (Plaid calls it);
//                                  verified by Plaid's signature, then Item health and EventBridge
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ITEMS_PATH, LINK_TOKEN_PATH, WEBHOOKS_PATH } from '../config/routes.ts';
import type { Tenant } from '../config/tenant-schema.ts';
import { parseClientChoices } from '../domain/client-choices.ts';
import { causeName, ServiceFailure } from '../domain/failure.ts';
import type { CreateLinkTokenDeps, LinkTokenResult } from '../domain/create-link-token.ts';
import { createLinkToken } from '../domain/create-link-token.ts';
import { linkItem, listItems, parseLinkItemBody, unlinkItem, type ItemsDeps } from '../domain/items.ts';
import { receiveWebhook, type ReceiveWebhookDeps } from '../domain/receive-webhook.ts';
import { ITEM_ID_PATTERN } from '../domain/client-choices.ts';
import type { Authenticator, Logger } from '../domain/ports.ts';
import { HttpFailure, refusalOf } from './http-failure.ts';
import { PROBLEM_TYPES, problemBody } from './problem.ts';

/** Plaid's webhook bodies are small; anything larger is not Plaid's. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;
/** The methods of each route, for 405's Allow and the CORS preflight. */
type Route =
  | { readonly kind: 'link-token' }
  | { readonly kind: 'items' }
  | { readonly kind: 'item'; readonly itemId: string }
  | { readonly kind: 'webhook'; readonly tenantId: string };
const ROUTE_METHODS: Readonly<Record<Route['kind'], readonly string[]>> = {
  'link-token': ['POST'],
  items: ['GET', 'POST'],
  item: ['DELETE'],
  webhook: ['POST'],
};
export const MAX_BODY_BYTES = 16 * 1024;
const CORS_MAX_AGE_SECONDS = 600;

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

export interface LinkTokenApi {
  (event: APIGatewayProxyEventV2, requestId: string): Promise<HttpResponse>;
  /** Answers a failure the adapter did not see coming (middy's early timeout among them). */
  failure(error: unknown, event: APIGatewayProxyEventV2 | undefined, requestId: string): HttpResponse;
}

type ApiResult = { status: number; body?: unknown; headers?: Record<string, string> };

export function createLinkTokenApi(opts: {
  /** Each tenant by id (parsed on first use), and every tenant's origins together. */
  tenants: { get(id: string): Tenant | undefined; readonly anyOrigins: ReadonlySet<string> };
  authenticate: Authenticator;
  deps: Omit<CreateLinkTokenDeps, 'logger'>;
  /** The items routes' dependencies, built on their first use (the vault's SDK clients load then). */
  itemsDeps: () => Promise<Omit<ItemsDeps, 'logger'>>;
  webhookDeps: () => Promise<Omit<ReceiveWebhookDeps, 'logger'>>;
  /** The service's public base URL (a custom domain); otherwise taken from the request's API domain. */
  publicBaseUrl?: string;
  logger: Logger;
}): LinkTokenApi {
  const tenantsById = opts.tenants;
  // Before the token is verified the tenant is unknown: CORS preflight and early errors are
  // answered for the union of all tenants' origins, and the tenant's own list is enforced after.
  const anyTenantOrigins = opts.tenants.anyOrigins;
  // Each tenant's own origins as a set, built on its first request (tenants are parsed on first use).
  const originsByTenant = new WeakMap<Tenant, ReadonlySet<string>>();
  const originsOf = (tenant: Tenant): ReadonlySet<string> => {
    let origins = originsByTenant.get(tenant);
    if (!origins) originsByTenant.set(tenant, (origins = new Set(tenant.allowed_origins)));
    return origins;
  };

  const respond = (
    event: APIGatewayProxyEventV2 | undefined,
    requestId: string,
    allowedOrigins: ReadonlySet<string>,
    outcome: { result: ApiResult } | { error: unknown },
    route?: Route,
  ): HttpResponse => {
    const origin = event ? header(event, 'origin') : undefined;
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-correlation-id': requestId,
      vary: 'Origin',
    };
    if (origin && allowedOrigins.has(origin)) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-expose-headers'] = 'X-Correlation-Id, Retry-After, WWW-Authenticate';
    }
    if ('result' in outcome) {
      const { status, body, headers: extra } = outcome.result;
      Object.assign(headers, extra);
      if (body === undefined) return { statusCode: status, headers };
      headers['content-type'] = 'application/json';
      return { statusCode: status, headers, body: JSON.stringify(body) };
    }
    const failure = refusalOf(outcome.error) ?? new ServiceFailure('internal', 'An unexpected error occurred.');
    const problem = problemBody(failure.kind, failure.detail, requestId, failure.errors, failure.extensions);
    headers['content-type'] = 'application/problem+json';
    if (failure.kind === 'missing_token') headers['www-authenticate'] = 'Bearer realm="link-token"';
    if (failure.kind === 'invalid_token') {
      headers['www-authenticate'] =
        `Bearer realm="link-token", error="invalid_token", error_description="${failure.detail.replace(/"/g, "'")}"`;
    }
    if (failure.kind === 'method_not_allowed')
      headers.allow = [...ROUTE_METHODS[route?.kind ?? 'link-token'], 'OPTIONS'].join(', ');
    if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
    return { statusCode: problem.status, headers, body: JSON.stringify(problem) };
  };

  const logFailure = (logger: Logger, error: unknown) => {
    const refusal = refusalOf(error);
    if (refusal) {
      const status = PROBLEM_TYPES[refusal.kind].status;
      const fields = {
        kind: refusal.kind,
        status,
        cause: causeName(refusal.cause),
        fields: refusal.errors?.map((e) => e.field),
      };
      if (status >= 500) logger.error('request.failed', fields);
      else logger.info('request.rejected', fields);
    } else {
      logger.error('request.failed', {
        kind: 'internal',
        status: 500,
        error_name: (error as Error)?.name ?? typeof error,
      });
    }
  };

  const api = async (event: APIGatewayProxyEventV2, requestId: string): Promise<HttpResponse> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = routePath(event);
    const route = routeOf(path);
    // The item id is the user's own data: the path logged is the route's, not the id.
    const logger = opts.logger.child({
      correlation_id: requestId,
      method,
      path:
        route?.kind === 'item'
          ? `${ITEMS_PATH}/{item_id}`
          : route?.kind === 'webhook'
            ? `${WEBHOOKS_PATH}/{tenant_id}`
            : path,
    });
    let allowed: ReadonlySet<string> = anyTenantOrigins;
    try {
      if (!route)
        throw new HttpFailure('not_found', `No route ${path}; the endpoints are ${LINK_TOKEN_PATH} and ${ITEMS_PATH}.`);
      if (route.kind === 'webhook') return await webhook(event, requestId, route.tenantId, logger);
      if (method === 'OPTIONS') return preflight(event, requestId, anyTenantOrigins, logger, route);
      if (!ROUTE_METHODS[route.kind].includes(method)) {
        throw new HttpFailure('method_not_allowed', `Use ${ROUTE_METHODS[route.kind].join(' or ')} on this path.`);
      }

      const { tenant, identity } = await opts.authenticate(header(event, 'authorization'));
      allowed = originsOf(tenant);
      const origin = header(event, 'origin');
      // Browsers always send Origin on a cross-origin request; native apps send none.
      if (origin !== undefined && !allowed.has(origin)) {
        throw new HttpFailure('origin_not_allowed', 'This origin may not call this service for this tenant.');
      }
      const tenantLogger = logger.child({ tenant: tenant.id });
      let result: ApiResult;
      if (route.kind === 'link-token') {
        const choices = parseClientChoices(readJsonBody(event));
        // A success logs one line, the use case's plaid.link_token_created: it already carries the
        // correlation id, tenant, profile, platform and duration.
        const serviceWebhookUrl = `${opts.publicBaseUrl ?? apiBaseUrl(event)}${WEBHOOKS_PATH}/${tenant.id}`;
        const token: LinkTokenResult = await createLinkToken(
          { tenant, identity, choices, serviceWebhookUrl },
          { ...opts.deps, logger: tenantLogger },
        );
        result = { status: 200, body: token };
      } else {
        const deps = { ...(await opts.itemsDeps()), logger };
        if (route.kind === 'item') {
          await unlinkItem({ tenant, identity, itemId: route.itemId }, deps);
          result = { status: 204 };
        } else if (method === 'GET') {
          result = { status: 200, body: { items: await listItems({ tenant, identity }, deps) } };
        } else {
          const { publicToken } = parseLinkItemBody(readJsonBody(event));
          const { item, created } = await linkItem({ tenant, identity, publicToken }, deps);
          const { updated_at: _u, action: _a, consent_expiration_time: _c, ...view } = item;
          result = { status: created ? 201 : 200, body: view, headers: { location: `${ITEMS_PATH}/${item.item_id}` } };
        }
      }
      return respond(event, requestId, allowed, { result });
    } catch (error) {
      logFailure(logger, error);
      return respond(event, requestId, allowed, { error }, route);
    }
  };

  // Plaid's webhooks: the tenant comes from the path, and only Plaid's signature admits the
  // request. No CORS headers: no browser is ever meant to call this.
  const webhook = async (
    event: APIGatewayProxyEventV2,
    requestId: string,
    tenantId: string,
    logger: Logger,
  ): Promise<HttpResponse> => {
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-correlation-id': requestId,
    };
    const fail = (error: unknown): HttpResponse => {
      if (error instanceof ServiceFailure && error.kind === 'webhook_unverified') {
        // One line with the reason; nothing else of the request.
        logger.warn('webhook.rejected', { tenant: tenantId, reason: causeName(error.cause) });
      } else {
        logFailure(logger, error);
      }
      const failure = refusalOf(error) ?? new ServiceFailure('internal', 'An unexpected error occurred.');
      const problem = problemBody(failure.kind, failure.detail, requestId, failure.errors);
      const extra: Record<string, string> = failure.kind === 'method_not_allowed' ? { allow: 'POST' } : {};
      return {
        statusCode: problem.status,
        headers: { ...headers, ...extra, 'content-type': 'application/problem+json' },
        body: JSON.stringify(problem),
      };
    };
    try {
      if (event.requestContext.http.method.toUpperCase() !== 'POST')
        throw new HttpFailure('method_not_allowed', 'Plaid POSTs webhooks.');
      const tenant = tenantsById.get(tenantId);
      // An unknown tenant looks like any other unverified webhook: nothing tells a prober which ids exist.
      if (!tenant)
        throw new ServiceFailure('webhook_unverified', 'The webhook could not be verified.', {
          cause: { name: 'UnknownTenant' },
        });
      const raw = event.body ?? '';
      const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (rawBody.length > MAX_WEBHOOK_BODY_BYTES) {
        throw new HttpFailure('payload_too_large', `A webhook body must be at most ${MAX_WEBHOOK_BODY_BYTES} bytes.`);
      }
      const outcome = await receiveWebhook(
        { tenant, verificationHeader: header(event, 'plaid-verification'), rawBody },
        { ...(await opts.webhookDeps()), logger },
      );
      return {
        statusCode: 200,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ status: outcome }),
      };
    } catch (error) {
      return fail(error);
    }
  };

  const preflight = (
    event: APIGatewayProxyEventV2,
    requestId: string,
    origins: ReadonlySet<string>,
    logger: Logger,
    route: Route,
  ): HttpResponse => {
    const methods = ROUTE_METHODS[route.kind];
    const allow = [...methods, 'OPTIONS'].join(', ');
    const origin = header(event, 'origin');
    const requestedMethod = header(event, 'access-control-request-method');
    if (origin === undefined || requestedMethod === undefined) {
      return { statusCode: 204, headers: { allow, 'cache-control': 'no-store', 'x-correlation-id': requestId } };
    }
    if (!origins.has(origin) || !methods.includes(requestedMethod.toUpperCase())) {
      throw new HttpFailure('origin_not_allowed', 'This origin may not call this endpoint.');
    }
    logger.debug('request.preflight', { status: 204 });
    return {
      statusCode: 204,
      headers: {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': allow,
        'access-control-allow-headers': 'Authorization, Content-Type',
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
        'cache-control': 'no-store',
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        'x-correlation-id': requestId,
      },
    };
  };

  api.failure = (error: unknown, event: APIGatewayProxyEventV2 | undefined, requestId: string) => {
    logFailure(opts.logger.child({ correlation_id: requestId }), error);
    return respond(event, requestId, anyTenantOrigins, { error });
  };
  return api;
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  // API Gateway HTTP APIs lowercase header names; a local caller might not.
  const headers = event.headers ?? {};
  const value = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return value === undefined || value === '' ? undefined : value;
}

/** The API's own base URL, from API Gateway's request context (never from a client's Host header). */
function apiBaseUrl(event: APIGatewayProxyEventV2): string {
  const { domainName, stage } = event.requestContext;
  return `https://${domainName}${stage && stage !== '$default' ? `/${stage}` : ''}`;
}

function routeOf(path: string): Route | undefined {
  if (path === LINK_TOKEN_PATH) return { kind: 'link-token' };
  if (path.startsWith(`${WEBHOOKS_PATH}/`)) {
    const tenantId = path.slice(WEBHOOKS_PATH.length + 1);
    return /^[a-z0-9-]{1,64}$/.test(tenantId) ? { kind: 'webhook', tenantId } : undefined;
  }
  if (path === ITEMS_PATH) return { kind: 'items' };
  if (path.startsWith(`${ITEMS_PATH}/`)) {
    const itemId = path.slice(ITEMS_PATH.length + 1);
    // A malformed id names no Item of anyone's: the same 404 as an Item that does not exist.
    return ITEM_ID_PATTERN.test(itemId) ? { kind: 'item', itemId } : undefined;
  }
  return undefined;
}

function routePath(event: APIGatewayProxyEventV2): string {
  const stage = event.requestContext.stage;
  let path = event.rawPath || '/';
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json' && !contentType?.match(/^application\/[\w.+-]+\+json$/)) {
    throw new HttpFailure('unsupported_media_type', 'Send the request body as application/json.');
  }
  const raw = event.body ?? '';
  // A plain body is measured where it lies (no copy into a Buffer and back); a base64 one is decoded.
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : undefined;
  if ((bytes ? bytes.length : Buffer.byteLength(raw, 'utf8')) > MAX_BODY_BYTES) {
    throw new HttpFailure('payload_too_large', `The request body must be at most ${MAX_BODY_BYTES} bytes.`);
  }
  const text = bytes ? bytes.toString('utf8') : raw;
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceFailure('invalid_request', 'The request body is not valid JSON.', {
      errors: [{ field: '(body)', message: 'must be valid JSON' }],
    });
  }
}
