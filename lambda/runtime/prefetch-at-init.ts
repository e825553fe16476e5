// Cold start, before the first request: when every tenant trusts the same identity provider, its
// signing keys and the secrets a first request needs are fetched all at once during init,
// instead of inside that request. handler.ts awaits this at module level, so Lambda's init phase
// carries it: nothing is left in flight when an environment is frozen after init (provisioned
// concurrency), and a failure only means the request path fetches as it always could.
//
// With more issuers, nothing is prefetched. Fetching every issuer's keys made every cold start
// pay for tenants its first request is not for (a thousand tenants: a thousand JWKS fetches per
// cold start), and init awaiting a slow identity provider of one tenant delayed the first request
// of every other. Instead each first request fetches its own tenant's keys and secrets
// concurrently (auth/authenticate.ts onKeysFetchedFor): one round trip, as with the prefetch.
// Prefetching only the secrets (shared by all) would add a round trip to init and save none on
// the request, which still waits for its keys.
import type { IssuerKeys, KeyPrefetchFailure } from '../auth/authenticate.ts';
import type { TenantDirectory } from '../config/tenant-directory.ts';
import { causeName } from '../domain/failure.ts';
import type { Logger, SecretSource } from '../domain/ports.ts';

/** What an init prefetch fetches at most, whatever the tenant count: one issuer's keys and three secrets. */
export const INIT_PREFETCH_BOUNDS = { issuers: 1, secretReads: 3 } as const;

export interface PrefetchPlan {
  /** The issuers whose keys to fetch now. */
  readonly issuers: readonly string[];
  /** In priority order: the shared client_user_id key first, then tenants' Plaid secrets in file order. */
  readonly secretIds: readonly string[];
  /** Tenants whose secret is left to their first request. */
  readonly tenantsNotPrefetched: number;
}

/** What to prefetch: for tenants of one issuer, its keys and secrets within the bound and `maxSecrets`; otherwise nothing. */
export function planInitPrefetch(tenants: TenantDirectory, maxSecrets: number): PrefetchPlan | undefined {
  if (tenants.issuers.length > INIT_PREFETCH_BOUNDS.issuers) return undefined;
  const cap = Math.min(maxSecrets, INIT_PREFETCH_BOUNDS.secretReads);
  const secretIds = new Set<string>(tenants.usesSharedKey && cap > 0 ? [tenants.clientUserIdKeySecretId] : []);
  // Tenants are parsed one by one, only as far as the cap reaches.
  let covered = 0;
  for (const id of tenants.ids) {
    const secretId = tenants.get(id)!.plaid.secret_id;
    if (!secretIds.has(secretId)) {
      if (secretIds.size >= cap) break;
      secretIds.add(secretId);
    }
    covered++;
  }
  return { issuers: tenants.issuers, secretIds: [...secretIds], tenantsNotPrefetched: tenants.size - covered };
}

export async function prefetchAtInit(opts: {
  readonly plan: PrefetchPlan;
  readonly keys: IssuerKeys;
  readonly secrets: SecretSource;
  readonly logger: Logger;
  readonly now?: () => number;
}): Promise<void> {
  const { plan, logger } = opts;
  const now = opts.now ?? Date.now;
  const started = now();
  const [keyFailures, secretResults] = await Promise.all([
    plan.issuers.length === 0 ? Promise.resolve<KeyPrefetchFailure[]>([]) : opts.keys.prefetchKeys(plan.issuers),
    Promise.allSettled(plan.secretIds.map((secretId) => opts.secrets.get(secretId))),
  ]);
  for (const { issuer, error_name } of keyFailures)
    logger.warn('init.prefetch_failed', { what: 'jwks', issuer, error_name });
  secretResults.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    logger.warn('init.prefetch_failed', {
      what: 'secret',
      secret_id: plan.secretIds[i],
      error_name: causeName((result.reason as Error)?.cause) ?? causeName(result.reason) ?? 'Error',
    });
  });
  logger.info('init.prefetched', {
    issuers: plan.issuers.length,
    secrets: plan.secretIds.length,
    tenants_not_prefetched: plan.tenantsNotPrefetched,
    failures: keyFailures.length + secretResults.filter((r) => r.status === 'rejected').length,
    duration_ms: now() - started,
  });
}
