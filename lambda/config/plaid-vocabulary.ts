// Plaid's closed vocabularies for /link/token/create (API version 2020-09-14), as the
// contract in the seed and Plaid's API reference list them. Kept as `as const` tuples so the
// tenant schema, the request type and the error messages all derive from one list.

export const PLAID_API_VERSION = '2020-09-14';

export const LINK_LANGUAGES = [
  'da', 'nl', 'en', 'et', 'fr', 'de', 'hi', 'it', 'lv', 'lt', 'no', 'pl', 'pt', 'ro', 'es', 'sv', 'vi',
] as const;
export type LinkLanguage = (typeof LINK_LANGUAGES)[number];

export const COUNTRY_CODES = [
  'US', 'GB', 'ES', 'NL', 'FR', 'IE', 'CA', 'DE', 'IT', 'PL', 'DK', 'NO', 'SE', 'EE', 'LT', 'LV', 'PT', 'BE', 'AT', 'FI',
] as const;
export type CountryCode = (typeof COUNTRY_CODES)[number];

export const PRODUCTS = [
  'assets', 'auth', 'balance', 'balance_plus', 'beacon', 'identity', 'identity_match', 'investments',
  'investments_auth', 'liabilities', 'payment_initiation', 'identity_verification', 'transactions',
  'credit_details', 'income', 'income_verification', 'standing_orders', 'transfer', 'employment',
  'recurring_transactions', 'transactions_refresh', 'signal', 'statements', 'processor_payments',
  'processor_identity', 'profile', 'cra_base_report', 'cra_income_insights', 'cra_partner_insights',
  'cra_network_insights', 'cra_cashflow_insights', 'cra_monitoring', 'cra_lend_score',
  'cra_plaid_credit_score', 'layer', 'pay_by_bank', 'protect_linked_bank', 'protect_transactions',
] as const;
export type Product = (typeof PRODUCTS)[number];

export const ACCOUNT_SUBTYPES = {
  depository: [
    'checking', 'savings', 'hsa', 'cd', 'money market', 'paypal', 'prepaid', 'cash management', 'ebt',
    'limited purpose checking', 'all',
  ],
  credit: ['credit card', 'paypal', 'all'],
  loan: [
    'auto', 'business', 'commercial', 'construction', 'consumer', 'home equity', 'loan', 'mortgage', 'overdraft',
    'line of credit', 'student', 'other', 'all',
  ],
  investment: [
    '529', '401a', '401k', '403B', '457b', 'brokerage', 'cash isa', 'crypto exchange', 'education savings account',
    'fhsa', 'fixed annuity', 'gic', 'health reimbursement arrangement', 'hsa', 'ira', 'isa', 'keogh', 'lif',
    'life insurance', 'line of credit', 'lira', 'lrif', 'lrsp', 'mutual fund', 'non-custodial wallet',
    'non-taxable brokerage account', 'other', 'other annuity', 'other insurance', 'pension', 'prif',
    'profit sharing plan', 'qshr', 'rdsp', 'resp', 'retirement', 'rlif', 'roth', 'roth 401k', 'roth 403B',
    'roth 457b', 'roth pension', 'roth profit sharing plan', 'roth thrift savings plan', 'rrif', 'rrsp', 'sarsep',
    'sep ira', 'simple ira', 'sipp', 'stock plan', 'thrift savings plan', 'tfsa', 'trust', 'ugma', 'utma',
    'variable annuity', 'all',
  ],
  other: ['other', 'all'],
} as const;

export const PLAID_ENVIRONMENTS = {
  sandbox: 'https://sandbox.plaid.com',
  production: 'https://production.plaid.com',
} as const;
export type PlaidEnvironment = keyof typeof PLAID_ENVIRONMENTS;

// Transactions history Plaid accepts (the seed: under 30 is raised to 30 by Plaid; the API caps at 730).
export const TRANSACTIONS_DAYS = { min: 1, max: 730 } as const;
