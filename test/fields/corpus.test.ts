// The generated corpus: every configurable field of /link/token/create set by at least one valid
// tenants file; each valid profile builds requests (per platform) that the Plaid stand-in accepts
// over HTTP through the service's own Plaid client; every rule has a config that breaks it and
// the exact error it gets; every refused or derived field is refused with its reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LINK_TOKEN_CREATE_FIELDS, type FieldEntry } from '../../lambda/config/field-classes.ts';
import {
  describeProblem,
  TenantConfigError,
  tenantsById,
  validateTenantsFile,
} from '../../lambda/config/load-tenants.ts';
import { parseClientChoices, PLATFORMS } from '../../lambda/domain/client-choices.ts';
import { identityFromClaims } from '../../lambda/domain/identity.ts';
import { buildLinkTokenRequest } from '../../lambda/domain/link-token-request.ts';
import { createPlaidClient } from '../../lambda/plaid/plaid-client.ts';
import { startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { configuredPaths, fileWith, generateCorpusFile, generateVariantFiles, setPath, tenantWith } from './corpus.ts';

/** The service's own webhook receiver, where Hosted Link and Multi-Item Link sessions report. */
const SERVICE_WEBHOOK_URL = 'https://api.corpus.example/webhooks/plaid/corpus';

const CREDENTIALS = { client_id: 'corpus-client-id', secret: 'corpus-sandbox-secret' };
const identity = identityFromClaims({
  iss: 'https://idp.corpus.example',
  sub: 'corpus-user',
  email: 'pat@example.com',
  email_verified: true,
  phone_number: '+14155550123',
  phone_number_verified: true,
});

/** Every path set in a JSON value, written as the classification table writes them. */
function pathsIn(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return value.some((item) => item && typeof item === 'object')
      ? value.flatMap((item) => pathsIn(item, `${prefix}[]`))
      : [];
  }
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...pathsIn(child, path)];
  });
}

const corpusFiles = () => [{ name: 'the main corpus file', file: generateCorpusFile() }, ...generateVariantFiles()];

describe('the generated corpus of valid tenants files', () => {
  let plaid: PlaidStandIn;
  const client = createPlaidClient({ minRetryBudgetMs: 60_000 });
  const builtPaths = new Set<string>();

  before(async () => {
    plaid = await startPlaidStandIn({ credentials: { [CREDENTIALS.client_id]: CREDENTIALS.secret } });
  });
  after(() => plaid.close());

  test('together they set every configurable field of the table', () => {
    const set = new Set(
      corpusFiles().flatMap(({ file }) =>
        Object.values(file.tenants).flatMap((tenant: any) => [
          ...pathsIn({ client_name: tenant.client_name, country_codes: tenant.country_codes }),
          ...Object.values(tenant.profiles).flatMap((profile) => pathsIn(profile)),
        ]),
      ),
    );
    assert.deepEqual(
      configuredPaths().filter((path) => !set.has(path)),
      [],
    );
  });

  for (const { name, file } of corpusFiles()) {
    test(`${name}: valid, and every request it builds is accepted by the Plaid stand-in`, async () => {
      const { file: parsed } = validateTenantsFile(file, name);
      for (const tenant of tenantsById(parsed).values()) {
        for (const [profileName, profile] of Object.entries(tenant.profiles)) {
          for (const platform of PLATFORMS) {
            if (platform === 'android' && !profile.android_package_name) continue;
            const choices = parseClientChoices({ platform, profile: profileName });
            const body = buildLinkTokenRequest({
              serviceWebhookUrl: SERVICE_WEBHOOK_URL,
              tenant,
              choices,
              identity,
              clientUserId: 'corpus-client-user-id',
            });
            for (const path of pathsIn(body)) builtPaths.add(path);
            const outcome = await client.createLinkToken({
              baseUrl: plaid.url,
              credentials: CREDENTIALS,
              body,
              deadline: Date.now() + 5000,
            });
            assert.ok(outcome.ok, `${profileName}/${platform}: ${JSON.stringify(outcome)} for ${JSON.stringify(body)}`);
            assert.deepEqual(plaid.requests.at(-1)!.body, body, 'the stand-in received exactly the built body');
            assert.equal(outcome.value.hosted_link_url !== undefined, profile.hosted_link !== undefined);
            // The platform rule: Android gets the package name and never a redirect_uri.
            assert.equal('redirect_uri' in body, platform !== 'android' && profile.redirect_uri !== undefined);
            assert.equal('android_package_name' in body, platform === 'android');
            assert.equal(
              'financekit_supported' in body,
              platform === 'ios' && profile.financekit_supported !== undefined,
            );
          }
        }
      }
    });
  }

  test('the requests built from the corpus carry every configured field to Plaid', () => {
    assert.deepEqual(
      configuredPaths().filter((path) => !builtPaths.has(path)),
      [],
    );
    const notPlaid = [...builtPaths].filter(
      (path) => (LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>)[path] === undefined,
    );
    assert.deepEqual(notPlaid, [], 'nothing but Plaid fields is sent');
  });
});

