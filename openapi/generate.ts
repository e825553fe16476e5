// Generates the OpenAPI 3.1 description of the function's routes (POST /link-token, GET and POST
// /items, DELETE /items/{item_id}, each path's CORS preflight) from the code that decides the wire
// format, so the two cannot drift apart:
//   request bodies      lambda/domain/client-choices.ts   ClientChoicesSchema (valibot → JSON Schema)
//                       lambda/domain/items.ts            LinkItemBodySchema
//   200 body, problems  lambda/http/response-schemas.ts   valibot schemas type-checked against the adapter
//   Item views, 409     openapi/item-schemas.ts           valibot schemas type-checked against ItemView
//   statuses and types  lambda/http/problem.ts            PROBLEM_TYPES, the one failure → status table
// `node openapi/generate.ts` rewrites openapi/link-token.openapi.json; `--check` only compares.
// test/openapi/ fails when the committed file differs from what this generates.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import { ClientChoicesSchema } from '../lambda/domain/client-choices.ts';
import type { ProblemKind } from '../lambda/http/http-failure.ts';
import { LinkItemBodySchema } from '../lambda/domain/items.ts';
import { ITEM_ID_PATTERN, ITEMS_PATH, LINK_TOKEN_PATH, ME_PATH } from '../lambda/config/routes.ts';
import { MAX_BODY_BYTES } from '../lambda/http/http-api.ts';
import { PROBLEM_TYPE_BASE, PROBLEM_TYPES } from '../lambda/http/problem.ts';
import { FieldErrorSchema, LinkTokenResponseSchema, ProblemSchema } from '../lambda/http/response-schemas.ts';
import { ConflictProblemSchema, ItemListSchema, ItemSchema, LinkedItemSchema } from './item-schemas.ts';

export const OPENAPI_FILE = fileURLToPath(new URL('./link-token.openapi.json', import.meta.url));
/** The contract's version: bump it when the request or a response changes shape. */
export const API_VERSION = '1.0.0';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Failures the adapter raises only for requests that match no described operation. */
export const ROUTING_ONLY_KINDS: readonly ProblemKind[] = ['not_found', 'method_not_allowed'];
/**
 * Failures of POST /webhooks/plaid/{tenant_id} only. That route is Plaid's, not an app's (Plaid
 * signs what it posts; see docs/webhooks.md), so no operation here answers them.
 */
export const WEBHOOK_ONLY_KINDS: readonly ProblemKind[] = ['webhook_unverified', 'events_unavailable'];
/** What the function answers a CORS preflight with, besides 204. */
export const PREFLIGHT_KINDS: readonly ProblemKind[] = ['origin_not_allowed', 'internal'];

/**
 * Each path's methods besides OPTIONS, as the adapter's ROUTE_METHODS has them (its `Allow` and
 * preflight answers; test/openapi/responses.test.ts checks the real headers against these).
 */
export const PATH_METHODS = {
  [LINK_TOKEN_PATH]: ['POST'],
  [ITEMS_PATH]: ['GET', 'POST'],
  [`${ITEMS_PATH}/{item_id}`]: ['DELETE'],
  [ME_PATH]: ['DELETE'],
} as const satisfies Record<string, readonly string[]>;
export const allowOf = (path: keyof typeof PATH_METHODS): string => [...PATH_METHODS[path], 'OPTIONS'].join(', ');

