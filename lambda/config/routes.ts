// The service's routes as plain data: the one table the function's HTTP adapter routes by
// (http/http-api.ts, which binds each operation to its handler) and the stack deploys (infra/
// adds one API Gateway route per path and method), so the deploy needs nothing of the adapter.
// test/unit/routes.test.ts checks the adapter answers on exactly these routes.
import { TENANT_ID_PATTERN } from './tenant-names.ts';

/** POST: a link token (new, or update mode for one of the user's Items). */
export const LINK_TOKEN_PATH = '/link-token';
/** POST: store the Item of a public token; GET: the caller's Items. */
export const ITEMS_PATH = '/items';
/** DELETE: remove one of the caller's Items (at Plaid, then from the vault). */
export const ITEM_PATH = `${ITEMS_PATH}/{item_id}`;
/** DELETE: erase the caller: every Item (at Plaid and in the vault), the Plaid user, every record kept for them. */
export const ME_PATH = '/me';
/** Plaid posts each tenant's webhooks under here: WEBHOOKS_PATH/<tenant_id>. */
export const WEBHOOKS_PATH = '/webhooks/plaid';
/** The webhook route as API Gateway writes it: the tenant comes from the path, the proof from the signature. */
export const WEBHOOK_PATH = `${WEBHOOKS_PATH}/{tenant_id}`;

/** Plaid's item ids: case-sensitive letters and digits (the length bound keeps junk from the store). */
export const ITEM_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * What each path parameter may be. A value that does not match names nothing of anyone's: the
 * request is answered 404, exactly as for an id that does not exist.
 */
export const PATH_PARAMETERS = {
  item_id: ITEM_ID_PATTERN,
  tenant_id: TENANT_ID_PATTERN,
} as const satisfies Readonly<Record<string, RegExp>>;
export type PathParameter = keyof typeof PATH_PARAMETERS;

export type OperationMethod = 'GET' | 'POST' | 'DELETE';
export type RouteMethod = OperationMethod | 'OPTIONS';

export interface RouteSpec {
  /** API Gateway's path template ({name} for a path parameter of PATH_PARAMETERS). */
  readonly path: string;
  /**
   * Who calls it: an app user with a bearer token (from a browser too: CORS, and OPTIONS answered
   * by the function), or Plaid (no token, no CORS, its signature verified).
   */
  readonly caller: 'user' | 'plaid';
  /** The operation each method runs: the adapter binds every name to one handler. */
  readonly operations: Partial<Readonly<Record<OperationMethod, string>>>;
}

export const ROUTES = [
  { path: LINK_TOKEN_PATH, caller: 'user', operations: { POST: 'createLinkToken' } },
  { path: ITEMS_PATH, caller: 'user', operations: { GET: 'listItems', POST: 'linkItem' } },
  { path: ITEM_PATH, caller: 'user', operations: { DELETE: 'unlinkItem' } },
  { path: ME_PATH, caller: 'user', operations: { DELETE: 'eraseUser' } },
  { path: WEBHOOK_PATH, caller: 'plaid', operations: { POST: 'receiveWebhook' } },
] as const satisfies readonly RouteSpec[];

/** Every operation of the table, by name. */
export type OperationName = ValuesOf<(typeof ROUTES)[number]['operations']>;
type ValuesOf<O> = O extends unknown ? O[keyof O] : never;

/** The methods API Gateway routes to the function for this path: its operations, and OPTIONS for browsers. */
export function routeMethods(route: RouteSpec): RouteMethod[] {
  const methods: RouteMethod[] = Object.keys(route.operations) as OperationMethod[];
  return route.caller === 'user' ? [...methods, 'OPTIONS'] : methods;
}
