// The tenants file, written once in valibot. The same schema guards `cdk synth` (infra) and
// the function's cold start (lambda), and is exported as JSON Schema for editors
// (`npm run schema`). Plaid-bound fields keep Plaid's names so the Plaid docs map one to one.
//
// Structure and single-field rules live in the schema; rules that relate fields to each other
// (product overlap, https-or-loopback per environment, default language in the allowed list…)
// live in tenant-rules.ts, so every message can name the tenant, the profile and the field.
import * as v from 'valibot';
import {
  ACCOUNT_SUBTYPES,
  COUNTRY_CODES,
  LINK_LANGUAGES,
  PLAID_ENVIRONMENTS,
  PRODUCTS,
  TRANSACTIONS_DAYS,
} from './plaid-vocabulary.ts';

const nonEmptyString = v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty'));
const unique = <T>(items: readonly T[]) => new Set(items).size === items.length;
const uniqueList = <T extends v.GenericSchema>(item: T, what: string) =>
  v.pipe(v.array(item), v.check((items) => unique(items), `must not list a ${what} twice`));

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const PROFILE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const Language = v.picklist(LINK_LANGUAGES, `must be one of Plaid's Link languages (${LINK_LANGUAGES.join(', ')})`);
const CountryCode = v.picklist(COUNTRY_CODES, `must be a Plaid-supported country code (${COUNTRY_CODES.join(', ')})`);
const Product = v.picklist(PRODUCTS, 'must be a Plaid product name');
const ProductList = uniqueList(Product, 'product');
const HttpUrl = v.pipe(v.string(), v.url('must be an absolute URL'), v.maxLength(2048));

const accountFilter = <const T extends readonly string[]>(subtypes: T) =>
  v.strictObject({
    account_subtypes: v.pipe(
      uniqueList(v.picklist(subtypes, `must be one of Plaid's subtypes for this account type`), 'subtype'),
      v.nonEmpty('must name at least one subtype (or "all")'),
    ),
  });

const AccountFilters = v.strictObject({
  depository: v.optional(accountFilter(ACCOUNT_SUBTYPES.depository)),
  credit: v.optional(accountFilter(ACCOUNT_SUBTYPES.credit)),
  loan: v.optional(accountFilter(ACCOUNT_SUBTYPES.loan)),
  investment: v.optional(accountFilter(ACCOUNT_SUBTYPES.investment)),
  other: v.optional(accountFilter(ACCOUNT_SUBTYPES.other)),
});

/** A named Link preset of a tenant; the client picks one by name, never its content. */
export const LinkProfileSchema = v.strictObject({
  products: v.pipe(ProductList, v.nonEmpty('must list at least one product')),
  required_if_supported_products: v.optional(ProductList),
  optional_products: v.optional(ProductList),
  additional_consented_products: v.optional(ProductList),
  webhook: v.optional(HttpUrl),
  redirect_uri: v.optional(HttpUrl),
  android_package_name: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/, 'must be an Android application id such as com.example.app'),
    ),
  ),
  link_customization_name: v.optional(v.pipe(nonEmptyString, v.maxLength(100))),
  account_filters: v.optional(AccountFilters),
  transactions: v.optional(
    v.strictObject({
      days_requested: v.pipe(
        v.number(),
        v.integer('must be a whole number of days'),
        v.minValue(TRANSACTIONS_DAYS.min, `must be at least ${TRANSACTIONS_DAYS.min}`),
        v.maxValue(TRANSACTIONS_DAYS.max, `must be at most ${TRANSACTIONS_DAYS.max} (Plaid's limit)`),
      ),
    }),
  ),
});

const TenantClaimSchema = v.strictObject({
  /** Name of the verified claim that tells tenants sharing an issuer apart (e.g. `custom:tenant`). */
  name: nonEmptyString,
  /** The value of that claim for this tenant. */
  value: nonEmptyString,
});

export const TenantSchema = v.strictObject({
  /** Shown in Link; Plaid displays "This Application" past 30 characters, so longer is refused. */
  client_name: v.pipe(nonEmptyString, v.maxLength(30, 'must be at most 30 characters (Plaid shows "This Application" otherwise)')),
  plaid: v.strictObject({
    environment: v.picklist(Object.keys(PLAID_ENVIRONMENTS) as Array<keyof typeof PLAID_ENVIRONMENTS>, 'must be sandbox or production'),
    /** Name or ARN of the Secrets Manager secret holding {"client_id": "...", "secret": "..."}. */
    secret_id: v.pipe(nonEmptyString, v.maxLength(2048)),
  }),
  auth: v.strictObject({
    /** The `iss` the tenant's tokens carry (Cognito user pool URL or any OIDC issuer). */
    issuer: HttpUrl,
    /** Accepted `aud` values (Cognito access tokens: app client ids, checked against `client_id`). */
    audience: v.pipe(uniqueList(nonEmptyString, 'audience'), v.nonEmpty('must list at least one audience')),
    /** Defaults to `<issuer>/.well-known/jwks.json`. */
    jwks_uri: v.optional(HttpUrl),
    /** Which Cognito token the app sends; ignored for other issuers, whose tokens must carry `aud`. */
    token_use: v.optional(v.picklist(['id', 'access']), 'access'),
    tenant_claim: v.optional(TenantClaimSchema),
  }),
  /** Browser origins allowed to call for this tenant (scheme://host[:port]); mobile apps send none. */
  allowed_origins: v.optional(uniqueList(v.pipe(v.string(), v.url('must be an origin such as https://app.example.com')), 'origin'), []),
  client_user_id: v.optional(
    v.strictObject({
      /**
       * hmac-sha256: base64url HMAC of tenant id and `sub`, keyed by the service's key secret (default).
       * subject: the verified `sub` as is, for issuers whose subjects are already opaque ids.
       */
      strategy: v.picklist(['hmac-sha256', 'subject']),
    }),
    { strategy: 'hmac-sha256' },
  ),
  /** Prefill Link from claims the identity provider has verified; off unless enabled. */
  prefill: v.optional(
    v.strictObject({
      email_address: v.optional(v.boolean(), false),
      phone_number: v.optional(v.boolean(), false),
    }),
    { email_address: false, phone_number: false },
  ),
  languages: v.strictObject({
    default: Language,
    allowed: v.pipe(uniqueList(Language, 'language'), v.nonEmpty('must list at least one language')),
  }),
  country_codes: v.pipe(uniqueList(CountryCode, 'country code'), v.nonEmpty('must list at least one country code')),
  profiles: v.pipe(
    v.record(v.pipe(v.string(), v.regex(PROFILE_NAME_PATTERN, 'profile names are lowercase letters, digits, - and _')), LinkProfileSchema),
    v.check((profiles) => 'default' in profiles, 'must define a "default" profile'),
  ),
});

export const TenantsFileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  /** Secrets Manager secret (name or ARN) whose SecretString keys the client_user_id HMAC. */
  client_user_id_key_secret_id: v.pipe(nonEmptyString, v.maxLength(2048)),
  tenants: v.pipe(
    v.record(v.pipe(v.string(), v.regex(TENANT_ID_PATTERN, 'tenant ids are lowercase letters, digits and -')), TenantSchema),
    v.check((tenants) => Object.keys(tenants).length > 0, 'must define at least one tenant'),
  ),
});

export type TenantsFile = v.InferOutput<typeof TenantsFileSchema>;
export type TenantConfig = v.InferOutput<typeof TenantSchema>;
export type LinkProfile = v.InferOutput<typeof LinkProfileSchema>;
/** A tenant with its id, as the request path sees it. */
export type Tenant = TenantConfig & { readonly id: string };