// What can fail where, by what each operation does:
// every authenticated call verifies a token (the identity provider's keys may be unreachable),
// reads the tenant's secrets and runs in the request budget (504 when it runs out).
const AUTHENTICATED: readonly ProblemKind[] = [
  'missing_token',
  'invalid_token',
  'unknown_tenant',
  'origin_not_allowed',
  'upstream_unavailable',
  'upstream_timeout',
  'secrets_unavailable',
  'misconfigured',
  'internal',
];
const READS_BODY: readonly ProblemKind[] = ['invalid_request', 'unsupported_media_type', 'payload_too_large'];
const CALLS_PLAID: readonly ProblemKind[] = [
  'upstream_rejected',
  'upstream_rate_limited',
  'upstream_unavailable',
  'upstream_timeout',
];
const USES_STORE: readonly ProblemKind[] = ['vault_unavailable'];
const kindsOf = (...groups: Array<readonly ProblemKind[]>): readonly ProblemKind[] => {
  const wanted = new Set(groups.flat());
  return (Object.keys(PROBLEM_TYPES) as ProblemKind[]).filter((kind) => wanted.has(kind));
};
/** The failures each operation can answer, by operationId. */
export const OPERATION_KINDS = {
  // Update mode reads the user's Item from the store (404 when it is not theirs).
  // A new Item for a user at the tenant's items.max_per_user is a 409.
  createLinkToken: kindsOf(AUTHENTICATED, READS_BODY, CALLS_PLAID, USES_STORE, ['item_not_found', 'conflict']),
  linkItem: kindsOf(AUTHENTICATED, READS_BODY, CALLS_PLAID, USES_STORE, ['conflict']),
  listItems: kindsOf(AUTHENTICATED, USES_STORE),
  removeItem: kindsOf(AUTHENTICATED, CALLS_PLAID, USES_STORE, ['item_not_found']),
  eraseUser: kindsOf(AUTHENTICATED, CALLS_PLAID, USES_STORE),
} as const satisfies Record<string, readonly ProblemKind[]>;

// What each request field means; typed by the schema's own keys, so a new field fails tsc here.
const REQUEST_FIELD_DOCS: Record<keyof typeof ClientChoicesSchema.entries, string> = {
  profile:
    "Which of the tenant's Link profiles to use (products, account filters, redirect URI and Android package name all come from it). Unknown profiles get 400.",
  platform:
    "Where Link will open. 'web' and 'ios' get the profile's redirect_uri for OAuth; 'android' gets its android_package_name and no redirect_uri, as Plaid requires.",
  language:
    "Plaid Link's display language. Must also be one the tenant offers (400 otherwise); the tenant's default when omitted.",
  mode: "'new' (default) links a new Item; 'update' opens Link's update mode for one of the signed-in user's Items (item_id), e.g. after ITEM_LOGIN_REQUIRED.",
  item_id:
    "Update mode only: the Item to repair, as GET /items lists it. Another user's Item is a 404, exactly like one that does not exist.",
  account_selection:
    "Update mode only: ask for Account Select (to share new accounts), where the tenant's items.update_account_selection allows it (400 otherwise).",
};

// When each failure happens and what a client should do, for the problem responses' descriptions.
const KIND_DOCS: Record<ProblemKind, string> = {
  missing_token: 'No `Authorization: Bearer` header. Sign the user in and send their access token.',
  invalid_token:
    'The token is expired, not yet valid, wrongly signed, or not issued for this service. Refresh it or sign in again; `WWW-Authenticate` carries `error="invalid_token"`.',
  unknown_tenant: 'The token is valid but its issuer and audience belong to no configured tenant.',
  origin_not_allowed:
    "The browser's `Origin` is not one of the tenant's allowed origins (on a preflight: of any tenant's). Browsers then block the response; native apps send no `Origin`.",
  invalid_request:
    'The body is not a JSON object, has a field a client may not set, or a value the tenant does not offer. `errors` names every field.',
  unsupported_media_type: 'The body was not sent as `application/json`.',
  payload_too_large: `The body is over ${MAX_BODY_BYTES} bytes.`,
  method_not_allowed: `The path has no such method. Each path's methods (and the OPTIONS preflight): ${Object.entries(
    PATH_METHODS,
  )
    .map(([path, methods]) => `${methods.join(' and ')} on ${path}`)
    .join(', ')}; \`Allow\` lists them.`,
  not_found: `The path is none of ${Object.keys(PATH_METHODS).join(', ')} (an item id of other characters than letters, digits, '_' and '-' is no path either).`,
  upstream_rejected:
    'Plaid refused the request because of how the tenant is set up; retrying will not help. The operator is alerted.',
  upstream_rate_limited: 'Plaid is rate limiting this service. Wait `Retry-After` seconds.',
  upstream_unavailable: "Plaid or the identity provider's signing keys are unreachable. Try again shortly.",
  upstream_timeout: 'Plaid did not answer within the request budget. Try again shortly.',
  secrets_unavailable: "The tenant's Plaid credentials could not be read. Try again shortly.",
  vault_unavailable: 'The item store (DynamoDB or KMS) is unavailable; nothing was half-done. Try again shortly.',
  events_unavailable: 'Webhooks only: the event bus did not take the webhook; Plaid retries a non-200 answer.',
  webhook_unverified:
    'Webhooks only: the Plaid-Verification header did not verify (signature, algorithm, key, age or body hash).',
  item_not_found:
    "The signed-in user has no Item with this id (another user's Item looks exactly like one that does not exist).",
  conflict:
    'The user already has a live Item at this institution; `existing_item_id` names it, so the app can offer update mode instead.',
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
  const { $schema: _dialect, ...rest } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    errorMode: 'throw',
  }) as JsonObject;
  return rest;
}

