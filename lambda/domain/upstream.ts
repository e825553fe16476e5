// What every use case that calls Plaid shares: the tenant's credentials, the owner derived from
// the verified identity, a total time budget, and the mapping of Plaid's failures to the
// service's own (the domain's words; http/problem.ts turns them into statuses).
import { PLAID_ENVIRONMENTS } from '../config/plaid-vocabulary.ts';
import type { Tenant } from '../config/tenant-schema.ts';
import { deriveClientUserId } from './client-user-id.ts';
import { ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import { parsePlaidCredentials } from './plaid-credentials.ts';
import type { ItemOwner, PlaidCredentials, PlaidFailure, SecretSource } from './ports.ts';

export async function readCredentials(secrets: SecretSource, secretId: string): Promise<PlaidCredentials> {
  return credentialsOf(secretId, await secrets.get(secretId));
}

// The last secret string read per credentials secret id, parsed: a warm request validates the
// same string only once. Bounded by the tenants' secret ids; a rotated secret is a different
// string and is parsed (and checked) again.
const parsedCredentials = new Map<string, { raw: string; credentials: PlaidCredentials }>();
function credentialsOf(secretId: string, raw: string): PlaidCredentials {
  const last = parsedCredentials.get(secretId);
  if (last !== undefined && last.raw === raw) return last.credentials;
  const credentials = parsePlaidCredentials(raw);
  parsedCredentials.set(secretId, { raw, credentials });
  return credentials;
}

export function sameCredentials(a: PlaidCredentials, b: PlaidCredentials): boolean {
  return a.client_id === b.client_id && a.secret === b.secret;
}

export function plaidBaseUrl(tenant: Tenant, override: string | undefined): string {
  return override ?? PLAID_ENVIRONMENTS[tenant.plaid.environment];
}

/** The tenant's credentials and the caller's client_user_id, read concurrently (one round trip). */
export async function credentialsAndOwner(
  input: { tenant: Tenant; identity: VerifiedIdentity },
  deps: { secrets: SecretSource; clientUserIdKeySecretId: string },
): Promise<{ credentials: PlaidCredentials; owner: ItemOwner }> {
  const { tenant, identity } = input;
  const strategy = tenant.client_user_id.strategy;
  const [key, credentials] = await Promise.all([
    strategy === 'hmac-sha256' ? deps.secrets.get(deps.clientUserIdKeySecretId) : Promise.resolve(''),
    readCredentials(deps.secrets, tenant.plaid.secret_id),
  ]);
  const clientUserId = deriveClientUserId({ strategy, tenantId: tenant.id, subject: identity.subject, key });
  return { credentials, owner: { tenantId: tenant.id, clientUserId } };
}

export async function withinBudget<T>(
  work: Promise<T>,
  remainingMs: number,
  detail = 'The request took too long.',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServiceFailure('upstream_timeout', detail)), Math.max(0, remainingMs));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Plaid failure as the service's own, for every endpoint but /link/token/create (which words its own). */
export function plaidFailure(outcome: PlaidFailure, rateLimitRetryAfterSeconds: number): ServiceFailure {
  switch (outcome.kind) {
    case 'timeout':
      return new ServiceFailure('upstream_timeout', 'Plaid did not answer in time.');
    case 'network':
      return new ServiceFailure('upstream_unavailable', 'Plaid is unreachable; try again shortly.');
    case 'malformed':
      return outcome.status >= 500
        ? new ServiceFailure('upstream_unavailable', 'Plaid is unavailable; try again shortly.')
        : new ServiceFailure('upstream_rejected', 'Plaid returned an unexpected answer.');
    case 'plaid_error': {
      const { status, error_type, error_code } = outcome.error;
      if (status === 429 || error_type === 'RATE_LIMIT_EXCEEDED' || error_code === 'RATE_LIMIT_EXCEEDED') {
        return new ServiceFailure('upstream_rate_limited', 'Plaid is rate limiting this service; try again later.', {
          retryAfterSeconds: rateLimitRetryAfterSeconds,
        });
      }
      if (status >= 500) return new ServiceFailure('upstream_unavailable', 'Plaid is unavailable; try again shortly.');
      return new ServiceFailure(
        'upstream_rejected',
        'Plaid rejected the request; the service operator has been alerted.',
      );
    }
  }
}

/** The loggable projection of a Plaid failure: status and codes, never its body. */
export function plaidFailureFields(outcome: PlaidFailure): Record<string, unknown> {
  if (outcome.kind === 'plaid_error') {
    const { status, error_type, error_code, request_id } = outcome.error;
    return {
      attempts: outcome.attempts,
      plaid_status: status,
      plaid_error_type: error_type,
      plaid_error_code: error_code,
      plaid_request_id: request_id,
    };
  }
  return {
    attempts: outcome.attempts,
    failure: outcome.kind,
    ...('code' in outcome ? { network_code: outcome.code } : {}),
  };
}
