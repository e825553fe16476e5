// The use case answers hosted_link_url exactly when the profile enables Hosted Link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientChoices } from '../../lambda/domain/client-choices.ts';
import { createLinkToken } from '../../lambda/domain/create-link-token.ts';
import { identityFromClaims } from '../../lambda/domain/identity.ts';
import { createLogger } from '../../lambda/log/logger.ts';
import type {
  EventPublisher,
  ItemVault,
  LinkTokenCreated,
  PlaidApi,
  WebhookVerifier,
} from '../../lambda/domain/ports.ts';
import { acmeTenant } from '../support/tenants.ts';

const tenant = acmeTenant({
  plaid: { environment: 'sandbox', secret_id: 'plaid/acme' },
  client_user_id: { strategy: 'subject' },
  profiles: { default: { products: ['auth'] }, hosted: { products: ['auth'], hosted_link: {} } },
});

/** A port this use case must not touch: any call fails the test. */
const unused = <T extends object>(name: string): T =>
  new Proxy({} as T, {
    get: (_, method) => () => assert.fail(`a new link token never uses the ${name} (${String(method)})`),
  });

async function run(profile: string, answer: LinkTokenCreated) {
  const sent: unknown[] = [];
  const plaid: PlaidApi = {
    async createLinkToken({ body }) {
      sent.push(body);
      return { ok: true, attempts: 1, value: answer };
    },
    call: async (path) => assert.fail(`only /link/token/create is expected, not ${path}`),
  };
  const result = await createLinkToken(
    {
      tenant,
      identity: identityFromClaims({ iss: 'https://idp.acme.com', sub: 'user-1' }),
      choices: parseClientChoices({ platform: 'web', profile }),
    },
    {
      secrets: { get: async () => JSON.stringify({ client_id: 'c', secret: 's' }), invalidate: () => {} },
      plaid,
      clientUserIdKeySecretId: 'key',
      vault: unused<ItemVault>('vault'),
      webhookVerifier: unused<WebhookVerifier>('webhook verifier'),
      events: unused<EventPublisher>('event bus'),
      webhookBudgetMs: 5000,
      budgetMs: 5000,
      rateLimitRetryAfterSeconds: 30,
      now: Date.now,
      logger: createLogger({ write: () => {} }),
    },
  );
  return { result, sent };
}

const TOKEN = { link_token: 'link-sandbox-1', expiration: '2030-01-01T00:00:00Z', request_id: 'r' };
const URL_ = 'https://secure.plaid.com/hl/abc';

test('a Hosted Link profile answers {link_token, expiration, hosted_link_url}', async () => {
  const { result, sent } = await run('hosted', { ...TOKEN, hosted_link_url: URL_ });
  assert.deepEqual(result, { link_token: TOKEN.link_token, expiration: TOKEN.expiration, hosted_link_url: URL_ });
  assert.deepEqual((sent[0] as any).hosted_link, {});
});

test('any other profile answers {link_token, expiration}, whatever Plaid adds', async () => {
  const { result } = await run('default', { ...TOKEN, hosted_link_url: URL_ });
  assert.deepEqual(result, { link_token: TOKEN.link_token, expiration: TOKEN.expiration });
});

test('a Hosted Link answer without the URL is an upstream failure, not a half answer', async () => {
  await assert.rejects(run('hosted', TOKEN), { name: 'ServiceFailure', kind: 'upstream_rejected' });
});
