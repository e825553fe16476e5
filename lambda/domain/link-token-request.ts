// Builds the one LinkTokenCreateRequest body Plaid receives, from the tenant's config (which is
// authoritative), the profile the client picked, the platform rule, the language and the user
// derived from the verified identity. Credentials travel in headers, never in this body.
import type { CountryCode, LinkLanguage, Product } from '../config/plaid-vocabulary.ts';
import type { LinkProfile, Tenant } from '../config/tenant-schema.ts';
import type { ClientChoices } from './client-choices.ts';
import { ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';

export interface LinkTokenUser {
  client_user_id: string;
  email_address?: string;
  phone_number?: string;
}

export interface LinkTokenCreateBody {
  client_name: string;
  language: LinkLanguage;
  country_codes: CountryCode[];
  user: LinkTokenUser;
  products: Product[];
  required_if_supported_products?: Product[];
  optional_products?: Product[];
  additional_consented_products?: Product[];
  webhook?: string;
  redirect_uri?: string;
  android_package_name?: string;
  link_customization_name?: string;
  account_filters?: LinkProfile['account_filters'];
  transactions?: LinkProfile['transactions'];
}

export function selectProfile(tenant: Tenant, name: string): LinkProfile {
  const profile = Object.hasOwn(tenant.profiles, name) ? tenant.profiles[name] : undefined;
  if (!profile) {
    throw new ServiceFailure('invalid_request', `Unknown profile '${name}'.`, {
      errors: [{ field: 'profile', message: `must be one of this tenant's profiles (${Object.keys(tenant.profiles).join(', ')})` }],
    });
  }
  return profile;
}

export function selectLanguage(tenant: Tenant, requested: LinkLanguage | undefined): LinkLanguage {
  if (requested === undefined) return tenant.languages.default;
  if (!tenant.languages.allowed.includes(requested)) {
    throw new ServiceFailure('invalid_request', `Language '${requested}' is not offered.`, {
      errors: [{ field: 'language', message: `must be one of ${tenant.languages.allowed.join(', ')}` }],
    });
  }
  return requested;
}

export function buildLinkTokenRequest(input: {
  tenant: Tenant;
  choices: ClientChoices;
  identity: VerifiedIdentity;
  clientUserId: string;
}): LinkTokenCreateBody {
  const { tenant, choices, identity } = input;
  const profile = selectProfile(tenant, choices.profile);
  const language = selectLanguage(tenant, choices.language);

  const user: LinkTokenUser = { client_user_id: input.clientUserId };
  if (tenant.prefill.email_address && identity.verifiedEmail) user.email_address = identity.verifiedEmail;
  if (tenant.prefill.phone_number && identity.verifiedPhone) user.phone_number = identity.verifiedPhone;

  const { redirect_uri, android_package_name, ...rest } = profile;
  const body: LinkTokenCreateBody = {
    client_name: tenant.client_name,
    language,
    country_codes: [...tenant.country_codes],
    user,
    ...structuredClone(rest),
  };
  // Plaid's platform rule: Android identifies the app by package name and must not get a
  // redirect_uri; web and iOS return from OAuth through the redirect_uri.
  if (choices.platform === 'android') {
    if (!android_package_name) {
      throw new ServiceFailure('invalid_request', `Profile '${choices.profile}' is not set up for Android.`, {
        errors: [{ field: 'platform', message: `profile '${choices.profile}' has no android_package_name` }],
      });
    }
    body.android_package_name = android_package_name;
  } else if (redirect_uri) {
    body.redirect_uri = redirect_uri;
  }
  return body;
}
