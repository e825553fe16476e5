// The only choices a client may make. Everything else about the Link token (products, webhook,
// redirect, credentials, the user) comes from the tenant's config or the verified identity, so
// any other field is refused by name instead of being ignored.
import * as v from 'valibot';
import { clientRefusalReason, LINK_TOKEN_CREATE_FIELD_PATHS } from '../config/field-classes.ts';
import { LINK_LANGUAGES } from '../config/plaid-vocabulary.ts';
import { ITEM_ID_PATTERN } from '../config/routes.ts';
import { PROFILE_NAME_PATTERN } from '../config/tenant-names.ts';
import { ServiceFailure, type FieldError } from './failure.ts';

export const PLATFORMS = ['web', 'ios', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const LINK_MODES = ['new', 'update'] as const;

export const ClientChoicesSchema = v.strictObject({
  profile: v.optional(v.pipe(v.string(), v.regex(PROFILE_NAME_PATTERN, 'must be a profile name')), 'default'),
  platform: v.picklist(PLATFORMS, `must be one of ${PLATFORMS.join(', ')}`),
  language: v.optional(v.picklist(LINK_LANGUAGES, 'must be a Plaid Link language code such as "en"')),
  /** "update": Link's update mode for one of the caller's own Items (item_id). */
  mode: v.optional(v.picklist(LINK_MODES, 'must be "new" or "update"'), 'new'),
  item_id: v.optional(
    v.pipe(v.string('must be a string'), v.regex(ITEM_ID_PATTERN, 'must be an item_id from GET /items')),
  ),
  /** Update mode with Account Select, where the tenant allows it. */
  account_selection: v.optional(v.boolean('must be true or false')),
});
export type ClientChoices = v.InferOutput<typeof ClientChoicesSchema>;

// Fields a caller might try to set and why they are not the caller's to decide; the answer names
// them. Plaid's fields take their reason from the one classification table (config/field-classes.ts),
// so a client hears the same reason a tenants file does.
const SERVER_DECIDED: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    LINK_TOKEN_CREATE_FIELD_PATHS.flatMap((field) => {
      const why = clientRefusalReason(field);
      return why ? [[field, why]] : [];
    }),
  ),
  products: "products are set by the tenant's profile; choose a profile instead",
  required_if_supported_products: "products are set by the tenant's profile; choose a profile instead",
  optional_products: "products are set by the tenant's profile; choose a profile instead",
  additional_consented_products: "products are set by the tenant's profile; choose a profile instead",
  client_user_id: 'the user is derived from the verified token',
  tenant: 'the tenant is resolved from the verified token',
  tenant_id: 'the tenant is resolved from the verified token',
};

export function parseClientChoices(body: unknown): ClientChoices {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ServiceFailure('invalid_request', 'The request body must be a JSON object.', {
      errors: [{ field: '(body)', message: 'must be a JSON object' }],
    });
  }
  // Every field the client may not set is named, not only the first one valibot meets.
  const errors: FieldError[] = Object.keys(body)
    // Own keys only: `in` would also see Object.prototype's names (constructor, toString, ...).
    .filter((field) => !Object.hasOwn(ClientChoicesSchema.entries, field))
    .map((field) => {
      const why = Object.hasOwn(SERVER_DECIDED, field) ? SERVER_DECIDED[field] : undefined;
      return {
        field,
        message: why
          ? `may not be set by the client: ${why}`
          : `is not a field a client may set (allowed: ${Object.keys(ClientChoicesSchema.entries).join(', ')})`,
      };
    });
  const result = v.safeParse(ClientChoicesSchema, body);
  if (result.success) {
    const { mode, item_id, account_selection } = result.output;
    if (mode === 'update' && item_id === undefined)
      errors.push({ field: 'item_id', message: 'is required in update mode' });
    if (mode === 'new' && item_id !== undefined)
      errors.push({ field: 'item_id', message: 'is only for update mode (mode: "update")' });
    if (mode === 'new' && account_selection !== undefined)
      errors.push({ field: 'account_selection', message: 'is only for update mode (mode: "update")' });
  }
  if (result.success && errors.length === 0) return result.output;
  for (const issue of result.issues ?? []) {
    if (issue.expected === 'never') continue; // unknown keys, already named above
    const field = (issue.path ?? []).map((p) => String(p.key)).join('.') || '(body)';
    errors.push({ field, message: issue.input === undefined ? 'is required' : issue.message });
  }
  throw new ServiceFailure(
    'invalid_request',
    `Invalid request field ${errors.map((e) => `'${e.field}'`).join(', ')}.`,
    { errors },
  );
}
