// Generates the OpenAPI 3.1 description of POST /link-token from the code that decides the
// wire format, so the two cannot drift apart:
//   request body        lambda/domain/client-choices.ts   ClientChoicesSchema (valibot → JSON Schema)
//   200 body, problems  lambda/http/response-schemas.ts   valibot schemas type-checked against the adapter
//   statuses and types  lambda/http/problem.ts            PROBLEM_TYPES, the one failure → status table
// `node openapi/generate.ts` rewrites openapi/link-token.openapi.json; `--check` only compares.
// test/openapi/ fails when the committed file differs from what this generates.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import { ClientChoicesSchema } from '../lambda/domain/client-choices.ts';
import type { FailureKind } from '../lambda/domain/failure.ts';
import { MAX_BODY_BYTES, ROUTE_PATH } from '../lambda/http/link-token-api.ts';
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../lambda/http/problem.ts';
import { FieldErrorSchema, LinkTokenResponseSchema, ProblemSchema } from '../lambda/http/response-schemas.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('./link-token.openapi.json', import.meta.url));
/** The contract's version: bump it when the request or a response changes shape. */
export const API_VERSION = '1.0.0';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Failures the adapter raises only for requests that are not POST/OPTIONS /link-token. */
export const ROUTING_ONLY_KINDS: readonly FailureKind[] = ['not_found', 'method_not_allowed'];
/** What the function answers a CORS preflight with, besides 204. */
export const PREFLIGHT_KINDS: readonly FailureKind[] = ['origin_not_allowed', 'internal'];

// What each request field means; typed by the schema's own keys, so a new field fails tsc here.
const REQUEST_FIELD_DOCS: Record<keyof typeof ClientChoicesSchema.entries, string> = {
  profile: "Which of the tenant's Link profiles to use (products, account filters, redirect URI and Android package name all come from it). Unknown profiles get 400.",
  platform:
    "Where Link will open. 'web' and 'ios' get the profile's redirect_uri for OAuth; 'android' gets its android_package_name and no redirect_uri, as Plaid requires.",
  language: "Plaid Link's display language. Must also be one the tenant offers (400 otherwise); the tenant's default when omitted.",
  mode: "'new' (default) links a new Item; 'update' opens Link's update mode for one of the signed-in user's Items (item_id), e.g. after ITEM_LOGIN_REQUIRED.",
  item_id: "Update mode only: the Item to repair, as GET /items lists it. Another user's Item is a 404, exactly like one that does not exist.",
  account_selection: "Update mode only: ask for Account Select (to share new accounts), where the tenant's items.update_account_selection allows it (400 otherwise).",
};

// When each failure happens and what a client should do, for the problem responses' descriptions.
const KIND_DOCS: Record<FailureKind, string> = {
  missing_token: 'No `Authorization: Bearer` header. Sign the user in and send their access token.',
  invalid_token:
    'The token is expired, not yet valid, wrongly signed, or not issued for this service. Refresh it or sign in again; `WWW-Authenticate` carries `error="invalid_token"`.',
  unknown_tenant: 'The token is valid but its issuer and audience belong to no configured tenant.',
  origin_not_allowed:
    "The browser's `Origin` is not one of the tenant's allowed origins (on a preflight: of any tenant's). Browsers then block the response; native apps send no `Origin`.",
  invalid_request: 'The body is not a JSON object, has a field a client may not set, or a value the tenant does not offer. `errors` names every field.',
  unsupported_media_type: 'The body was not sent as `application/json`.',
  payload_too_large: `The body is over ${MAX_BODY_BYTES} bytes.`,
  method_not_allowed: `Only POST (and the OPTIONS preflight) exist on ${ROUTE_PATH}.`,
  not_found: `The path is not ${ROUTE_PATH}.`,
  upstream_rejected: "Plaid refused the request because of how the tenant is set up; retrying will not help. The operator is alerted.",
  upstream_rate_limited: 'Too many link tokens were requested from Plaid. Wait `Retry-After` seconds.',
  upstream_unavailable: "Plaid or the identity provider's signing keys are unreachable. Try again shortly.",
  upstream_timeout: 'Plaid did not answer within the request budget. Try again shortly.',
  secrets_unavailable: "The tenant's Plaid credentials could not be read. Try again shortly.",
  vault_unavailable: 'The item store (DynamoDB or KMS) is unavailable; nothing was half-done. Try again shortly.',
  events_unavailable: 'Webhooks only: the event bus did not take the webhook; Plaid retries a non-200 answer.',
  webhook_unverified: 'Webhooks only: the Plaid-Verification header did not verify (signature, algorithm, key, age or body hash).',
  item_not_found: 'The signed-in user has no Item with this id (another user\'s Item looks exactly like one that does not exist).',
  conflict: 'The user already has a live Item at this institution; `existing_item_id` names it, so the app can offer update mode instead.',
  misconfigured: "The tenant's configuration cannot serve this request. Quote `correlation_id` to support.",
  internal: 'An unexpected error. Quote `correlation_id` to support.',
};

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'ContentTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function jsonSchemaOf(schema: GenericSchema): JsonObject {
  const { $schema: _dialect, ...rest } = toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'throw' }) as JsonObject;
  return rest;
}