// ---------------------------------------------------------------------------------------------
// Rules: one broken config each, and the exact message it gets.

/** The problems of the corpus file after `mutate`, as the tenants-file error lists them. */
function problemsOf(mutate: (file: any) => void): string[] {
  const file: any = generateCorpusFile();
  mutate(file);
  try {
    validateTenantsFile(file, 'corpus.json');
  } catch (error) {
    assert.ok(error instanceof TenantConfigError, String(error));
    return error.problems.map(describeProblem);
  }
  return [];
}
const tenant = (f: any) => f.tenants.corpus;
const profile = (f: any, name: string) => f.tenants.corpus.profiles[name];

const T = "tenant 'corpus'";
const P = (name: string) => `${T}, profile '${name}'`;
const LANGS = 'da, nl, en, et, fr, de, hi, it, lv, lt, no, pl, pt, ro, es, sv, vi';
const COUNTRIES = 'US, GB, ES, NL, FR, IE, CA, DE, IT, PL, DK, NO, SE, EE, LT, LV, PT, BE, AT, FI';

/** [rule, how the config breaks it, the exact problem]. */
export const RULE_CASES: Array<[rule: string, mutate: (f: any) => void, expected: string]> = [
  [
    'client_name ≤ 30 characters',
    (f) => (tenant(f).client_name = 'A'.repeat(31)),
    `${T}, field 'client_name': must be at most 30 characters (Plaid shows "This Application" otherwise)`,
  ],
  ['client_name non-empty', (f) => (tenant(f).client_name = ' '), `${T}, field 'client_name': must not be empty`],
  [
    'languages Plaid supports',
    (f) => (tenant(f).languages.allowed = ['en', 'xx']),
    `${T}, field 'languages.allowed[1]': must be one of Plaid's Link languages (${LANGS})`,
  ],
  [
    'default language allowed',
    (f) => (tenant(f).languages.default = 'de'),
    `${T}, field 'languages.default': "de" must also be listed in languages.allowed`,
  ],
  [
    'country codes Plaid supports (tenant)',
    (f) => (tenant(f).country_codes = ['JP']),
    `${T}, field 'country_codes[0]': must be a Plaid-supported country code (${COUNTRIES})`,
  ],
  [
    'country codes Plaid supports (profile override)',
    (f) => (profile(f, 'default').country_codes = ['US', 'ZZ']),
    `${P('default')}, field 'country_codes[1]': must be a Plaid-supported country code (${COUNTRIES})`,
  ],
  [
    'country codes non-empty',
    (f) => (tenant(f).country_codes = []),
    `${T}, field 'country_codes': must list at least one country code`,
  ],
  [
    'country codes without repeats',
    (f) => (tenant(f).country_codes = ['US', 'US']),
    `${T}, field 'country_codes': must not list a country code twice`,
  ],
  [
    'US-only Auth flows need country_codes ["US"]',
    (f) => (
      (profile(f, 'auth').country_codes = ['US', 'CA']),
      (profile(f, 'auth').auth = { same_day_microdeposits_enabled: true })
    ),
    `${P('auth')}, field 'auth.same_day_microdeposits_enabled': needs country_codes to be ["US"]: Plaid offers this Auth flow only in the US (country_codes is ["US","CA"])`,
  ],
  [
    'US-only Auth flows need country_codes ["US"] (inherited)',
    (f) => (tenant(f).profiles.bank = { products: ['auth'], auth: { instant_match_enabled: true } }),
    `${P('bank')}, field 'auth.instant_match_enabled': needs country_codes to be ["US"]: Plaid offers this Auth flow only in the US (country_codes is ["US","CA"], inherited from the tenant: set country_codes on this profile to override)`,
  ],
  [
    'Identity Verification: one country',
    (f) => (profile(f, 'idv').country_codes = ['US', 'GB']),
    `${P('idv')}, field 'country_codes': must name exactly one country, where your company is based, for Identity Verification (country_codes is ["US","GB"])`,
  ],
  [
    'products non-empty',
    (f) => (profile(f, 'default').products = []),
    `${P('default')}, field 'products': must list at least one product`,
  ],
  [
    'product names',
    (f) => (profile(f, 'default').products = ['transactions', 'bogus']),
    `${P('default')}, field 'products[1]': must be a Plaid product name`,
  ],
  [
    'product arrays without repeats',
    (f) => (profile(f, 'default').optional_products = ['liabilities', 'liabilities']),
    `${P('default')}, field 'optional_products': must not list a product twice`,
  ],
  [
    'product arrays without overlap',
    (f) => (profile(f, 'default').additional_consented_products = ['transactions']),
    `${P('default')}, field 'additional_consented_products[0]': "transactions" is already listed in products: the product arrays must not overlap`,
  ],
  [
    'balance not in products',
    (f) => (profile(f, 'default').products = ['transactions', 'balance']),
    `${P('default')}, field 'products[1]': "balance" is not valid here: Plaid initialises Balance with any other product`,
  ],
  [
    'balance not in additional_consented_products',
    (f) => (profile(f, 'default').additional_consented_products = ['balance']),
    `${P('default')}, field 'additional_consented_products[0]': "balance" is not valid here: Plaid initialises Balance with any other product`,
  ],
  [
    'CRA products need cra_base_report in products',
    (f) => (profile(f, 'cra').products = ['cra_income_insights', 'assets']),
    `${P('cra')}, field 'products': must include "cra_base_report" when a Plaid Check (CRA) product is used (found "cra_income_insights" in products)`,
  ],
  [
    'CRA products need cra_options',
    (f) => delete profile(f, 'cra').cra_options,
    `${P('cra')}, field 'cra_options': is required with Plaid Check (CRA) products (found "cra_base_report" in products)`,
  ],
  [
    'CRA products need consumer_report_permissible_purpose',
    (f) => delete profile(f, 'cra').consumer_report_permissible_purpose,
    `${P('cra')}, field 'consumer_report_permissible_purpose': is required with Plaid Check (CRA) products (found "cra_base_report" in products)`,
  ],
  [
    'consumer_report_permissible_purpose only with CRA products',
    (f) => (profile(f, 'default').consumer_report_permissible_purpose = 'EXTENSION_OF_CREDIT'),
    `${P('default')}, field 'consumer_report_permissible_purpose': is only valid with Plaid Check (CRA) products (cra_base_report, …)`,
  ],
  [
    'cra_options.days_requested ≥ 180',
    (f) => (profile(f, 'cra').cra_options.days_requested = 179),
    `${P('cra')}, field 'cra_options.days_requested': must be at least 180`,
  ],
  [
    'cra_options.days_requested ≤ 731',
    (f) => (profile(f, 'cra').cra_options.days_requested = 732),
    `${P('cra')}, field 'cra_options.days_requested': must be at most 731 (Plaid's limit)`,
  ],
  [
    'cra_options.days_required ≤ 184',
    (f) => (profile(f, 'cra').cra_options.days_required = 185),
    `${P('cra')}, field 'cra_options.days_required': must be at most 184 (Plaid's limit)`,
  ],
  [
    'cra_options.days_required ≤ days_requested',
    (f) => Object.assign(profile(f, 'cra').cra_options, { days_requested: 180, days_required: 184 }),
    `${P('cra')}, field 'cra_options.days_required': must not exceed cra_options.days_requested (180)`,
  ],
  [
    'base_report with assets on a CRA-enabled profile',
    (f) => delete profile(f, 'cra').base_report,
    `${P('cra')}, field 'base_report': is required when products include "assets" and cra_enabled is true`,
  ],
  [
    'payment_initiation needs per-payment ids',
    (f) => (profile(f, 'default').optional_products = ['liabilities', 'payment_initiation']),
    `${P('default')}, field 'optional_products[1]': "payment_initiation" needs a payment_initiation.payment_id or consent_id created for each payment, which this service does not take from clients: Payment Initiation cannot be offered through a profile`,
  ],
  [
    'statements required with the statements product',
    (f) => delete profile(f, 'statements').statements,
    `${P('statements')}, field 'statements': is required with the "statements" product`,
  ],
  [
    'statements dates required',
    (f) => delete profile(f, 'statements').statements.end_date,
    `${P('statements')}, field 'statements.end_date': is required`,
  ],
  [
    'statements dates in ISO 8601',
    (f) => (profile(f, 'statements').statements.start_date = '01/02/2024'),
    `${P('statements')}, field 'statements.start_date': must be a date in ISO 8601 format YYYY-MM-DD, such as 2024-01-31`,
  ],
  [
    'statements dates are real dates',
    (f) => (profile(f, 'statements').statements.end_date = '2025-02-30'),
    `${P('statements')}, field 'statements.end_date': must be a date in ISO 8601 format YYYY-MM-DD, such as 2024-01-31`,
  ],
  [
    'statements start before end',
    (f) => (profile(f, 'statements').statements = { start_date: '2025-06-01', end_date: '2025-05-31' }),
    `${P('statements')}, field 'statements.end_date': must not be before start_date (2025-06-01)`,
  ],
  [
    'statements at most two years apart',
    (f) => (profile(f, 'statements').statements = { start_date: '2022-01-01', end_date: '2024-01-02' }),
    `${P('statements')}, field 'statements.end_date': must be at most two years after start_date (2022-01-01): Plaid returns up to two years of statements`,
  ],
  [
    'employment required with the employment product',
    (f) => delete profile(f, 'employment').employment,
    `${P('employment')}, field 'employment': is required with the "employment" product`,
  ],
  [
    'employment_source_types required',
    (f) => (profile(f, 'employment').employment = {}),
    `${P('employment')}, field 'employment.employment_source_types': is required`,
  ],
  [
    'employment: one source type',
    (f) => (profile(f, 'employment').employment.employment_source_types = ['bank', 'payroll']),
    `${P('employment')}, field 'employment.employment_source_types': must list exactly one source type ("bank" or "payroll"): Plaid accepts only one`,
  ],
  [
    'bank_employment with bank source type',
    (f) => delete profile(f, 'employment').employment.bank_employment,
    `${P('employment')}, field 'employment.bank_employment': is required when employment_source_types is ["bank"]`,
  ],
  [
    'income_verification required with the income_verification product',
    (f) => delete profile(f, 'income').income_verification,
    `${P('income')}, field 'income_verification': is required with the "income_verification" product`,
  ],
  [
    'bank_income with bank source type',
    (f) => delete profile(f, 'income').income_verification.bank_income,
    `${P('income')}, field 'income_verification.bank_income': is required when income_source_types is ["bank"]`,
  ],
  [
    'bank_income.days_requested ≤ 731',
    (f) => (profile(f, 'income').income_verification.bank_income.days_requested = 732),
    `${P('income')}, field 'income_verification.bank_income.days_requested': must be at most 731 (Plaid's limit)`,
  ],
  [
    'identity_verification required with the identity_verification product',
    (f) => delete profile(f, 'idv').identity_verification,
    `${P('idv')}, field 'identity_verification': is required with the "identity_verification" product`,
  ],
  [
    'identity_verification.template_id required',
    (f) => delete profile(f, 'idv').identity_verification.template_id,
    `${P('idv')}, field 'identity_verification.template_id': is required`,
  ],
  [
    'identity_verification.template_id format',
    (f) => (profile(f, 'idv').identity_verification.template_id = 'my-template'),
    `${P('idv')}, field 'identity_verification.template_id': must be an Identity Verification template id such as idvtmp_52xR9LKo77r1Np`,
  ],
  [
    'redirect_uri without a query string',
    (f) => (profile(f, 'default').redirect_uri = 'https://app.corpus.example/oauth?from=plaid'),
    `${P('default')}, field 'redirect_uri': must not contain a query string`,
  ],
  [
    'redirect_uri without a fragment',
    (f) => (profile(f, 'default').redirect_uri = 'https://app.corpus.example/oauth#x'),
    `${P('default')}, field 'redirect_uri': must not contain a fragment`,
  ],
  [
    'redirect_uri https in production',
    (f) => (profile(f, 'default').redirect_uri = 'http://localhost:3000/oauth'),
    `${P('default')}, field 'redirect_uri': must be https (http is accepted only for loopback hosts in sandbox)`,
  ],
  [
    'redirect_uri wildcard as a whole leftmost label',
    (f) => (profile(f, 'default').redirect_uri = 'https://app*.corpus.example/oauth'),
    `${P('default')}, field 'redirect_uri': may use * only as a whole leftmost subdomain label, as in https://*.example.com/oauth.html`,
  ],
  [
    'redirect_uri wildcard before a registrable domain',
    (f) => (profile(f, 'default').redirect_uri = 'https://*.example/oauth'),
    `${P('default')}, field 'redirect_uri': a * subdomain wildcard needs a registrable domain after it`,
  ],
  [
    'webhook https',
    (f) => (profile(f, 'default').webhook = 'http://hooks.corpus.example/plaid'),
    `${P('default')}, field 'webhook': must be https (http is accepted only for loopback hosts)`,
  ],
  [
    'android_package_name an application id',
    (f) => (profile(f, 'default').android_package_name = 'corpus'),
    `${P('default')}, field 'android_package_name': must be an Android application id such as com.example.app`,
  ],
  [
    'transactions.days_requested ≤ 730',
    (f) => (profile(f, 'default').transactions.days_requested = 731),
    `${P('default')}, field 'transactions.days_requested': must be at most 730 (Plaid's limit)`,
  ],
  [
    'transactions.days_requested ≥ 1',
    (f) => (profile(f, 'default').transactions.days_requested = 0),
    `${P('default')}, field 'transactions.days_requested': must be at least 1`,
  ],
  [
    'transactions.days_requested whole',
    (f) => (profile(f, 'default').transactions.days_requested = 90.5),
    `${P('default')}, field 'transactions.days_requested': must be a whole number of days`,
  ],
  [
    "account filter subtypes from Plaid's lists",
    (f) => (profile(f, 'default').account_filters.credit.account_subtypes = ['checking']),
    `${P('default')}, field 'account_filters.credit.account_subtypes[0]': must be one of Plaid's subtypes for this account type`,
  ],
  [
    'account filter subtypes non-empty',
    (f) => (profile(f, 'default').account_filters.loan.account_subtypes = []),
    `${P('default')}, field 'account_filters.loan.account_subtypes': must name at least one subtype (or "all")`,
  ],
  [
    "account filter types from Plaid's list",
    (f) => (profile(f, 'default').account_filters.brokerage = { account_subtypes: ['all'] }),
    `${P('default')}, field 'account_filters.brokerage': is not a known field (unknown fields are refused, never passed to Plaid)`,
  ],
  [
    'hosted_link.url_lifetime_seconds positive',
    (f) => (profile(f, 'hosted').hosted_link.url_lifetime_seconds = 0),
    `${P('hosted')}, field 'hosted_link.url_lifetime_seconds': must be at least 1`,
  ],
  [
    'hosted_link.url_lifetime_seconds ≤ 21 days',
    (f) => (profile(f, 'hosted').hosted_link.url_lifetime_seconds = 21 * 86_400 + 1),
    `${P('hosted')}, field 'hosted_link.url_lifetime_seconds': must be at most 1814400 (21 days)`,
  ],
  [
    'hosted_link sms delivery needs a phone number',
    (f) => ((tenant(f).prefill.phone_number = false), (profile(f, 'hosted').hosted_link.delivery_method = 'sms')),
    `${P('hosted')}, field 'hosted_link.delivery_method': "sms" needs user.phone_number: enable prefill.phone_number for this tenant (the number comes from the verified phone_number claim)`,
  ],
  [
    'hosted_link email delivery needs an email address',
    (f) => (tenant(f).prefill.email_address = false),
    `${P('hosted')}, field 'hosted_link.delivery_method': "email" needs user.email_address: enable prefill.email_address for this tenant (the address comes from the verified email claim)`,
  ],
  [
    'hosted_link.delivery_method sms or email',
    (f) => (profile(f, 'hosted').hosted_link.delivery_method = 'post'),
    `${P('hosted')}, field 'hosted_link.delivery_method': must be one of "sms", "email"`,
  ],
  [
    'hosted_link.completion_redirect_uri https',
    (f) => (profile(f, 'hosted').hosted_link.completion_redirect_uri = 'http://app.corpus.example/done'),
    `${P('hosted')}, field 'hosted_link.completion_redirect_uri': must be https (http is accepted only for loopback hosts)`,
  ],
  [
    'hosted_link.completion_redirect_uri app scheme only in a mobile app',
    (f) => (profile(f, 'hosted').hosted_link.completion_redirect_uri = 'corpusapp://done'),
    `${P('hosted')}, field 'hosted_link.completion_redirect_uri': may use an app URL scheme only with hosted_link.is_mobile_app true; otherwise it must be https`,
  ],
  [
    'hosted_link.completion_redirect_uri never a script',
    (f) =>
      Object.assign(profile(f, 'hosted').hosted_link, {
        completion_redirect_uri: 'javascript:alert(1)',
        is_mobile_app: true,
      }),
    `${P('hosted')}, field 'hosted_link.completion_redirect_uri': must be https or an app URL scheme such as myapp://plaid-done`,
  ],
  [
    'payment_configuration.amount with two decimals',
    (f) => (profile(f, 'default').payment_configuration.amount = '10.5'),
    `${P('default')}, field 'payment_configuration.amount': must be a decimal string with two digits after the point, such as "10.00"`,
  ],
  [
    'payment_configuration.amount a string',
    (f) => (profile(f, 'default').payment_configuration.amount = 10),
    `${P('default')}, field 'payment_configuration.amount': must be a decimal string with two digits after the point, such as "10.00"`,
  ],
  [
    'payment_configuration.amount above zero',
    (f) => (profile(f, 'default').payment_configuration.amount = '0.00'),
    `${P('default')}, field 'payment_configuration.amount': must be more than zero`,
  ],
  [
    'payment_configuration.amount required',
    (f) => delete profile(f, 'default').payment_configuration.amount,
    `${P('default')}, field 'payment_configuration.amount': is required`,
  ],
  [
    'payment_configuration.description ≤ 256 characters',
    (f) => (profile(f, 'default').payment_configuration.description = 'd'.repeat(257)),
    `${P('default')}, field 'payment_configuration.description': must be at most 256 characters`,
  ],
  [
    'institution_data.routing_number 9 digits',
    (f) => (profile(f, 'default').institution_data.routing_number = '12345'),
    `${P('default')}, field 'institution_data.routing_number': must be a 9-digit routing number`,
  ],
  [
    'card_switch.card_bin 6 or 8 digits',
    (f) => (profile(f, 'default').card_switch.card_bin = '4111111'),
    `${P('default')}, field 'card_switch.card_bin': must be a card BIN of 6 or 8 digits`,
  ],
  [
    'institution_id a Plaid institution id',
    (f) => (profile(f, 'default').institution_id = 'chase'),
    `${P('default')}, field 'institution_id': must be a Plaid institution id such as ins_109508`,
  ],
  [
    'link_customization_name ≤ 100 characters',
    (f) => (profile(f, 'default').link_customization_name = 'c'.repeat(101)),
    `${P('default')}, field 'link_customization_name': must be at most 100 characters`,
  ],
  [
    "appearance_mode from Plaid's list",
    (f) => (profile(f, 'default').appearance_mode = 'NEON'),
    `${P('default')}, field 'appearance_mode': must be one of "LIGHT", "DARK", "SYSTEM"`,
  ],
  [
    "auth.reroute_to_credentials from Plaid's list",
    (f) => (profile(f, 'auth').auth.reroute_to_credentials = 'ALWAYS'),
    `${P('auth')}, field 'auth.reroute_to_credentials': must be one of "OFF", "OPTIONAL", "FORCED"`,
  ],
  [
    "consumer_report_permissible_purpose from Plaid's list",
    (f) => (profile(f, 'cra').consumer_report_permissible_purpose = 'CURIOSITY'),
    `${P('cra')}, field 'consumer_report_permissible_purpose': must be one of "ACCOUNT_REVIEW_CREDIT", "ACCOUNT_REVIEW_NON_CREDIT", "EXTENSION_OF_CREDIT", "LEGITIMATE_BUSINESS_NEED_TENANT_SCREENING", "LEGITIMATE_BUSINESS_NEED_OTHER", "WRITTEN_INSTRUCTION_PREQUALIFICATION", "WRITTEN_INSTRUCTION_OTHER", "ELIGIBILITY_FOR_GOVT_BENEFITS"`,
  ],
  [
    "Prism versions from Plaid's list",
    (f) => (profile(f, 'cra').cra_options.partner_insights.prism_versions.detect = '5'),
    `${P('cra')}, field 'cra_options.partner_insights.prism_versions.detect': must be one of "4.1", "4"`,
  ],
  [
    'GSE report types non-empty',
    (f) => (profile(f, 'cra').cra_options.base_report.gse_options.report_types = []),
    `${P('cra')}, field 'cra_options.base_report.gse_options.report_types': must list at least one report type`,
  ],
  [
    'base_report.days_requested ≤ 730',
    (f) => (profile(f, 'cra').base_report.days_requested = 731),
    `${P('cra')}, field 'base_report.days_requested': must be at most 730 (Plaid's limit)`,
  ],
  [
    'employment.bank_employment.days_requested ≥ 1',
    (f) => (profile(f, 'employment').employment.bank_employment.days_requested = 0),
    `${P('employment')}, field 'employment.bank_employment.days_requested': must be at least 1`,
  ],
  [
    'flags are booleans',
    (f) => (profile(f, 'default').eu_config.headless = 'yes'),
    `${P('default')}, field 'eu_config.headless': must be true or false`,
  ],
  [
    'option objects are objects',
    (f) => (profile(f, 'default').investments = true),
    `${P('default')}, field 'investments': must be an object`,
  ],
  [
    'unknown fields refused',
    (f) => (profile(f, 'default').colour = 'teal'),
    `${P('default')}, field 'colour': is not a known field (unknown fields are refused, never passed to Plaid)`,
  ],
  [
    'unknown nested fields refused',
    (f) => (profile(f, 'default').hosted_link = { theme: 'dark' }),
    `${P('default')}, field 'hosted_link.theme': is not a known field (unknown fields are refused, never passed to Plaid)`,
  ],
  [
    'profile fields belong in a profile',
    (f) => (tenant(f).webhook = 'https://hooks.corpus.example/plaid'),
    `${T}, field 'webhook': is set per profile: move it into profiles.<name>.webhook`,
  ],
  [
    'tenant fields belong to the tenant',
    (f) => (profile(f, 'default').client_name = 'Corpus'),
    `${P('default')}, field 'client_name': is set for the tenant, not per profile: move it up to the tenant`,
  ],
  [
    'the client chooses the language',
    (f) => (profile(f, 'default').language = 'fr'),
    `${P('default')}, field 'language': is chosen by the client for each request: set the tenant's languages.default and languages.allowed instead`,
  ],
];

