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
  APPEARANCE_MODES,
  AUTH_FLOW_TYPES,
  CASHFLOW_ATTRIBUTES_VERSIONS,
  CONSUMER_REPORT_PERMISSIBLE_PURPOSES,
  COUNTRY_CODES,
  CRA_DAYS,
  CRA_DAYS_REQUIRED_MAX,
  DOCUMENT_PARSING_CONFIGS,
  GSE_REPORT_TYPES,
  HOSTED_LINK_DELIVERY_METHODS,
  HOSTED_LINK_MAX_LIFETIME_SECONDS,
  LEND_SCORE_VERSIONS,
  LINK_LANGUAGES,
  PAYMENT_DESCRIPTION_MAX,
  PAYROLL_FLOW_TYPES,
  PLAID_ENVIRONMENTS,
  PRISM_VERSIONS,
  PRODUCTS,
  REROUTE_TO_CREDENTIALS,
  SOURCE_TYPES,
  TRANSACTIONS_DAYS,
} from './plaid-vocabulary.ts';
import { PROFILE_NAME_PATTERN, TENANT_ID_PATTERN } from './tenant-names.ts';

const nonEmptyString = v.pipe(v.string('must be a string'), v.trim(), v.nonEmpty('must not be empty'));
const unique = <T>(items: readonly T[]) => new Set(items).size === items.length;
const uniqueList = <T extends v.GenericSchema>(item: T, what: string) =>
  v.pipe(
    v.array(item, 'must be a list'),
    v.check((items) => unique(items), `must not list a ${what} twice`),
  );
const oneOf = <const T extends readonly string[]>(values: T, what = 'one of') =>
  v.picklist(values, `must be ${what} ${values.map((value) => `"${value}"`).join(', ')}`);
const flag = v.boolean('must be true or false');
const wholeNumber = (min: number, max: number, unit: string, maxWhy = "Plaid's limit") =>
  v.pipe(
    v.number(`must be a whole number of ${unit}`),
    v.integer(`must be a whole number of ${unit}`),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max} (${maxWhy})`),
  );
const days = (min: number, max: number) => wholeNumber(min, max, 'days');
/** Erasure removes a user's Items one request after another: a bound keeps that finite. */
const MAX_ITEMS_PER_USER = 100;
const positiveDays = v.pipe(
  v.number('must be a whole number of days'),
  v.integer('must be a whole number of days'),
  v.minValue(1, 'must be at least 1'),
);
// Plaid's API reference: "Currently you can only specify one of these options."
const singleSourceType = v.pipe(
  v.array(oneOf(SOURCE_TYPES), 'must be a list'),
  v.length(1, `must list exactly one source type ("bank" or "payroll"): Plaid accepts only one`),
);
const ISO_DATE_MESSAGE = 'must be a date in ISO 8601 format YYYY-MM-DD, such as 2024-01-31';
const isoDate = v.pipe(
  v.string(ISO_DATE_MESSAGE),
  v.isoDate(ISO_DATE_MESSAGE),
  // isoDate checks the shape (and gives editors format: date); the check, real calendar days.
  v.check((value) => !/^\d{4}-\d{2}-\d{2}$/.test(value) || isCalendarDate(value), ISO_DATE_MESSAGE),
);

export { PROFILE_NAME_PATTERN, TENANT_ID_PATTERN };

const Language = v.picklist(LINK_LANGUAGES, `must be one of Plaid's Link languages (${LINK_LANGUAGES.join(', ')})`);
const CountryCode = v.picklist(COUNTRY_CODES, `must be a Plaid-supported country code (${COUNTRY_CODES.join(', ')})`);
const CountryCodes = v.pipe(uniqueList(CountryCode, 'country code'), v.nonEmpty('must list at least one country code'));
const Product = v.picklist(PRODUCTS, 'must be a Plaid product name');
const ProductList = uniqueList(Product, 'product');
const HttpUrl = v.pipe(
  v.string('must be an absolute URL'),
  v.url('must be an absolute URL'),
  v.maxLength(2048, 'must be at most 2048 characters'),
);

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

const prismVersion = <const T extends readonly string[]>(values: T) => v.optional(oneOf(values));

