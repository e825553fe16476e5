// The service's own changes, told to the tenant's backend on the bus beside the Plaid webhooks it
// hands on: an Item created, removed or changed in status, a user erased. Each event id is derived
// from what happened, so a consumer can drop a repeat; the service publishes each once (the
// exchange and webhook claims make retries, replays and reconciliation add no second).
import { createHash } from 'node:crypto';
import type { ItemOwner, ServiceDeps, StoredItem } from './ports.ts';

export const ITEM_EVENT_TYPES = {
  created: 'item.created',
  removed: 'item.removed',
  status_changed: 'item.status_changed',
} as const;
export const USER_ERASED_EVENT_TYPE = 'user.erased';

export type ItemChange = keyof typeof ITEM_EVENT_TYPES;

/** Who made the change: the app's POST /items, a Link session's webhook, reconciliation, a Plaid webhook, … */
export type ChangeOrigin =
  'app' | 'session_webhook' | 'reconciliation' | 'plaid_webhook' | 'item_get' | 'duplicate_replaced';

export const eventIdOf = (...parts: readonly (string | number)[]) =>
  createHash('sha256').update(parts.join('\n')).digest('hex');

/**
 * Publishes one Item event. The change is made already: a publish failure is logged for an
 * operator (events.publish_failed) and never undoes it or fails the request.
 */
export async function publishItemEvent(
  change: ItemChange,
  owner: ItemOwner,
  item: Pick<StoredItem, 'itemId' | 'institutionId' | 'status'>,
  origin: ChangeOrigin,
  deps: Pick<ServiceDeps, 'events' | 'logger' | 'now'>,
  at = new Date(deps.now()).toISOString(),
): Promise<void> {
  const eventId =
    change === 'status_changed'
      ? eventIdOf(owner.tenantId, item.itemId, change, item.status, at)
      : eventIdOf(owner.tenantId, item.itemId, change);
  try {
    await deps.events.publish({
      origin: 'item_lifecycle',
      detailType: ITEM_EVENT_TYPES[change],
      time: new Date(at),
      detail: {
        event_id: eventId,
        tenant_id: owner.tenantId,
        client_user_id: owner.clientUserId,
        item_id: item.itemId,
        institution_id: item.institutionId,
        status: change === 'removed' ? 'removed' : item.status,
        at,
        via: origin,
      },
    });
  } catch (error) {
    deps.logger.error('events.publish_failed', {
      tenant: owner.tenantId,
      detail_type: ITEM_EVENT_TYPES[change],
      item_id: item.itemId,
      event_id: eventId,
      error_name: (error as Error)?.name,
    });
  }
}
