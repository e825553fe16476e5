// The Plaid stand-in enforces Plaid's documented request rules on its own (it shares no code with the service's
// config rules), so "the stand-in accepts every request the corpus builds" is a second opinion.
// Each rule the service enforces at config time that Plaid would answer with an error: a request
// breaking it is refused by the stand-in, and its valid counterpart accepted (the service refuses
// the same mistakes in config: corpus.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';

let plaid: PlaidStandIn;
before(async () => {
  plaid = await startPlaidStandIn({ credentials: { c: 's' } });
});
after(() => plaid.close());

const base = () => ({
  client_name: 'Corpus',
  language: 'en',
  country_codes: ['US'],
  user: { client_user_id: 'cuid' },
  products: ['transactions'],
});

async function create(body: Record<string, unknown>) {
  const res = await fetch(`${plaid.url}/link/token/create`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'plaid-client-id': 'c',
      'plaid-secret': 's',
      'plaid-version': '2020-09-14',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const refused: Array<[rule: string, change: Record<string, unknown>, code: string, mentions: string]> = [
  [
    'CRA products need cra_base_report in products',
    { products: ['cra_income_insights'], cra_options: { days_requested: 365 } },
    'INVALID_FIELD',
    'cra_base_report',
  ],
  [
    'cra_options.days_requested at most 731',
    { products: ['cra_base_report'], cra_options: { days_requested: 732 } },
    'INVALID_FIELD',
    'cra_options.days_requested',
  ],
  [
    'US-only Auth flows need country_codes ["US"]',
    { products: ['auth'], country_codes: ['US', 'CA'], auth: { same_day_microdeposits_enabled: true } },
    'INVALID_FIELD',
    'auth.same_day_microdeposits_enabled',
  ],
  [
    'sms delivery needs user.phone_number',
    { hosted_link: { delivery_method: 'sms' } },
    'MISSING_FIELDS',
    'user.phone_number',
  ],
  [
    'email delivery needs user.email_address',
    { hosted_link: { delivery_method: 'email' } },
    'MISSING_FIELDS',
    'user.email_address',
  ],
  [
    'statements at most two years apart',
    { products: ['statements'], statements: { start_date: '2022-01-01', end_date: '2024-01-02' } },
    'INVALID_FIELD',
    'two years',
  ],
  ['payment_initiation needs its object', { products: ['payment_initiation'] }, 'MISSING_FIELDS', 'payment_initiation'],
  [
    'payment_initiation needs payment_id or consent_id',
    { products: ['payment_initiation'], payment_initiation: {} },
    'MISSING_FIELDS',
    'consent_id',
  ],
  ['employment needs its object', { products: ['employment'] }, 'MISSING_FIELDS', 'employment'],
  [
    'bank employment needs bank_employment',
    { products: ['employment'], employment: { employment_source_types: ['bank'] } },
    'MISSING_FIELDS',
    'employment.bank_employment',
  ],
  [
    'one employment source type',
    {
      products: ['employment'],
      employment: { employment_source_types: ['bank', 'payroll'], bank_employment: { days_requested: 60 } },
    },
    'INVALID_FIELD',
    'employment.employment_source_types',
  ],
  [
    'income_verification needs its object',
    { products: ['income_verification'] },
    'MISSING_FIELDS',
    'income_verification',
  ],
  [
    'bank income needs bank_income',
    { products: ['income_verification'], income_verification: { income_source_types: ['bank'] } },
    'MISSING_FIELDS',
    'income_verification.bank_income',
  ],
  [
    'identity_verification needs its object',
    { products: ['identity_verification'] },
    'MISSING_FIELDS',
    'identity_verification',
  ],
  [
    'identity_verification needs template_id',
    { products: ['identity_verification'], identity_verification: {} },
    'MISSING_FIELDS',
    'identity_verification.template_id',
  ],
  [
    'payment_configuration.amount with two decimals',
    { payment_configuration: { amount: '10' } },
    'INVALID_FIELD',
    'payment_configuration.amount',
  ],
  [
    'payment_configuration.description at most 256',
    { payment_configuration: { amount: '10.00', description: 'd'.repeat(257) } },
    'INVALID_FIELD',
    'payment_configuration.description',
  ],
  [
    "account filter subtypes from Plaid's lists",
    { account_filters: { credit: { account_subtypes: ['checking'] } } },
    'INVALID_FIELD',
    'account_filters.credit',
  ],
];

for (const [rule, change, code, mentions] of refused) {
  test(`the stand-in refuses: ${rule}`, async () => {
    const { status, body } = await create({ ...base(), ...change });
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.error_code, code, body.error_message);
    assert.ok(String(body.error_message).includes(mentions), body.error_message);
  });
}

test('the stand-in accepts the valid counterparts', async () => {
  const accepted: Array<Record<string, unknown>> = [
    { products: ['cra_base_report', 'cra_income_insights'], cra_options: { days_requested: 90 } }, // under 180 is raised by Plaid
    { products: ['auth'], country_codes: ['US'], auth: { same_day_microdeposits_enabled: true } },
    { user: { client_user_id: 'cuid', phone_number: '+14155550123' }, hosted_link: { delivery_method: 'sms' } },
    { products: ['statements'], statements: { start_date: '2022-01-01', end_date: '2024-01-01' } },
    { products: ['payment_initiation'], payment_initiation: { payment_id: 'payment-id-sandbox-1' } },
    { products: ['employment'], employment: { employment_source_types: ['payroll'] } },
    {
      products: ['income_verification'],
      income_verification: { income_source_types: ['bank'], bank_income: { days_requested: 90 } },
    },
    { payment_configuration: { amount: '10.00', description: 'd'.repeat(256) } },
    { account_filters: { investment: { account_subtypes: ['401k', 'all'] } } },
  ];
  for (const change of accepted) {
    const { status, body } = await create({ ...base(), ...change });
    assert.equal(status, 200, `${JSON.stringify(change)}: ${JSON.stringify(body)}`);
  }
});
