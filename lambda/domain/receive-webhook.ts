// A webhook from Plaid for one tenant: verified before anything else, then the Item's health is
// updated (last writer by Plaid's iat wins), and the webhook is handed on to the tenant's backend
// through the event bus. Only after the hand-over succeeded is it marked processed, so a failure
// answers in a way that makes Plaid retry and nothing is lost; a replay of a processed webhook
// is acknowledged and not processed twice.
import type { Tenant } from '../config/tenant-schema.ts';
import { isServiceFailure, ServiceFailure } from './failure.ts';
import { statusChangeOf } from './item-status.ts';
import type { ServiceDeps } from './ports.ts';
import { withinBudget } from './upstream.ts';

/** How long a processed webhook's hash is kept: replays older than the iat window fail verification anyway. */
const REPLAY_WINDOW_SECONDS = 15 * 60;

export type WebhookOutcome = 'processed' | 'replayed';

export async function receiveWebhook(
  input: { tenant: Tenant; verificationHeader: string | undefined; rawBody: Buffer },
  deps: ServiceDeps,
): Promise<WebhookOutcome> {
  const { tenant } = input;
  const deadline = deps.now() + deps.webhookBudgetMs;
  const remaining = () => deadline - deps.now();
  const log = deps.logger.child({ tenant: tenant.id });
  const detail = 'Handling the webhook took too long; Plaid will retry.';

  const verified = await withinBudget(
    deps.webhookVerifier.verify(tenant, input.verificationHeader, input.rawBody),
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

  const vault = deps.vault;
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

  try {
    await withinBudget(
      deps.events.publish({
        origin: 'plaid_webhook',
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
    throw isServiceFailure(error) && error.kind !== 'upstream_timeout'
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