const CraOptions = v.strictObject({
  days_requested: days(CRA_DAYS.min, CRA_DAYS.max),
  days_required: v.optional(days(1, CRA_DAYS_REQUIRED_MAX)),
  partner_insights: v.optional(
    v.strictObject({
      prism_versions: v.optional(
        v.strictObject({
          firstdetect: prismVersion(PRISM_VERSIONS.firstdetect),
          detect: prismVersion(PRISM_VERSIONS.detect),
          cashscore: prismVersion(PRISM_VERSIONS.cashscore),
          extend: prismVersion(PRISM_VERSIONS.extend),
          insights: prismVersion(PRISM_VERSIONS.insights),
        }),
      ),
    }),
  ),
  base_report: v.optional(
    v.strictObject({
      gse_options: v.optional(
        v.strictObject({
          report_types: v.pipe(
            uniqueList(oneOf(GSE_REPORT_TYPES), 'report type'),
            v.nonEmpty('must list at least one report type'),
          ),
        }),
      ),
      require_identity: v.optional(flag),
    }),
  ),
  cashflow_insights: v.optional(
    v.strictObject({ attributes_version: v.optional(oneOf(CASHFLOW_ATTRIBUTES_VERSIONS)) }),
  ),
  lend_score: v.optional(v.strictObject({ lend_score_version: v.optional(oneOf(LEND_SCORE_VERSIONS)) })),
  include_investments: v.optional(flag),
});

const Auth = v.strictObject({
  auth_type_select_enabled: v.optional(flag),
  automated_microdeposits_enabled: v.optional(flag),
  instant_match_enabled: v.optional(flag),
  same_day_microdeposits_enabled: v.optional(flag),
  instant_microdeposits_enabled: v.optional(flag),
  reroute_to_credentials: v.optional(oneOf(REROUTE_TO_CREDENTIALS)),
  /** Deprecated (Database Auth replaces it): accepted with a warning. */
  database_match_enabled: v.optional(flag),
  /** Deprecated (Database Auth replaces it): accepted with a warning. */
  database_insights_enabled: v.optional(flag),
  /** Deprecated (auth_type_select_enabled replaces it): accepted with a warning. */
  flow_type: v.optional(oneOf(AUTH_FLOW_TYPES)),
  sms_microdeposits_verification_enabled: v.optional(flag),
});

const HostedLink = v.strictObject({
  delivery_method: v.optional(oneOf(HOSTED_LINK_DELIVERY_METHODS)),
  /** https (loopback http in sandbox), or an app URL scheme with is_mobile_app: tenant-rules.ts. */
  completion_redirect_uri: v.optional(
    v.pipe(v.string('must be an absolute URL'), v.maxLength(2048, 'must be at most 2048 characters')),
  ),
  url_lifetime_seconds: v.optional(wholeNumber(1, HOSTED_LINK_MAX_LIFETIME_SECONDS, 'seconds', '21 days')),
  is_mobile_app: v.optional(flag),
});

/**
 * A named Link preset of a tenant; the client picks one by name, never its content. Every
 * configurable field of Plaid's /link/token/create (lambda/config/field-classes.ts) is here under
 * Plaid's own name; fields a profile may not set are refused with the reason from that table.
 */
