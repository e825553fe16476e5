// A tenants-file field the schema does not know is refused, and where a known field of the same
// object is a slip away the message names it: the operator reads the fix in the error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nearestKnownField, parseTenantsFile, TenantConfigError } from '../../lambda/config/load-tenants.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

/** The problem lines of a file with the tenant `acme` built from minimalTenantConfig and then changed. */
function problemsOf(change: (file: any) => void): string[] {
  const file: any = tenantsFileOf({ acme: minimalTenantConfig() });
  change(file);
  try {
    parseTenantsFile(file, 'tenants.json');
  } catch (error) {
    assert.ok(error instanceof TenantConfigError, String(error));
    return error.message
      .split('\n')
      .slice(1)
      .map((line) => line.trim());
  }
  assert.fail('the file was accepted');
}

const UNKNOWN = 'is not a known field (unknown fields are refused, never passed to Plaid)';

describe('an unknown tenants-file field suggests the nearest known name', () => {
  const cases: Array<[string, (file: any) => void, string]> = [
    [
      'a profile field one letter off',
      (f) => (f.tenants.acme.profiles.default.redirect_url = 'https://app.acme.com/oauth'),
      `- tenant 'acme', profile 'default', field 'redirect_url': ${UNKNOWN}; did you mean 'redirect_uri'?`,
    ],
    [
      'a tenant field in camel case',
      (f) => (f.tenants.acme.allowedOrigins = ['https://app.acme.com']),
      `- tenant 'acme', field 'allowedOrigins': ${UNKNOWN}; did you mean 'allowed_origins'?`,
    ],
    [
      'two letters swapped',
      (f) => (f.tenants.acme.langauges = f.tenants.acme.languages),
      `- tenant 'acme', field 'langauges': ${UNKNOWN}; did you mean 'languages'?`,
    ],
    [
      'a plural inside auth',
      (f) => (f.tenants.acme.auth.audiences = ['web']),
      `- tenant 'acme', field 'auth.audiences': ${UNKNOWN}; did you mean 'audience'?`,
    ],
    [
      'inside an optional object',
      (f) => (f.tenants.acme.items = { duplicate: 'replace' }),
      `- tenant 'acme', field 'items.duplicate': ${UNKNOWN}; did you mean 'duplicates'?`,
    ],
    [
      'inside a nested profile object',
      (f) => (f.tenants.acme.profiles.default.transactions = { days_request: 90 }),
      `- tenant 'acme', profile 'default', field 'transactions.days_request': ${UNKNOWN}; did you mean 'days_requested'?`,
    ],
    [
      'at the top of the file',
      (f) => (f.client_user_id_key_secret = 'k'),
      `- field 'client_user_id_key_secret': ${UNKNOWN}; did you mean 'client_user_id_key_secret_id'?`,
    ],
  ];
  for (const [name, change, expected] of cases) {
    test(name, () => assert.ok(problemsOf(change).includes(expected), problemsOf(change).join('\n')));
  }

  test('nothing is suggested when no known name is near', () => {
    assert.deepEqual(
      problemsOf((f) => (f.tenants.acme.profiles.default.colour = 'teal')),
      [`- tenant 'acme', profile 'default', field 'colour': ${UNKNOWN}`],
    );
    assert.deepEqual(
      problemsOf((f) => (f.tenants.acme.auth.issuer_url = 'https://idp.acme.com')),
      [`- tenant 'acme', field 'auth.issuer_url': ${UNKNOWN}`],
    );
  });

  test("a Plaid field's own reason is kept, not replaced by a suggestion", () => {
    assert.deepEqual(
      problemsOf((f) => (f.tenants.acme.webhook = 'service')),
      ["- tenant 'acme', field 'webhook': is set per profile: move it into profiles.<name>.webhook"],
    );
  });

  test('the nearest name, within a few edits that grow with the length', () => {
    assert.equal(nearestKnownField('prducts', ['products', 'optional_products']), 'products');
    assert.equal(nearestKnownField('client-name', ['client_name']), 'client_name');
    assert.equal(nearestKnownField('ab', ['auth']), undefined);
    assert.equal(nearestKnownField('xyz', []), undefined);
  });
});
