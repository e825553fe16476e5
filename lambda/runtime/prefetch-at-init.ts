// Cold start, before the first request: the issuers' signing keys and the secrets a first request
// needs are fetched all at once, instead of one after another inside that request (JWKS, then
// Secrets Manager, then Plaid). handler.ts awaits this at module level, so Lambda's init phase
// carries it: nothing is left in flight when an environment is frozen after init (provisioned
// concurrency), and a failure only means the request path fetches as it always could.
import type { KeyPrefetchFailure } from '../auth/authenticate.ts';
import { causeName } from '../domain/failure.ts';
import type { Logger, SecretSource } from '../domain/ports.ts';

export interface PrefetchPlan {
  /** Fills the JWKS cache of every issuer; resolves with the issuers that failed. */
  readonly keys: () => Promise<KeyPrefetchFailure[]>;
  readonly secrets: SecretSource;
  /** In priority order: the shared client_user_id key first, then each tenant's Plaid secret. */
  readonly secretIds: readonly string[];
  /** A cap on reads per cold start: a deployment with many tenants should not read them all. */
  readonly maxSecrets: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export async function prefetchAtInit(plan: PrefetchPlan): Promise<void> {
  const now = plan.now ?? Date.now;
  const started = now();
  const secretIds = [...new Set(plan.secretIds)].slice(0, plan.maxSecrets);
  const [keyFailures, secretResults] = await Promise.all([
    plan.keys(),
    Promise.allSettled(secretIds.map((secretId) => plan.secrets.get(secretId))),
  ]);
  for (const { issuer, error_name } of keyFailures) plan.logger.warn('init.prefetch_failed', { what: 'jwks', issuer, error_name });
  secretResults.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    plan.logger.warn('init.prefetch_failed', { what: 'secret', secret_id: secretIds[i], error_name: causeName((result.reason as Error)?.cause) ?? causeName(result.reason) ?? 'Error' });
  });
  plan.logger.info('init.prefetched', {
    secrets: secretIds.length,
    secrets_not_prefetched: new Set(plan.secretIds).size - secretIds.length,
    failures: keyFailures.length + secretResults.filter((r) => r.status === 'rejected').length,
    duration_ms: now() - started,
  });
}
