// The use case: a verified identity of a resolved tenant plus the client's choices in, a Plaid
// link token out. Dependencies come in as parameters so tests and the local stack can hand in
// stand-ins without touching this code.
import type { Tenant } from '../config/tenant-schema.ts';
import type { ClientChoices } from './client-choices.ts';
import { overLimit } from './exchange.ts';
import { itemNotFound, ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import { completedByService, recordLinkSession } from './link-sessions.ts';
import { buildLinkTokenRequest, buildUpdateModeRequest, selectProfile } from './link-token-request.ts';
import { ensurePlaidUser, needsPlaidUser } from './plaid-users.ts';
import type { ServiceDeps } from './ports.ts';
import {
  credentialsAndOwner,
  plaidBaseUrl,
  plaidFailure,
  plaidFailureFields,
  readCredentials,
  sameCredentials,
  withinBudget,
} from './upstream.ts';

export interface LinkTokenResult {
  readonly link_token: string;
  readonly expiration: string;
  readonly hosted_link_url?: string;
}

export async function createLinkToken(
  input: { tenant: Tenant; identity: VerifiedIdentity; choices: ClientChoices; serviceWebhookUrl?: string },
  deps: ServiceDeps,
): Promise<LinkTokenResult> {
  const { tenant, identity, choices } = input;
  const started = deps.now();
  const deadline = started + deps.budgetMs;
  const budgetDetail = 'Creating the link token took too long.';

  const { credentials, owner } = await withinBudget(
    credentialsAndOwner({ tenant, identity }, deps),
    deadline - deps.now(),
    budgetDetail,
  );
  const clientUserId = owner.clientUserId;
  let body;
  if (choices.mode === 'update') {
    // Only the caller's own Item: the vault looks it up under this user's key and decrypts its
    // token under this user's context, so another user's item_id is exactly a missing one.
    const itemId = choices.item_id!;
    const accessToken = await withinBudget(deps.vault.accessToken(owner, itemId), deadline - deps.now(), budgetDetail);
    if (accessToken === undefined) throw itemNotFound();
    body = buildUpdateModeRequest({ tenant, choices, clientUserId, accessToken });
  } else {
    body = buildLinkTokenRequest({
      tenant,
      choices,
      identity,
      clientUserId,
      serviceWebhookUrl: input.serviceWebhookUrl,
    });
  }
  const baseUrl = plaidBaseUrl(tenant, deps.plaidBaseUrlOverride);
  const profile = choices.mode === 'update' ? undefined : selectProfile(tenant, choices.profile);
  // A new Item for a user at the tenant's limit is refused. The count is read while Plaid makes
  // the token, so the check adds no wait; a refused user's token is never handed out.
  const liveItems =
    choices.mode === 'update'
      ? undefined
      : withinBudget(deps.vault.listItems(owner), deadline - deps.now(), budgetDetail).then(
          (items) => items.filter((item) => item.status !== 'revoked').length,
        );
  // Settled here too, so a failed read is never an unhandled rejection while Plaid is asked.
  liveItems?.catch(() => undefined);
  if (profile && needsPlaidUser(profile)) {
    const user = await ensurePlaidUser({ owner, baseUrl, credentials, deadline }, deps);
    // Plaid: integrations since 2025-12 identify the user by user_id; older ones by user_token.
    if (user.userToken) body = { ...body, user_token: user.userToken };
    else body = { ...body, user_id: user.userId };
  }

  let outcome = await deps.plaid.createLinkToken({ baseUrl, credentials, body, deadline });
  if (!outcome.ok && outcome.kind === 'plaid_error' && outcome.error.error_code === 'INVALID_API_KEYS') {
    // Keys are rotated in Secrets Manager before Plaid stops accepting the old ones: refetch once
    // and retry only if the secret actually changed, so a wrong secret fails fast.
    deps.secrets.invalidate(tenant.plaid.secret_id);
    const fresh = await withinBudget(
      readCredentials(deps.secrets, tenant.plaid.secret_id),
      deadline - deps.now(),
      budgetDetail,
    );
    deps.logger.warn('plaid.credentials_refetched', {
      tenant: tenant.id,
      changed: !sameCredentials(fresh, credentials),
    });
    if (!sameCredentials(fresh, credentials)) {
      outcome = await deps.plaid.createLinkToken({ baseUrl, credentials: fresh, body, deadline });
    }
  }

  const fields = {
    tenant: tenant.id,
    profile: choices.profile,
    platform: choices.platform,
    ...(choices.mode === 'update' ? { mode: 'update', item_id: choices.item_id } : {}),
    duration_ms: deps.now() - started,
  };
  if (!outcome.ok) {
    deps.logger.error('plaid.link_token_failed', { ...fields, ...plaidFailureFields(outcome) });
    throw plaidFailure(outcome, deps.rateLimitRetryAfterSeconds);
  }
  if (liveItems && (await liveItems) >= tenant.items.max_per_user) {
    deps.logger.info('items.limit_refused', { ...fields, limit: tenant.items.max_per_user });
    throw overLimit(tenant.items.max_per_user);
  }
  // The service completes these sessions itself: it must know whose they are before the app
  // can open the token.
  if (profile && completedByService(profile)) {
    await recordLinkSession(owner, outcome.value, deps, deadline - deps.now());
  }
  deps.logger.info('plaid.link_token_created', {
    ...fields,
    attempts: outcome.attempts,
    plaid_request_id: outcome.value.request_id,
  });
  // Exactly {link_token, expiration}, plus hosted_link_url when the profile enables Hosted Link.
  const { link_token, expiration, hosted_link_url } = outcome.value;
  if (!('hosted_link' in body && body.hosted_link !== undefined)) return { link_token, expiration };
  if (!hosted_link_url) {
    throw new ServiceFailure('upstream_rejected', 'Plaid returned no Hosted Link URL for a Hosted Link profile.');
  }
  return { link_token, expiration, hosted_link_url };
}
