// Builds the one LinkTokenCreateRequest body Plaid receives, from the tenant's config (which is
// authoritative), the profile the client picked, the platform rule, the language and the user
// derived from the verified identity. Credentials travel in headers, never in this body.
import type { LinkTokenCreateRequest } from 'plaid';
import type { CountryCode, LinkLanguage } from '../config/plaid-vocabulary.ts';
import { TRANSACTIONS_DAYS } from '../config/plaid-vocabulary.ts';
import type { LinkProfile, Tenant } from '../config/tenant-schema.ts';
import type { ClientChoices } from './client-choices.ts';
import { completedByService } from './link-sessions.ts';
import { ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';

export interface LinkTokenUser {
  client_user_id: string;
  email_address?: string;
  phone_number?: string;
}

/** Everything a profile configures goes to Plaid under the same name, except the per-platform pair. */
type ProfileFields = Omit<LinkProfile, 'country_codes' | 'redirect_uri' | 'android_package_name'>;

export type LinkTokenCreateBody = ProfileFields & {
  client_name: string;
  language: LinkLanguage;
  country_codes: CountryCode[];
  user: LinkTokenUser;
  redirect_uri?: string;
  android_package_name?: string;
  /** The user's Plaid user, for profiles that need one (domain/plaid-users.ts). */
  user_id?: string;
  user_token?: string;
};

// ---- compile-time check against Plaid's own request type (type-only import: nothing reaches the bundle) ----
// Plaid's SDK types closed vocabularies as TypeScript enums; compare by their string values.
type PlaidValues<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? PlaidValues<U>[]
    : T extends object
      ? { [K in keyof T]: PlaidValues<T[K]> }
      : T;
/** Dotted paths of keys our body has and Plaid's request type does not, at any depth. */
type UnknownToPlaid<A, B, P extends string = ''> = A extends readonly (infer U)[]
  ? UnknownToPlaid<U, NonNullable<B> extends readonly (infer V)[] ? V : never, `${P}[]`>
  : A extends object
    ? {
        [K in keyof A & string]: K extends keyof NonNullable<B>
          ? UnknownToPlaid<A[K], NonNullable<NonNullable<B>[K]>, P extends '' ? K : `${P}.${K}`>
          : P extends ''
            ? K
            : `${P}.${K}`;
      }[keyof A & string]
    : never;
type MustBeAssignable<A extends B, B> = A;
type MustBeNever<T extends never> = T;
/** Fails `tsc` if a value the service can build is not one Plaid's type accepts. */
export type BodyMatchesPlaidTypes = MustBeAssignable<LinkTokenCreateBody, PlaidValues<LinkTokenCreateRequest>>;
/** Fails `tsc` naming any field (nested ones included) that Plaid's request type does not have. */
export type BodyHasOnlyPlaidFields = MustBeNever<UnknownToPlaid<LinkTokenCreateBody, LinkTokenCreateRequest>>;

/**
 * Update mode for an existing Item (Plaid: "If launching Link in update mode, [products] should be
 * omitted"; webhook "will not have an effect"): the Item's access token, the same user, the
 * platform rule, and Account Select only when asked for and allowed.
 */
export interface LinkTokenUpdateBody {
  client_name: string;
  language: LinkLanguage;
  country_codes: CountryCode[];
  user: LinkTokenUser;
  access_token: string;
  update?: { account_selection_enabled: boolean };
  redirect_uri?: string;
  android_package_name?: string;
  link_customization_name?: string;
}
export type UpdateBodyMatchesPlaidTypes = MustBeAssignable<LinkTokenUpdateBody, PlaidValues<LinkTokenCreateRequest>>;
export type UpdateBodyHasOnlyPlaidFields = MustBeNever<UnknownToPlaid<LinkTokenUpdateBody, LinkTokenCreateRequest>>;

export function selectProfile(tenant: Tenant, name: string): LinkProfile {
  const profile = Object.hasOwn(tenant.profiles, name) ? tenant.profiles[name] : undefined;
  if (!profile) {
    throw new ServiceFailure('invalid_request', `Unknown profile '${name}'.`, {
      errors: [
        {
          field: 'profile',
          message: `must be one of this tenant's profiles (${Object.keys(tenant.profiles).join(', ')})`,
        },
      ],
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

export function buildUpdateModeRequest(input: {
  tenant: Tenant;
  choices: ClientChoices;
  clientUserId: string;
  accessToken: string;
}): LinkTokenUpdateBody {
  const { tenant, choices } = input;
  const profile = selectProfile(tenant, choices.profile);
  if (choices.account_selection && !tenant.items.update_account_selection) {
    throw new ServiceFailure('invalid_request', 'Account Select in update mode is not enabled for this tenant.', {
      errors: [
        { field: 'account_selection', message: "is not allowed: the tenant's items.update_account_selection is off" },
      ],
    });
  }
  const body: LinkTokenUpdateBody = {
    client_name: tenant.client_name,
    language: selectLanguage(tenant, choices.language),
    country_codes: profile.country_codes ?? tenant.country_codes,
    user: { client_user_id: input.clientUserId },
    access_token: input.accessToken,
  };
  if (choices.account_selection) body.update = { account_selection_enabled: true };
  if (profile.link_customization_name) body.link_customization_name = profile.link_customization_name;
  applyPlatformRule(body, profile, choices);
  return body;
}

/**
 * Plaid's platform rule: Android identifies the app by package name and must not get a
 * redirect_uri; web and iOS return from OAuth through the redirect_uri.
 */
function applyPlatformRule(
  body: { redirect_uri?: string; android_package_name?: string },
  profile: LinkProfile,
  choices: ClientChoices,
): void {
  if (choices.platform === 'android') {
    if (!profile.android_package_name) {
      throw new ServiceFailure('invalid_request', `Profile '${choices.profile}' is not set up for Android.`, {
        errors: [{ field: 'platform', message: `profile '${choices.profile}' has no android_package_name` }],
      });
    }
    body.android_package_name = profile.android_package_name;
  } else if (profile.redirect_uri) {
    body.redirect_uri = profile.redirect_uri;
  }
}

export function buildLinkTokenRequest(input: {
  tenant: Tenant;
  choices: ClientChoices;
  identity: VerifiedIdentity;
  clientUserId: string;
  /** This tenant's URL of the service's own webhook receiver, for profiles with `webhook: "service"`. */
  serviceWebhookUrl?: string;
}): LinkTokenCreateBody {
  const { tenant, choices, identity } = input;
  const profile = selectProfile(tenant, choices.profile);
  const language = selectLanguage(tenant, choices.language);

  const user: LinkTokenUser = { client_user_id: input.clientUserId };
  if (tenant.prefill.email_address && identity.verifiedEmail) user.email_address = identity.verifiedEmail;
  if (tenant.prefill.phone_number && identity.verifiedPhone) user.phone_number = identity.verifiedPhone;

  const {
    country_codes,
    redirect_uri: _redirect,
    android_package_name: _package,
    financekit_supported,
    ...rest
  } = profile;
  // The profile's own objects go in as they are, not copied: tenants are frozen at load
  // (tenantsById), and the body is only serialised. What differs from the profile is new here.
  const body: LinkTokenCreateBody = {
    client_name: tenant.client_name,
    language,
    country_codes: country_codes ?? tenant.country_codes,
    user,
    ...rest,
  };
  // The service completes Hosted Link and Multi-Item Link sessions from their LINK webhooks: their
  // profiles always use its receiver (the tenant rules refuse another URL for them).
  if (body.webhook === 'service' || (body.webhook === undefined && completedByService(profile))) {
    if (!input.serviceWebhookUrl)
      throw new ServiceFailure('misconfigured', "The service's webhook receiver URL is unknown.");
    body.webhook = input.serviceWebhookUrl;
  }
  // Plaid's API reference: under 30 days Plaid requests 30 anyway; send what Plaid will do (warned at validation).
  if (body.transactions && body.transactions.days_requested < TRANSACTIONS_DAYS.effectiveMin) {
    body.transactions = { ...body.transactions, days_requested: TRANSACTIONS_DAYS.effectiveMin };
  }
  applyPlatformRule(body, profile, choices);
  // FinanceKit (Apple Card) can only be linked from an iOS app.
  if (financekit_supported !== undefined && choices.platform === 'ios')
    body.financekit_supported = financekit_supported;

  // Hosted Link delivery needs the contact it delivers to; the tenant's prefill is checked at
  // validation, the user's verified claim only here.
  const delivery = profile.hosted_link?.delivery_method;
  if (delivery === 'sms' && !user.phone_number) {
    throw new ServiceFailure(
      'invalid_request',
      `Profile '${choices.profile}' delivers Link by SMS and needs a verified phone number.`,
      {
        errors: [
          {
            field: 'profile',
            message: `profile '${choices.profile}' needs a verified phone_number claim in the user's token`,
          },
        ],
      },
    );
  }
  if (delivery === 'email' && !user.email_address) {
    throw new ServiceFailure(
      'invalid_request',
      `Profile '${choices.profile}' delivers Link by email and needs a verified email address.`,
      {
        errors: [
          {
            field: 'profile',
            message: `profile '${choices.profile}' needs a verified email claim in the user's token`,
          },
        ],
      },
    );
  }
  return body;
}