function requestSchema(): JsonObject {
  const schema = jsonSchemaOf(ClientChoicesSchema);
  const properties = schema.properties as Record<string, JsonObject>;
  for (const [field, description] of Object.entries(REQUEST_FIELD_DOCS)) {
    if (!properties[field]) throw new Error(`openapi: documented request field '${field}' is not in ClientChoicesSchema`);
    properties[field] = { description, ...properties[field] };
  }
  return {
    title: 'LinkTokenRequest',
    description:
      'The only choices a client makes. Everything else about the link token (products, webhook, redirect_uri, android_package_name, country codes, the user) comes from the tenant\'s configuration and the verified token; any other field is refused with 400 naming it.',
    ...schema,
  };
}

function problemSchema(): JsonObject {
  const schema = jsonSchemaOf(ProblemSchema);
  const errors = (schema.properties as Record<string, JsonObject>).errors;
  if (!errors) throw new Error("openapi: ProblemSchema has no 'errors'");
  errors.items = ref('schemas', 'FieldError');
  return { title: 'Problem', description: 'RFC 9457 problem details, with the request id and, on 400, the fields at fault.', ...schema };
}

const ref = (kind: 'schemas' | 'responses' | 'headers', name: string): JsonObject => ({ $ref: `#/components/${kind}/${name}` });

