// Plaid's closed vocabularies for /link/token/create (API version 2020-09-14), as Plaid's
// OpenAPI description and API reference list them. Kept as `as const` tuples so the
// tenant schema, the request type and the error messages all derive from one list.

export const PLAID_API_VERSION = '2020-09-14';

export const LINK_LANGUAGES = [
  'da',
  'nl',
  'en',
  'et',
  'fr',
  'de',
  'hi',
  'it',
  'lv',
  'lt',
  'no',
  'pl',
  'pt',
  'ro',
  'es',
  'sv',
  'vi',
] as const;
export type LinkLanguage = (typeof LINK_LANGUAGES)[number];

export const COUNTRY_CODES = [
  'US',
  'GB',
  'ES',
  'NL',
  'FR',
  'IE',
  'CA',
  'DE',
  'IT',
  'PL',
  'DK',
  'NO',
  'SE',
  'EE',
  'LT',
  'LV',
  'PT',
  'BE',
  'AT',
  'FI',
] as const;
export type CountryCode = (typeof COUNTRY_CODES)[number];

export const PRODUCTS = [
  'assets',
  'auth',
  'balance',
  'balance_plus',
  'beacon',
  'identity',
  'identity_match',
  'investments',
  'investments_auth',
  'liabilities',
  'payment_initiation',
  'identity_verification',
  'transactions',
  'credit_details',
  'income',
  'income_verification',
  'standing_orders',
  'transfer',
  'employment',
  'recurring_transactions',
  'transactions_refresh',
  'signal',
  'statements',
  'processor_payments',
  'processor_identity',
  'profile',
  'cra_base_report',
  'cra_income_insights',
  'cra_partner_insights',
  'cra_network_insights',
  'cra_cashflow_insights',
  'cra_monitoring',
  'cra_lend_score',
  'cra_plaid_credit_score',
  'layer',
  'pay_by_bank',
  'protect_linked_bank',
  'protect_transactions',
] as const;
export type Product = (typeof PRODUCTS)[number];

export const ACCOUNT_SUBTYPES = {
  depository: [
    'checking',
    'savings',
    'hsa',
    'cd',
    'money market',
    'paypal',
    'prepaid',
    'cash management',
    'ebt',
    'limited purpose checking',
    'all',
  ],
  credit: ['credit card', 'paypal', 'all'],
  loan: [
    'auto',
    'business',
    'commercial',
    'construction',
    'consumer',
    'home equity',
    'loan',
    'mortgage',
    'overdraft',
    'line of credit',
    'student',
    'other',
    'all',
  ],
  investment: [
    '529',
    '401a',
    '401k',
    '403B',
    '457b',
    'brokerage',
    'cash isa',
    'crypto exchange',
    'education savings account',
    'fhsa',
    'fixed annuity',
    'gic',
    'health reimbursement arrangement',
    'hsa',
    'ira',
    'isa',
    'keogh',
    'lif',
    'life insurance',
    'line of credit',
    'lira',
    'lrif',
    'lrsp',
    'mutual fund',
    'non-custodial wallet',
    'non-taxable brokerage account',
    'other',
    'other annuity',
    'other insurance',
    'pension',
    'prif',
    'profit sharing plan',
    'qshr',
    'rdsp',
    'resp',
    'retirement',
    'rlif',
    'roth',
    'roth 401k',
    'roth 403B',
    'roth 457b',
    'roth pension',
    'roth profit sharing plan',
    'roth thrift savings plan',
    'rrif',
    'rrsp',
    'sarsep',
    'sep ira',
    'simple ira',
    'sipp',
    'stock plan',
    'thrift savings plan',
    'tfsa',
    'trust',
    'ugma',
    'utma',
    'variable annuity',
    'all',
  ],
  other: ['other', 'all'],
} as const;

export const PLAID_ENVIRONMENTS = {
  sandbox: 'https://sandbox.plaid.com',
  production: 'https://production.plaid.com',
} as const;
export type PlaidEnvironment = keyof typeof PLAID_ENVIRONMENTS;

// Transactions history Plaid accepts (the API takes 1–730); Plaid's API reference: "If a value under 30 is
// provided, a minimum of 30 days of history will be requested", so the service sends at least 30.
export const TRANSACTIONS_DAYS = { min: 1, max: 730, effectiveMin: 30 } as const;

