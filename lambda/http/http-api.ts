// The HTTP adapter of every route: an API Gateway HTTP API (payload 2.0) event in, a response out.
// Routing, methods, 404/405, CORS, authentication of user routes, body rules and problem+json are
// decided here, once, from the route table (config/routes.ts); each operation's handler
// (operations.ts) only turns a request into a use case call and its result into a status and a
// body. The use cases know nothing of any of this.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  PATH_PARAMETERS,
  ROUTES,
  routeMethods,
  WEBHOOKS_PATH,
  type OperationMethod,
  type PathParameter,
  type RouteSpec,
} from '../config/routes.ts';
import type { Tenant } from '../config/tenant-schema.ts';
import { causeName, isFailureOf, ServiceFailure } from '../domain/failure.ts';
import type { Authenticator, Logger, ServiceDeps } from '../domain/ports.ts';
import { HttpFailure, refusalOf } from './http-failure.ts';
import { OPERATIONS, type ApiResult, type RequestContext } from './operations.ts';
import { PROBLEM_TYPES, problemBody } from './problem.ts';

/** Plaid's webhook bodies are small; anything larger is not Plaid's. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;
export const MAX_BODY_BYTES = 16 * 1024;
const CORS_MAX_AGE_SECONDS = 600;

export type HttpResponse = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
};

export interface HttpApi {
  (event: APIGatewayProxyEventV2, requestId: string): Promise<HttpResponse>;
  /** Answers a failure the adapter did not see coming (middy's early timeout among them). */
  failure(error: unknown, event: APIGatewayProxyEventV2 | undefined, requestId: string): HttpResponse;
}

export interface Tenants {
  /** Each tenant by id (parsed on first use). */
  get(id: string): Tenant | undefined;
  /** Every tenant's origins together. */
  readonly anyOrigins: ReadonlySet<string>;
}

/** A route of the table, ready to match: its path as a pattern, its parameters in order. */
interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly pattern: RegExp;
  readonly parameters: readonly PathParameter[];
  /** For 405's Allow and the CORS preflight. */
  readonly methods: readonly string[];
}

const COMPILED_ROUTES: readonly CompiledRoute[] = ROUTES.map((spec) => {
  const parameters: PathParameter[] = [];
  const source = spec.path.replace(/\{(\w+)\}/g, (_, name: PathParameter) => {
    parameters.push(name);
    return '([^/]+)';
  });
  return { spec, pattern: new RegExp(`^${source}$`), parameters, methods: routeMethods(spec) };
});

const USER_PATHS = ROUTES.filter((route) => route.caller === 'user').map((route) => route.path);

/** The route of a path and its parameters; undefined off the table or for a parameter no one could have. */
function match(path: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
  for (const route of COMPILED_ROUTES) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    for (const [i, name] of route.parameters.entries()) {
      const value = found[i + 1]!;
      if (!PATH_PARAMETERS[name].test(value)) return undefined;
      params[name] = value;
    }
    return { route, params };
  }
  return undefined;
}

