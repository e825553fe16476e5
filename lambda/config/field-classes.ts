// Every request field of Plaid's POST /link/token/create (as Plaid's OpenAPI description of API
// version 2020-09-14 defines its request, nested fields included), with the one class it falls in:
//   configured  set in the tenants file (a tenant profile, or the tenant where noted)
//   derived     derived by the service (credentials, client_user_id, verified-claim prefill)
//   client      chosen by the client, within the tenant's limits
//   refused     refused wherever it appears (client body or tenants file), with the reason
// This table is the single source of the refusal reasons: config errors (load-tenants.ts) and
// the client's 400 answers (domain/client-choices.ts) both read them from here, and
// the field table of docs/tenants.md is rendered from it (tools/render-fields-md.ts, npm run fields)
// (a test keeps the two equal).

export type FieldClass = 'configured' | 'derived' | 'client' | 'refused';

export interface FieldEntry {
  readonly class: FieldClass;
  /** configured: where the tenants file sets it. */
  readonly where?: 'tenant' | 'profile' | 'tenant or profile';
  /** derived / client: how the service gets it; refused: why (reads after "is not configurable: "). */
  readonly reason?: string;
  /** Deprecated by Plaid: configuring it is accepted with a warning that names this replacement. */
  readonly replacement?: string;
}

const configured = (extra: Partial<FieldEntry> = {}): FieldEntry => ({
  class: 'configured',
  where: 'profile',
  ...extra,
});
const derived = (reason: string): FieldEntry => ({ class: 'derived', reason });
const refused = (reason: string): FieldEntry => ({ class: 'refused', reason });

const PER_USER =
  "it is the user's personal data, which the service takes from no client and which identity providers do not verify";
const UPDATE_MODE =
  'update mode is offered for one Item at a time (mode "update" with an item_id of one of the caller\'s Items); multi-Item and user-level update modes are not';
const PER_LOAN =
  'it identifies one loan application, so it cannot be fixed in configuration and the service takes no per-session input';
const PLAID_USER =
  "the user's Plaid user, for profiles whose products need one (Income, Multi-Item Link, Protect, Plaid Check): created once per tenant and client_user_id with /user/create, kept in the item vault (the user token KMS-encrypted), never taken from a client; user_token when Plaid returned one, user_id otherwise";
const NOT_IN_API = (replacement: string) =>
  `it is no longer part of Plaid's API (absent from Plaid's request type); use ${replacement} instead`;

