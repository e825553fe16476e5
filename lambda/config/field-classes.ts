// Every request field of Plaid's POST /link/token/create (the seed contract, nested fields
// included), with the one class it falls in:
//   configured  set in the tenants file (a tenant profile, or the tenant where noted)
//   derived     derived by the service (credentials, client_user_id, verified-claim prefill)
//   client      chosen by the client, within the tenant's limits
//   refused     refused wherever it appears (client body or tenants file), with the reason
// This table is the single source of the refusal reasons: config errors (load-tenants.ts) and
// the client's 400 answers (domain/client-choices.ts) both read them from here, and
// the README's field table is rendered from it (lambda/config/render-fields-md.ts)
// (a test keeps the two equal).

export type FieldClass = 'configured' | 'derived' | 'client' | 'refused';

export interface FieldEntry {
  readonly class: FieldClass;
  /** configured: where the tenants file sets it. */
  readonly where?: 'tenant' | 'profile' | 'tenant or profile';
  /** derived / client: how the service gets it; refused: why (reads after "is not configurable: "). */
  readonly reason?: string;
  /** The rules enforced on it, for the docs. */
  readonly rules?: string;
  /** Deprecated by Plaid: configuring it is accepted with a warning that names this replacement. */
  readonly replacement?: string;
}

const configured = (rules: string, extra: Partial<FieldEntry> = {}): FieldEntry => ({
  class: 'configured',
  where: 'profile',
  rules,
  ...extra,
});
const derived = (reason: string): FieldEntry => ({ class: 'derived', reason });
const refused = (reason: string): FieldEntry => ({ class: 'refused', reason });

const PER_USER =
  "it is the user's personal data, which the service takes from no client and which identity providers do not verify";
const UPDATE_MODE =
  "update mode is not offered: it needs an existing Item's access_token or the user's user_token, which the service does not accept";
const PER_LOAN = 'it identifies one loan application, so it cannot be fixed in configuration and the service takes no per-session input';
const PLAID_USER = 'Plaid users (/user/create) are not created by this service, and user tokens are never accepted from clients';
const NOT_IN_API = (replacement: string) =>
  `it is no longer part of Plaid's API (absent from Plaid's request type); use ${replacement} instead`;
const BOOL = 'true or false';
const daysBetween = (min: number, max: number) => `whole number of days, ${min}–${max}`;