function requestSchema(): JsonObject {
  const schema = jsonSchemaOf(ClientChoicesSchema);
  const properties = schema.properties as Record<string, JsonObject>;
  for (const [field, description] of Object.entries(REQUEST_FIELD_DOCS)) {
    if (!properties[field])
      throw new Error(`openapi: documented request field '${field}' is not in ClientChoicesSchema`);
    properties[field] = { description, ...properties[field] };
  }
  return {
    title: 'LinkTokenRequest',
    description:
      "The only choices a client makes. Everything else about the link token (products, webhook, redirect_uri, android_package_name, country codes, the user) comes from the tenant's configuration and the verified token; any other field is refused with 400 naming it. `item_id` is required in update mode and, like `account_selection`, refused outside it.",
    ...schema,
    // parseClientChoices's rules across fields; the test holds the schema to what the function accepts.
    anyOf: [
      { title: 'Update mode', required: ['mode', 'item_id'], properties: { mode: { const: 'update' } } },
      {
        title: 'New Item',
        properties: { mode: { const: 'new' } },
        not: { anyOf: [{ required: ['item_id'] }, { required: ['account_selection'] }] },
      },
    ],
  };
}

function linkItemRequestSchema(): JsonObject {
  const schema = jsonSchemaOf(LinkItemBodySchema);
  const publicToken = (schema.properties as Record<string, JsonObject>).public_token;
  if (!publicToken) throw new Error("openapi: LinkItemBodySchema has no 'public_token'");
  (schema.properties as Record<string, JsonObject>).public_token = {
    description:
      "What Plaid Link's onSuccess handed over: single-use, valid 30 minutes, from a Link session of this tenant's Plaid environment (another environment's is a 400).",
    ...publicToken,
  };
  return {
    title: 'LinkItemRequest',
    description: 'Exactly `public_token`; any other field is refused with 400 naming it.',
    ...schema,
  };
}

function itemListSchema(): JsonObject {
  const schema = jsonSchemaOf(ItemListSchema);
  const items = (schema.properties as Record<string, JsonObject>).items;
  if (!items) throw new Error("openapi: ItemListSchema has no 'items'");
  items.items = ref('schemas', 'Item');
  return { title: 'ItemList', description: "GET /items's answer.", ...schema };
}

function problemSchema(valibot: GenericSchema, title: string, description: string): JsonObject {
  const schema = jsonSchemaOf(valibot);
  const errors = (schema.properties as Record<string, JsonObject>).errors;
  if (!errors) throw new Error(`openapi: ${title} has no 'errors'`);
  errors.items = ref('schemas', 'FieldError');
  return { title, description, ...schema };
}

const ref = (kind: 'schemas' | 'responses' | 'headers', name: string): JsonObject => ({
  $ref: `#/components/${kind}/${name}`,
});