describe('each rule, broken by one config, gets its exact message', () => {
  for (const [rule, mutate, expected] of RULE_CASES) {
    test(rule, () => assert.deepEqual(problemsOf(mutate), [expected]));
  }
});

// Every refused or derived field is refused in a profile, at its first non-configurable ancestor,
// with the reason from the table: generated from the table, one case per field.
describe('every refused or derived field, set in a profile, is refused with its reason', () => {
  const table = LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>;
  for (const [path, entry] of Object.entries(table)) {
    if (entry.class !== 'refused' && entry.class !== 'derived') continue;
    test(path, () => {
      const segments = path.replace(/\[\]/g, '.[]').split('.');
      // The first prefix that is not configured is where the schema meets the unknown key.
      let stop = 1;
      while (
        table[
          segments
            .slice(0, stop)
            .join('.')
            .replace(/\.\[\]/g, '[]')
        ]?.class === 'configured'
      )
        stop += 1;
      const at = segments
        .slice(0, stop)
        .join('.')
        .replace(/\.\[\]/g, '[]');
      const atEntry = table[at]!;
      const family =
        {
          cra_options: 'cra',
          income_verification: 'income',
          identity_verification: 'idv',
          base_report: 'cra',
          credit_partner_insights: 'cra',
        }[segments[0]!] ?? 'default';
      // Setting the first non-configurable key is what the schema meets first.
      const problems = problemsOf((f) => setPath(profile(f, family), at.replace(/\[\]/g, '.0'), 'x'));
      const field = at.replace(/\[\]/g, '[0]');
      const message =
        atEntry.class === 'refused'
          ? `is not configurable: ${atEntry.reason}`
          : `is not configurable, it is derived by the service: ${atEntry.reason}`;
      assert.deepEqual(problems, [`${P(family)}, field '${field}': ${message}`]);
    });
  }
});

