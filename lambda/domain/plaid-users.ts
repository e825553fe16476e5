// Plaid users (/user/create): Income, Multi-Item Link, Protect and Plaid Check need one per end
// user. The service creates it once per tenant and client_user_id, on the first link token that
// needs it, keeps it in the vault (the user token encrypted like an access token) and sends it
// in every later link token for that user. Plaid Check also needs the user's identity data
// (consumer_report_user_identity), which the service does not hold: those profiles stay warned.
import { PLAID_USER_PRODUCTS } from '../config/plaid-vocabulary.ts';
import type { LinkProfile } from '../config/tenant-schema.ts';
import type { ItemOwner, PlaidCredentials, PlaidUser, ServiceDeps } from './ports.ts';
import { plaidFailure, plaidFailureFields, withinBudget } from './upstream.ts';

const PRODUCT_FIELDS = [
  'products',
  'required_if_supported_products',
  'optional_products',
  'additional_consented_products',
] as const;
const USER_BOUND: ReadonlySet<string> = new Set([...PLAID_USER_PRODUCTS, 'income_verification']);

/** Whether link tokens of this profile carry the user's Plaid user. */
export function needsPlaidUser(profile: LinkProfile): boolean {
  if (profile.enable_multi_item_link) return true;
  return PRODUCT_FIELDS.some((field) => (profile[field] ?? []).some((product: string) => USER_BOUND.has(product)));
}

/** The owner's Plaid user, created at Plaid and stored on first use. */
export async function ensurePlaidUser(
  req: { owner: ItemOwner; baseUrl: string; credentials: PlaidCredentials; deadline: number },
  deps: ServiceDeps,
): Promise<PlaidUser> {
  const remaining = () => req.deadline - deps.now();
  const stored = await withinBudget(deps.vault.plaidUser(req.owner), remaining());
  if (stored) return stored;
  const created = await deps.plaid.call<{ user_id: string; user_token?: string }>('/user/create', {
    baseUrl: req.baseUrl,
    credentials: req.credentials,
    body: { client_user_id: req.owner.clientUserId },
    deadline: req.deadline,
    // A second /user/create for the same client_user_id is refused by Plaid: never retried blind.
    repeatable: false,
    read: (json) => {
      const userId = typeof json.user_id === 'string' ? json.user_id : undefined;
      const userToken = typeof json.user_token === 'string' ? json.user_token : undefined;
      return userId ? { user_id: userId, ...(userToken ? { user_token: userToken } : {}) } : undefined;
    },
  });
  if (!created.ok) {
    deps.logger.error('plaid.user_create_failed', plaidFailureFields(created));
    throw plaidFailure(created, deps.rateLimitRetryAfterSeconds);
  }
  const user: PlaidUser = {
    userId: created.value.user_id,
    userToken: created.value.user_token,
    createdAt: new Date(deps.now()).toISOString(),
  };
  const outcome = await withinBudget(deps.vault.putPlaidUser(req.owner, user), remaining());
  if (outcome === 'exists') {
    // Another request of the same user stored one first: that one is the user's.
    const winner = await withinBudget(deps.vault.plaidUser(req.owner), remaining());
    if (winner) return winner;
  }
  deps.logger.info('plaid.user_created', { user_id: user.userId });
  return user;
}