/** The statuses the adapter can answer, each with the failure kinds behind it, from PROBLEM_TYPES. */
export function problemStatuses(
  kinds: readonly ProblemKind[] = Object.keys(PROBLEM_TYPES) as ProblemKind[],
): Map<number, ProblemKind[]> {
  const byStatus = new Map<number, ProblemKind[]>();
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

function problemResponse(status: number, kinds: readonly ProblemKind[]): JsonObject {
  const headers: JsonObject = {
    'X-Correlation-Id': ref('headers', 'X-Correlation-Id'),
    'Cache-Control': ref('headers', 'Cache-Control'),
    'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
    'Access-Control-Expose-Headers': ref('headers', 'Access-Control-Expose-Headers'),
  };
  if (kinds.some((k) => k === 'missing_token' || k === 'invalid_token'))
    headers['WWW-Authenticate'] = ref('headers', 'WWW-Authenticate');
  if (kinds.includes('upstream_rate_limited')) headers['Retry-After'] = ref('headers', 'Retry-After');
  if (kinds.includes('method_not_allowed')) headers.Allow = ref('headers', 'Allow');
  const lines = kinds.map(
    (k) => `- \`${PROBLEM_TYPE_BASE}${PROBLEM_TYPES[k].slug}\` (${PROBLEM_TYPES[k].title}): ${KIND_DOCS[k]}`,
  );
  return {
    description: `${kinds.map((k) => PROBLEM_TYPES[k].title).join(' / ')}.\n\n${lines.join('\n')}`,
    headers,
    content: {
      'application/problem+json': {
        schema: {
          allOf: [
            // Only the 409 carries an extension member; Problem allows no others.
            ref('schemas', kinds.includes('conflict') ? 'ConflictProblem' : 'Problem'),
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

/**
 * An operation's problem responses: the shared one of a status when the operation can answer every
 * kind behind it, else one listing only the kinds this operation can (a DELETE's 404 is never the
 * routing `not-found`, a preflight's 403 never `unknown-tenant`).
 */
const problemResponses = (kinds: readonly ProblemKind[]): JsonObject => {
  const shared = problemStatuses();
  return Object.fromEntries(
    [...problemStatuses(kinds)].map(([status, own]) => [
      String(status),
      own.length === shared.get(status)!.length ? ref('responses', statusName(status)) : problemResponse(status, own),
    ]),
  );
};

export function buildOpenApiDocument(): JsonObject {
  const responses = Object.fromEntries(
    [...problemStatuses()].map(([status, kinds]) => [statusName(status), problemResponse(status, kinds)]),
  );
  const header = (description: string, schema: JsonObject, required = false): JsonObject => ({
    description,
    required,
    schema,
  });
  const successHeaders = (extra: JsonObject = {}): JsonObject => ({
    'X-Correlation-Id': ref('headers', 'X-Correlation-Id'),
    'Cache-Control': ref('headers', 'Cache-Control'),
    'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
    'Access-Control-Expose-Headers': ref('headers', 'Access-Control-Expose-Headers'),
    ...extra,
  });
  const originParameter = {
    name: 'Origin',
    in: 'header',
    required: false,
    description:
      "Sent by browsers on cross-origin requests; must be one of the tenant's allowed origins. Native apps send none.",
    schema: { type: 'string', format: 'uri' },
  };
  const jsonBody = (schemaName: string, examples: JsonObject): JsonObject => ({
    required: true,
    description: `A JSON object of at most ${MAX_BODY_BYTES} bytes.`,
    content: { 'application/json': { schema: ref('schemas', schemaName), examples } },
  });
  const preflight = (path: keyof typeof PATH_METHODS, tag: string, operationId: string): JsonObject => {
    const methods = PATH_METHODS[path];
    return {
      tags: [tag],
      operationId,
      summary: 'CORS preflight',
      description: `Browsers send it before a cross-origin ${methods.join(' or ')}. Allowed when \`Origin\` is one of any tenant's allowed origins (the tenant is unknown until the token is verified; the ${methods.join(' or ')} enforces the tenant's own list) and the requested method is ${methods.join(' or ')}. Without \`Origin\` and \`Access-Control-Request-Method\` it is a plain OPTIONS: 204 with \`Allow\`.`,
      security: [],
      parameters: [
        { name: 'Origin', in: 'header', required: false, schema: { type: 'string', format: 'uri' } },
        {
          name: 'Access-Control-Request-Method',
          in: 'header',
          required: false,
          schema: { type: 'string', enum: [...methods] },
        },
        {
          name: 'Access-Control-Request-Headers',
          in: 'header',
          required: false,
          description: 'authorization, content-type',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '204': {
          description: 'The preflight is allowed (or a plain OPTIONS is answered).',
          headers: {
            'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
            'Access-Control-Allow-Methods': header(`\`${allowOf(path)}\` on an allowed preflight.`, {
              type: 'string',
              const: allowOf(path),
            }),
            'Access-Control-Allow-Headers': header('`Authorization, Content-Type` on an allowed preflight.', {
              type: 'string',
              const: 'Authorization, Content-Type',
            }),
            'Access-Control-Max-Age': header('Seconds the browser may cache the preflight.', {
              type: 'string',
              pattern: '^[0-9]+$',
            }),
            Allow: header('The methods this path supports, on a plain OPTIONS.', {
              type: 'string',
              const: allowOf(path),
            }),
            'X-Correlation-Id': ref('headers', 'X-Correlation-Id'),
          },
        },
        ...problemResponses(PREFLIGHT_KINDS),
      },
    };
  };
  const exampleItemId = 'eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6';
  const exampleItem = {
    item_id: exampleItemId,
    institution: { institution_id: 'ins_109508', name: 'First Platypus Bank' },
    status: 'healthy',
    created_at: '2026-01-01T03:00:00.000Z',
  };
  const itemPath = `${ITEMS_PATH}/{item_id}` as const;

  return {
    openapi: '3.1.0',
    info: {
      title: 'Link token service',
      version: API_VERSION,
      summary: 'Mints Plaid Link tokens for signed-in app users and keeps the Items they link.',
      description: [
        "A backend-for-frontend for Plaid Link. A web page or mobile app sends its signed-in user's access token and gets a Plaid `link_token` to open Link with. The tenant is resolved from the verified token, and the tenant's configuration decides everything Plaid receives: the client chooses only `platform`, `profile` and `language` (and, in update mode, which of its own Items to repair).",
        '',
        "When Link succeeds the app sends its `public_token` to `POST /items`: the service exchanges it and keeps the Item's access token encrypted; the app only ever sees Item views (`GET /items`) and removes an Item with `DELETE /items/{item_id}`. An Item of another user or tenant is a 404, exactly like one that does not exist.",
        '',
        "Every failure is RFC 9457 problem details (`application/problem+json`) with a `correlation_id` to quote to support. Browsers may call it cross-origin from the tenant's allowed origins: the function answers the CORS preflight of each path itself (`OPTIONS`).",
        '',
        `Routing: requests to other paths get 404 and other methods on a path get 405 with \`Allow\` (components.responses NotFound and MethodNotAllowed) when the gateway routes them to the function.`,
      ].join('\n'),
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [
      {
        url: 'https://{apiDomain}',
        description: 'A deployed stage',
        variables: {
          apiDomain: { default: 'api.example.com', description: "The HTTP API's execute-api or custom domain." },
        },
      },
      { url: 'http://127.0.0.1:3000', description: 'The local stack (`npm start`)' },
    ],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'link-token', description: 'Plaid Link tokens for the signed-in user' },
      { name: 'items', description: "The signed-in user's linked Items (never a token)" },
    ],
    paths: {
      [LINK_TOKEN_PATH]: {
        post: {
          tags: ['link-token'],
          operationId: 'createLinkToken',
          summary: 'Create a Plaid link token for the signed-in user',
          description: [
            "Verifies the bearer token, resolves the tenant from it, checks the browser's `Origin` against the tenant's allowed origins, then asks Plaid for a link token configured by the tenant's profile. Open Plaid Link with the returned `link_token` before `expiration`.",
            '',
            'Update mode: `mode: "update"` with the `item_id` of one of the user\'s Items (as `GET /items` lists it) gets a link token that repairs that Item, e.g. after `login_required`; add `account_selection: true` to let the user share new accounts, where the tenant\'s `items.update_account_selection` allows it (400 otherwise). An `item_id` that is not the user\'s is a 404 `item-not-found`, as for one that does not exist. `item_id` and `account_selection` without `mode: "update"` are refused with 400. The public token Link hands over after update mode need not be exchanged: the Item is the same.',
          ].join('\n'),
          security: [{ bearerAuth: [] }],
          parameters: [originParameter],
          requestBody: jsonBody('LinkTokenRequest', {
            web: { summary: 'A web page', value: { platform: 'web' } },
            ios: { summary: 'An iOS app, French', value: { platform: 'ios', language: 'fr' } },
            android: {
              summary: 'An Android app, another profile',
              value: { platform: 'android', profile: 'payments' },
            },
            update: {
              summary: "Update mode: repair one of the user's Items",
              value: { platform: 'web', mode: 'update', item_id: exampleItemId },
            },
            updateAccountSelection: {
              summary: 'Update mode with Account Select (new accounts to share)',
              value: { platform: 'ios', mode: 'update', item_id: exampleItemId, account_selection: true },
            },
          }),
          responses: {
            '200': {
              description: 'A link token for this user and tenant.',
              headers: successHeaders(),
              content: {
                'application/json': {
                  schema: ref('schemas', 'LinkTokenResponse'),
                  example: {
                    link_token: 'link-sandbox-00000000-0000-4000-8000-000000000002',
                    expiration: '2026-01-01T04:00:00Z',
                  },
                },
              },
            },
            ...problemResponses(OPERATION_KINDS.createLinkToken),
          },
        },
        options: preflight(LINK_TOKEN_PATH, 'link-token', 'preflightLinkToken'),
      },
      [ITEMS_PATH]: {
        get: {
          tags: ['items'],
          operationId: 'listItems',
          summary: "The signed-in user's Items",
          description:
            "Every Item the user linked at this tenant, with its institution and health. Never a token: the access tokens stay encrypted in the service's store.",
          security: [{ bearerAuth: [] }],
          parameters: [originParameter],
          responses: {
            '200': {
              description: "The user's Items (an empty list when there are none).",
              headers: successHeaders(),
              content: {
                'application/json': {
                  schema: ref('schemas', 'ItemList'),
                  example: {
                    items: [
                      {
                        ...exampleItem,
                        action: 'none',
                        consent_expiration_time: null,
                        updated_at: '2026-01-02T09:30:00.000Z',
                      },
                      {
                        ...exampleItem,
                        item_id: 'Pz3nVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrA1',
                        status: 'login_required',
                        action: 'update',
                        consent_expiration_time: null,
                        updated_at: '2026-01-03T08:00:00.000Z',
                      },
                    ],
                  },
                },
              },
            },
            ...problemResponses(OPERATION_KINDS.listItems),
          },
        },
        post: {
          tags: ['items'],
          operationId: 'linkItem',
          summary: "Keep the Item Link just created: exchange Link's public_token",
          description:
            "Send the `public_token` Plaid Link's onSuccess handed over (single-use, valid 30 minutes). The service exchanges it at Plaid and stores the Item's access token encrypted for this user; the answer is the Item's view, never a token. By the tenant's `items.duplicates` policy a second live Item at the same institution is refused with 409 naming the existing one (`existing_item_id`: offer update mode for it), replaces the old one, or is allowed. An Item Plaid created that cannot be stored is removed at Plaid again, so a failure leaves nothing behind.",
          security: [{ bearerAuth: [] }],
          parameters: [originParameter],
          requestBody: jsonBody('LinkItemRequest', {
            publicToken: {
              summary: "Link's onSuccess public_token",
              value: { public_token: 'public-sandbox-00000000-0000-4000-8000-000000000001' },
            },
          }),
          responses: {
            '201': {
              description: 'The Item is linked and stored; `Location` is its path.',
              headers: successHeaders({ Location: ref('headers', 'Location') }),
              content: { 'application/json': { schema: ref('schemas', 'LinkedItem'), example: exampleItem } },
            },
            '200': {
              description:
                'The Item was already stored for this user (the same Item exchanged again): nothing changed; `Location` is its path.',
              headers: successHeaders({ Location: ref('headers', 'Location') }),
              content: { 'application/json': { schema: ref('schemas', 'LinkedItem'), example: exampleItem } },
            },
            ...problemResponses(OPERATION_KINDS.linkItem),
          },
        },
        options: preflight(ITEMS_PATH, 'items', 'preflightItems'),
      },
      [itemPath]: {
        parameters: [
          {
            name: 'item_id',
            in: 'path',
            required: true,
            description:
              "An `item_id` from `GET /items`. Another user's Item is a 404 `item-not-found`, as is one that does not exist; an id of other characters is no path (404 `not-found`).",
            schema: { type: 'string', pattern: ITEM_ID_PATTERN.source },
          },
        ],
        delete: {
          tags: ['items'],
          operationId: 'removeItem',
          summary: "Remove one of the user's Items, at Plaid and in the store",
          description:
            'Removes the Item at Plaid (/item/remove: Plaid stops billing it and revokes its access token) and then deletes it from the store. An Item Plaid had already forgotten is removed from the store all the same. A failure at Plaid leaves the Item stored, so the call can be repeated.',
          security: [{ bearerAuth: [] }],
          parameters: [originParameter],
          responses: {
            '204': { description: 'The Item is removed.', headers: successHeaders() },
            ...problemResponses(OPERATION_KINDS.removeItem),
          },
        },
        options: preflight(itemPath, 'items', 'preflightItem'),
      },
      [ME_PATH]: {
        delete: {
          tags: ['items'],
          operationId: 'eraseUser',
          summary: 'Erase the signed-in user: every Item at Plaid and in the store, their Plaid user, every record',
          description:
            "Removes each of the user's Items at Plaid (/item/remove) and then from the store, removes their Plaid user (/user/remove), deletes every other record kept for them, and publishes one user.erased event. Idempotent: again is 204 and asks nothing of Plaid. Resumable: a 503 with Retry-After leaves every Item Plaid still holds stored, and the same call again finishes the rest.",
          security: [{ bearerAuth: [] }],
          parameters: [originParameter],
          responses: {
            '204': { description: 'The user is erased.', headers: successHeaders() },
            ...problemResponses(OPERATION_KINDS.eraseUser),
          },
        },
        options: preflight(ME_PATH, 'items', 'preflightMe'),
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
        LinkItemRequest: linkItemRequestSchema(),
        LinkedItem: {
          title: 'LinkedItem',
          description: 'The Item just linked, as POST /items answers it (GET /items adds `updated_at`). Never a token.',
          ...jsonSchemaOf(LinkedItemSchema),
        },
        Item: {
          title: 'Item',
          description: 'An Item as GET /items lists it. Never a token.',
          ...jsonSchemaOf(ItemSchema),
        },
        ItemList: itemListSchema(),
        Problem: problemSchema(
          ProblemSchema,
          'Problem',
          'RFC 9457 problem details, with the request id and, on 400, the fields at fault.',
        ),
        ConflictProblem: problemSchema(
          ConflictProblemSchema,
          'ConflictProblem',
          "POST /items's 409: the problem details of a duplicate Item, naming the user's existing Item at that institution.",
        ),
        FieldError: { title: 'FieldError', ...jsonSchemaOf(FieldErrorSchema) },
      },
      responses,
      headers: {
        'X-Correlation-Id': header(
          'The request id, also in problem bodies as `correlation_id`.',
          { type: 'string' },
          true,
        ),
        'Cache-Control': header(
          'Link tokens, Items and problems are never cached.',
          { type: 'string', const: 'no-store' },
          true,
        ),
        'Access-Control-Allow-Origin': header(
          "The caller's `Origin`, echoed when it is allowed; absent otherwise (and the browser then blocks the response).",
          { type: 'string' },
        ),
        'Access-Control-Expose-Headers': header('Response headers a browser page may read.', {
          type: 'string',
          const: 'X-Correlation-Id, Retry-After, WWW-Authenticate',
        }),
        'WWW-Authenticate': header(
          'The Bearer challenge (RFC 6750); `error="invalid_token"` when a token was sent but refused.',
          { type: 'string', pattern: '^Bearer realm="link-token"' },
          true,
        ),
        'Retry-After': header('Seconds to wait before asking again.', { type: 'string', pattern: '^[0-9]+$' }, true),
        Allow: header('The methods the requested path supports.', {
          type: 'string',
          enum: Object.keys(PATH_METHODS).map((path) => allowOf(path as keyof typeof PATH_METHODS)),
        }),
        Location: header(
          "The Item's path, for DELETE.",
          { type: 'string', pattern: `^${ITEMS_PATH}/${ITEM_ID_PATTERN.source.slice(1)}` },
          true,
        ),
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
    } catch {
      // No committed file: it differs from any rendering.
    }
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
