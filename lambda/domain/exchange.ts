// The exchange of one public token into an Item in the vault, exactly once, whoever delivers the
// token: the app's POST /items (first try or retry), a Link session's webhook, or reconciliation.
//
// A claim record keyed by the token's hash (never the token), scoped to the tenant, is written
// with a conditional put before Plaid is asked: a second delivery finds it and is answered what
// the first one ended with, waits for it while it runs, or (another user's) is refused as an
// invalid token would be. Every step after Plaid's exchange completes or is undone: an Item Plaid
// created is removed at Plaid again when it cannot be stored (Plaid would bill an Item nobody can
// reach), and a failed undo is logged for an operator by item id.
import { createHash } from 'node:crypto';
import type { Tenant } from '../config/tenant-schema.ts';
import { isServiceFailure, ServiceFailure } from './failure.ts';
import { publishItemEvent, type ChangeOrigin } from './item-events.ts';
import type {
  ExchangeOutcome,
  ItemOwner,
  Logger,
  PlaidCredentials,
  PlaidFailure,
  PlaidResult,
  ServiceDeps,
  StoredItem,
} from './ports.ts';
import { plaidFailure, plaidFailureFields, withinBudget } from './upstream.ts';

/**
 * Of the budget, this much is kept for undoing an exchange (one /item/remove) when a later step
 * fails, so the undo still fits inside the function's timeout.
 */
export const UNDO_RESERVE_MS = 1500;

/** Longer than any request lives (API Gateway ends one at 30 s): a pending claim older than this was abandoned. */
const CLAIM_LEASE_MS = 35_000;
/** How long a settled exchange answers a repeat: public tokens live 30 minutes, apps retry for hours at most. */
const CLAIM_KEEP_SECONDS = 24 * 3600;
const CLAIM_POLL_MS = 100;

export const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

export interface ExchangeRequest {
  readonly tenant: Tenant;
  readonly owner: ItemOwner;
  readonly credentials: PlaidCredentials;
  readonly baseUrl: string;
  readonly publicToken: string;
  /** Absolute time by which everything, the undo included, ends. */
  readonly deadline: number;
  readonly origin: ChangeOrigin;
  readonly log: Logger;
}

/** An Item stored for the owner (created now or earlier), or the refusal to answer with. */
export type ExchangeResult =
  | { readonly kind: 'stored'; readonly item: StoredItem; readonly created: boolean }
  | { readonly kind: 'refused'; readonly failure: ServiceFailure };

