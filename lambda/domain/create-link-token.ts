// The use case: a verified identity of a resolved tenant plus the client's choices in, a Plaid
// link token out. Dependencies come in as parameters so tests and the local stack can hand in
// stand-ins without touching this code.
import { PLAID_ENVIRONMENTS } from '../config/plaid-vocabulary.ts';
import type { Tenant } from '../config/tenant-schema.ts';
import type { Logger } from '../log/logger.ts';
import { parsePlaidCredentials } from '../plaid/credentials.ts';
import type { PlaidClient, PlaidCredentials, PlaidOutcome } from '../plaid/plaid-client.ts';
import type { SecretCache } from '../secrets/secret-cache.ts';
import type { ClientChoices } from './client-choices.ts';
import { deriveClientUserId } from './client-user-id.ts';
import { ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import { buildLinkTokenRequest } from './link-token-request.ts';

export interface LinkTokenResult {
  readonly link_token: string;
  readonly expiration: string;
  readonly hosted_link_url?: string;
}

export interface CreateLinkTokenDeps {
  readonly secrets: SecretCache;
  readonly plaid: PlaidClient;
  readonly clientUserIdKeySecretId: string;
  /** Replaces the tenant environment's Plaid URL (local runs); validated at cold start. */
  readonly plaidBaseUrlOverride?: string;
  /** Total time for secrets and Plaid together, well inside API Gateway's 30 s. */
  readonly budgetMs: number;
  /** Seconds a client is told to wait after Plaid's rate limit, when Plaid gives no hint. */
  readonly rateLimitRetryAfterSeconds: number;
  readonly now: () => number;
  readonly logger: Logger;
}

export async function createLinkToken(
  input: { tenant: Tenant; identity: VerifiedIdentity; choices: ClientChoices },
  deps: CreateLinkTokenDeps,
): Promise<LinkTokenResult> {
  const { tenant, identity, choices } = input;
  const started = deps.now();
  const deadline = started + deps.budgetMs;
  const strategy = tenant.client_user_id.strategy;

  const [key, credentials] = await withinBudget(
    Promise.all([
      strategy === 'hmac-sha256' ? deps.secrets.get(deps.clientUserIdKeySecretId) : Promise.resolve(''),
      readCredentials(deps.secrets, tenant.plaid.secret_id),
    ]),
    deadline - deps.now(),
  );
  const clientUserId = deriveClientUserId({ strategy, tenantId: tenant.id, subject: identity.subject, key });
  const body = buildLinkTokenRequest({ tenant, choices, identity, clientUserId });
  const baseUrl = deps.plaidBaseUrlOverride ?? PLAID_ENVIRONMENTS[tenant.plaid.environment];

  let outcome = await deps.plaid.createLinkToken({ baseUrl, credentials, body, deadline });
  if (!outcome.ok && outcome.kind === 'plaid_error' && outcome.error.error_code === 'INVALID_API_KEYS') {
    // Keys are rotated in Secrets Manager before Plaid stops accepting the old ones: refetch once
    // and retry only if the secret actually changed, so a wrong secret fails fast.
    deps.secrets.invalidate(tenant.plaid.secret_id);
    const fresh = await withinBudget(readCredentials(deps.secrets, tenant.plaid.secret_id), deadline - deps.now());
    deps.logger.warn('plaid.credentials_refetched', { tenant: tenant.id, changed: !sameCredentials(fresh, credentials) });
    if (!sameCredentials(fresh, credentials)) {
      outcome = await deps.plaid.createLinkToken({ baseUrl, credentials: fresh, body, deadline });
    }
  }

  logOutcome(deps.logger, outcome, { tenant: tenant.id, profile: choices.profile, platform: choices.platform, duration_ms: deps.now() - started });
  return resultOf(outcome, deps.rateLimitRetryAfterSeconds, body.hosted_link !== undefined);
}

async function readCredentials(secrets: SecretCache, secretId: string): Promise<PlaidCredentials> {
  return parsePlaidCredentials(await secrets.get(secretId));
}

function sameCredentials(a: PlaidCredentials, b: PlaidCredentials): boolean {
  return a.client_id === b.client_id && a.secret === b.secret;
}

async function withinBudget<T>(work: Promise<T>, remainingMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ServiceFailure('upstream_timeout', 'Creating the link token took too long.')),
      Math.max(0, remainingMs),
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function resultOf(outcome: PlaidOutcome, rateLimitRetryAfterSeconds: number, hostedLink: boolean): LinkTokenResult {
  if (outcome.ok) {
    // Exactly {link_token, expiration}, plus hosted_link_url when the profile enables Hosted Link.
    const { link_token, expiration, hosted_link_url } = outcome.value;
    if (!hostedLink) return { link_token, expiration };
    if (!hosted_link_url) return fail('upstream_rejected', 'Plaid returned no Hosted Link URL for a Hosted Link profile.');
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
    logger.info('plaid.link_token_created', { ...fields, attempts: outcome.attempts, plaid_request_id: outcome.value.request_id });
  } else if (outcome.kind === 'plaid_error') {
    const { status, error_type, error_code, request_id } = outcome.error;
    logger.error('plaid.link_token_failed', {
      ...fields, attempts: outcome.attempts, plaid_status: status, plaid_error_type: error_type, plaid_error_code: error_code, plaid_request_id: request_id,
    });
  } else {
    logger.error('plaid.link_token_failed', { ...fields, attempts: outcome.attempts, failure: outcome.kind, ...('code' in outcome ? { network_code: outcome.code } : {}) });
  }
}
