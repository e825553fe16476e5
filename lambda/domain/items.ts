// The user's Items: exchanging Link's public_token for an Item kept in the vault, listing them,
// and removing one. The caller is always the verified user; an item_id is only ever looked up in
// that user's own records, so another user's Item is indistinguishable from none.
//
// Every multi-step write completes or is undone: an Item Plaid created is removed at Plaid again
// when it cannot be stored (Plaid would bill an Item nobody can reach), and a failed undo is
// logged for an operator by item id.
import * as v from 'valibot';
import type { Tenant } from '../config/tenant-schema.ts';
import { isFailureOf, isServiceFailure, itemNotFound, ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import { actionFor, type ItemAction } from './item-status.ts';
import type {
  ItemOwner,
  Logger,
  PlaidCredentials,
  PlaidFailure,
  PlaidResult,
  ServiceDeps,
  StoredItem,
} from './ports.ts';
import { credentialsAndOwner, plaidBaseUrl, plaidFailure, plaidFailureFields, withinBudget } from './upstream.ts';

/** What the app sees of an Item: never a token. */
export interface ItemView {
  readonly item_id: string;
  readonly institution: { readonly institution_id: string | null; readonly name: string | null };
  readonly status: StoredItem['status'];
  /** What the app should offer: update mode, update mode with Account Select, linking again, or nothing. */
  readonly action: ItemAction;
  /** When the Item's consent expires, once Plaid has said so (PENDING_EXPIRATION). */
  readonly consent_expiration_time: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/** Login-required Items checked with Plaid per list, at most: update mode fixes an Item without a webhook. */
const MAX_REFRESHES_PER_LIST = 5;

/**
 * Of the budget, this much is kept for undoing an exchange (one /item/remove) when a later step
 * fails, so the undo still fits inside the function's timeout.
 */
const UNDO_RESERVE_MS = 1500;

// Plaid's public tokens: public-<environment>-<uuid>. Anything else never reaches Plaid.
const PUBLIC_TOKEN = /^public-(sandbox|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const LinkItemBodySchema = v.strictObject({
  public_token: v.pipe(
    v.string('must be a string'),
    v.regex(PUBLIC_TOKEN, 'must be the public_token Plaid Link returned (public-<environment>-<uuid>)'),
  ),
});

/** POST /items's body: exactly {public_token}; any other field is refused by name. */
export function parseLinkItemBody(body: unknown): { publicToken: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ServiceFailure('invalid_request', 'The request body must be a JSON object.', {
      errors: [{ field: '(body)', message: 'must be a JSON object' }],
    });
  }
  const errors = Object.keys(body)
    .filter((field) => field !== 'public_token')
    .map((field) => ({ field, message: 'is not a field a client may set (allowed: public_token)' }));
  const result = v.safeParse(LinkItemBodySchema, body);
  for (const issue of result.success ? [] : result.issues) {
    if (issue.expected === 'never') continue;
    errors.push({ field: 'public_token', message: issue.input === undefined ? 'is required' : issue.message });
  }
  if (result.success && errors.length === 0) return { publicToken: result.output.public_token };
  throw new ServiceFailure(
    'invalid_request',
    `Invalid request field ${errors.map((e) => `'${e.field}'`).join(', ')}.`,
    { errors },
  );
}

export function itemView(item: StoredItem): ItemView {
  return {
    item_id: item.itemId,
    institution: { institution_id: item.institutionId, name: item.institutionName },
    status: item.status,
    action: actionFor(item.status),
    consent_expiration_time: item.consentExpirationTime ?? null,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
  };
}

interface Exchanged {
  readonly access_token: string;
  readonly item_id: string;
  readonly request_id?: string;
}
interface ItemDetails {
  readonly institution_id: string | null;
  readonly institution_name: string | null;
}

const str = (json: Record<string, unknown>, key: string) => (typeof json[key] === 'string' ? json[key] : undefined);

export async function linkItem(
  input: { tenant: Tenant; identity: VerifiedIdentity; publicToken: string },
  deps: ServiceDeps,
): Promise<{ item: ItemView; created: boolean }> {
  const { tenant } = input;
  const started = deps.now();
  const deadline = started + deps.budgetMs;
  const forwardDeadline = deadline - UNDO_RESERVE_MS;
  const baseUrl = plaidBaseUrl(tenant, deps.plaidBaseUrlOverride);
  const log = deps.logger.child({ tenant: tenant.id });

  const environment = input.publicToken.split('-')[1];
  if (environment !== tenant.plaid.environment) {
    throw new ServiceFailure(
      'invalid_request',
      `The public_token is from Plaid's ${environment} environment, not this tenant's.`,
      {
        errors: [
          {
            field: 'public_token',
            message: `must come from a Link session of this tenant (Plaid ${tenant.plaid.environment})`,
          },
        ],
      },
    );
  }
  const { credentials, owner } = await withinBudget(credentialsAndOwner(input, deps), forwardDeadline - deps.now());

  const exchanged = await deps.plaid.call<Exchanged>('/item/public_token/exchange', {
    baseUrl,
    credentials,
    body: { public_token: input.publicToken },
    deadline: forwardDeadline,
    // A spent public token cannot be exchanged again: a lost answer is not retried.
    repeatable: false,
    read: (json) => {
      const access_token = str(json, 'access_token');
      const item_id = str(json, 'item_id');
      return access_token && item_id ? { access_token, item_id, request_id: str(json, 'request_id') } : undefined;
    },
  });
  if (!exchanged.ok) {
    log.error('plaid.item_exchange_failed', plaidFailureFields(exchanged));
    throw exchangeFailure(exchanged, deps.rateLimitRetryAfterSeconds);
  }
  const { access_token: accessToken, item_id: itemId } = exchanged.value;
  const undo = (reason: string) =>
    removeAtPlaid({ baseUrl, credentials, accessToken, itemId, deadline, reason }, deps, log);

  let stored: { item: StoredItem; existing?: StoredItem; outcome: 'created' | 'exists' };
  try {
    stored = await storeExchanged(
      { owner, itemId, accessToken, baseUrl, credentials, forwardDeadline, undo },
      tenant,
      deps,
      log,
    );
  } catch (error) {
    // A refused duplicate was undone already; anything else after the exchange is undone now.
    if (!isFailureOf(error, 'conflict')) await undo(isServiceFailure(error) ? error.kind : 'internal');
    throw error;
  }
  log.info('items.created', {
    item_id: itemId,
    institution_id: stored.item.institutionId,
    duration_ms: deps.now() - started,
    already_stored: stored.outcome === 'exists',
  });
  if (stored.existing && tenant.items.duplicates === 'replace') {
    // The new Item is stored: a failure here leaves the old one in place, never the new one undone.
    await replaceOld(owner, stored.existing, { baseUrl, credentials, deadline }, deps, log).catch((error: unknown) =>
      log.error('items.replace_old_removal_failed', {
        item_id: stored.existing!.itemId,
        error_name: (error as Error)?.name,
      }),
    );
  }
  return { item: itemView(stored.item), created: stored.outcome === 'created' };
}

/** The steps between a successful exchange and a stored Item: each failure here is undone by the caller. */
async function storeExchanged(
  req: {
    owner: ItemOwner;
    itemId: string;
    accessToken: string;
    baseUrl: string;
    credentials: PlaidCredentials;
    forwardDeadline: number;
    undo: (reason: string) => Promise<void>;
  },
  tenant: Tenant,
  deps: ServiceDeps,
  log: Logger,
): Promise<{ item: StoredItem; existing?: StoredItem; outcome: 'created' | 'exists' }> {
  const { owner, itemId, accessToken, forwardDeadline } = req;
  const details = await deps.plaid.call<ItemDetails>('/item/get', {
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
  });
  if (!details.ok) {
    log.error('plaid.item_get_failed', { item_id: itemId, ...plaidFailureFields(details) });
    throw plaidFailure(details, deps.rateLimitRetryAfterSeconds);
  }
  const { institution_id, institution_name } = details.value;

  // Another live Item of this user at the same institution?
  const existing =
    institution_id === null || tenant.items.duplicates === 'allow'
      ? undefined
      : (await withinBudget(deps.vault.listItems(owner), forwardDeadline - deps.now())).find(
          (item) => item.institutionId === institution_id && item.status !== 'revoked' && item.itemId !== itemId,
        );
  if (existing && tenant.items.duplicates === 'refuse') {
    await req.undo('duplicate_refused');
    log.info('items.duplicate_refused', { item_id: itemId, existing_item_id: existing.itemId, institution_id });
    throw new ServiceFailure(
      'conflict',
      'The user already has a live Item at this institution; offer update mode for it instead.',
      {
        extensions: { existing_item_id: existing.itemId },
      },
    );
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
  const outcome = await withinBudget(deps.vault.putItem(owner, item, accessToken), forwardDeadline - deps.now());
  return { item, existing, outcome };
}

export async function listItems(
  input: { tenant: Tenant; identity: VerifiedIdentity },
  deps: ServiceDeps,
): Promise<ItemView[]> {
  const deadline = deps.now() + deps.budgetMs;
  const { owner, credentials } = await withinBudget(credentialsAndOwner(input, deps), deadline - deps.now());
  const items = await withinBudget(deps.vault.listItems(owner), deadline - deps.now());
  // Plaid sends no webhook when update mode repairs a login (LOGIN_REPAIRED is only for Items
  // that recover without it): the Items still marked login_required are asked about, so the
  // list heals itself (Plaid: "ensure your application can self-heal by requesting Item state").
  const stale = items.filter((item) => item.status === 'login_required').slice(0, MAX_REFRESHES_PER_LIST);
  const healed = new Set<string>();
  await Promise.all(
    stale.map(async (item) => {
      try {
        if (
          await repaired(
            owner,
            item.itemId,
            { baseUrl: plaidBaseUrl(input.tenant, deps.plaidBaseUrlOverride), credentials, deadline },
            deps,
          )
        ) {
          healed.add(item.itemId);
        }
      } catch (error) {
        // The list still answers with what is stored.
        deps.logger.warn('items.refresh_failed', {
          tenant: owner.tenantId,
          item_id: item.itemId,
          error_name: (error as Error)?.name,
        });
      }
    }),
  );
  const at = new Date(deps.now()).toISOString();
  return items.map((item) => itemView(healed.has(item.itemId) ? { ...item, status: 'healthy', updatedAt: at } : item));
}

/** Whether Plaid says the Item has no error any more; if so it is stored as healthy. */
async function repaired(
  owner: ItemOwner,
  itemId: string,
  req: { baseUrl: string; credentials: PlaidCredentials; deadline: number },
  deps: ServiceDeps,
): Promise<boolean> {
  const accessToken = await deps.vault.accessToken(owner, itemId);
  if (accessToken === undefined) return false;
  const outcome = await deps.plaid.call<{ healthy: boolean }>('/item/get', {
    ...req,
    body: { access_token: accessToken },
    repeatable: true,
    read: (json) => {
      const item = json.item as Record<string, unknown> | undefined;
      return item && typeof item === 'object'
        ? { healthy: item.error === null || item.error === undefined }
        : undefined;
    },
  });
  if (!outcome.ok || !outcome.value.healthy) return false;
  const applied = await deps.vault.applyItemStatus(owner, itemId, {
    status: 'healthy',
    at: new Date(deps.now()).toISOString(),
    iat: Math.floor(deps.now() / 1000),
  });
  deps.logger.info('items.status_changed', {
    tenant: owner.tenantId,
    item_id: itemId,
    status: 'healthy',
    applied,
    source: 'item_get',
  });
  return applied === 'applied';
}

export async function unlinkItem(
  input: { tenant: Tenant; identity: VerifiedIdentity; itemId: string },
  deps: ServiceDeps,
): Promise<void> {
  const { tenant, itemId } = input;
  const deadline = deps.now() + deps.budgetMs;
  const log = deps.logger.child({ tenant: tenant.id });
  const { credentials, owner } = await withinBudget(credentialsAndOwner(input, deps), deadline - deps.now());
  const accessToken = await withinBudget(deps.vault.accessToken(owner, itemId), deadline - deps.now());
  if (accessToken === undefined) throw itemNotFound();
  const removed = await callRemove(
    { baseUrl: plaidBaseUrl(tenant, deps.plaidBaseUrlOverride), credentials, accessToken, deadline },
    deps,
  );
  if (!removed.ok && !alreadyGone(removed)) {
    log.error('plaid.item_remove_failed', { item_id: itemId, ...plaidFailureFields(removed) });
    throw plaidFailure(removed, deps.rateLimitRetryAfterSeconds);
  }
  await withinBudget(deps.vault.deleteItem(owner, itemId), deadline - deps.now());
  log.info('items.removed', { item_id: itemId, plaid_already_gone: !removed.ok });
}

function exchangeFailure(outcome: PlaidFailure, rateLimitRetryAfterSeconds: number): ServiceFailure {
  if (
    outcome.kind === 'plaid_error' &&
    outcome.error.error_type === 'INVALID_INPUT' &&
    outcome.error.error_code === 'INVALID_PUBLIC_TOKEN'
  ) {
    return new ServiceFailure(
      'invalid_request',
      'The public_token is invalid or has expired (they are single-use and live 30 minutes): link again.',
      {
        errors: [{ field: 'public_token', message: 'is invalid, already exchanged or expired' }],
      },
    );
  }
  return plaidFailure(outcome, rateLimitRetryAfterSeconds);
}

/** Plaid has already forgotten the Item: removing it again is success. */
function alreadyGone(outcome: PlaidFailure): boolean {
  return (
    outcome.kind === 'plaid_error' &&
    (outcome.error.error_code === 'ITEM_NOT_FOUND' || outcome.error.error_code === 'INVALID_ACCESS_TOKEN')
  );
}

function callRemove(
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
  },
  deps: ServiceDeps,
  log: Logger,
): Promise<void> {
  let removed: PlaidResult<true>;
  try {
    removed = await callRemove(req, deps);
  } catch {
    removed = { ok: false, kind: 'network', code: 'CLIENT_ERROR', attempts: 1 };
  }
  if (removed.ok || alreadyGone(removed)) {
    log.warn('items.exchange_undone', { item_id: req.itemId, reason: req.reason });
    return;
  }
  // Plaid keeps (and bills) an Item nobody holds a token for: an operator removes it by id.
  log.error('items.orphan_removal_failed', { item_id: req.itemId, reason: req.reason, ...plaidFailureFields(removed) });
}

/** Policy "replace": the user's older Item at this institution goes, at Plaid and in the store. */
async function replaceOld(
  owner: ItemOwner,
  old: StoredItem,
  req: { baseUrl: string; credentials: PlaidCredentials; deadline: number },
  deps: ServiceDeps,
  log: Logger,
): Promise<void> {
  const accessToken = await deps.vault.accessToken(owner, old.itemId);
  const removed = accessToken === undefined ? undefined : await callRemove({ ...req, accessToken }, deps);
  if (removed && !removed.ok && !alreadyGone(removed)) {
    // The old record stays, with its token, so the removal can be retried (DELETE /items/{id}).
    log.error('items.replace_old_removal_failed', { item_id: old.itemId, ...plaidFailureFields(removed) });
    return;
  }
  await deps.vault.deleteItem(owner, old.itemId);
  log.info('items.replaced', { item_id: old.itemId });
}
