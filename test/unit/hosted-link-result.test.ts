// The use case answers hosted_link_url exactly when the profile enables Hosted Link, and records
// the session of a Hosted Link token (the service completes it from Plaid's LINK webhooks).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseClientChoices } from '../../lambda/domain/client-choices.ts';
import { createLinkToken } from '../../lambda/domain/create-link-token.ts';
import { identityFromClaims } from '../../lambda/domain/identity.ts';
import { createLogger } from '../../lambda/log/logger.ts';
import type {
  EventPublisher,
  ItemVault,
  LinkTokenCreated,
  OpenLinkSession,
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
  const sessions: OpenLinkSession[] = [];
  // The vault at this unit's edge: the user's Items are counted, a Hosted Link session recorded.
  const vault = new Proxy({} as ItemVault, {
    get: (_, method) => {
      if (method === 'listItems') return async () => [];
      if (method === 'recordSession')
        return async (_owner: unknown, session: OpenLinkSession) => sessions.push(session);
      return () => assert.fail(`a new link token never uses the vault's ${String(method)}`);
    },
  });
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
      serviceWebhookUrl: 'https://api.example.com/webhooks/plaid/acme',
    },
    {
      secrets: { get: async () => JSON.stringify({ client_id: 'c', secret: 's' }), invalidate: () => {} },
      plaid,
      clientUserIdKeySecretId: 'key',
      vault,
      webhookVerifier: unused<WebhookVerifier>('webhook verifier'),
      events: unused<EventPublisher>('event bus'),
      webhookBudgetMs: 5000,
      budgetMs: 5000,
      rateLimitRetryAfterSeconds: 30,
      now: Date.now,
      logger: createLogger({ write: () => {} }),
    },
  );
  return { result, sent, sessions };
}

const TOKEN = { link_token: 'link-sandbox-1', expiration: '2030-01-01T00:00:00Z', request_id: 'r' };
const URL_ = 'https://secure.plaid.com/hl/abc';

test('a Hosted Link profile answers {link_token, expiration, hosted_link_url}', async () => {
  const { result, sent, sessions } = await run('hosted', { ...TOKEN, hosted_link_url: URL_ });
  assert.deepEqual(result, { link_token: TOKEN.link_token, expiration: TOKEN.expiration, hosted_link_url: URL_ });
  assert.deepEqual((sent[0] as any).hosted_link, {});
  assert.equal((sent[0] as any).webhook, 'https://api.example.com/webhooks/plaid/acme', "the service's own receiver");
  assert.equal(sessions.length, 1, 'the session is recorded');
  assert.equal(sessions[0]!.tokenHash, createHash('sha256').update(TOKEN.link_token).digest('hex'));
  assert.equal(sessions[0]!.expiresAtMs, Date.parse(TOKEN.expiration));
});

test('any other profile answers {link_token, expiration}, whatever Plaid adds', async () => {
  const { result, sessions } = await run('default', { ...TOKEN, hosted_link_url: URL_ });
  assert.deepEqual(result, { link_token: TOKEN.link_token, expiration: TOKEN.expiration });
  assert.deepEqual(sessions, [], 'the app completes its own sessions: nothing recorded');
});

test('a Hosted Link answer without the URL is an upstream failure, not a half answer', async () => {
  await assert.rejects(run('hosted', TOKEN), { name: 'ServiceFailure', kind: 'upstream_rejected' });
});