export function createHttpApi(opts: {
  tenants: Tenants;
  authenticate: Authenticator;
  deps: Omit<ServiceDeps, 'logger'>;
  /** The service's public base URL (a custom domain); otherwise taken from the request's API domain. */
  publicBaseUrl?: string;
  logger: Logger;
}): HttpApi {
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

  /**
   * The one way a response is built. A user route's answer carries CORS for an allowed origin;
   * Plaid's route has no CORS headers at all: no browser is ever meant to call it.
   */
  const respond = (
    event: APIGatewayProxyEventV2 | undefined,
    requestId: string,
    cors: ReadonlySet<string> | undefined,
    outcome: { result: ApiResult } | { error: unknown },
    route?: CompiledRoute,
  ): HttpResponse => {
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-correlation-id': requestId,
    };
    if (cors) {
      headers.vary = 'Origin';
      const origin = event ? header(event, 'origin') : undefined;
      if (origin && cors.has(origin)) {
        headers['access-control-allow-origin'] = origin;
        headers['access-control-expose-headers'] = 'X-Correlation-Id, Retry-After, WWW-Authenticate';
      }
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
      const description = failure.detail.replace(/"/g, "'");
      headers['www-authenticate'] =
        `Bearer realm="link-token", error="invalid_token", error_description="${description}"`;
    }
    if (failure.kind === 'method_not_allowed' && route) headers.allow = route.methods.join(', ');
    if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
    return { statusCode: problem.status, headers, body: JSON.stringify(problem) };
  };

  const logFailure = (logger: Logger, error: unknown) => {
    if (isFailureOf(error, 'webhook_unverified')) {
      // One line with the reason; nothing else of the request.
      logger.warn('webhook.rejected', { reason: causeName(error.cause) });
      return;
    }
    const refusal = refusalOf(error);
    if (!refusal) {
      const errorName = (error as Error)?.name ?? typeof error;
      logger.error('request.failed', { kind: 'internal', status: 500, error_name: errorName });
      return;
    }
    const status = PROBLEM_TYPES[refusal.kind].status;
    const fields = {
      kind: refusal.kind,
      status,
      cause: causeName(refusal.cause),
      fields: refusal.errors?.map((e) => e.field),
    };
    if (status >= 500) logger.error('request.failed', fields);
    else logger.info('request.rejected', fields);
  };

  const api = async (event: APIGatewayProxyEventV2, requestId: string): Promise<HttpResponse> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = routePath(event);
    const found = match(path);
    const route = found?.route;
    // The logged path is the route's template: an item id is the user's own data.
    let logger = opts.logger.child({ correlation_id: requestId, method, path: route?.spec.path ?? path });
    let cors: ReadonlySet<string> | undefined = route?.spec.caller === 'plaid' ? undefined : anyTenantOrigins;
    try {
      if (!found || !route) {
        throw new HttpFailure('not_found', `No route ${path}; the endpoints are ${USER_PATHS.join(', ')}.`);
      }
      if (method === 'OPTIONS' && route.spec.caller === 'user') return preflight(event, requestId, route, logger);
      const operation = (route.spec.operations as Partial<Record<string, keyof typeof OPERATIONS>>)[method];
      if (!operation) {
        const methods = route.methods.filter((m) => m !== 'OPTIONS');
        throw new HttpFailure('method_not_allowed', `Use ${methods.join(' or ')} on this path.`);
      }
      const context: RequestContext = {
        params: found.params,
        header: (name) => header(event, name),
        jsonBody: () => readJsonBody(event),
        rawBody: () => readRawBody(event, MAX_WEBHOOK_BODY_BYTES),
        serviceWebhookUrl: (tenant) => `${opts.publicBaseUrl ?? apiBaseUrl(event)}${WEBHOOKS_PATH}/${tenant.id}`,
        tenants: opts.tenants,
      };
      const handler = OPERATIONS[operation];
      let result: ApiResult;
      if (handler.caller === 'plaid') {
        if (found.params.tenant_id) logger = logger.child({ tenant: found.params.tenant_id });
        result = await handler.handle(context, { ...opts.deps, logger });
      } else {
        const caller = await opts.authenticate(header(event, 'authorization'));
        cors = originsOf(caller.tenant);
        const origin = header(event, 'origin');
        // Browsers always send Origin on a cross-origin request; native apps send none.
        if (origin !== undefined && !cors.has(origin)) {
          throw new HttpFailure('origin_not_allowed', 'This origin may not call this service for this tenant.');
        }
        logger = logger.child({ tenant: caller.tenant.id });
        result = await handler.handle(context, caller, { ...opts.deps, logger });
      }
      return respond(event, requestId, cors, { result });
    } catch (error) {
      logFailure(logger, error);
      return respond(event, requestId, cors, { error }, route);
    }
  };

  const preflight = (
    event: APIGatewayProxyEventV2,
    requestId: string,
    route: CompiledRoute,
    logger: Logger,
  ): HttpResponse => {
    const allow = route.methods.join(', ');
    const origin = header(event, 'origin');
    const requestedMethod = header(event, 'access-control-request-method');
    if (origin === undefined || requestedMethod === undefined) {
      return { statusCode: 204, headers: { allow, 'cache-control': 'no-store', 'x-correlation-id': requestId } };
    }
    const operations = route.spec.operations as Partial<Record<string, string>>;
    if (!anyTenantOrigins.has(origin) || !operations[requestedMethod.toUpperCase() as OperationMethod]) {
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

function routePath(event: APIGatewayProxyEventV2): string {
  const stage = event.requestContext.stage;
  let path = event.rawPath || '/';
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function readRawBody(event: APIGatewayProxyEventV2, maxBytes: number): Buffer {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new HttpFailure('payload_too_large', `The request body must be at most ${maxBytes} bytes.`);
  }
  return bytes;
}

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json' && !contentType?.match(/^application\/[\w.+-]+\+json$/)) {
    throw new HttpFailure('unsupported_media_type', 'Send the request body as application/json.');
  }
  const text = readRawBody(event, MAX_BODY_BYTES).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceFailure('invalid_request', 'The request body is not valid JSON.', {
      errors: [{ field: '(body)', message: 'must be valid JSON' }],
    });
  }
}
