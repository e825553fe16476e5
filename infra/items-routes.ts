// The items API's routes (issue 11). They reach the one function that also serves /link-token,
// through the same integration; the items code inside it is loaded on first use. Defined here
// until the items code exports its own paths, as lambda/http/link-token-api.ts does ROUTE_PATH.
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';

/** POST: store the Item of a public token; GET: the caller's Items. */
export const ITEMS_PATH = '/items';
/** DELETE: remove one of the caller's Items (at Plaid, then from the vault). */
export const ITEM_PATH = '/items/{item_id}';

/** Every items route, OPTIONS included: the function answers CORS preflights on each path. */
export const ITEMS_ROUTES: ReadonlyArray<{ readonly path: string; readonly methods: readonly HttpMethod[] }> = [
  { path: ITEMS_PATH, methods: [HttpMethod.POST, HttpMethod.GET, HttpMethod.OPTIONS] },
  { path: ITEM_PATH, methods: [HttpMethod.DELETE, HttpMethod.OPTIONS] },
];