/** The statuses the adapter can answer, each with the failure kinds behind it, from PROBLEM_TYPES. */
export function problemStatuses(kinds: readonly FailureKind[] = Object.keys(PROBLEM_TYPES) as FailureKind[]): Map<number, FailureKind[]> {
  const byStatus = new Map<number, FailureKind[]>();
  for (const kind of kinds) {
    const { status } = PROBLEM_TYPES[kind];
    byStatus.set(status, [...(byStatus.get(status) ?? []), kind]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

function statusName(status: number): string {
  const name = STATUS_NAMES[status];
  if (!name) throw new Error(`openapi: no response name for HTTP ${status}; add it to STATUS_NAMES`);
  return name;
}

function problemResponse(status: number, kinds: readonly FailureKind[]): JsonObject {
  const headers: JsonObject = {
    'X-Correlation-Id': ref('headers', 'X-Correlation-Id'),
    'Cache-Control': ref('headers', 'Cache-Control'),
    'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
    'Access-Control-Expose-Headers': ref('headers', 'Access-Control-Expose-Headers'),
  };
  if (kinds.some((k) => k === 'missing_token' || k === 'invalid_token')) headers['WWW-Authenticate'] = ref('headers', 'WWW-Authenticate');
  if (kinds.includes('upstream_rate_limited')) headers['Retry-After'] = ref('headers', 'Retry-After');
  if (kinds.includes('method_not_allowed')) headers.Allow = ref('headers', 'Allow');
  const lines = kinds.map((k) => `- \`${PROBLEM_TYPE_BASE}${PROBLEM_TYPES[k].slug}\` (${PROBLEM_TYPES[k].title}): ${KIND_DOCS[k]}`);
  return {
    description: `${kinds.map((k) => PROBLEM_TYPES[k].title).join(' / ')}.\n\n${lines.join('\n')}`,
    headers,
    content: {
      'application/problem+json': {
        schema: {
          allOf: [
            ref('schemas', 'Problem'),
            {
              properties: {
                type: { enum: kinds.map((k) => `${PROBLEM_TYPE_BASE}${PROBLEM_TYPES[k].slug}`) },
                title: { enum: [...new Set(kinds.map((k) => PROBLEM_TYPES[k].title))] },
                status: { const: status },
              },
            },
          ],
        },
      },
    },
  };
}

const responseRefs = (kinds: readonly FailureKind[]): JsonObject =>
  Object.fromEntries([...problemStatuses(kinds)].map(([status]) => [String(status), ref('responses', statusName(status))]));

export function buildOpenApiDocument(): JsonObject {
  const allKinds = Object.keys(PROBLEM_TYPES) as FailureKind[];
  // A conflict is only POST /items's answer (a duplicate Item), never a link token's.
  const postKinds = allKinds.filter((k) => !ROUTING_ONLY_KINDS.includes(k) && k !== 'conflict');
  const responses = Object.fromEntries([...problemStatuses(allKinds)].map(([status, kinds]) => [statusName(status), problemResponse(status, kinds)]));
  const header = (description: string, schema: JsonObject, required = false): JsonObject => ({ description, required, schema });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Link token service',
      version: API_VERSION,
      summary: 'Mints Plaid Link tokens for signed-in app users.',
      description: [
        'A backend-for-frontend for Plaid Link. A web page or mobile app sends its signed-in user\'s access token and gets a Plaid `link_token` to open Link with. The tenant is resolved from the verified token, and the tenant\'s configuration decides everything Plaid receives: the client chooses only `platform`, `profile` and `language`.',
        '',
        'Every failure is RFC 9457 problem details (`application/problem+json`) with a `correlation_id` to quote to support. Browsers may call it cross-origin from the tenant\'s allowed origins: the function answers the CORS preflight itself (`OPTIONS`).',
        '',
        `Routing: requests to other paths get 404 and other methods on ${ROUTE_PATH} get 405 (components.responses NotFound and MethodNotAllowed) when the gateway routes them to the function.`,
      ].join('\n'),
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [
      { url: 'https://{apiDomain}', description: 'A deployed stage', variables: { apiDomain: { default: 'api.example.com', description: "The HTTP API's execute-api or custom domain." } } },
      { url: 'http://127.0.0.1:3000', description: 'The local stack (`npm start`)' },
    ],
    security: [{ bearerAuth: [] }],
    tags: [{ name: 'link-token', description: 'Plaid Link tokens for the signed-in user' }],
    paths: {
      [ROUTE_PATH]: {
        post: {
          tags: ['link-token'],
          operationId: 'createLinkToken',
          summary: 'Create a Plaid link token for the signed-in user',
          description:
            'Verifies the bearer token, resolves the tenant from it, checks the browser\'s `Origin` against the tenant\'s allowed origins, then asks Plaid for a link token configured by the tenant\'s profile. Open Plaid Link with the returned `link_token` before `expiration`.',
          security: [{ bearerAuth: [] }],
          parameters: [
            {
              name: 'Origin',
              in: 'header',
              required: false,
              description: "Sent by browsers on cross-origin requests; must be one of the tenant's allowed origins. Native apps send none.",
              schema: { type: 'string', format: 'uri' },
            },
          ],
          requestBody: {
            required: true,
            description: `A JSON object of at most ${MAX_BODY_BYTES} bytes.`,
            content: {
              'application/json': {
                schema: ref('schemas', 'LinkTokenRequest'),
                examples: {
                  web: { summary: 'A web page', value: { platform: 'web' } },
                  ios: { summary: 'An iOS app, French', value: { platform: 'ios', language: 'fr' } },
                  android: { summary: 'An Android app, another profile', value: { platform: 'android', profile: 'payments' } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'A link token for this user and tenant.',
              headers: {
                'X-Correlation-Id': ref('headers', 'X-Correlation-Id'),
                'Cache-Control': ref('headers', 'Cache-Control'),
                'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
                'Access-Control-Expose-Headers': ref('headers', 'Access-Control-Expose-Headers'),
              },
              content: {
                'application/json': {
                  schema: ref('schemas', 'LinkTokenResponse'),
                  example: { link_token: 'link-sandbox-af1a0311-da53-4636-b754-dd15cc058176', expiration: '2026-01-01T04:00:00Z' },
                },
              },
            },
            ...responseRefs(postKinds),
          },
        },
        options: {
          tags: ['link-token'],
          operationId: 'preflightLinkToken',
          summary: 'CORS preflight',
          description:
            "Browsers send it before the cross-origin POST. Allowed when `Origin` is one of any tenant's allowed origins (the tenant is unknown until the token is verified; the POST enforces the tenant's own list) and the requested method is POST. Without `Origin` and `Access-Control-Request-Method` it is a plain OPTIONS: 204 with `Allow`.",
          security: [],
          parameters: [
            { name: 'Origin', in: 'header', required: false, schema: { type: 'string', format: 'uri' } },
            { name: 'Access-Control-Request-Method', in: 'header', required: false, schema: { type: 'string', const: 'POST' } },
            { name: 'Access-Control-Request-Headers', in: 'header', required: false, description: 'authorization, content-type', schema: { type: 'string' } },
          ],
          responses: {
            '204': {
              description: 'The preflight is allowed (or a plain OPTIONS is answered).',
              headers: {
                'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
                'Access-Control-Allow-Methods': header('`POST, OPTIONS` on an allowed preflight.', { type: 'string', const: 'POST, OPTIONS' }),
                'Access-Control-Allow-Headers': header('`Authorization, Content-Type` on an allowed preflight.', { type: 'string', const: 'Authorization, Content-Type' }),
                'Access-Control-Max-Age': header('Seconds the browser may cache the preflight.', { type: 'string', pattern: '^[0-9]+$' }),
                Allow: ref('headers', 'Allow'),
                'X-Correlation-Id': ref('headers', 'X-Correlation-Id'),
              },
            },
            ...responseRefs(PREFLIGHT_KINDS),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "The signed-in user's access token from the app's identity provider. It must verify against a tenant's issuer, audience and token use; the tenant is resolved from it.",
        },
      },
      schemas: {
        LinkTokenRequest: requestSchema(),
        LinkTokenResponse: { title: 'LinkTokenResponse', ...jsonSchemaOf(LinkTokenResponseSchema) },
        Problem: problemSchema(),
        FieldError: { title: 'FieldError', ...jsonSchemaOf(FieldErrorSchema) },
      },
      responses,
      headers: {
        'X-Correlation-Id': header('The request id, also in problem bodies as `correlation_id`.', { type: 'string' }, true),
        'Cache-Control': header('Link tokens and problems are never cached.', { type: 'string', const: 'no-store' }, true),
        'Access-Control-Allow-Origin': header("The caller's `Origin`, echoed when it is allowed; absent otherwise (and the browser then blocks the response).", { type: 'string' }),
        'Access-Control-Expose-Headers': header('Response headers a browser page may read.', { type: 'string', const: 'X-Correlation-Id, Retry-After, WWW-Authenticate' }),
        'WWW-Authenticate': header('The Bearer challenge (RFC 6750); `error="invalid_token"` when a token was sent but refused.', { type: 'string', pattern: '^Bearer realm="link-token"' }, true),
        'Retry-After': header('Seconds to wait before asking again.', { type: 'string', pattern: '^[0-9]+$' }, true),
        Allow: header('The methods this path supports.', { type: 'string', const: 'POST, OPTIONS' }),
      },
    },
  };
}

export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (import.meta.main) {
  const rendered = renderOpenApiDocument();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(OPENAPI_FILE, 'utf8');
    } catch {}
    if (committed !== rendered) {
      console.error(`${OPENAPI_FILE} is out of date: run node openapi/generate.ts`);
      process.exit(1);
    }
    console.log(`${OPENAPI_FILE} is up to date`);
  } else {
    writeFileSync(OPENAPI_FILE, rendered);
    console.log(`wrote ${OPENAPI_FILE}`);
  }
}