describe('every field a client may not send is refused by name with the same reason', () => {
  const table = LINK_TOKEN_CREATE_FIELDS as Record<string, FieldEntry>;
  for (const [field, entry] of Object.entries(table)) {
    if (field.includes('.') || entry.class === 'client') continue;
    test(field, () => {
      assert.throws(
        () => parseClientChoices({ platform: 'web', [field]: 'x' }),
        (error: any) => {
          assert.equal(error.errors.length, 1);
          assert.equal(error.errors[0].field, field);
          assert.match(error.errors[0].message, /^may not be set by the client: /);
          if (entry.class === 'refused')
            assert.equal(error.errors[0].message, `may not be set by the client: ${entry.reason}`);
          if (entry.class === 'derived')
            assert.equal(
              error.errors[0].message,
              `may not be set by the client: it is derived by the service: ${entry.reason}`,
            );
          return true;
        },
      );
    });
  }
});

describe('warnings: accepted, with a message naming what to do', () => {
  test('each deprecated field names its replacement', () => {
    const { warnings } = validateTenantsFile(generateCorpusFile(), 'corpus.json');
    assert.deepEqual(
      warnings.map(describeProblem).filter((line) => line.includes('deprecated')),
      [
        `${P('auth')}, field 'auth.database_match_enabled': is deprecated by Plaid, replaced by Database Auth, enabled in the Account Verification pane of the Plaid Dashboard`,
        `${P('auth')}, field 'auth.database_insights_enabled': is deprecated by Plaid, replaced by Database Auth, enabled in the Account Verification pane of the Plaid Dashboard`,
        `${P('auth')}, field 'auth.flow_type': is deprecated by Plaid, replaced by auth.auth_type_select_enabled`,
        `${P('income')}, field 'income_verification.bank_income.enable_multiple_items': is deprecated by Plaid, replaced by enable_multi_item_link`,
      ],
    );
  });

  test('transactions.days_requested under 30 is sent as 30, with a warning', () => {
    const file = fileWith({
      corpus: tenantWith({ default: { products: ['transactions'], transactions: { days_requested: 10 } } }),
    });
    const { file: parsed, warnings } = validateTenantsFile(file, 'corpus.json');
    assert.deepEqual(warnings.map(describeProblem), [
      `${P('default')}, field 'transactions.days_requested': 10 is raised to 30, Plaid's minimum: the service sends 30 (write 30 to silence this)`,
    ]);
    const body = buildLinkTokenRequest({
      serviceWebhookUrl: SERVICE_WEBHOOK_URL,
      tenant: tenantsById(parsed).get('corpus')!,
      choices: parseClientChoices({ platform: 'web' }),
      identity,
      clientUserId: 'cuid',
    });
    assert.deepEqual(body.transactions, { days_requested: 30 });
    assert.deepEqual(
      parsed.tenants.corpus!.profiles.default!.transactions,
      { days_requested: 10 },
      'the config itself is not rewritten',
    );
  });

  test('Plaid Check products say that the Plaid user is created without identity data; Multi-Item Link gets its Plaid user silently', () => {
    const { warnings } = validateTenantsFile(generateCorpusFile(), 'corpus.json');
    assert.deepEqual(
      warnings.map(describeProblem).filter((line) => line.includes('Plaid user')),
      [
        `${P('cra')}, field 'products': "cra_base_report" needs a Plaid user created with the user's identity (consumer_report_user_identity at /user/create), which this service does not hold: the service creates the Plaid user without it, and Plaid may refuse the consumer report`,
      ],
    );
  });
});

