// The use case: a verified identity of a resolved tenant plus the client's choices in, a Plaid
// link token out. Dependencies come in as parameters so tests and the local stack can hand in
// stand-ins without touching this code.
import type { Tenant } from '../config/tenant-schema.ts';
import type { Logger, PlaidOutcome } from './ports.ts';
import type { ClientChoices } from './client-choices.ts';
import { ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import type { ItemVault } from './item-vault.ts';
import { itemNotFound } from './items.ts';
import { buildLinkTokenRequest, buildUpdateModeRequest, selectProfile } from './link-token-request.ts';
import { ensurePlaidUser, needsPlaidUser } from './plaid-users.ts';
import {
  credentialsAndOwner,
  heldCredentialsAndOwner,
  plaidBaseUrl,
  readCredentials,
  sameCredentials,
  withinBudget,
  type UpstreamDeps,
} from './upstream.ts';

export interface LinkTokenResult {
  readonly link_token: string;
  readonly expiration: string;
  readonly hosted_link_url?: string;
}

export interface CreateLinkTokenDeps extends UpstreamDeps {
  /** The item vault, loaded on first use: only update mode and Plaid users need it, never a plain new link token. */
  readonly vault: () => Promise<ItemVault>;
}

export async function createLinkToken(
  input: { tenant: Tenant; identity: VerifiedIdentity; choices: ClientChoices; serviceWebhookUrl?: string },
  deps: CreateLinkTokenDeps,
): Promise<LinkTokenResult> {
  const { tenant, identity, choices } = input;
  const started = deps.now();
  const deadline = started + deps.budgetMs;
  const budgetDetail = 'Creating the link token took too long.';

  const { credentials, owner } =
    heldCredentialsAndOwner({ tenant, identity }, deps) ??
    (await withinBudget(credentialsAndOwner({ tenant, identity }, deps), deadline - deps.now(), budgetDetail));
  const clientUserId = owner.clientUserId;
  let body;
  if (choices.mode === 'update') {
    // Only the caller's own Item: the vault looks it up under this user's key and decrypts its
    // token under this user's context, so another user's item_id is exactly a missing one.
    const itemId = choices.item_id!;
    const vault = await deps.vault();
    const accessToken = await withinBudget(vault.accessToken(owner, itemId), deadline - deps.now(), budgetDetail);
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
  if (choices.mode !== 'update' && needsPlaidUser(selectProfile(tenant, choices.profile))) {
    const user = await ensurePlaidUser(
      { owner, baseUrl, credentials, deadline },
      { ...deps, vault: await deps.vault() },
    );
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

  logOutcome(deps.logger, outcome, {
    tenant: tenant.id,
    profile: choices.profile,
    platform: choices.platform,
    ...(choices.mode === 'update' ? { mode: 'update', item_id: choices.item_id } : {}),
    duration_ms: deps.now() - started,
  });
  return resultOf(outcome, deps.rateLimitRetryAfterSeconds, 'hosted_link' in body && body.hosted_link !== undefined);
}

function resultOf(outcome: PlaidOutcome, rateLimitRetryAfterSeconds: number, hostedLink: boolean): LinkTokenResult {
  if (outcome.ok) {
    // Exactly {link_token, expiration}, plus hosted_link_url when the profile enables Hosted Link.
    const { link_token, expiration, hosted_link_url } = outcome.value;
    if (!hostedLink) return { link_token, expiration };
    if (!hosted_link_url)
      return fail('upstream_rejected', 'Plaid returned no Hosted Link URL for a Hosted Link profile.');
    return { link_token, expiration, hosted_link_url };
  }
  switch (outcome.kind) {
    case 'timeout':
      return fail('upstream_timeout', 'Plaid did not answer in time.');
    case 'network':
      return fail('upstream_unavailable', 'Plaid is unreachable; try again shortly.');
    case 'malformed':
      return outcome.status >= 500
        ? fail('upstream_unavailable', 'Plaid is unavailable; try again shortly.')
        : fail('upstream_rejected', 'Plaid returned an unexpected answer.');
    case 'plaid_error': {
      const { status, error_type, error_code } = outcome.error;
      if (status === 429 || error_type === 'RATE_LIMIT_EXCEEDED' || error_code === 'RATE_LIMIT_EXCEEDED') {
        throw new ServiceFailure('upstream_rate_limited', 'Too many link tokens requested; try again later.', {
          retryAfterSeconds: rateLimitRetryAfterSeconds,
        });
      }
      if (status >= 500) return fail('upstream_unavailable', 'Plaid is unavailable; try again shortly.');
      // Any other Plaid 4xx comes from how the tenant is set up, not from this caller.
      return fail('upstream_rejected', 'Plaid rejected the link token request; the service operator has been alerted.');
    }
  }
}

function fail(kind: 'upstream_timeout' | 'upstream_unavailable' | 'upstream_rejected', detail: string): never {
  throw new ServiceFailure(kind, detail);
}

function logOutcome(logger: Logger, outcome: PlaidOutcome, fields: Record<string, unknown>): void {
  if (outcome.ok) {
    logger.info('plaid.link_token_created', {
      ...fields,
      attempts: outcome.attempts,
      plaid_request_id: outcome.value.request_id,
    });
  } else if (outcome.kind === 'plaid_error') {
    const { status, error_type, error_code, request_id } = outcome.error;
    logger.error('plaid.link_token_failed', {
      ...fields,
      attempts: outcome.attempts,
      plaid_status: status,
      plaid_error_type: error_type,
      plaid_error_code: error_code,
      plaid_request_id: request_id,
    });
  } else {
    logger.error('plaid.link_token_failed', {
      ...fields,
      attempts: outcome.attempts,
      failure: outcome.kind,
      ...('code' in outcome ? { network_code: outcome.code } : {}),
    });
  }
}