export const SEED_FIELDS = {
  client_id: derived("the tenant's Plaid client_id, read from Secrets Manager (plaid.secret_id) and sent in the PLAID-CLIENT-ID header, never in the body"),
  secret: derived("the tenant's Plaid secret, read from Secrets Manager (plaid.secret_id) and sent in the PLAID-SECRET header, never in the body"),
  client_name: configured('non-empty, at most 30 characters (Plaid shows "This Application" past 30)', { where: 'tenant' }),
  language: {
    class: 'client',
    reason: "the request body's language, one of the tenant's languages.allowed (default languages.default)",
    rules: "`languages.default` and `languages.allowed` from the seed's list (da, nl, en, et, fr, de, hi, it, lv, lt, no, pl, pt, ro, es, sv, vi); the default must be allowed",
  },
  country_codes: configured(
    "non-empty, no repeats, from the seed's list; a profile may override the tenant's list; must be `[\"US\"]` when an Auth flow that the seed limits to the US is enabled (`auth.instant_match_enabled`, `instant_microdeposits_enabled`, `same_day_microdeposits_enabled`, `automated_microdeposits_enabled`, `database_match_enabled`, `database_insights_enabled` set to true); exactly one country (where the company is based) with `identity_verification`",
    { where: 'tenant or profile' },
  ),
  user: derived("each request's user comes from the verified token"),
  'user.client_user_id': derived('the base64url HMAC-SHA256 of the tenant id and the verified sub, keyed by the client_user_id_key_secret_id secret (or the verified sub itself with client_user_id.strategy "subject")'),
  'user.legal_name': refused(PER_USER),
  'user.name': refused(PER_USER),
  'user.phone_number': derived("the token's phone_number when phone_number_verified is true, E.164, and the tenant enables prefill.phone_number"),
  'user.phone_number_verified_time': refused("it is deprecated: Plaid's returning-user experience no longer needs it, and the service sends only verified numbers"),
  'user.email_address': derived("the token's email when email_verified is true and the tenant enables prefill.email_address"),
  'user.email_address_verified_time': refused("it is deprecated: Plaid's returning-user experience no longer needs it, and the service sends only verified addresses"),
  'user.ssn': refused(`it is deprecated, replaced by user.id_number (and, like it, ${PER_USER})`),
  'user.date_of_birth': refused(PER_USER),
  'user.address': refused(PER_USER),
  'user.id_number': refused(PER_USER),
  products: configured(
    'non-empty; Plaid product names; no repeats; not `balance`; with any Plaid Check product (`cra_*`) it must include `cra_base_report`; never `payment_initiation` (see `payment_initiation`); `statements`, `employment`, `income_verification`, `identity_verification` and the CRA products need their options object',
  ),
  required_if_supported_products: configured('Plaid product names, no repeats, no overlap with the other product arrays'),
  optional_products: configured('Plaid product names, no repeats, no overlap with the other product arrays'),
  additional_consented_products: configured('Plaid product names, no repeats, not `balance`, no overlap with the other product arrays'),
  webhook: configured('absolute https URL (http only for loopback hosts in sandbox), no credentials'),
  access_token: refused(`it identifies an existing Item, and ${UPDATE_MODE}`),
  access_tokens: refused(`they identify existing Items, and ${UPDATE_MODE}`),
  link_customization_name: configured('non-empty, at most 100 characters'),
  appearance_mode: configured('`LIGHT`, `DARK` or `SYSTEM`'),
  redirect_uri: configured(
    'absolute URL, https (http only for loopback hosts in sandbox), no query string, no fragment, `*` only as a whole leftmost subdomain label before a registrable domain (`https://*.example.com/oauth.html`); sent for web and iOS only',
  ),
  android_package_name: configured('an Android application id (`com.example.app`); sent for Android only, and then no `redirect_uri`'),
  institution_data: configured('an object with `routing_number`'),
  'institution_data.routing_number': configured('required in `institution_data`; 9 digits (an ABA routing number)'),
  card_switch: configured('an object with `card_bin`'),
  'card_switch.card_bin': configured('required in `card_switch`; 6 or 8 digits'),
  account_filters: configured('an object keyed by account type (`depository`, `credit`, `loan`, `investment`, `other`)'),
  'account_filters.depository': configured('an object with `account_subtypes`'),
  'account_filters.depository.account_subtypes': configured("non-empty, no repeats, from Plaid's depository subtypes (or `all`)"),
  'account_filters.credit': configured('an object with `account_subtypes`'),
  'account_filters.credit.account_subtypes': configured("non-empty, no repeats, from Plaid's credit subtypes (or `all`)"),
  'account_filters.loan': configured('an object with `account_subtypes`'),
  'account_filters.loan.account_subtypes': configured("non-empty, no repeats, from Plaid's loan subtypes (or `all`)"),
  'account_filters.investment': configured('an object with `account_subtypes`'),
  'account_filters.investment.account_subtypes': configured("non-empty, no repeats, from Plaid's investment subtypes (or `all`)"),
  'account_filters.other': configured('an object with `account_subtypes`'),
  'account_filters.other.account_subtypes': configured("non-empty, no repeats, from Plaid's other subtypes (or `all`)"),
  eu_config: configured('an object'),
  'eu_config.headless': configured(BOOL),
  institution_id: configured('a Plaid institution id (`ins_` and digits)'),
  payment_configuration: configured('an object with `amount`'),
  'payment_configuration.amount': configured('required; a decimal string with two digits after the point, above zero (`"10.00"`)'),
  'payment_configuration.description': configured('non-empty, at most 256 characters'),
  payment_initiation: refused(
    'Payment Initiation needs a payment_id or consent_id created for each payment (/payment_initiation/payment/create, /payment_initiation/consent/create), which this service does not take from clients',
  ),
  'payment_initiation.payment_id': refused('it is created for each payment by /payment_initiation/payment/create, and the service takes no per-session input'),
  'payment_initiation.consent_id': refused('it is created for each consent by /payment_initiation/consent/create, and the service takes no per-session input'),
  employment: configured('required with the `employment` product'),
  'employment.employment_source_types': configured('required in `employment`; exactly one of `bank`, `payroll`'),
  'employment.bank_employment': configured('required when `employment_source_types` is `["bank"]`'),
  'employment.bank_employment.days_requested': configured('required; whole number of days, at least 1'),
  income_verification: configured('required with the `income_verification` product'),
  'income_verification.income_verification_id': refused('it is deprecated, replaced by the user token, which this service does not accept'),
  'income_verification.asset_report_id': refused("it identifies one user's asset report, and the service takes no per-session input"),
  'income_verification.access_tokens': refused("they identify the user's existing Items, and the service takes no per-session input"),
  'income_verification.income_source_types': configured('required in `income_verification`; exactly one of `bank`, `payroll`'),
  'income_verification.bank_income': configured('required when `income_source_types` is `["bank"]`'),
  'income_verification.bank_income.days_requested': configured(`required; ${daysBetween(1, 731)}`),
  'income_verification.bank_income.enable_multiple_items': configured(`${BOOL}; deprecated: warns`, { replacement: 'enable_multi_item_link' }),
  'income_verification.payroll_income': configured('an object'),
  'income_verification.payroll_income.flow_types': configured('no repeats; `payroll_digital_income`, `payroll_document_income`'),
  'income_verification.payroll_income.is_update_mode': refused("payroll income update mode is not offered: it needs one user's payroll Item (item_id_to_update), and the service takes no per-session input"),
  'income_verification.payroll_income.item_id_to_update': refused(`it identifies one user's payroll Item, and ${UPDATE_MODE}`),
  'income_verification.payroll_income.parsing_config': configured('no repeats; `ocr`, `risk_signals`'),
  'income_verification.stated_income_sources': refused('they are what one user states about their income, and the service takes no per-session input'),
  'income_verification.stated_income_sources[].employer': refused('it is what one user states about their income, and the service takes no per-session input'),
  'income_verification.stated_income_sources[].category': refused('it is what one user states about their income, and the service takes no per-session input'),
  'income_verification.stated_income_sources[].pay_per_cycle': refused('it is what one user states about their income, and the service takes no per-session input'),
  'income_verification.stated_income_sources[].pay_annual': refused('it is what one user states about their income, and the service takes no per-session input'),
  'income_verification.stated_income_sources[].pay_type': refused('it is what one user states about their income, and the service takes no per-session input'),
  'income_verification.stated_income_sources[].pay_frequency': refused('it is what one user states about their income, and the service takes no per-session input'),
  base_report: configured('required (with `days_requested`) when `products` has `assets` and `cra_enabled` is true'),
  'base_report.days_requested': configured(`required in \`base_report\`; ${daysBetween(1, 730)}`),
  'base_report.client_report_id': refused(PER_LOAN),
  credit_partner_insights: configured('an object'),
  'credit_partner_insights.days_requested': configured(daysBetween(1, 730)),
  'credit_partner_insights.prism_products': refused(NOT_IN_API('cra_options.partner_insights.prism_versions')),
  cra_options: configured('required (with `days_requested`) with any Plaid Check product (`cra_*`)'),
  'cra_options.days_requested': configured(`required in \`cra_options\`; ${daysBetween(180, 731)}`),
  'cra_options.days_required': configured('whole number of days, 1–184, at most `cra_options.days_requested`'),
  'cra_options.client_report_id': refused(PER_LOAN),
  'cra_options.partner_insights': configured('an object'),
  'cra_options.partner_insights.prism_products': refused(NOT_IN_API('cra_options.partner_insights.prism_versions')),
  'cra_options.partner_insights.prism_versions': configured('an object'),
  'cra_options.partner_insights.prism_versions.firstdetect': configured('`3`'),
  'cra_options.partner_insights.prism_versions.detect': configured('`4.1` or `4`'),
  'cra_options.partner_insights.prism_versions.cashscore': configured('`4.1`, `4`, `3_lite` or `3`'),
  'cra_options.partner_insights.prism_versions.extend': configured('`4.1` or `4`'),
  'cra_options.partner_insights.prism_versions.insights': configured('`4.1`, `4` or `3`'),
  'cra_options.base_report': configured('an object'),
  'cra_options.base_report.client_report_id': refused(PER_LOAN),
  'cra_options.base_report.gse_options': configured('an object with `report_types`'),
  'cra_options.base_report.gse_options.report_types': configured('required in `gse_options`; non-empty, no repeats; `VOA`, `EMPLOYMENT_REFRESH`'),
  'cra_options.base_report.require_identity': configured(BOOL),
  'cra_options.cashflow_insights': configured('an object'),
  'cra_options.cashflow_insights.plaid_check_score_version': refused(NOT_IN_API('cra_options.lend_score.lend_score_version')),
  'cra_options.cashflow_insights.attributes_version': configured('`v1.0`, `v2.0` or `CFI1`'),
  'cra_options.lend_score': configured('an object'),
  'cra_options.lend_score.lend_score_version': configured('`v1.0`, `v2.0` or `LS1`'),
  'cra_options.include_investments': configured(BOOL),
  consumer_report_permissible_purpose: configured(
    'required with any Plaid Check product (`cra_*`) and refused without one; one of `ACCOUNT_REVIEW_CREDIT`, `ACCOUNT_REVIEW_NON_CREDIT`, `EXTENSION_OF_CREDIT`, `LEGITIMATE_BUSINESS_NEED_TENANT_SCREENING`, `LEGITIMATE_BUSINESS_NEED_OTHER`, `WRITTEN_INSTRUCTION_PREQUALIFICATION`, `WRITTEN_INSTRUCTION_OTHER`, `ELIGIBILITY_FOR_GOVT_BENEFITS`',
  ),
  auth: configured('an object'),
  'auth.auth_type_select_enabled': configured(BOOL),
  'auth.automated_microdeposits_enabled': configured(`${BOOL}; true needs \`country_codes\` \`["US"]\``),
  'auth.instant_match_enabled': configured(`${BOOL}; true needs \`country_codes\` \`["US"]\``),
  'auth.same_day_microdeposits_enabled': configured(`${BOOL}; true needs \`country_codes\` \`["US"]\``),
  'auth.instant_microdeposits_enabled': configured(`${BOOL}; true needs \`country_codes\` \`["US"]\``),
  'auth.reroute_to_credentials': configured('`OFF`, `OPTIONAL` or `FORCED`'),
  'auth.database_match_enabled': configured(`${BOOL}; true needs \`country_codes\` \`["US"]\`; deprecated: warns`, {
    replacement: 'Database Auth, enabled in the Account Verification pane of the Plaid Dashboard',
  }),
  'auth.database_insights_enabled': configured(`${BOOL}; true needs \`country_codes\` \`["US"]\`; deprecated: warns`, {
    replacement: 'Database Auth, enabled in the Account Verification pane of the Plaid Dashboard',
  }),
  'auth.flow_type': configured('`FLEXIBLE_AUTH`; deprecated: warns', { replacement: 'auth.auth_type_select_enabled' }),
  'auth.sms_microdeposits_verification_enabled': configured(BOOL),
  transfer: refused('Transfer UI needs an intent_id or authorization_id created for each transfer, which this service does not take from clients'),
  'transfer.intent_id': refused('it is created for each transfer by /transfer/intent/create, and the service takes no per-session input'),
  'transfer.authorization_id': refused('it is created for each transfer by /transfer/authorization/create, and the service takes no per-session input'),
  'transfer.payment_profile_token': refused("it identifies one user's payment profile, and the service takes no per-session input"),
  update: refused(UPDATE_MODE),
  'update.account_selection_enabled': refused(UPDATE_MODE),
  'update.reauthorization_enabled': refused(`it is not currently used by Plaid, and ${UPDATE_MODE}`),
  'update.user': refused(UPDATE_MODE),
  'update.item_ids': refused(UPDATE_MODE),
  identity_verification: configured('required with the `identity_verification` product'),
  'identity_verification.template_id': configured('required in `identity_verification`; an Identity Verification template id from the Plaid Dashboard (`idvtmp_…`)'),
  'identity_verification.consent': refused('it is an undocumented alias: set identity_verification.gave_consent instead'),
  'identity_verification.gave_consent': configured(`${BOOL}; true only where every user of the profile has already accepted a privacy policy that covers sharing data with Plaid`),
  statements: configured('required with the `statements` product'),
  'statements.start_date': configured('required; an ISO 8601 date `YYYY-MM-DD`, not after `end_date`'),
  'statements.end_date': configured('required; an ISO 8601 date `YYYY-MM-DD`, at most two years after `start_date`'),
  user_token: refused(PLAID_USER),
  third_party_user_token: refused('third-party user tokens belong to one user, and user tokens are never accepted from clients'),
  investments: configured('an object'),
  'investments.allow_unverified_crypto_wallets': configured(BOOL),
  'investments.allow_manual_entry': configured(BOOL),
  investments_auth: configured('an object'),
  'investments_auth.manual_entry_enabled': configured(BOOL),
  'investments_auth.masked_number_match_enabled': configured(BOOL),
  'investments_auth.stated_account_number_enabled': configured(BOOL),
  'investments_auth.rollover_401k_enabled': configured(BOOL),
  hosted_link: configured('an object, may be empty: enables Hosted Link, and the service then answers `hosted_link_url` beside `link_token` and `expiration`'),
  'hosted_link.delivery_method': configured(
    '`sms` (needs `user.phone_number`: the tenant must enable `prefill.phone_number`, and a user without a verified phone number is refused with 400) or `email` (the same with `prefill.email_address`)',
  ),
  'hosted_link.completion_redirect_uri': configured('absolute https URL (http only for loopback hosts in sandbox), or an app URL scheme (`myapp://done`) with `is_mobile_app: true`'),
  'hosted_link.url_lifetime_seconds': configured('whole number of seconds, 1–1814400 (21 days)'),
  'hosted_link.is_mobile_app': configured(BOOL),
  transactions: configured('an object with `days_requested`'),
  'transactions.days_requested': configured('required in `transactions`; whole number of days, 1–730; under 30 is sent as 30 (Plaid\'s minimum) with a warning'),
  cashflow_report: configured('an object'),
  'cashflow_report.days_requested': configured(daysBetween(1, 730)),
  cra_enabled: configured(BOOL),
  identity: refused('Identity Document Upload needs the account_id of the user\'s account (identity.account_ids), and the service takes no per-session input'),
  'identity.is_document_upload': refused("Document Upload needs the account_id of the user's account, and the service takes no per-session input"),
  'identity.account_ids': refused("they identify the user's accounts, and the service takes no per-session input"),
  'identity.parsing_configs': refused('they apply only to Identity Document Upload, which this service does not offer'),
  financekit_supported: configured(`${BOOL}; sent for iOS only (FinanceKit is Apple's)`),
  enable_multi_item_link: configured(BOOL),
  user_id: refused(PLAID_USER),
} as const satisfies Record<string, FieldEntry>;

