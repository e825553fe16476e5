// A generated corpus of tenants files that together set every configurable field of the
// classification table (lambda/config/field-classes.ts). Each configured leaf has a sample value;
// the generator places it in the profile of its "family" (profiles that need a particular product
// set-up, such as Auth flows limited to the US or the Plaid Check products), creating the parent
// objects on the way. Variants cover the values one sample cannot (sms and email delivery, …).
import { LINK_TOKEN_CREATE_FIELDS, type FieldEntry } from '../../lambda/config/field-classes.ts';

export const configuredPaths = (): string[] =>
  Object.entries(LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>).flatMap(([path, e]) =>
    e.class === 'configured' ? [path] : [],
  );

/** Configured paths with no configured child: the ones that take a value. */
export const configuredLeaves = (): string[] => {
  const paths = configuredPaths();
  return paths.filter((path) => !paths.some((other) => other.startsWith(`${path}.`)));
};

/** A valid value for every configured leaf. */
export const SAMPLES: Readonly<Record<string, unknown>> = {
  client_name: 'Corpus Budgeting',
  country_codes: ['US'],
  products: ['transactions'],
  required_if_supported_products: ['identity'],
  optional_products: ['liabilities'],
  additional_consented_products: ['investments'],
  webhook: 'https://hooks.corpus.example/plaid',
  link_customization_name: 'corpus-default',
  appearance_mode: 'SYSTEM',
  redirect_uri: 'https://*.corpus.example/oauth.html',
  android_package_name: 'com.corpus.budget',
  'institution_data.routing_number': '021000021',
  'card_switch.card_bin': '41111111',
  'account_filters.depository.account_subtypes': ['checking', 'savings'],
  'account_filters.credit.account_subtypes': ['credit card'],
  'account_filters.loan.account_subtypes': ['student', 'mortgage'],
  'account_filters.investment.account_subtypes': ['401k', 'roth'],
  'account_filters.other.account_subtypes': ['all'],
  'eu_config.headless': false,
  institution_id: 'ins_109508',
  'payment_configuration.amount': '10.00',
  'payment_configuration.description': 'Monthly membership',
  'employment.employment_source_types': ['bank'],
  'employment.bank_employment.days_requested': 60,
  'income_verification.income_source_types': ['bank'],
  'income_verification.bank_income.days_requested': 365,
  'income_verification.bank_income.enable_multiple_items': true,
  'income_verification.payroll_income.flow_types': ['payroll_digital_income', 'payroll_document_income'],
  'income_verification.payroll_income.parsing_config': ['ocr', 'risk_signals'],
  'base_report.days_requested': 365,
  'credit_partner_insights.days_requested': 180,
  'cra_options.days_requested': 365,
  'cra_options.days_required': 90,
  'cra_options.partner_insights.prism_versions.firstdetect': '3',
  'cra_options.partner_insights.prism_versions.detect': '4.1',
  'cra_options.partner_insights.prism_versions.cashscore': '3_lite',
  'cra_options.partner_insights.prism_versions.extend': '4',
  'cra_options.partner_insights.prism_versions.insights': '4.1',
  'cra_options.base_report.gse_options.report_types': ['VOA', 'EMPLOYMENT_REFRESH'],
  'cra_options.base_report.require_identity': true,
  'cra_options.cashflow_insights.attributes_version': 'v2.0',
  'cra_options.lend_score.lend_score_version': 'LS1',
  'cra_options.include_investments': true,
  consumer_report_permissible_purpose: 'EXTENSION_OF_CREDIT',
  'auth.auth_type_select_enabled': true,
  'auth.automated_microdeposits_enabled': true,
  'auth.instant_match_enabled': true,
  'auth.same_day_microdeposits_enabled': true,
  'auth.instant_microdeposits_enabled': true,
  'auth.reroute_to_credentials': 'OPTIONAL',
  'auth.database_match_enabled': false,
  'auth.database_insights_enabled': false,
  'auth.flow_type': 'FLEXIBLE_AUTH',
  'auth.sms_microdeposits_verification_enabled': true,
  'identity_verification.template_id': 'idvtmp_52xR9LKo77r1Np',
  'identity_verification.gave_consent': true,
  'statements.start_date': '2024-01-01',
  'statements.end_date': '2025-12-31',
  'investments.allow_unverified_crypto_wallets': false,
  'investments.allow_manual_entry': true,
  'investments_auth.manual_entry_enabled': true,
  'investments_auth.masked_number_match_enabled': true,
  'investments_auth.stated_account_number_enabled': false,
  'investments_auth.rollover_401k_enabled': true,
  'hosted_link.delivery_method': 'email',
  'hosted_link.completion_redirect_uri': 'https://app.corpus.example/plaid-done',
  'hosted_link.url_lifetime_seconds': 3600,
  'hosted_link.is_mobile_app': false,
  'transactions.days_requested': 180,
  'cashflow_report.days_requested': 365,
  cra_enabled: true,
  financekit_supported: true,
  enable_multi_item_link: true,
};