export const LINK_TOKEN_CREATE_FIELDS = {
  client_id: derived(
    "the tenant's Plaid client_id, read from Secrets Manager (plaid.secret_id) and sent in the PLAID-CLIENT-ID header, never in the body",
  ),
  secret: derived(
    "the tenant's Plaid secret, read from Secrets Manager (plaid.secret_id) and sent in the PLAID-SECRET header, never in the body",
  ),
  client_name: configured({ where: 'tenant' }),
  language: {
    class: 'client',
    reason: "the request body's language, one of the tenant's languages.allowed (default languages.default)",
  },
  country_codes: configured({ where: 'tenant or profile' }),
  user: derived("each request's user comes from the verified token"),
  'user.client_user_id': derived(
    'the base64url HMAC-SHA256 of the tenant id and the verified sub, keyed by the client_user_id_key_secret_id secret (or the verified sub itself with client_user_id.strategy "subject")',
  ),
  'user.legal_name': refused(PER_USER),
  'user.name': refused(PER_USER),
  'user.phone_number': derived(
    "the token's phone_number when phone_number_verified is true, E.164, and the tenant enables prefill.phone_number",
  ),
  'user.phone_number_verified_time': refused(
    "it is deprecated: Plaid's returning-user experience no longer needs it, and the service sends only verified numbers",
  ),
  'user.email_address': derived(
    "the token's email when email_verified is true and the tenant enables prefill.email_address",
  ),
  'user.email_address_verified_time': refused(
    "it is deprecated: Plaid's returning-user experience no longer needs it, and the service sends only verified addresses",
  ),
  'user.ssn': refused(`it is deprecated, replaced by user.id_number (and, like it, ${PER_USER})`),
  'user.date_of_birth': refused(PER_USER),
  'user.address': refused(PER_USER),
  'user.id_number': refused(PER_USER),
  products: configured(),
  required_if_supported_products: configured(),
  optional_products: configured(),
  additional_consented_products: configured(),
  webhook: configured(),
  access_token: derived(
    'in update mode only (mode "update"): the access token of the caller\'s own Item named by item_id, decrypted from the item vault; never taken from a client',
  ),
  access_tokens: refused(`they identify several existing Items, and ${UPDATE_MODE}`),
  link_customization_name: configured(),
  appearance_mode: configured(),
  redirect_uri: configured(),
  android_package_name: configured(),
  institution_data: configured(),
  'institution_data.routing_number': configured(),
  card_switch: configured(),
  'card_switch.card_bin': configured(),
  account_filters: configured(),
  'account_filters.depository': configured(),
  'account_filters.depository.account_subtypes': configured(),
  'account_filters.credit': configured(),
  'account_filters.credit.account_subtypes': configured(),
  'account_filters.loan': configured(),
  'account_filters.loan.account_subtypes': configured(),
  'account_filters.investment': configured(),
  'account_filters.investment.account_subtypes': configured(),
  'account_filters.other': configured(),
  'account_filters.other.account_subtypes': configured(),
  eu_config: configured(),
  'eu_config.headless': configured(),
  institution_id: configured(),
  payment_configuration: configured(),
  'payment_configuration.amount': configured(),
  'payment_configuration.description': configured(),
  payment_initiation: refused(
    'Payment Initiation needs a payment_id or consent_id created for each payment (/payment_initiation/payment/create, /payment_initiation/consent/create), which this service does not take from clients',
  ),
  'payment_initiation.payment_id': refused(
    'it is created for each payment by /payment_initiation/payment/create, and the service takes no per-session input',
  ),
  'payment_initiation.consent_id': refused(
    'it is created for each consent by /payment_initiation/consent/create, and the service takes no per-session input',
  ),
  employment: configured(),
  'employment.employment_source_types': configured(),
  'employment.bank_employment': configured(),
  'employment.bank_employment.days_requested': configured(),
  income_verification: configured(),
  'income_verification.income_verification_id': refused(
    'it is deprecated, replaced by the user token, which this service does not accept',
  ),
  'income_verification.asset_report_id': refused(
    "it identifies one user's asset report, and the service takes no per-session input",
  ),
  'income_verification.access_tokens': refused(
    "they identify the user's existing Items, and the service takes no per-session input",
  ),
  'income_verification.income_source_types': configured(),
  'income_verification.bank_income': configured(),
  'income_verification.bank_income.days_requested': configured(),
  'income_verification.bank_income.enable_multiple_items': configured({ replacement: 'enable_multi_item_link' }),
  'income_verification.payroll_income': configured(),
  'income_verification.payroll_income.flow_types': configured(),
  'income_verification.payroll_income.is_update_mode': refused(
    "payroll income update mode is not offered: it needs one user's payroll Item (item_id_to_update), and the service takes no per-session input",
  ),
  'income_verification.payroll_income.item_id_to_update': refused(
    `it identifies one user's payroll Item, and ${UPDATE_MODE}`,
  ),
  'income_verification.payroll_income.parsing_config': configured(),
  'income_verification.stated_income_sources': refused(
    'they are what one user states about their income, and the service takes no per-session input',
  ),
  'income_verification.stated_income_sources[].employer': refused(
    'it is what one user states about their income, and the service takes no per-session input',
  ),
  'income_verification.stated_income_sources[].category': refused(
    'it is what one user states about their income, and the service takes no per-session input',
  ),
  'income_verification.stated_income_sources[].pay_per_cycle': refused(
    'it is what one user states about their income, and the service takes no per-session input',
  ),
  'income_verification.stated_income_sources[].pay_annual': refused(
    'it is what one user states about their income, and the service takes no per-session input',
  ),
  'income_verification.stated_income_sources[].pay_type': refused(
    'it is what one user states about their income, and the service takes no per-session input',
  ),
  'income_verification.stated_income_sources[].pay_frequency': refused(
    'it is what one user states about their income, and the service takes no per-session input',
  ),
  base_report: configured(),
  'base_report.days_requested': configured(),
  'base_report.client_report_id': refused(PER_LOAN),
  credit_partner_insights: configured(),
  'credit_partner_insights.days_requested': configured(),
  'credit_partner_insights.prism_products': refused(NOT_IN_API('cra_options.partner_insights.prism_versions')),
  cra_options: configured(),
  'cra_options.days_requested': configured(),
  'cra_options.days_required': configured(),
  'cra_options.client_report_id': refused(PER_LOAN),
  'cra_options.partner_insights': configured(),
  'cra_options.partner_insights.prism_products': refused(NOT_IN_API('cra_options.partner_insights.prism_versions')),
  'cra_options.partner_insights.prism_versions': configured(),
  'cra_options.partner_insights.prism_versions.firstdetect': configured(),
  'cra_options.partner_insights.prism_versions.detect': configured(),
  'cra_options.partner_insights.prism_versions.cashscore': configured(),
  'cra_options.partner_insights.prism_versions.extend': configured(),
  'cra_options.partner_insights.prism_versions.insights': configured(),
  'cra_options.base_report': configured(),
  'cra_options.base_report.client_report_id': refused(PER_LOAN),
  'cra_options.base_report.gse_options': configured(),
  'cra_options.base_report.gse_options.report_types': configured(),
  'cra_options.base_report.require_identity': configured(),
  'cra_options.cashflow_insights': configured(),
  'cra_options.cashflow_insights.plaid_check_score_version': refused(
    NOT_IN_API('cra_options.lend_score.lend_score_version'),
  ),
  'cra_options.cashflow_insights.attributes_version': configured(),
  'cra_options.lend_score': configured(),
  'cra_options.lend_score.lend_score_version': configured(),
  'cra_options.include_investments': configured(),
  consumer_report_permissible_purpose: configured(),
  auth: configured(),
  'auth.auth_type_select_enabled': configured(),
  'auth.automated_microdeposits_enabled': configured(),
  'auth.instant_match_enabled': configured(),
  'auth.same_day_microdeposits_enabled': configured(),
  'auth.instant_microdeposits_enabled': configured(),
  'auth.reroute_to_credentials': configured(),
  'auth.database_match_enabled': configured({
    replacement: 'Database Auth, enabled in the Account Verification pane of the Plaid Dashboard',
  }),
  'auth.database_insights_enabled': configured({
    replacement: 'Database Auth, enabled in the Account Verification pane of the Plaid Dashboard',
  }),
  'auth.flow_type': configured({ replacement: 'auth.auth_type_select_enabled' }),
  'auth.sms_microdeposits_verification_enabled': configured(),
  transfer: refused(
    'Transfer UI needs an intent_id or authorization_id created for each transfer, which this service does not take from clients',
  ),
  'transfer.intent_id': refused(
    'it is created for each transfer by /transfer/intent/create, and the service takes no per-session input',
  ),
  'transfer.authorization_id': refused(
    'it is created for each transfer by /transfer/authorization/create, and the service takes no per-session input',
  ),
  'transfer.payment_profile_token': refused(
    "it identifies one user's payment profile, and the service takes no per-session input",
  ),
  update: derived('sent in update mode only, when the client asks for Account Select'),
  'update.account_selection_enabled': {
    class: 'client',
    reason:
      "the request's account_selection in update mode, allowed where the tenant's items.update_account_selection is on",
  },
  'update.reauthorization_enabled': refused(`it is not currently used by Plaid, and ${UPDATE_MODE}`),
  'update.user': refused(UPDATE_MODE),
  'update.item_ids': refused(UPDATE_MODE),
  identity_verification: configured(),
  'identity_verification.template_id': configured(),
  'identity_verification.consent': refused(
    'it is an undocumented alias: set identity_verification.gave_consent instead',
  ),
  'identity_verification.gave_consent': configured(),
  statements: configured(),
  'statements.start_date': configured(),
  'statements.end_date': configured(),
  user_token: derived(PLAID_USER),
  third_party_user_token: refused(
    'third-party user tokens belong to one user, and user tokens are never accepted from clients',
  ),
  investments: configured(),
  'investments.allow_unverified_crypto_wallets': configured(),
  'investments.allow_manual_entry': configured(),
  investments_auth: configured(),
  'investments_auth.manual_entry_enabled': configured(),
  'investments_auth.masked_number_match_enabled': configured(),
  'investments_auth.stated_account_number_enabled': configured(),
  'investments_auth.rollover_401k_enabled': configured(),
  hosted_link: configured(),
  'hosted_link.delivery_method': configured(),
  'hosted_link.completion_redirect_uri': configured(),
  'hosted_link.url_lifetime_seconds': configured(),
  'hosted_link.is_mobile_app': configured(),
  transactions: configured(),
  'transactions.days_requested': configured(),
  cashflow_report: configured(),
  'cashflow_report.days_requested': configured(),
  cra_enabled: configured(),
  identity: refused(
    "Identity Document Upload needs the account_id of the user's account (identity.account_ids), and the service takes no per-session input",
  ),
  'identity.is_document_upload': refused(
    "Document Upload needs the account_id of the user's account, and the service takes no per-session input",
  ),
  'identity.account_ids': refused("they identify the user's accounts, and the service takes no per-session input"),
  'identity.parsing_configs': refused('they apply only to Identity Document Upload, which this service does not offer'),
  financekit_supported: configured(),
  enable_multi_item_link: configured(),
  user_id: derived(PLAID_USER),
} as const satisfies Record<string, FieldEntry>;