export const LinkProfileSchema = v.strictObject({
  /** Overrides the tenant's country_codes for this profile (Auth flows limited to the US, Identity Verification). */
  country_codes: v.optional(CountryCodes),
  products: v.pipe(ProductList, v.nonEmpty('must list at least one product')),
  required_if_supported_products: v.optional(ProductList),
  optional_products: v.optional(ProductList),
  additional_consented_products: v.optional(ProductList),
  /** Where Plaid sends this profile's webhooks: a URL, or "service" for the service's own verified receiver. */
  webhook: v.optional(v.union([v.literal('service'), HttpUrl], 'must be "service" or an absolute URL')),
  redirect_uri: v.optional(HttpUrl),
  android_package_name: v.optional(
    v.pipe(
      v.string('must be an Android application id such as com.example.app'),
      v.regex(
        /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/,
        'must be an Android application id such as com.example.app',
      ),
    ),
  ),
  link_customization_name: v.optional(v.pipe(nonEmptyString, v.maxLength(100, 'must be at most 100 characters'))),
  appearance_mode: v.optional(oneOf(APPEARANCE_MODES)),
  institution_data: v.optional(
    v.strictObject({
      routing_number: v.pipe(
        v.string('must be a 9-digit routing number'),
        v.regex(/^\d{9}$/, 'must be a 9-digit routing number'),
      ),
    }),
  ),
  card_switch: v.optional(
    v.strictObject({
      card_bin: v.pipe(
        v.string('must be a card BIN of 6 or 8 digits'),
        v.regex(/^(\d{6}|\d{8})$/, 'must be a card BIN of 6 or 8 digits'),
      ),
    }),
  ),
  account_filters: v.optional(AccountFilters),
  eu_config: v.optional(v.strictObject({ headless: v.optional(flag) })),
  institution_id: v.optional(
    v.pipe(
      v.string('must be a Plaid institution id such as ins_109508'),
      v.regex(/^ins_\d+$/, 'must be a Plaid institution id such as ins_109508'),
    ),
  ),
  payment_configuration: v.optional(
    v.strictObject({
      amount: v.pipe(
        v.string('must be a decimal string with two digits after the point, such as "10.00"'),
        v.regex(/^\d+\.\d{2}$/, 'must be a decimal string with two digits after the point, such as "10.00"'),
        v.check((amount) => Number(amount) > 0, 'must be more than zero'),
      ),
      description: v.optional(
        v.pipe(
          nonEmptyString,
          v.maxLength(PAYMENT_DESCRIPTION_MAX, `must be at most ${PAYMENT_DESCRIPTION_MAX} characters`),
        ),
      ),
    }),
  ),
  employment: v.optional(
    v.strictObject({
      employment_source_types: singleSourceType,
      bank_employment: v.optional(v.strictObject({ days_requested: positiveDays })),
    }),
  ),
  income_verification: v.optional(
    v.strictObject({
      income_source_types: singleSourceType,
      bank_income: v.optional(
        v.strictObject({
          days_requested: days(1, 731),
          /** Deprecated (enable_multi_item_link replaces it): accepted with a warning. */
          enable_multiple_items: v.optional(flag),
        }),
      ),
      payroll_income: v.optional(
        v.strictObject({
          flow_types: v.optional(uniqueList(oneOf(PAYROLL_FLOW_TYPES), 'flow type')),
          parsing_config: v.optional(uniqueList(oneOf(DOCUMENT_PARSING_CONFIGS), 'parsing config')),
        }),
      ),
    }),
  ),
  base_report: v.optional(v.strictObject({ days_requested: days(1, 730) })),
  credit_partner_insights: v.optional(v.strictObject({ days_requested: v.optional(days(1, 730)) })),
  cra_options: v.optional(CraOptions),
  consumer_report_permissible_purpose: v.optional(oneOf(CONSUMER_REPORT_PERMISSIBLE_PURPOSES)),
  auth: v.optional(Auth),
  identity_verification: v.optional(
    v.strictObject({
      template_id: v.pipe(
        v.string('must be an Identity Verification template id such as idvtmp_52xR9LKo77r1Np'),
        v.regex(/^idvtmp_[A-Za-z0-9]+$/, 'must be an Identity Verification template id such as idvtmp_52xR9LKo77r1Np'),
      ),
      gave_consent: v.optional(flag),
    }),
  ),
  statements: v.optional(v.strictObject({ start_date: isoDate, end_date: isoDate })),
  investments: v.optional(
    v.strictObject({
      allow_unverified_crypto_wallets: v.optional(flag),
      allow_manual_entry: v.optional(flag),
    }),
  ),
  investments_auth: v.optional(
    v.strictObject({
      manual_entry_enabled: v.optional(flag),
      masked_number_match_enabled: v.optional(flag),
      stated_account_number_enabled: v.optional(flag),
      rollover_401k_enabled: v.optional(flag),
    }),
  ),
  hosted_link: v.optional(HostedLink),
  transactions: v.optional(
    v.strictObject({
      // 1–29 is accepted and sent as 30, Plaid's minimum, with a warning (tenant-rules.ts).
      days_requested: days(TRANSACTIONS_DAYS.min, TRANSACTIONS_DAYS.max),
    }),
  ),
  cashflow_report: v.optional(v.strictObject({ days_requested: v.optional(days(1, 730)) })),
  cra_enabled: v.optional(flag),
  /** Sent for iOS only: FinanceKit is Apple's. */
  financekit_supported: v.optional(flag),
  enable_multi_item_link: v.optional(flag),
});

