import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  describeWarnings,
  loadTenantsFile,
  parseTenantsFile,
  readTenantsFile,
  TenantConfigError,
} from '../../lambda/config/load-tenants.ts';

function validFile(): any {
  return {
    client_user_id_key_secret_id: 'link-token/client-user-id-key',
    tenants: {
      acme: {
        client_name: 'Acme Budgeting',
        plaid: { environment: 'production', secret_id: 'plaid/acme' },
        auth: { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123', audience: ['4k2m'] },
        allowed_origins: ['https://app.acme.com'],
        languages: { default: 'en', allowed: ['en', 'fr'] },
        country_codes: ['US'],
        profiles: {
          default: {
            products: ['transactions'],
            optional_products: ['liabilities'],
            webhook: 'https://hooks.acme.com/plaid',
            redirect_uri: 'https://*.acme.com/oauth.html',
            android_package_name: 'com.acme.app',
            transactions: { days_requested: 730 },
          },
        },
      },
    },
  };
}

/** The single problem line for a file with one mistake. */
function problemOf(mutate: (file: any) => void): string {
  const file = validFile();
  mutate(file);
  try {
    parseTenantsFile(file, 'tenants.json');
  } catch (error) {
    assert.ok(error instanceof TenantConfigError, String(error));
    assert.equal(error.problems.length, 1, error.message);
    return error.message.split('\n')[1]!.trim();
  }
  assert.fail('the file was accepted');
}

describe('tenants file', () => {
  test('a valid file parses, with defaults filled in', () => {
    const parsed = parseTenantsFile(validFile());
    const acme = parsed.tenants.acme!;
    assert.deepEqual(acme.client_user_id, { strategy: 'hmac-sha256' });
    assert.deepEqual(acme.prefill, { email_address: false, phone_number: false });
    assert.equal(acme.auth.token_use, 'access');
  });

  const cases: Array<[string, (f: any) => void, string]> = [
    [
      'client_name over 30 characters',
      (f) => (f.tenants.acme.client_name = 'A'.repeat(31)),
      "- tenant 'acme', field 'client_name': must be at most 30 characters (Plaid shows \"This Application\" otherwise)",
    ],
    [
      'a missing field',
      (f) => delete f.tenants.acme.country_codes,
      "- tenant 'acme', field 'country_codes': is required",
    ],
    [
      'an unknown profile field',
      (f) => (f.tenants.acme.profiles.default.colour = 'teal'),
      "- tenant 'acme', profile 'default', field 'colour': is not a known field (unknown fields are refused, never passed to Plaid)",
    ],
    [
      'a refused Plaid field in a profile, with the reason',
      (f) => (f.tenants.acme.profiles.default.access_tokens = ['access-sandbox-x']),
      "- tenant 'acme', profile 'default', field 'access_tokens': is not configurable: they identify several existing Items, and update mode is offered for one Item at a time",
    ],
    [
      'a language Plaid does not support',
      (f) => (f.tenants.acme.languages.allowed = ['en', 'xx']),
      "- tenant 'acme', field 'languages.allowed[1]': must be one of Plaid's Link languages (da, nl, en, et, fr, de, hi, it, lv, lt, no, pl, pt, ro, es, sv, vi)",
    ],
    [
      'a default language not allowed',
      (f) => (f.tenants.acme.languages.default = 'es'),
      "- tenant 'acme', field 'languages.default': \"es\" must also be listed in languages.allowed",
    ],
    [
      'an unsupported country',
      (f) => (f.tenants.acme.country_codes = ['JP']),
      "- tenant 'acme', field 'country_codes[0]'",
    ],
    [
      'empty products',
      (f) => (f.tenants.acme.profiles.default.products = []),
      "- tenant 'acme', profile 'default', field 'products': must list at least one product",
    ],
    [
      'balance in products',
      (f) => (f.tenants.acme.profiles.default.products = ['auth', 'balance']),
      "- tenant 'acme', profile 'default', field 'products[1]': \"balance\" is not valid here: Plaid initialises Balance with any other product",
    ],
    [
      'overlapping product arrays',
      (f) => (f.tenants.acme.profiles.default.additional_consented_products = ['transactions']),
      "- tenant 'acme', profile 'default', field 'additional_consented_products[0]': \"transactions\" is already listed in products: the product arrays must not overlap",
    ],
    [
      'a redirect_uri with a query string',
      (f) => (f.tenants.acme.profiles.default.redirect_uri = 'https://acme.com/oauth?x=1'),
      "- tenant 'acme', profile 'default', field 'redirect_uri': must not contain a query string",
    ],
    [
      'an http redirect_uri in production',
      (f) => (f.tenants.acme.profiles.default.redirect_uri = 'http://localhost:3000/oauth'),
      "- tenant 'acme', profile 'default', field 'redirect_uri': must be https (http is accepted only for loopback hosts in sandbox)",
    ],
    [
      'a wildcard inside a label',
      (f) => (f.tenants.acme.profiles.default.redirect_uri = 'https://app*.acme.com/oauth'),
      "- tenant 'acme', profile 'default', field 'redirect_uri': may use * only as a whole leftmost subdomain label, as in https://*.acme.com/oauth.html".replace(
        '*.acme.com',
        '*.example.com',
      ),
    ],
    [
      'an http webhook',
      (f) => (f.tenants.acme.profiles.default.webhook = 'http://hooks.acme.com/plaid'),
      "- tenant 'acme', profile 'default', field 'webhook': must be https (http is accepted only for loopback hosts)",
    ],
    [
      "transactions days over Plaid's bound",
      (f) => (f.tenants.acme.profiles.default.transactions.days_requested = 731),
      "- tenant 'acme', profile 'default', field 'transactions.days_requested': must be at most 730 (Plaid's limit)",
    ],
    [
      'an account subtype of another type',
      (f) => (f.tenants.acme.profiles.default.account_filters = { credit: { account_subtypes: ['checking'] } }),
      "- tenant 'acme', profile 'default', field 'account_filters.credit.account_subtypes[0]': must be one of Plaid's subtypes for this account type",
    ],
    [
      'an origin with a path',
      (f) => (f.tenants.acme.allowed_origins = ['https://app.acme.com/']),
      "- tenant 'acme', field 'allowed_origins[0]': must be a bare origin such as https://app.acme.com (no path, no trailing slash)",
    ],
    [
      'an http issuer off loopback',
      (f) => (f.tenants.acme.auth.issuer = 'http://idp.acme.com'),
      "- tenant 'acme', field 'auth.issuer': must be https (http is accepted only for loopback hosts)",
    ],
    [
      'no default profile',
      (f) => (f.tenants.acme.profiles = { other: f.tenants.acme.profiles.default }),
      "- tenant 'acme', field 'profiles': must define a \"default\" profile",
    ],
    [
      'a bad android package name',
      (f) => (f.tenants.acme.profiles.default.android_package_name = 'acme'),
      "- tenant 'acme', profile 'default', field 'android_package_name': must be an Android application id such as com.example.app",
    ],
  ];
  for (const [name, mutate, expected] of cases) {
    test(`refuses ${name}, naming tenant, profile and field`, () => {
      assert.ok(problemOf(mutate).startsWith(expected), problemOf(mutate));
    });
  }

  test('loopback http is accepted in sandbox for local runs', () => {
    const file = validFile();
    file.tenants.acme.plaid.environment = 'sandbox';
    file.tenants.acme.profiles.default.redirect_uri = 'http://localhost:3000/oauth';
    file.tenants.acme.auth.issuer = 'http://127.0.0.1:9000';
    file.tenants.acme.allowed_origins = ['http://localhost:3000'];
    assert.doesNotThrow(() => parseTenantsFile(file));
  });

  test('tenants sharing an issuer must each carry a distinct tenant claim', () => {
    const file = validFile();
    file.tenants.globex = structuredClone(file.tenants.acme);
    assert.throws(
      () => parseTenantsFile(file),
      /tenant 'acme', field 'auth.tenant_claim': is required: tenants acme, globex share the issuer/,
    );
    file.tenants.acme.auth.tenant_claim = { name: 'custom:tenant', value: 'acme' };
    file.tenants.globex.auth.tenant_claim = { name: 'custom:tenant', value: 'acme' };
    assert.throws(
      () => parseTenantsFile(file),
      /tenant 'globex', field 'auth.tenant_claim.value': "acme" is already another tenant's value/,
    );
    file.tenants.globex.auth.tenant_claim.value = 'globex';
    assert.doesNotThrow(() => parseTenantsFile(file));
  });

  test('all problems are reported at once', () => {
    const file = validFile();
    file.tenants.acme.client_name = '';
    file.tenants.acme.profiles.default.products = ['nope'];
    assert.throws(
      () => parseTenantsFile(file),
      (error: TenantConfigError) => error.problems.length === 2,
    );
  });

  test('warnings (a Plaid-deprecated field) come back beside the file, which still loads', () => {
    const file = validFile();
    file.tenants.acme.profiles.default.auth = { flow_type: 'FLEXIBLE_AUTH' };
    const path = join(mkdtempSync(join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(path, JSON.stringify(file));
    const { file: loaded, warnings } = loadTenantsFile(path);
    assert.deepEqual(loaded, readTenantsFile(path));
    assert.equal(
      describeWarnings(path, warnings),
      `Warnings for tenants file ${path}:\n  - tenant 'acme', profile 'default', field 'auth.flow_type': is deprecated by Plaid, replaced by auth.auth_type_select_enabled`,
    );
    assert.equal(describeWarnings(path, []), '');
  });

  test('a file that is not JSON says so with its path', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(path, '{ "tenants": ');
    assert.throws(() => readTenantsFile(path), new RegExp(`Invalid tenants file ${path}:\\n  - is not valid JSON`));
  });
});
