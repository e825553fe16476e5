import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientChoices } from '../../lambda/domain/client-choices.ts';
import { identityFromClaims } from '../../lambda/domain/identity.ts';
import { buildLinkTokenRequest } from '../../lambda/domain/link-token-request.ts';
import { acmeTenant } from '../support/tenants.ts';

const tenant = acmeTenant({
  plaid: { environment: 'sandbox', secret_id: 'plaid/acme' },
  prefill: { email_address: true, phone_number: false },
  languages: { default: 'en', allowed: ['en', 'fr'] },
  profiles: {
    default: {
      products: ['auth'],
      redirect_uri: 'https://acme.com/oauth',
      android_package_name: 'com.acme.app',
      account_filters: { depository: { account_subtypes: ['checking'] } },
    },
    web_only: { products: ['identity'] },
  },
});

const identity = identityFromClaims({
  iss: 'https://idp.acme.com',
  sub: 'u1',
  email: 'pat@example.com',
  email_verified: true,
  phone_number: '+14155550123',
  phone_number_verified: true,
});
const build = (body: unknown) =>
  buildLinkTokenRequest({ tenant, choices: parseClientChoices(body), identity, clientUserId: 'cuid' });

test('web and ios get the redirect_uri, android the package name only', () => {
  for (const platform of ['web', 'ios']) {
    const req = build({ platform });
    assert.equal(req.redirect_uri, 'https://acme.com/oauth');
    assert.equal('android_package_name' in req, false);
  }
  const android = build({ platform: 'android' });
  assert.equal(android.android_package_name, 'com.acme.app');
  assert.equal('redirect_uri' in android, false);
});

test('tenant config is authoritative and the user comes from the verified identity', () => {
  assert.deepEqual(build({ platform: 'web', language: 'fr' }), {
    client_name: 'Acme',
    language: 'fr',
    country_codes: ['US'],
    user: { client_user_id: 'cuid', email_address: 'pat@example.com' },
    products: ['auth'],
    account_filters: { depository: { account_subtypes: ['checking'] } },
    redirect_uri: 'https://acme.com/oauth',
  });
});

test('a built request cannot change the tenant config it shares (tenants are frozen at load)', () => {
  const req = build({ platform: 'web' });
  assert.throws(() => req.products.push('identity'), TypeError);
  assert.throws(() => req.account_filters!.depository!.account_subtypes.push('savings'), TypeError);
  assert.deepEqual(tenant.profiles.default!.products, ['auth']);
  assert.deepEqual(tenant.profiles.default!.account_filters!.depository!.account_subtypes, ['checking']);
});

test('a profile without a redirect_uri sends none, and android there is refused', () => {
  assert.equal('redirect_uri' in build({ platform: 'web', profile: 'web_only' }), false);
  assert.throws(() => build({ platform: 'android', profile: 'web_only' }), /not set up for Android/);
});

test('unknown profile, prototype keys and disallowed languages are refused', () => {
  assert.throws(() => build({ platform: 'web', profile: 'gold' }), /Unknown profile 'gold'/);
  assert.throws(() => build({ platform: 'web', profile: 'constructor' }), /Unknown profile 'constructor'/);
  assert.throws(() => build({ platform: 'web', language: 'de' }), /Language 'de' is not offered/);
});

test('unverified claims are never prefilled', () => {
  const unverified = identityFromClaims({ iss: 'x', sub: 'u1', email: 'pat@example.com', email_verified: false });
  const req = buildLinkTokenRequest({
    tenant,
    choices: parseClientChoices({ platform: 'web' }),
    identity: unverified,
    clientUserId: 'cuid',
  });
  assert.deepEqual(req.user, { client_user_id: 'cuid' });
});

test('a profile may override the tenant country codes; others inherit them', () => {
  const tenant2 = acmeTenant({
    plaid: { environment: 'sandbox', secret_id: 'plaid/acme' },
    country_codes: ['US', 'CA'],
    profiles: {
      default: { products: ['transactions'], financekit_supported: true },
      verify: { products: ['auth'], country_codes: ['US'], auth: { same_day_microdeposits_enabled: true } },
    },
  });
  const build2 = (body: unknown) =>
    buildLinkTokenRequest({ tenant: tenant2, choices: parseClientChoices(body), identity, clientUserId: 'cuid' });
  assert.deepEqual(build2({ platform: 'web' }).country_codes, ['US', 'CA']);
  assert.deepEqual(build2({ platform: 'web', profile: 'verify' }).country_codes, ['US']);
  assert.deepEqual(build2({ platform: 'web', profile: 'verify' }).auth, { same_day_microdeposits_enabled: true });
  // FinanceKit is Apple's: only an iOS app can link it.
  assert.equal(build2({ platform: 'ios' }).financekit_supported, true);
  assert.equal('financekit_supported' in build2({ platform: 'web' }), false);
});

test('transactions.days_requested under 30 is sent as 30, without touching the config', () => {
  const short = acmeTenant({
    profiles: { default: { products: ['transactions'], transactions: { days_requested: 10 } } },
  });
  const req = buildLinkTokenRequest({
    tenant: short,
    choices: parseClientChoices({ platform: 'web' }),
    identity,
    clientUserId: 'cuid',
  });
  assert.deepEqual(req.transactions, { days_requested: 30 });
  assert.equal(short.profiles.default!.transactions!.days_requested, 10);
});
