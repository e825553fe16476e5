// DELETE /me: a user leaves. Every Item of theirs is removed at Plaid (/item/remove, so billing
// and data access stop) and then from the vault, their Plaid user is removed (/user/remove), and
// every other record kept for them (sessions, exchange keys) is deleted; the tenant's backend
// hears of it by one `user.erased` event, to delete its own copies.
//
// Resumable: a marker record is written first and counts the Items removed; an Item leaves the
// vault only once Plaid has let it go, so a failure part-way (Plaid, the budget) answers "retry"
// with nothing dropped that Plaid still holds, and the retry finishes the rest. Idempotent: a
// user with no records is erased already, and nothing is asked of Plaid.
import type { Tenant } from '../config/tenant-schema.ts';
import { alreadyGone, callRemove } from './exchange.ts';
import { isServiceFailure, ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import { eventIdOf, USER_ERASED_EVENT_TYPE } from './item-events.ts';
import type { ItemOwner, PlaidCredentials, PlaidFailure, ServiceDeps } from './ports.ts';
import { credentialsAndOwner, plaidBaseUrl, plaidFailureFields, withinBudget } from './upstream.ts';

/** Kept back from the budget for the records and the event after the last Plaid call. */
const FINISH_RESERVE_MS = 1500;
const RETRY_AFTER_SECONDS = 2;

export async function eraseUser(
  input: { tenant: Tenant; identity: VerifiedIdentity },
  deps: ServiceDeps,
): Promise<{ itemsRemoved: number; erased: boolean }> {
  const { tenant } = input;
  const started = deps.now();
  const deadline = started + deps.budgetMs;
  const remaining = () => deadline - deps.now();
  const log = deps.logger.child({ tenant: tenant.id });
  const { credentials, owner } = await withinBudget(credentialsAndOwner(input, deps), remaining());

  const records = await withinBudget(deps.vault.userRecords(owner), remaining());
  const nothingKept =
    records.items.length === 0 &&
    !records.plaidUser &&
    records.sessionHashes.length === 0 &&
    records.exchangeHashes.length === 0 &&
    !records.erasure;
  if (nothingKept) {
    log.info('users.erase_nothing_kept', {});
    return { itemsRemoved: 0, erased: false };
  }
  const marker = await withinBudget(deps.vault.beginErasure(owner, new Date(started).toISOString()), remaining());
  const baseUrl = plaidBaseUrl(tenant, deps.plaidBaseUrlOverride);
  const plaidDeadline = deadline - FINISH_RESERVE_MS;
  let removedNow = 0;
  const unfinished = (reason: string, cause?: unknown): ServiceFailure => {
    log.warn('users.erase_unfinished', { reason, items_left: records.items.length - removedNow });
    return new ServiceFailure(
      'upstream_unavailable',
      "The user's data is not all erased yet: retry the same request to finish.",
      { retryAfterSeconds: RETRY_AFTER_SECONDS, cause: isServiceFailure(cause) ? { name: cause.kind } : undefined },
    );
  };

  for (const item of records.items) {
    if (plaidDeadline - deps.now() < 500) throw unfinished('budget');
    const accessToken = await withinBudget(deps.vault.accessToken(owner, item.itemId), remaining());
    if (accessToken !== undefined) {
      const removed = await callRemove({ baseUrl, credentials, accessToken, deadline: plaidDeadline }, deps);
      if (!removed.ok && !alreadyGone(removed)) {
        log.error('plaid.item_remove_failed', { item_id: item.itemId, ...plaidFailureFields(removed) });
        throw unfinished('plaid');
      }
    }
    await withinBudget(deps.vault.deleteItem(owner, item.itemId), remaining());
    await withinBudget(deps.vault.countErasedItem(owner), remaining());
    removedNow++;
  }

  if (records.plaidUser) {
    const user = await withinBudget(deps.vault.plaidUser(owner), remaining());
    if (user) await removePlaidUser(owner, user, { baseUrl, credentials, deadline: plaidDeadline }, deps, unfinished);
    await withinBudget(deps.vault.deletePlaidUser(owner), remaining());
  }
  try {
    for (const hash of records.sessionHashes) await deps.vault.forgetSession(owner, hash);
    for (const hash of records.exchangeHashes) await deps.vault.forgetExchange(owner, hash);
  } catch (error) {
    throw unfinished('vault', error);
  }

  const itemsRemoved = marker.itemsRemoved + removedNow;
  const at = new Date(deps.now()).toISOString();
  try {
    await withinBudget(
      deps.events.publish({
        origin: 'user_lifecycle',
        detailType: USER_ERASED_EVENT_TYPE,
        time: new Date(at),
        detail: {
          event_id: eventIdOf(owner.tenantId, owner.clientUserId, USER_ERASED_EVENT_TYPE, marker.startedAt),
          tenant_id: owner.tenantId,
          client_user_id: owner.clientUserId,
          items_removed: itemsRemoved,
          at,
        },
      }),
      remaining(),
    );
  } catch (error) {
    // The marker stays: the retry publishes the event it owes.
    log.error('events.publish_failed', { detail_type: USER_ERASED_EVENT_TYPE, error_name: (error as Error)?.name });
    throw unfinished('events', error);
  }
  await withinBudget(deps.vault.endErasure(owner), remaining());
  log.info('users.erased', { items_removed: itemsRemoved, duration_ms: deps.now() - started });
  return { itemsRemoved, erased: true };
}

async function removePlaidUser(
  owner: ItemOwner,
  user: { userId: string; userToken?: string },
  req: { baseUrl: string; credentials: PlaidCredentials; deadline: number },
  deps: ServiceDeps,
  unfinished: (reason: string) => ServiceFailure,
): Promise<void> {
  const removed = await deps.plaid.call<true>('/user/remove', {
    ...req,
    // Integrations since 2025-12 name the user by user_id; older ones by user_token.
    body: user.userToken ? { user_token: user.userToken } : { user_id: user.userId },
    repeatable: true,
    read: () => true,
  });
  if (!removed.ok && !userAlreadyGone(removed)) {
    deps.logger.error('plaid.user_remove_failed', { tenant: owner.tenantId, ...plaidFailureFields(removed) });
    throw unfinished('plaid');
  }
}

/** Plaid no longer knows the user: removing it again is success. */
function userAlreadyGone(outcome: PlaidFailure): boolean {
  return (
    outcome.kind === 'plaid_error' &&
    ['USER_NOT_FOUND', 'INVALID_USER_TOKEN', 'INVALID_USER_ID'].includes(outcome.error.error_code ?? '')
  );
}
