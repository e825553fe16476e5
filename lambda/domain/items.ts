// The user's Items: exchanging Link's public_token for an Item kept in the vault, listing them,
// and removing one. The caller is always the verified user; an item_id is only ever looked up in
// that user's own records, so another user's Item is indistinguishable from none. The exchange
// itself, once per public token, is exchange.ts's.
import * as v from 'valibot';
import type { Tenant } from '../config/tenant-schema.ts';
import { alreadyGone, callRemove, exchangeOnce, UNDO_RESERVE_MS } from './exchange.ts';
import { itemNotFound, ServiceFailure } from './failure.ts';
import type { VerifiedIdentity } from './identity.ts';
import { publishItemEvent } from './item-events.ts';
import { actionFor, type ItemAction } from './item-status.ts';
import { reconcileSessions } from './link-sessions.ts';
import type { ItemOwner, PlaidCredentials, ServiceDeps, StoredItem } from './ports.ts';
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

export async function linkItem(
  input: { tenant: Tenant; identity: VerifiedIdentity; publicToken: string },
  deps: ServiceDeps,
): Promise<{ item: ItemView; created: boolean }> {
  const { tenant } = input;
  const started = deps.now();
  const deadline = started + deps.budgetMs;
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
  const { credentials, owner } = await withinBudget(
    credentialsAndOwner(input, deps),
    deadline - UNDO_RESERVE_MS - deps.now(),
  );
  const result = await exchangeOnce(
    {
      tenant,
      owner,
      credentials,
      baseUrl: plaidBaseUrl(tenant, deps.plaidBaseUrlOverride),
      publicToken: input.publicToken,
      deadline,
      origin: 'app',
      log,
    },
    deps,
  );
  if (result.kind === 'refused') throw result.failure;
  log.info('items.linked', {
    item_id: result.item.itemId,
    created: result.created,
    duration_ms: deps.now() - started,
  });
  return { item: itemView(result.item), created: result.created };
}

export async function listItems(
  input: { tenant: Tenant; identity: VerifiedIdentity },
  deps: ServiceDeps,
): Promise<ItemView[]> {
  const deadline = deps.now() + deps.budgetMs;
  const log = deps.logger.child({ tenant: input.tenant.id });
  const { owner, credentials } = await withinBudget(credentialsAndOwner(input, deps), deadline - deps.now());
  const records = await withinBudget(deps.vault.userRecords(owner), deadline - deps.now());
  let items = records.items;
  // Sessions whose webhooks have not come (or never will) are completed here, inside the budget
  // and leaving room for the list itself.
  if (records.openSessions.length > 0) {
    const exchanged = await reconcileSessions(
      {
        tenant: input.tenant,
        owner,
        credentials,
        sessions: records.openSessions,
        deadline: deadline - UNDO_RESERVE_MS,
      },
      deps,
      log,
    );
    if (exchanged > 0) items = await withinBudget(deps.vault.listItems(owner), deadline - deps.now());
  }
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
            item,
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
  item: StoredItem,
  req: { baseUrl: string; credentials: PlaidCredentials; deadline: number },
  deps: ServiceDeps,
): Promise<boolean> {
  const itemId = item.itemId;
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
  const at = new Date(deps.now()).toISOString();
  const applied = await deps.vault.applyItemStatus(owner, itemId, {
    status: 'healthy',
    at,
    iat: Math.floor(deps.now() / 1000),
  });
  deps.logger.info('items.status_changed', {
    tenant: owner.tenantId,
    item_id: itemId,
    status: 'healthy',
    applied,
    source: 'item_get',
  });
  if (applied !== 'applied') return false;
  await publishItemEvent('status_changed', owner, { ...item, status: 'healthy' }, 'item_get', deps, at);
  return true;
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
  const stored = await withinBudget(deps.vault.getItem(owner, itemId), deadline - deps.now());
  await withinBudget(deps.vault.deleteItem(owner, itemId), deadline - deps.now());
  log.info('items.removed', { item_id: itemId, plaid_already_gone: !removed.ok });
  if (stored) await publishItemEvent('removed', owner, stored, 'app', deps);
}