export type LinkTokenCreateFieldPath = keyof typeof LINK_TOKEN_CREATE_FIELDS;
export const LINK_TOKEN_CREATE_FIELD_PATHS = Object.keys(LINK_TOKEN_CREATE_FIELDS) as LinkTokenCreateFieldPath[];

/** The entry for a field path such as `account_filters.loan` or `income_verification.stated_income_sources[2].employer`. */
export function fieldEntry(path: string): FieldEntry | undefined {
  const normalized = path.replace(/\[\d+\]/g, '[]');
  return Object.hasOwn(LINK_TOKEN_CREATE_FIELDS, normalized)
    ? (LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>)[normalized]
    : undefined;
}

/** The configured fields Plaid has deprecated, with their replacement (warned about at validation). */
export const DEPRECATED_CONFIGURED_FIELDS: ReadonlyArray<readonly [path: string, replacement: string]> = Object.entries(
  LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>,
).flatMap(([path, entry]) =>
  entry.class === 'configured' && entry.replacement ? [[path, entry.replacement] as const] : [],
);

/** Why a client may not send a top-level field; the answer names it (see domain/client-choices.ts). */
export function clientRefusalReason(field: string): string | undefined {
  const entry =
    Object.hasOwn(LINK_TOKEN_CREATE_FIELDS, field) && !field.includes('.')
      ? (LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>)[field]
      : undefined;
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
