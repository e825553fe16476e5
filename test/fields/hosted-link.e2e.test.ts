// Hosted Link through the whole stack: the bundled handler behind the local server, the Plaid
// stand-in, a real token. A Hosted Link profile answers exactly {link_token, expiration,
// hosted_link_url}; any other profile exactly {link_token, expiration}. Also: delivery by SMS
// needs a verified phone number, and config warnings are logged at cold start.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { functionLogs, startE2eStack, type E2eStack } from '../support/e2e-harness.ts';

const KEY_SECRET_ID = 'link-token/client-user-id-key';
const PLAID = { secretId: 'plaid/acme', clientId: 'acme-client-id', secret: 'acme-sandbox-secret' };
const ORIGIN = 'https://app.acme.test';

let stack: E2eStack;
const token = (claims: Record<string, unknown> = {}) =>
  stack.issuers[0]!.mint({ sub: 'user-1', aud: 'acme-web', ...claims });
const lastPlaidBody = () => stack.plaid.requests.at(-1)!.body as Record<string, any>;

before(async () => {
  stack = await startE2eStack({
    issuerCount: 1,
    plaidCredentials: { [PLAID.clientId]: PLAID.secret },
    secrets: {
      [KEY_SECRET_ID]: 'hosted-link-e2e-client-user-id-key-0123456789abcdef',
      [PLAID.secretId]: JSON.stringify({ client_id: PLAID.clientId, secret: PLAID.secret }),
    },
    // Its own bundle directory: other e2e files build theirs at the same time.
    env: { LOCAL_WORK_DIR: mkdtempSync(join(tmpdir(), 'hosted-link-e2e-')) },
    tenants: ([issuer]) => ({
      client_user_id_key_secret_id: KEY_SECRET_ID,
      tenants: {
        acme: {
          client_name: 'Acme Budgeting',
          plaid: { environment: 'sandbox', secret_id: PLAID.secretId },
          auth: { issuer: issuer!.issuer, audience: ['acme-web'], token_use: 'access' },
          client_user_id: { strategy: 'hmac-sha256' },
          allowed_origins: [ORIGIN],
          prefill: { email_address: false, phone_number: true },
          languages: { default: 'en', allowed: ['en'] },
          country_codes: ['US'],
          profiles: {
            default: { products: ['transactions'], redirect_uri: 'https://app.acme.test/oauth' },
            hosted: {
              products: ['auth'],
              auth: { flow_type: 'FLEXIBLE_AUTH' },
              hosted_link: { url_lifetime_seconds: 900, completion_redirect_uri: 'https://app.acme.test/plaid-done' },
            },
            'by-sms': { products: ['auth'], hosted_link: { delivery_method: 'sms' } },
          },
        },
      },
    }),
  });
});

after(async () => {
  await stack?.close();
});

describe('Hosted Link', () => {
  test('a Hosted Link profile answers exactly link_token, expiration and hosted_link_url', async () => {
    const started = Date.now();
    const res = await stack.call({ token: token(), origin: ORIGIN, body: { platform: 'web', profile: 'hosted' } });
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['expiration', 'hosted_link_url', 'link_token']);
    assert.match(body.hosted_link_url, /^https:\/\/secure\.plaid\.com\/hl\/[A-Za-z0-9]+$/);
    // url_lifetime_seconds reached Plaid: the token lives as long as the Hosted Link URL.
    const lifetime = (Date.parse(body.expiration) - started) / 1000;
    assert.ok(lifetime > 880 && lifetime < 920, `expiration ${body.expiration} is ${lifetime} s away`);
    assert.deepEqual(lastPlaidBody().hosted_link, {
      url_lifetime_seconds: 900,
      completion_redirect_uri: 'https://app.acme.test/plaid-done',
    });
  });

  test('any other profile answers exactly link_token and expiration', async () => {
    const res = await stack.call({ token: token(), origin: ORIGIN, body: { platform: 'web' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.json()).sort(), ['expiration', 'link_token']);
    assert.equal(lastPlaidBody().hosted_link, undefined);
  });

  test('delivery by SMS needs a verified phone number: refused with 400 before Plaid is called', async () => {
    const calls = stack.plaid.calls;
    const res = await stack.call({
      token: token({ phone_number: '+14155550123', phone_number_verified: false }),
      body: { platform: 'ios', profile: 'by-sms' },
    });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json().errors, [
      { field: 'profile', message: "profile 'by-sms' needs a verified phone_number claim in the user's token" },
    ]);
    assert.equal(stack.plaid.calls, calls);

    const ok = await stack.call({
      token: token({ phone_number: '+14155550123', phone_number_verified: true }),
      body: { platform: 'ios', profile: 'by-sms' },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(Object.keys(ok.json()).sort(), ['expiration', 'hosted_link_url', 'link_token']);
    assert.equal(lastPlaidBody().user.phone_number, '+14155550123');
    assert.deepEqual(lastPlaidBody().hosted_link, { delivery_method: 'sms' });
  });

  test('a client cannot ask for Hosted Link itself', async () => {
    const res = await stack.call({ token: token(), body: { platform: 'web', hosted_link: {} } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json().errors, [
      {
        field: 'hosted_link',
        message: "may not be set by the client: it is set by the tenant's profile; choose a profile instead",
      },
    ]);
  });
});

test('config warnings (a deprecated field) are logged once at cold start', () => {
  const warnings = functionLogs(stack).filter((line) => line.event === 'config.warning');
  assert.equal(warnings.length, 1, JSON.stringify(functionLogs(stack).slice(0, 5)));
  assert.equal(warnings[0]!.tenant, 'acme');
  assert.equal(warnings[0]!.profile, 'hosted');
  assert.equal(warnings[0]!.field, 'auth.flow_type');
  assert.match(String(warnings[0]!.warning), /deprecated by Plaid, replaced by auth\.auth_type_select_enabled/);
});
