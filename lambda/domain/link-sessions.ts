// Link sessions the service completes itself. With Hosted Link and Multi-Item Link the app never
// holds a public token: Plaid hands them over in the LINK webhooks (ITEM_ADD_RESULT per Item,
// SESSION_FINISHED with all of them) and in /link/token/get. The service records each such link
// token's session when it creates the token (whose it is, until when; the token itself only
// encrypted), exchanges every public token a webhook or /link/token/get reports for that
// session's user through the same once-only exchange as POST /items, and stops asking once the
// session is finished or its link token expired.
import type { LinkProfile, Tenant } from '../config/tenant-schema.ts';
import { exchangeOnce, sha256Hex, type ExchangeResult } from './exchange.ts';
import type { ChangeOrigin } from './item-events.ts';
import type { ItemOwner, Logger, PlaidCredentials, ServiceDeps } from './ports.ts';
import { plaidBaseUrl, plaidFailureFields, readCredentials, withinBudget } from './upstream.ts';

/** Sessions asked about per GET /items, at most: each is one /link/token/get. */
export const MAX_SESSIONS_PER_LIST = 3;

/** Whether the service completes this profile's sessions (the app gets no public token from them). */
export function completedByService(profile: LinkProfile): boolean {
  return profile.hosted_link !== undefined || profile.enable_multi_item_link === true;
}

export async function recordLinkSession(
  owner: ItemOwner,
  created: { link_token: string; expiration: string },
  deps: ServiceDeps,
  remainingMs: number,
): Promise<void> {
  const expiresAtMs = Date.parse(created.expiration);
  await withinBudget(
    deps.vault.recordSession(owner, {
      tokenHash: sha256Hex(created.link_token),
      linkToken: created.link_token,
      // Plaid's expiration is an ISO time; a link token without one lives four hours.
      expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : deps.now() + 4 * 3600_000,
    }),
    remainingMs,
  );
}

/** What a LINK webhook says of a session: its link token and the public tokens it hands over. */
export interface SessionReport {
  readonly linkToken: string;
  readonly publicTokens: readonly string[];
  /** SESSION_FINISHED: nothing more will come for this session. */
  readonly finished: boolean;
}

/** The session report in a LINK webhook body, if it is one. */
export function sessionReportOf(body: Record<string, unknown>): SessionReport | undefined {
  if (body.webhook_type !== 'LINK' || typeof body.link_token !== 'string') return undefined;
  if (body.webhook_code === 'ITEM_ADD_RESULT') {
    return typeof body.public_token === 'string'
      ? { linkToken: body.link_token, publicTokens: [body.public_token], finished: false }
      : undefined;
  }
  if (body.webhook_code === 'SESSION_FINISHED') {
    const tokens = Array.isArray(body.public_tokens)
      ? body.public_tokens.filter((t): t is string => typeof t === 'string')
      : [];
    const success = typeof body.status === 'string' && body.status.toUpperCase() === 'SUCCESS';
    return { linkToken: body.link_token, publicTokens: success ? tokens : [], finished: true };
  }
  return undefined;
}

/**
 * Completes a recorded session from a verified webhook's report: each public token exchanged for
 * the session's user. A link token the service did not record for this tenant changes nothing.
 * A refusal (the duplicates policy, the Item limit) settles that token; a fault is thrown, so
 * the webhook is released and Plaid's retry finishes the rest.
 */
export async function completeReportedSession(
  tenant: Tenant,
  report: SessionReport,
  deadline: number,
  deps: ServiceDeps,
  log: Logger,
): Promise<{ owner: ItemOwner; itemIds: string[] } | undefined> {
  const tokenHash = sha256Hex(report.linkToken);
  const owner = await withinBudget(deps.vault.sessionOwner(tenant.id, tokenHash), deadline - deps.now());
  if (!owner) {
    log.warn('sessions.unknown', { finished: report.finished });
    return undefined;
  }
  const credentials = await withinBudget(readCredentials(deps.secrets, tenant.plaid.secret_id), deadline - deps.now());
  const itemIds = await exchangeAll(
    { tenant, owner, credentials, deadline, origin: 'session_webhook', log },
    report.publicTokens,
    deps,
  );
  if (report.finished) await withinBudget(deps.vault.finishSession(owner, tokenHash), deadline - deps.now());
  return { owner, itemIds };
}

/**
 * GET /items's reconciliation: the caller's open sessions, oldest first and at most a few, asked
 * about at Plaid (/link/token/get); their public tokens exchanged, and each session closed once
 * Plaid says it finished with Items or its link token has expired. A failure leaves the session
 * open for the next list: the list itself always answers.
 */