/** Where a field goes when its family needs more than the general profile offers. */
const FAMILY_OF_TOP_LEVEL: Readonly<Record<string, string>> = {
  auth: 'auth',
  cra_options: 'cra',
  consumer_report_permissible_purpose: 'cra',
  base_report: 'cra',
  credit_partner_insights: 'cra',
  cra_enabled: 'cra',
  employment: 'employment',
  income_verification: 'income',
  identity_verification: 'idv',
  statements: 'statements',
  hosted_link: 'hosted',
  // The service completes Multi-Item sessions itself: their profile uses its webhook receiver.
  enable_multi_item_link: 'hosted',
};

/** What each family's profile needs besides the sampled fields (products, the US for Auth flows…). */
const FAMILY_SCAFFOLD: Readonly<Record<string, Record<string, unknown>>> = {
  general: { products: ['transactions'] },
  auth: { products: ['auth'], country_codes: ['US'] },
  cra: { products: ['cra_base_report', 'cra_income_insights', 'assets'], optional_products: ['cra_cashflow_insights'] },
  employment: { products: ['employment'] },
  income: { products: ['income_verification'] },
  idv: { products: ['identity_verification'], country_codes: ['US'] },
  statements: { products: ['statements'] },
  hosted: { products: ['transactions'] },
};

const TENANT_LEVEL = new Set(['client_name']);

export function setPath(root: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = structuredClone(value);
}

export function tenantWith(profiles: Record<string, Record<string, unknown>>, overrides: Record<string, unknown> = {}) {
  return {
    client_name: SAMPLES.client_name,
    plaid: { environment: 'production', secret_id: 'plaid/corpus' },
    auth: { issuer: 'https://idp.corpus.example', audience: ['corpus-web'] },
    allowed_origins: ['https://app.corpus.example'],
    prefill: { email_address: true, phone_number: true },
    languages: { default: 'en', allowed: ['en', 'fr'] },
    country_codes: ['US', 'CA'],
    profiles,
    ...overrides,
  };
}

export const fileWith = (tenants: Record<string, unknown>) => ({
  client_user_id_key_secret_id: 'link-token/corpus-key',
  tenants,
});

/** The main corpus file: one profile per family, every configured leaf set in one of them. */
export function generateCorpusFile() {
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const [family, scaffold] of Object.entries(FAMILY_SCAFFOLD)) profiles[family] = structuredClone(scaffold);
  for (const leaf of configuredLeaves()) {
    if (TENANT_LEVEL.has(leaf)) continue;
    if (!(leaf in SAMPLES)) throw new Error(`the corpus has no sample value for the configured field ${leaf}`);
    const family = FAMILY_OF_TOP_LEVEL[leaf.split('.')[0]!] ?? 'general';
    if (leaf in FAMILY_SCAFFOLD[family]!) continue; // the family's own product set-up wins
    setPath(profiles[family]!, leaf, SAMPLES[leaf]);
  }
  profiles.default = profiles.general!;
  delete profiles.general;
  return fileWith({ corpus: tenantWith(profiles) });
}

/** Valid variants for values one sample cannot cover. */
export function generateVariantFiles(): Array<{ name: string; file: ReturnType<typeof fileWith> }> {
  return [
    {
      name: 'Hosted Link delivered by SMS, opened in a mobile app with an app-scheme return',
      file: fileWith({
        corpus: tenantWith({
          default: {
            products: ['auth'],
            hosted_link: {
              delivery_method: 'sms',
              completion_redirect_uri: 'corpusapp://plaid-done',
              is_mobile_app: true,
              url_lifetime_seconds: 21 * 24 * 3600,
            },
          },
        }),
      }),
    },
    {
      name: 'an empty hosted_link object enables Hosted Link with Plaid defaults',
      file: fileWith({ corpus: tenantWith({ default: { products: ['transactions'], hosted_link: {} } }) }),
    },
    {
      name: 'payroll employment and payroll income need no bank options',
      file: fileWith({
        corpus: tenantWith({
          default: {
            products: ['employment', 'income_verification'],
            employment: { employment_source_types: ['payroll'] },
            income_verification: {
              income_source_types: ['payroll'],
              payroll_income: { flow_types: ['payroll_digital_income'] },
            },
          },
        }),
      }),
    },
    {
      name: 'a tenant whose country_codes are inherited, in sandbox with loopback URLs',
      file: fileWith({
        corpus: tenantWith(
          {
            default: {
              products: ['auth'],
              auth: { instant_match_enabled: false },
              redirect_uri: 'http://localhost:3000/oauth',
            },
          },
          { plaid: { environment: 'sandbox', secret_id: 'plaid/corpus' }, country_codes: ['GB', 'FR', 'DE'] },
        ),
      }),
    },
  ];
}
