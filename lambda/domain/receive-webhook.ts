// A webhook from Plaid for one tenant: verified before anything else, then the Item's health is
// updated (last writer by Plaid's iat wins), and the webhook is handed on to the tenant's backend
// through the event bus. Only after the hand-over succeeded is it marked processed, so a failure
// answers in a way that makes Plaid retry and nothing is lost; a replay of a processed webhook
// is acknowledged and not processed twice.
import type { Tenant } from '../config/tenant-schema.ts';
import type { Clock, Logger } from './ports.ts';
import { ServiceFailure } from './failure.ts';
import type { ItemStatus, ItemStatusChange, ItemVault } from './item-vault.ts';
import { withinBudget } from './upstream.ts';

export interface VerifiedWebhook {
  readonly iat: number;
  /** Hex SHA-256 of the raw body: the webhook's identity for replays and the event id. */
  readonly bodySha256: string;
}

export interface WebhookVerifier {
  /** Throws ServiceFailure 'webhook_unverified' (with the reason as its cause) for anything unverified. */
  verify(tenant: Tenant, header: string | undefined, rawBody: Buffer): Promise<VerifiedWebhook>;
}

export interface WebhookEvent {
  readonly eventId: string;
  readonly detailType: string;
  readonly time: Date;
  readonly detail: {
    readonly event_id: string;
    readonly tenant_id: string;
    readonly item_id: string | null;
    readonly client_user_id?: string;
    readonly webhook: Readonly<Record<string, unknown>>;
  };
}

export interface WebhookPublisher {
  publish(event: WebhookEvent): Promise<void>;
}

export interface ReceiveWebhookDeps {
  readonly verifier: WebhookVerifier;
  readonly vault: () => Promise<ItemVault>;
  readonly publisher: () => Promise<WebhookPublisher>;
  /** Plaid waits 10 s for an answer; the service answers well inside that. */
  readonly budgetMs: number;
  readonly now: Clock;
  readonly logger: Logger;
}

/** How long a processed webhook's hash is kept: replays older than the iat window fail verification anyway. */
const REPLAY_WINDOW_SECONDS = 15 * 60;

export type WebhookOutcome = 'processed' | 'replayed';

export async function receiveWebhook(
  input: { tenant: Tenant; verificationHeader: string | undefined; rawBody: Buffer },
  deps: ReceiveWebhookDeps,
): Promise<WebhookOutcome> {
  const { tenant } = input;
  const deadline = deps.now() + deps.budgetMs;
  const remaining = () => deadline - deps.now();
  const log = deps.logger.child({ tenant: tenant.id });
  const detail = 'Handling the webhook took too long; Plaid will retry.';

  const verified = await withinBudget(
    deps.verifier.verify(tenant, input.verificationHeader, input.rawBody),
    remaining(),
    detail,
  );
  const body = parseWebhookBody(input.rawBody);
  const webhookType = body.webhook_type as string;
  const webhookCode = body.webhook_code as string;
  const itemId = typeof body.item_id === 'string' ? body.item_id : null;
  const fields = {
    webhook_type: webhookType,
    webhook_code: webhookCode,
    item_id: itemId,
    event_id: verified.bodySha256,
  };

  const vault = await deps.vault();
  if (await withinBudget(vault.webhookProcessed(tenant.id, verified.bodySha256), remaining(), detail)) {
    log.info('webhook.replayed', fields);
    return 'replayed';
  }
  // Only an Item of this tenant: another tenant's item_id, or an unknown one, changes no record.
  const owner =
    itemId === null ? undefined : await withinBudget(vault.findItemOwner(tenant.id, itemId), remaining(), detail);
  const change = owner ? statusChangeOf(body, verified.iat, new Date(deps.now()).toISOString()) : undefined;
  if (owner && itemId && change) {
    const applied = await withinBudget(vault.applyItemStatus(owner, itemId, change), remaining(), detail);
    log.info('items.status_changed', { ...fields, status: change.status, applied });
  }
  log.info('webhook.received', { ...fields, item_known: owner !== undefined });

  const publisher = await deps.publisher();
  try {
    await withinBudget(
      publisher.publish({
        eventId: verified.bodySha256,
        detailType: `${webhookType}.${webhookCode}`,
        time: new Date(verified.iat * 1000),
        detail: {
          event_id: verified.bodySha256,
          tenant_id: tenant.id,
          item_id: itemId,
          ...(owner ? { client_user_id: owner.clientUserId } : {}),
          webhook: body,
        },
      }),
      remaining(),
      detail,
    );
  } catch (error) {
    log.error('webhook.publish_failed', {
      ...fields,
      error_name: (error as { cause?: { name?: string } })?.cause?.name ?? (error as Error)?.name,
    });
    throw error instanceof ServiceFailure && error.kind !== 'upstream_timeout'
      ? error
      : new ServiceFailure('events_unavailable', 'The webhook could not be handed on; Plaid will retry.', {
          cause: { name: 'PublishTimeout' },
        });
  }
  log.info('webhook.published', fields);
  await withinBudget(
    vault.markWebhookProcessed(tenant.id, verified.bodySha256, verified.iat + REPLAY_WINDOW_SECONDS),
    remaining(),
    detail,
  );
  return 'processed';
}

function parseWebhookBody(raw: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    body = undefined;
  }
  if (
    !body ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    typeof (body as Record<string, unknown>).webhook_type !== 'string' ||
    typeof (body as Record<string, unknown>).webhook_code !== 'string'
  ) {
    throw new ServiceFailure(
      'invalid_request',
      'A Plaid webhook is a JSON object with webhook_type and webhook_code.',
      {
        errors: [{ field: '(body)', message: 'must be a Plaid webhook' }],
      },
    );
  }
  return body as Record<string, unknown>;
}

/** What an ITEM webhook says of the Item's health; undefined for webhooks that say nothing of it. */
export function statusChangeOf(
  body: Readonly<Record<string, unknown>>,
  iat: number,
  at: string,
): ItemStatusChange | undefined {
  if (body.webhook_type !== 'ITEM') return undefined;
  const error = body.error as { error_code?: unknown } | null | undefined;
  const status: ItemStatus | undefined = (() => {
    switch (body.webhook_code) {
      case 'ERROR':
        return error?.error_code === 'ITEM_LOGIN_REQUIRED' ? 'login_required' : undefined;
      case 'LOGIN_REPAIRED':
        return 'healthy';
      case 'PENDING_EXPIRATION':
        return 'pending_expiration';
      case 'PENDING_DISCONNECT':
        return 'pending_disconnect';
      case 'NEW_ACCOUNTS_AVAILABLE':
        return 'new_accounts_available';
      case 'USER_PERMISSION_REVOKED':
      case 'USER_ACCOUNT_REVOKED':
        return 'revoked';
      default:
        return undefined;
    }
  })();
  if (!status) return undefined;
  const consent = typeof body.consent_expiration_time === 'string' ? body.consent_expiration_time : null;
  return { status, at, iat, consentExpirationTime: status === 'pending_expiration' ? consent : null };
}

/** What the app should offer for an Item in this state (GET /items). */
export type ItemAction = 'update' | 'update_with_account_selection' | 'relink' | 'none';
export function actionFor(status: ItemStatus): ItemAction {
  switch (status) {
    case 'login_required':
    case 'pending_expiration':
    case 'pending_disconnect':
      return 'update';
    case 'new_accounts_available':
      return 'update_with_account_selection';
    case 'revoked':
      return 'relink';
    case 'healthy':
      return 'none';
  }
}
