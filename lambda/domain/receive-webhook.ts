// A webhook from Plaid for one tenant: verified before anything else, then claimed by its body's
// hash with a conditional write, so identical deliveries at once are processed once. The work:
// the Item's health updated (last writer by Plaid's iat wins), a Link session's public tokens
// exchanged for its user, and the webhook handed on to the tenant's backend through the event
// bus, without any token. Only after all of it succeeded is the claim marked done; a failure
// releases it and answers in a way that makes Plaid retry, so nothing is lost.
import type { Tenant } from '../config/tenant-schema.ts';
import { isServiceFailure, ServiceFailure } from './failure.ts';
import { publishItemEvent } from './item-events.ts';
import { statusChangeOf } from './item-status.ts';
import { completeReportedSession, sessionReportOf } from './link-sessions.ts';
import type { ServiceDeps } from './ports.ts';
import { withinBudget } from './upstream.ts';

/** How long a processed webhook's hash is kept: replays older than the iat window fail verification anyway. */
const REPLAY_WINDOW_SECONDS = 15 * 60;
/** A claim older than this was abandoned by its request (the webhook budget is well under it). */
const WEBHOOK_LEASE_MS = 30_000;

/** Fields of Plaid's webhooks that carry a token: never handed on. */
const TOKEN_FIELDS: ReadonlySet<string> = new Set(['public_token', 'public_tokens', 'link_token']);

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
  const now = deps.now();
  const claim = await withinBudget(
    vault.claimWebhook(tenant.id, verified.bodySha256, {
      nowMs: now,
      leaseMs: WEBHOOK_LEASE_MS,
      keepUntilEpochSeconds: verified.iat + REPLAY_WINDOW_SECONDS,
    }),
    remaining(),
    detail,
  );
  if (claim === 'done') {
    log.info('webhook.replayed', fields);
    return 'replayed';
  }
  if (claim === 'busy') {
    // The same body is being processed by another delivery: Plaid retries this one, and by then
    // it is a replay (or, if the other failed, processed).
    log.info('webhook.in_progress', fields);
    throw new ServiceFailure('conflict', 'The same webhook is being processed; Plaid will retry.', {
      retryAfterSeconds: 1,
    });
  }

  try {
    // Only an Item of this tenant: another tenant's item_id, or an unknown one, changes no record.
    const owner =
      itemId === null ? undefined : await withinBudget(vault.findItemOwner(tenant.id, itemId), remaining(), detail);
    const at = new Date(deps.now()).toISOString();
    const change = owner ? statusChangeOf(body, verified.iat, at) : undefined;
    let changed = false;
    if (owner && itemId && change) {
      const applied = await withinBudget(vault.applyItemStatus(owner, itemId, change), remaining(), detail);
      log.info('items.status_changed', { ...fields, status: change.status, applied });
      changed = applied === 'applied';
    }
    const report = sessionReportOf(body);
    const session = report ? await completeReportedSession(tenant, report, deadline, deps, log) : undefined;
    log.info('webhook.received', { ...fields, item_known: owner !== undefined, session_known: session !== undefined });

    await publishWebhook(
      {
        event_id: verified.bodySha256,
        tenant_id: tenant.id,
        item_id: itemId,
        ...(owner ? { client_user_id: owner.clientUserId } : {}),
        ...(session ? { client_user_id: session.owner.clientUserId, item_ids: session.itemIds } : {}),
        webhook: withoutTokens(body),
      },
      `${webhookType}.${webhookCode}`,
      new Date(verified.iat * 1000),
      { deps, remaining, detail, log, fields },
    );
    // After the hand-over: a failed hand-over is retried by Plaid, and only then is the change told.
    if (owner && itemId && changed) {
      const item = await vault.getItem(owner, itemId);
      if (item) await publishItemEvent('status_changed', owner, item, 'plaid_webhook', deps, at);
    }
  } catch (error) {
    // Plaid's retry of this body must be processed, not taken for a replay.
    await vault.releaseWebhook(tenant.id, verified.bodySha256).catch(() => undefined);
    throw error;
  }
  await withinBudget(
    vault.finishWebhook(tenant.id, verified.bodySha256, verified.iat + REPLAY_WINDOW_SECONDS),
    remaining(),
    detail,
  );
  return 'processed';
}

async function publishWebhook(
  detail: { event_id: string; tenant_id: string } & Record<string, unknown>,
  detailType: string,
  time: Date,
  ctx: {
    deps: ServiceDeps;
    remaining: () => number;
    detail: string;
    log: ServiceDeps['logger'];
    fields: Record<string, unknown>;
  },
): Promise<void> {
  try {
    await withinBudget(
      ctx.deps.events.publish({ origin: 'plaid_webhook', detailType, time, detail }),
      ctx.remaining(),
      ctx.detail,
    );
  } catch (error) {
    ctx.log.error('webhook.publish_failed', {
      ...ctx.fields,
      error_name: (error as { cause?: { name?: string } })?.cause?.name ?? (error as Error)?.name,
    });
    throw isServiceFailure(error) && error.kind !== 'upstream_timeout'
      ? error
      : new ServiceFailure('events_unavailable', 'The webhook could not be handed on; Plaid will retry.', {
          cause: { name: 'PublishTimeout' },
        });
  }
  ctx.log.info('webhook.published', ctx.fields);
}

/** The webhook as the tenant's backend gets it: every field but the tokens. */
function withoutTokens(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !TOKEN_FIELDS.has(key)));
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