// Plaid Check (CRA): Plaid's API reference on cra_options.days_requested: "Maximum is 731; minimum is 180".
export const CRA_DAYS = { min: 180, max: 731 } as const;
// Plaid's bound for cra_options.days_required (the minimum history a report needs).
export const CRA_DAYS_REQUIRED_MAX = 184;
// hosted_link.url_lifetime_seconds: "Must be positive. Cannot be longer than 21 days."
export const HOSTED_LINK_MAX_LIFETIME_SECONDS = 21 * 24 * 3600;
// statements: "You can request up to two years of data."
export const STATEMENTS_MAX_YEARS = 2;
// payment_configuration.description: "The max length is 256."
export const PAYMENT_DESCRIPTION_MAX = 256;

/** The Plaid Check (consumer report) products; any of them needs cra_base_report in products. */
export const CRA_PRODUCTS = [
  'cra_base_report',
  'cra_income_insights',
  'cra_partner_insights',
  'cra_network_insights',
  'cra_cashflow_insights',
  'cra_monitoring',
  'cra_lend_score',
  'cra_plaid_credit_score',
] as const satisfies readonly Product[];
/** Products that work only with a Plaid user (user_id / user_token from /user/create). */
export const PLAID_USER_PRODUCTS = [
  ...CRA_PRODUCTS,
  'protect_linked_bank',
  'protect_transactions',
] as const satisfies readonly Product[];

// Closed vocabularies of the configurable option objects (values as Plaid's API reference lists them).
export const APPEARANCE_MODES = ['LIGHT', 'DARK', 'SYSTEM'] as const;
export const REROUTE_TO_CREDENTIALS = ['OFF', 'OPTIONAL', 'FORCED'] as const;
export const AUTH_FLOW_TYPES = ['FLEXIBLE_AUTH'] as const;
export const HOSTED_LINK_DELIVERY_METHODS = ['sms', 'email'] as const;
export const SOURCE_TYPES = ['bank', 'payroll'] as const;
export const PAYROLL_FLOW_TYPES = ['payroll_digital_income', 'payroll_document_income'] as const;
export const DOCUMENT_PARSING_CONFIGS = ['ocr', 'risk_signals'] as const;
export const GSE_REPORT_TYPES = ['VOA', 'EMPLOYMENT_REFRESH'] as const;
export const CASHFLOW_ATTRIBUTES_VERSIONS = ['v1.0', 'v2.0', 'CFI1'] as const;
export const LEND_SCORE_VERSIONS = ['v1.0', 'v2.0', 'LS1'] as const;
export const PRISM_VERSIONS = {
  firstdetect: ['3'],
  detect: ['4.1', '4'],
  cashscore: ['4.1', '4', '3_lite', '3'],
  extend: ['4.1', '4'],
  insights: ['4.1', '4', '3'],
} as const;
export const CONSUMER_REPORT_PERMISSIBLE_PURPOSES = [
  'ACCOUNT_REVIEW_CREDIT',
  'ACCOUNT_REVIEW_NON_CREDIT',
  'EXTENSION_OF_CREDIT',
  'LEGITIMATE_BUSINESS_NEED_TENANT_SCREENING',
  'LEGITIMATE_BUSINESS_NEED_OTHER',
  'WRITTEN_INSTRUCTION_PREQUALIFICATION',
  'WRITTEN_INSTRUCTION_OTHER',
  'ELIGIBILITY_FOR_GOVT_BENEFITS',
] as const;

/**
 * Plaid's API reference: "If using the Auth features Instant Match, Instant Micro-deposits, Same-day
 * Micro-deposits, Automated Micro-deposits, or Database Auth, country_codes must be set to ['US']."
 * The auth flags that switch those flows on (the two Database ones are Database Auth's predecessors).
 */
export const US_ONLY_AUTH_FLAGS = [
  'instant_match_enabled',
  'instant_microdeposits_enabled',
  'same_day_microdeposits_enabled',
  'automated_microdeposits_enabled',
  'database_match_enabled',
  'database_insights_enabled',
] as const;