export async function reconcileSessions(
  req: {
    tenant: Tenant;
    owner: ItemOwner;
    credentials: PlaidCredentials;
    sessions: readonly { tokenHash: string; expiresAtMs: number }[];
    deadline: number;
  },
  deps: ServiceDeps,
  log: Logger,
): Promise<number> {
  let exchanged = 0;
  for (const session of req.sessions.slice(0, MAX_SESSIONS_PER_LIST)) {
    if (deps.now() >= req.deadline) break;
    try {
      const linkToken = await withinBudget(
        deps.vault.sessionLinkToken(req.owner, session.tokenHash),
        req.deadline - deps.now(),
      );
      if (linkToken === undefined) {
        await deps.vault.finishSession(req.owner, session.tokenHash);
        continue;
      }
      const state = await deps.plaid.call<{ publicTokens: string[]; finishedWithItems: boolean }>('/link/token/get', {
        baseUrl: plaidBaseUrl(req.tenant, deps.plaidBaseUrlOverride),
        credentials: req.credentials,
        body: { link_token: linkToken },
        deadline: req.deadline,
        repeatable: true,
        read: readLinkTokenGet,
      });
      if (!state.ok) {
        log.warn('sessions.reconcile_failed', { ...plaidFailureFields(state) });
        // An expired link token Plaid no longer reports on has nothing more to give.
        if (state.kind === 'plaid_error' && deps.now() > session.expiresAtMs) {
          await deps.vault.finishSession(req.owner, session.tokenHash);
        }
        continue;
      }
      const itemIds = await exchangeAll({ ...req, origin: 'reconciliation', log }, state.value.publicTokens, deps);
      exchanged += itemIds.length;
      if (state.value.finishedWithItems || deps.now() > session.expiresAtMs) {
        await deps.vault.finishSession(req.owner, session.tokenHash);
      }
      log.info('sessions.reconciled', {
        public_tokens: state.value.publicTokens.length,
        items: itemIds.length,
        finished: state.value.finishedWithItems,
      });
    } catch (error) {
      log.warn('sessions.reconcile_failed', { error_name: (error as Error)?.name });
    }
  }
  return exchanged;
}

/** Each public token exchanged once, in order; the ids of the Items stored for them. */
async function exchangeAll(
  req: {
    tenant: Tenant;
    owner: ItemOwner;
    credentials: PlaidCredentials;
    deadline: number;
    origin: ChangeOrigin;
    log: Logger;
  },
  publicTokens: readonly string[],
  deps: ServiceDeps,
): Promise<string[]> {
  const itemIds: string[] = [];
  for (const publicToken of publicTokens) {
    const result: ExchangeResult = await exchangeOnce(
      { ...req, baseUrl: plaidBaseUrl(req.tenant, deps.plaidBaseUrlOverride), publicToken },
      deps,
    );
    if (result.kind === 'stored') itemIds.push(result.item.itemId);
    else req.log.info('sessions.item_refused', { reason: result.failure.kind, ...result.failure.extensions });
  }
  return itemIds;
}

/** /link/token/get's answer: every public token its sessions handed over, and whether one finished with Items. */
function readLinkTokenGet(json: Record<string, unknown>): { publicTokens: string[]; finishedWithItems: boolean } {
  const sessions = Array.isArray(json.link_sessions) ? (json.link_sessions as unknown[]) : [];
  const publicTokens = new Set<string>();
  let finishedWithItems = false;
  for (const session of sessions) {
    if (!session || typeof session !== 'object') continue;
    const s = session as Record<string, unknown>;
    const results = s.results as { item_add_results?: unknown } | null | undefined;
    const added = Array.isArray(results?.item_add_results) ? (results.item_add_results as unknown[]) : [];
    let tokens = 0;
    for (const result of added) {
      const token = (result as { public_token?: unknown } | null)?.public_token;
      if (typeof token === 'string') {
        publicTokens.add(token);
        tokens++;
      }
    }
    // Legacy integrations get on_success instead of results.
    const legacy = (s.on_success as { public_token?: unknown } | null | undefined)?.public_token;
    if (typeof legacy === 'string') {
      publicTokens.add(legacy);
      tokens++;
    }
    if (typeof s.finished_at === 'string' && tokens > 0) finishedWithItems = true;
  }
  return { publicTokens: [...publicTokens], finishedWithItems };
}