export type SeedFieldPath = keyof typeof SEED_FIELDS;
export const SEED_FIELD_PATHS = Object.keys(SEED_FIELDS) as SeedFieldPath[];

/** The entry for a field path such as `account_filters.loan` or `income_verification.stated_income_sources[2].employer`. */
export function fieldEntry(path: string): FieldEntry | undefined {
  const normalized = path.replace(/\[\d+\]/g, '[]');
  return Object.hasOwn(SEED_FIELDS, normalized) ? (SEED_FIELDS as Record<string, FieldEntry>)[normalized] : undefined;
}

/** The configured fields Plaid has deprecated, with their replacement (warned about at validation). */
export const DEPRECATED_CONFIGURED_FIELDS: ReadonlyArray<readonly [path: string, replacement: string]> = Object.entries(
  SEED_FIELDS as Record<string, FieldEntry>,
).flatMap(([path, entry]) => (entry.class === 'configured' && entry.replacement ? [[path, entry.replacement] as const] : []));

/** Why a client may not send a top-level field; the answer names it (see domain/client-choices.ts). */
export function clientRefusalReason(field: string): string | undefined {
  const entry = Object.hasOwn(SEED_FIELDS, field) && !field.includes('.') ? (SEED_FIELDS as Record<string, FieldEntry>)[field] : undefined;
  if (!entry) return undefined;
  switch (entry.class) {
    case 'client':
      return undefined;
    case 'configured':
      return entry.where === 'profile'
        ? "it is set by the tenant's profile; choose a profile instead"
        : "it is set by the tenant's configuration";
    case 'derived':
      return `it is derived by the service: ${entry.reason}`;
    default:
      return entry.reason;
  }
}
