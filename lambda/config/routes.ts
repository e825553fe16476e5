// The service's routes as plain data: the one list both the function's HTTP adapter
// (http/link-token-api.ts routes by these paths) and the stack (infra/ adds one API Gateway
// route per path and method) take them from, so the deploy needs nothing of the adapter.
// test/unit/routes.test.ts checks the adapter answers on exactly these routes.

/** POST: a link token (new, or update mode for one of the user's Items). */
export const LINK_TOKEN_PATH = '/link-token';
/** POST: store the Item of a public token; GET: the caller's Items. */
export const ITEMS_PATH = '/items';
/** DELETE: remove one of the caller's Items (at Plaid, then from the vault). */
export const ITEM_PATH = `${ITEMS_PATH}/{item_id}`;
/** Plaid posts each tenant's webhooks under here: WEBHOOKS_PATH/<tenant_id>. */
export const WEBHOOKS_PATH = '/webhooks/plaid';
/** The webhook route as API Gateway writes it: the tenant comes from the path, the proof from the signature. */
export const WEBHOOK_PATH = `${WEBHOOKS_PATH}/{tenant_id}`;

export type RouteMethod = 'GET' | 'POST' | 'DELETE' | 'OPTIONS';

export interface RouteSpec {
  /** API Gateway's path template ({name} for a path parameter). */
  readonly path: string;
  /** OPTIONS where browsers call the route: the function answers CORS preflights itself. */
  readonly methods: readonly RouteMethod[];
  /** Who calls it: an app user with a bearer token, or Plaid (no token, no CORS, signature verified). */
  readonly caller: 'user' | 'plaid';
}

export const ROUTES: readonly RouteSpec[] = [
  { path: LINK_TOKEN_PATH, methods: ['POST', 'OPTIONS'], caller: 'user' },
  { path: ITEMS_PATH, methods: ['POST', 'GET', 'OPTIONS'], caller: 'user' },
  { path: ITEM_PATH, methods: ['DELETE', 'OPTIONS'], caller: 'user' },
  { path: WEBHOOK_PATH, methods: ['POST'], caller: 'plaid' },
];