/** A real calendar date written YYYY-MM-DD. */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

const TenantClaimSchema = v.strictObject({
  /** Name of the verified claim that tells tenants sharing an issuer apart (e.g. `custom:tenant`). */
  name: nonEmptyString,
  /** The value of that claim for this tenant. */
  value: nonEmptyString,
});

export const TenantSchema = v.strictObject({
  /** Shown in Link; Plaid displays "This Application" past 30 characters, so longer is refused. */
  client_name: v.pipe(
    nonEmptyString,
    v.maxLength(30, 'must be at most 30 characters (Plaid shows "This Application" otherwise)'),
  ),
  plaid: v.strictObject({
    environment: v.picklist(
      Object.keys(PLAID_ENVIRONMENTS) as Array<keyof typeof PLAID_ENVIRONMENTS>,
      'must be sandbox or production',
    ),
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
    /**
     * The longest lifetime a token may have (`exp` − `iat`, or `exp` − now without `iat`): a
     * token minted to live for weeks is refused even while it is unexpired. A day by default.
     */
    max_token_lifetime_seconds: v.optional(wholeNumber(60, 2_592_000, 'seconds', '30 days'), 86_400),
  }),
  /** Browser origins allowed to call for this tenant (scheme://host[:port]); mobile apps send none. */
  allowed_origins: v.optional(
    uniqueList(v.pipe(v.string(), v.url('must be an origin such as https://app.example.com')), 'origin'),
    [],
  ),
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
  /** The user's linked Items (POST /items, GET /items, DELETE /items/{item_id}, update mode). */
  items: v.optional(
    v.strictObject({
      /**
       * When the user links an institution they already have a live Item at: refuse (remove the
       * new Item at Plaid, answer 409 naming the existing one, so the app offers update mode),
       * replace (remove the old Item at Plaid and in the store) or allow both.
       */
      duplicates: v.optional(oneOf(['refuse', 'replace', 'allow'] as const), 'refuse'),
      /** Whether the app may ask for Account Select in update mode (`account_selection: true`). */
      update_account_selection: v.optional(flag, false),
      /**
       * The most live Items (not revoked) one user may hold: each is a recurring cost to the
       * tenant. A new Item beyond it is refused (link token, exchange, session); update mode never is.
       */
      max_per_user: v.optional(wholeNumber(1, MAX_ITEMS_PER_USER, 'Items', 'the most the service allows'), 10),
    }),
    { duplicates: 'refuse', update_account_selection: false, max_per_user: 10 },
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
  /** A profile may override it (`profiles.<name>.country_codes`). */
  country_codes: CountryCodes,
  profiles: v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(PROFILE_NAME_PATTERN, 'profile names are lowercase letters, digits, - and _')),
      LinkProfileSchema,
    ),
    v.check((profiles) => 'default' in profiles, 'must define a "default" profile'),
  ),
});

export { CLIENT_USER_ID_KEY_MIN_LENGTH } from './tenant-names.ts';

export const TenantsFileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  /** Secrets Manager secret (name or ARN) whose SecretString keys the client_user_id HMAC. */
  client_user_id_key_secret_id: v.pipe(nonEmptyString, v.maxLength(2048)),
  tenants: v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(TENANT_ID_PATTERN, 'tenant ids are lowercase letters, digits and -')),
      TenantSchema,
    ),
    v.check((tenants) => Object.keys(tenants).length > 0, 'must define at least one tenant'),
  ),
});

export type TenantsFile = v.InferOutput<typeof TenantsFileSchema>;
/** A tenants file as written: fields with a default may be left out. */
export type TenantsFileInput = v.InferInput<typeof TenantsFileSchema>;
export type TenantConfig = v.InferOutput<typeof TenantSchema>;
export type LinkProfile = v.InferOutput<typeof LinkProfileSchema>;
/** A tenant with its id, as the request path sees it. */
export type Tenant = TenantConfig & { readonly id: string };
