// The items routes' response bodies as valibot schemas, so openapi/generate.ts derives their JSON
// Schema as it does the link token's (lambda/http/response-schemas.ts). They live here, not in
// lambda/, because nothing in the function needs them. The type checks at the bottom fail `tsc`
// when a schema and the ItemView the adapter really answers drift apart; test/openapi/ checks
// real responses of the local stack against the generated document too.
import * as v from 'valibot';
import { ITEM_ID_PATTERN } from '../lambda/config/routes.ts';
import type { ItemView } from '../lambda/domain/items.ts';
import { ITEM_STATUSES } from '../lambda/domain/ports.ts';
import { ProblemSchema } from '../lambda/http/response-schemas.ts';

const itemId = v.pipe(
  v.string(),
  v.regex(ITEM_ID_PATTERN),
  v.description("Plaid's item_id: the Item's handle in DELETE /items/{item_id} and in update mode (POST /link-token)."),
);
const timestamp = (what: string) => v.pipe(v.string(), v.isoTimestamp(), v.description(what));

export const InstitutionSchema = v.strictObject({
  institution_id: v.pipe(
    v.nullable(v.string()),
    v.description("Plaid's institution id; null when Plaid did not name one."),
  ),
  name: v.pipe(
    v.nullable(v.string()),
    v.description("The institution's display name; null when Plaid did not name one."),
  ),
});

const itemEntries = {
  item_id: itemId,
  institution: InstitutionSchema,
  status: v.pipe(
    v.picklist(ITEM_STATUSES),
    v.description(
      "The Item's health as last reported by Plaid. 'login_required' or 'pending_expiration': open Link in update mode (POST /link-token with mode 'update'); 'new_accounts_available': update mode with account_selection; 'revoked': the user withdrew consent at their bank.",
    ),
  ),
  created_at: timestamp('When the Item was linked (RFC 3339, UTC).'),
};

/** POST /items's answer: the Item just linked (it has not changed since, so no updated_at). */
export const LinkedItemSchema = v.strictObject(itemEntries);

/** One entry of GET /items. */
export const ItemSchema = v.strictObject({
  ...itemEntries,
  action: v.pipe(
    v.picklist(['update', 'update_with_account_selection', 'relink', 'none']),
    v.description(
      "What the app should offer: 'update' (update mode), 'update_with_account_selection' (update mode with account_selection: true), 'relink' (link the institution again), or 'none'.",
    ),
  ),
  consent_expiration_time: v.pipe(
    v.nullable(v.string()),
    v.description("When the Item's consent expires (from Plaid's PENDING_EXPIRATION webhook), else null."),
  ),
  updated_at: timestamp('When its status last changed (RFC 3339, UTC).'),
});

export const ItemListSchema = v.strictObject({
  items: v.pipe(
    v.array(ItemSchema),
    v.description("The signed-in user's Items at this tenant, never a token; empty when there are none."),
  ),
});

// ---- drift checks (type-level only) ----
type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
type Same<A, B> = [DeepReadonly<A>] extends [DeepReadonly<B>]
  ? [DeepReadonly<B>] extends [DeepReadonly<A>]
    ? true
    : false
  : false;

export const ITEM_SCHEMAS_MATCH_THE_ADAPTER: [
  Same<v.InferOutput<typeof ItemSchema>, ItemView>,
  Same<v.InferOutput<typeof LinkedItemSchema>, Omit<ItemView, 'updated_at' | 'action' | 'consent_expiration_time'>>,
] = [true, true];

/** POST /items's 409: a problem naming the user's Item at the same institution. */
export const ConflictProblemSchema = v.strictObject({
  ...ProblemSchema.entries,
  existing_item_id: v.pipe(
    v.string(),
    v.regex(ITEM_ID_PATTERN),
    v.description(
      'The live Item the user already has at this institution: offer update mode for it (POST /link-token, mode "update").',
    ),
  ),
});
