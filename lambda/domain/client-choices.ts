// The only choices a client may make. Everything else about the Link token (products, webhook,
// redirect, credentials, the user) comes from the tenant's config or the verified identity, so
// any other field is refused by name instead of being ignored.
import * as v from 'valibot';
import { LINK_LANGUAGES } from '../config/plaid-vocabulary.ts';
import { PROFILE_NAME_PATTERN } from '../config/tenant-schema.ts';
import { ServiceFailure, type FieldError } from './failure.ts';

export const PLATFORMS = ['web', 'ios', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const ClientChoicesSchema = v.strictObject({
  profile: v.optional(v.pipe(v.string(), v.regex(PROFILE_NAME_PATTERN, 'must be a profile name')), 'default'),
  platform: v.picklist(PLATFORMS, `must be one of ${PLATFORMS.join(', ')}`),
  language: v.optional(v.picklist(LINK_LANGUAGES, 'must be a Plaid Link language code such as "en"')),
});
export type ClientChoices = v.InferOutput<typeof ClientChoicesSchema>;

// Fields a caller might try to set and why they are the service's to decide; the answer names them.
const SERVER_DECIDED: Readonly<Record<string, string>> = {
  client_id: 'Plaid credentials are read from Secrets Manager by the service',
  secret: 'Plaid credentials are read from Secrets Manager by the service',
  user: 'the user is derived from the verified token',
  user_id: 'the user is derived from the verified token',
  client_user_id: 'the user is derived from the verified token',
  access_token: 'update mode with an access token is not offered to clients',
  access_tokens: 'update mode with an access token is not offered to clients',
  user_token: 'user tokens are not accepted from clients',
  third_party_user_token: 'user tokens are not accepted from clients',
  webhook: "the webhook is set by the tenant's configuration",
  redirect_uri: "the redirect URI is set by the tenant's configuration",
  android_package_name: "the Android package name is set by the tenant's configuration",
  products: "products are set by the tenant's profile; choose a profile instead",
  required_if_supported_products: "products are set by the tenant's profile; choose a profile instead",
  optional_products: "products are set by the tenant's profile; choose a profile instead",
  additional_consented_products: "products are set by the tenant's profile; choose a profile instead",
  country_codes: "country codes are set by the tenant's configuration",
  client_name: "the client name is set by the tenant's configuration",
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
    .filter((field) => !(field in ClientChoicesSchema.entries))
    .map((field) => {
      const why = SERVER_DECIDED[field];
      return { field, message: why ? `may not be set by the client: ${why}` : 'is not a field a client may set (allowed: profile, platform, language)' };
    });
  const result = v.safeParse(ClientChoicesSchema, body);
  if (result.success && errors.length === 0) return result.output;
  for (const issue of result.issues ?? []) {
    if (issue.expected === 'never') continue; // unknown keys, already named above
    const field = (issue.path ?? []).map((p) => String(p.key)).join('.') || '(body)';
    errors.push({ field, message: issue.input === undefined ? 'is required' : issue.message });
  }
  throw new ServiceFailure('invalid_request', `Invalid request field ${errors.map((e) => `'${e.field}'`).join(', ')}.`, { errors });
}