export async function exchangeOnce(req: ExchangeRequest, deps: ServiceDeps): Promise<ExchangeResult> {
  const { owner, log } = req;
  const tokenHash = sha256Hex(req.publicToken);
  const waitUntil = req.deadline - UNDO_RESERVE_MS;
  for (;;) {
    const now = deps.now();
    const claim = await withinBudget(
      deps.vault.claimExchange(owner, tokenHash, {
        nowMs: now,
        leaseMs: CLAIM_LEASE_MS,
        keepUntilEpochSeconds: Math.floor(now / 1000) + CLAIM_KEEP_SECONDS,
      }),
      waitUntil - now,
    );
    if (claim.state === 'claimed') break;
    if (claim.state === 'foreign') {
      // Exactly what Plaid answers for a spent token: nothing tells this caller whose it was.
      log.warn('items.exchange_foreign_token', { origin: req.origin });
      return { kind: 'refused', failure: invalidPublicToken() };
    }
    if (claim.state === 'settled') return replay(owner, claim.outcome, req.tenant, deps);
    // Another request of this owner is exchanging it: its answer is this one's too.
    if (deps.now() + CLAIM_POLL_MS >= waitUntil) {
      throw new ServiceFailure('conflict', 'This public_token is being exchanged by another request; retry shortly.', {
        retryAfterSeconds: 1,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
  }

  const forwardDeadline = req.deadline - UNDO_RESERVE_MS;
  const exchanged = await deps.plaid.call<{ access_token: string; item_id: string }>('/item/public_token/exchange', {
    baseUrl: req.baseUrl,
    credentials: req.credentials,
    body: { public_token: req.publicToken },
    deadline: forwardDeadline,
    // A spent public token cannot be exchanged again: a lost answer is not retried.
    repeatable: false,
    read: (json) => {
      const access_token = str(json, 'access_token');
      const item_id = str(json, 'item_id');
      return access_token && item_id ? { access_token, item_id } : undefined;
    },
  });
  if (!exchanged.ok) {
    log.error('plaid.item_exchange_failed', { origin: req.origin, ...plaidFailureFields(exchanged) });
    // Nothing was created: the next delivery of the token may try again.
    await deps.vault.releaseExchange(owner, tokenHash).catch(() => undefined);
    throw exchangeFailure(exchanged, deps.rateLimitRetryAfterSeconds);
  }
  const { access_token: accessToken, item_id: itemId } = exchanged.value;
  const undo = (reason: string) =>
    removeAtPlaid({ ...req, accessToken, itemId, reason }, deps).then(() =>
      deps.vault.settleExchange(owner, tokenHash, { kind: 'undone' }).catch(() => undefined),
    );

  let result: ExchangeResult;
  try {
    result = await storeExchanged({ ...req, itemId, accessToken, forwardDeadline, tokenHash }, deps);
  } catch (error) {
    // Anything after the exchange that did not complete is undone.
    await undo(isServiceFailure(error) ? error.kind : 'internal');
    throw error;
  }
  if (result.kind === 'stored' && result.created) {
    log.info('items.created', { item_id: itemId, institution_id: result.item.institutionId, origin: req.origin });
    await publishItemEvent('created', owner, result.item, req.origin, deps, result.item.createdAt);
  }
  return result;
}

/** What a repeat of a settled exchange is answered: the same Item, or the same refusal, without Plaid. */
async function replay(
  owner: ItemOwner,
  outcome: ExchangeOutcome,
  tenant: Tenant,
  deps: ServiceDeps,
): Promise<ExchangeResult> {
  switch (outcome.kind) {
    case 'stored': {
      const item = await deps.vault.getItem(owner, outcome.itemId);
      // Removed since: the token is spent, as Plaid would say.
      return item ? { kind: 'stored', item, created: false } : { kind: 'refused', failure: invalidPublicToken() };
    }
    case 'duplicate':
      return { kind: 'refused', failure: duplicateRefused(outcome.existingItemId) };
    case 'over_limit':
      return { kind: 'refused', failure: overLimit(tenant.items.max_per_user) };
    case 'undone':
      return { kind: 'refused', failure: invalidPublicToken() };
  }
}

/** The steps between a successful exchange and a stored Item: a thrown failure is undone by the caller. */
async function storeExchanged(
  req: ExchangeRequest & { itemId: string; accessToken: string; forwardDeadline: number; tokenHash: string },
  deps: ServiceDeps,
): Promise<ExchangeResult> {
  const { owner, itemId, accessToken, forwardDeadline, tenant, log } = req;
  const remaining = () => forwardDeadline - deps.now();

  // An update-mode session's public token exchanges for the Item it repaired: nothing is new.
  const holder = await withinBudget(deps.vault.findItemOwner(tenant.id, itemId), remaining());
  if (holder) {
    const held = holder.clientUserId === owner.clientUserId ? await deps.vault.getItem(owner, itemId) : undefined;
    if (!held) {
      // Another user's Item: never removed (it is theirs), never shown.
      log.error('items.exchange_yielded_foreign_item', { item_id: itemId, origin: req.origin });
      await settleKept(req, { kind: 'undone' }, deps);
      return { kind: 'refused', failure: invalidPublicToken() };
    }
    log.info('items.exchange_yielded_held_item', { item_id: itemId, origin: req.origin, removed_at_plaid: false });
    await settleKept(req, { kind: 'stored', itemId }, deps);
    return { kind: 'stored', item: held, created: false };
  }

  const details = await deps.plaid.call<{ institution_id: string | null; institution_name: string | null }>(
    '/item/get',
    {
      baseUrl: req.baseUrl,
      credentials: req.credentials,
      body: { access_token: accessToken },
      deadline: forwardDeadline,
      repeatable: true,
      read: (json) => {
        const item = json.item as Record<string, unknown> | undefined;
        if (!item || typeof item !== 'object' || item.item_id !== itemId) return undefined;
        return {
          institution_id: str(item, 'institution_id') ?? null,
          institution_name: str(item, 'institution_name') ?? null,
        };
      },
    },
  );
  if (!details.ok) {
    log.error('plaid.item_get_failed', { item_id: itemId, ...plaidFailureFields(details) });
    throw plaidFailure(details, deps.rateLimitRetryAfterSeconds);
  }
  const { institution_id, institution_name } = details.value;

  const live = (await withinBudget(deps.vault.listItems(owner), remaining())).filter(
    (item) => item.status !== 'revoked' && item.itemId !== itemId,
  );
  // Another live Item of this user at the same institution?
  const existing =
    institution_id === null || tenant.items.duplicates === 'allow'
      ? undefined
      : live.find((item) => item.institutionId === institution_id);
  if (existing && tenant.items.duplicates === 'refuse') {
    await refuse(req, 'duplicate_refused', { kind: 'duplicate', existingItemId: existing.itemId }, deps);
    log.info('items.duplicate_refused', { item_id: itemId, existing_item_id: existing.itemId, institution_id });
    return { kind: 'refused', failure: duplicateRefused(existing.itemId) };
  }
  // The Item a replacement removes frees its place.
  const counted = existing ? live.length - 1 : live.length;
  if (counted >= tenant.items.max_per_user) {
    await refuse(req, 'over_limit', { kind: 'over_limit', limit: tenant.items.max_per_user }, deps);
    log.info('items.limit_refused', { item_id: itemId, live_items: counted, limit: tenant.items.max_per_user });
    return { kind: 'refused', failure: overLimit(tenant.items.max_per_user) };
  }

  const at = new Date(deps.now()).toISOString();
  const item: StoredItem = {
    itemId,
    institutionId: institution_id,
    institutionName: institution_name,
    status: 'healthy',
    createdAt: at,
    updatedAt: at,
  };
  const outcome = await withinBudget(deps.vault.putItem(owner, item, accessToken), remaining());
  const stored =
    outcome === 'created' ? item : ((await deps.vault.getItem(owner, itemId).catch(() => undefined)) ?? item);
  await settleKept(req, { kind: 'stored', itemId }, deps);
  if (existing && tenant.items.duplicates === 'replace') {
    // The new Item is stored: a failure here leaves the old one in place, never the new one undone.
    await replaceOld(owner, existing, req, deps).catch((error: unknown) =>
      log.error('items.replace_old_removal_failed', { item_id: existing.itemId, error_name: (error as Error)?.name }),
    );
  }
  return { kind: 'stored', item: stored, created: outcome === 'created' };
}

/**
 * Settles a claim once the Item is the user's for good: a failure here must not undo it (the
 * caller would remove a stored Item at Plaid), so it is logged, and the claim's lease runs out.
 */
async function settleKept(
  req: { owner: ItemOwner; tokenHash: string; itemId: string; log: Logger },
  outcome: ExchangeOutcome,
  deps: ServiceDeps,
): Promise<void> {
  try {
    await deps.vault.settleExchange(req.owner, req.tokenHash, outcome);
  } catch (error) {
    req.log.warn('items.exchange_settle_failed', { item_id: req.itemId, error_name: (error as Error)?.name });
  }
}

/** A refused new Item: removed at Plaid again, and the refusal kept as the token's answer. */
async function refuse(
  req: ExchangeRequest & { itemId: string; accessToken: string; tokenHash: string },
  reason: string,
  outcome: ExchangeOutcome,
  deps: ServiceDeps,
): Promise<void> {
  await removeAtPlaid({ ...req, reason }, deps);
  await deps.vault.settleExchange(req.owner, req.tokenHash, outcome);
}

export function invalidPublicToken(): ServiceFailure {
  return new ServiceFailure(
    'invalid_request',
    'The public_token is invalid or has expired (they are single-use and live 30 minutes): link again.',
    { errors: [{ field: 'public_token', message: 'is invalid, already exchanged or expired' }] },
  );
}

function duplicateRefused(existingItemId: string): ServiceFailure {
  return new ServiceFailure(
    'conflict',
    'The user already has a live Item at this institution; offer update mode for it instead.',
    { extensions: { existing_item_id: existingItemId } },
  );
}

export function overLimit(limit: number): ServiceFailure {
  return new ServiceFailure(
    'conflict',
    `The user already has ${limit} live Items, the most this app allows (items.max_per_user): remove one to link another.`,
    { extensions: { max_per_user: limit } },
  );
}

function exchangeFailure(outcome: PlaidFailure, rateLimitRetryAfterSeconds: number): ServiceFailure {
  if (
    outcome.kind === 'plaid_error' &&
    outcome.error.error_type === 'INVALID_INPUT' &&
    outcome.error.error_code === 'INVALID_PUBLIC_TOKEN'
  ) {
    return invalidPublicToken();
  }
  return plaidFailure(outcome, rateLimitRetryAfterSeconds);
}

const str = (json: Record<string, unknown>, key: string) => (typeof json[key] === 'string' ? json[key] : undefined);

/** Plaid has already forgotten the Item: removing it again is success. */
export function alreadyGone(outcome: PlaidFailure): boolean {
  return (
    outcome.kind === 'plaid_error' &&
    (outcome.error.error_code === 'ITEM_NOT_FOUND' || outcome.error.error_code === 'INVALID_ACCESS_TOKEN')
  );
}

export function callRemove(
  req: { baseUrl: string; credentials: PlaidCredentials; accessToken: string; deadline: number },
  deps: Pick<ServiceDeps, 'plaid'>,
): Promise<PlaidResult<true>> {
  return deps.plaid.call('/item/remove', {
    baseUrl: req.baseUrl,
    credentials: req.credentials,
    body: { access_token: req.accessToken },
    deadline: req.deadline,
    repeatable: true,
    read: () => true as const,
  });
}

/** Undoes an exchange: the Item Plaid just created is removed again. Never throws. */
async function removeAtPlaid(
  req: {
    baseUrl: string;
    credentials: PlaidCredentials;
    accessToken: string;
    itemId: string;
    deadline: number;
    reason: string;
    log: Logger;
  },
  deps: ServiceDeps,
): Promise<void> {
  let removed: PlaidResult<true>;
  try {
    removed = await callRemove(req, deps);
  } catch {
    removed = { ok: false, kind: 'network', code: 'CLIENT_ERROR', attempts: 1 };
  }
  if (removed.ok || alreadyGone(removed)) {
    req.log.warn('items.exchange_undone', { item_id: req.itemId, reason: req.reason });
    return;
  }
  // Plaid keeps (and bills) an Item nobody holds a token for: an operator removes it by id.
  req.log.error('items.orphan_removal_failed', {
    item_id: req.itemId,
    reason: req.reason,
    ...plaidFailureFields(removed),
  });
}

/** Policy "replace": the user's older Item at this institution goes, at Plaid and in the store. */
async function replaceOld(
  owner: ItemOwner,
  old: StoredItem,
  req: { baseUrl: string; credentials: PlaidCredentials; deadline: number; log: Logger },
  deps: ServiceDeps,
): Promise<void> {
  const accessToken = await deps.vault.accessToken(owner, old.itemId);
  const removed = accessToken === undefined ? undefined : await callRemove({ ...req, accessToken }, deps);
  if (removed && !removed.ok && !alreadyGone(removed)) {
    // The old record stays, with its token, so the removal can be retried (DELETE /items/{id}).
    req.log.error('items.replace_old_removal_failed', { item_id: old.itemId, ...plaidFailureFields(removed) });
    return;
  }
  await deps.vault.deleteItem(owner, old.itemId);
  req.log.info('items.replaced', { item_id: old.itemId });
  await publishItemEvent('removed', owner, old, 'duplicate_replaced', deps);
}