describe('Hosted Link delivery needs the verified contact at request time', () => {
  const hosted = (delivery: 'sms' | 'email') =>
    tenantsById(
      validateTenantsFile(
        fileWith({
          corpus: tenantWith({ default: { products: ['auth'], hosted_link: { delivery_method: delivery } } }),
        }),
      ).file,
    ).get('corpus')!;
  const unverified = identityFromClaims({
    iss: 'https://idp.corpus.example',
    sub: 'u',
    email: 'pat@example.com',
    email_verified: false,
  });
  for (const delivery of ['sms', 'email'] as const) {
    test(`${delivery}: a user without the verified claim is refused before Plaid is called`, () => {
      assert.throws(
        () =>
          buildLinkTokenRequest({
            serviceWebhookUrl: SERVICE_WEBHOOK_URL,
            tenant: hosted(delivery),
            choices: parseClientChoices({ platform: 'web' }),
            identity: unverified,
            clientUserId: 'cuid',
          }),
        { name: 'ServiceFailure', kind: 'invalid_request' },
      );
      const body = buildLinkTokenRequest({
        serviceWebhookUrl: SERVICE_WEBHOOK_URL,
        tenant: hosted(delivery),
        choices: parseClientChoices({ platform: 'web' }),
        identity,
        clientUserId: 'cuid',
      });
      assert.equal(body.hosted_link?.delivery_method, delivery);
    });
  }
});
