// The local stack's dev-only routes that do what a user does in Plaid Link (or what Plaid does at
// the bank), for pages and tests that have no real Link: each takes the JSON body and answers a
// DevAnswer. None of them exists in the deployed function, and none answers an access token, a
// Plaid-Verification header or, where the real flow would not show one, a public token.
import type { Tenant } from '../lambda/config/tenant-schema.ts';
import type { PlaidKeys } from './local-tenants.ts';
import type { DevAnswer } from './server.ts';
import { LinkSessionError, SANDBOX_INSTITUTIONS, type PlaidStandIn } from './standins/plaid.ts';

export interface DevLinkContext {
  /** The Plaid stand-in, when the stack runs one (not with PLAID_BASE_URL or real sandbox keys). */
  readonly plaid: PlaidStandIn | undefined;
  readonly plaidBaseUrl: string;
  /** The keys and tenant of a Link session's client, as Link completes it for that client. */
  readonly keysFor: (clientId: string | undefined) => { keys: PlaidKeys; tenant: Tenant };
}

const NOT_THE_STAND_IN: DevAnswer = {
  status: 404,
  body: { message: 'Plaid is not the local stand-in: use its own tools' },
};

const bodyOf = (body: unknown): Record<string, unknown> =>
  body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

const institutionList = () => SANDBOX_INSTITUTIONS.map((i) => i.institution_id).join(', ');

/**
 * POST /dev/plaid-link/success {link_token, institution_id?}: what Plaid Link's onSuccess hands the
 * page when the user finishes. A new-mode session gets a real public token from Plaid's
 * /sandbox/public_token/create (the stand-in's, or Plaid's sandbox with real keys), so the app's
 * POST /items exchanges it exactly as it would Link's. An update-mode session repairs the Item at
 * the Plaid stand-in and gets the public token Link hands over in update mode, which exchanges for
 * that same Item (the app need not exchange it). Never an access token: Plaid's answer has none.
 */
export async function devLinkSuccess(body: unknown, ctx: DevLinkContext): Promise<DevAnswer> {
  const input = bodyOf(body);
  if (typeof input.link_token !== 'string' || !input.link_token.startsWith('link-')) {
    return { status: 400, body: { message: 'link_token: the link token Link was opened with is required' } };
  }
  let institutionId =
    typeof input.institution_id === 'string' ? input.institution_id : SANDBOX_INSTITUTIONS[0]!.institution_id;
  // Link gives the Item the link token's webhook; the sandbox endpoint takes it as options.webhook.
  let webhook: string | undefined;
  let clientId: string | undefined;
  if (ctx.plaid) {
    // Only a live link token this Plaid issued, as Link would insist.
    const session = ctx.plaid.linkSession(input.link_token);
    if (!session || Date.parse(session.expiration) <= Date.now()) {
      return { status: 400, body: { message: 'link_token: not a live link token of this Plaid stand-in' } };
    }
    if (session.update) {
      const item = ctx.plaid.item(session.update.item_id);
      if (!item || item.removed) {
        return { status: 409, body: { message: 'link_token: the Item this update-mode link token is for is removed' } };
      }
      return {
        status: 200,
        body: {
          public_token: ctx.plaid.completeUpdateMode(session.link_token),
          mode: 'update',
          institution: { institution_id: item.institution_id, name: item.institution_name },
        },
      };
    }
    webhook = session.webhook;
    clientId = session.client_id;
  }
  const institution = SANDBOX_INSTITUTIONS.find((i) => i.institution_id === institutionId);
  if (!institution) return { status: 400, body: { message: `institution_id: one of ${institutionList()}` } };
  institutionId = institution.institution_id;
  // The Item gets the products of its tenant's default profile (what the demo page asks for).
  const { keys, tenant } = ctx.keysFor(clientId);
  const products = tenant.profiles.default?.products ?? [];
  const answer = await fetch(new URL('/sandbox/public_token/create', ctx.plaidBaseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...keys,
      institution_id: institutionId,
      initial_products: products,
      ...(webhook ? { options: { webhook } } : {}),
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await answer.json().catch(() => ({}))) as { public_token?: unknown; error_code?: unknown };
  if (!answer.ok || typeof json.public_token !== 'string') {
    return {
      status: 502,
      body: {
        message: `Plaid's /sandbox/public_token/create failed: ${typeof json.error_code === 'string' ? json.error_code : answer.status}`,
      },
    };
  }
  return {
    status: 200,
    body: {
      public_token: json.public_token,
      mode: 'new',
      institution: { institution_id: institution.institution_id, name: institution.name },
    },
  };
}

const SESSION_FIELDS = new Set(['link_token', 'institution_ids', 'webhooks', 'outcome']);
const OUTCOMES = ['success', 'exited', 'in-progress'] as const;
const MAX_INSTITUTIONS = 10;

/**
 * POST /dev/plaid-link/session {link_token, institution_ids?, webhooks?, outcome?}: what the user
 * does on Plaid's hosted Link page or in a Multi-Item Link session, with the Plaid stand-in: an
 * Item per institution, then the signed LINK ITEM_ADD_RESULT per Item and SESSION_FINISHED to the
 * link token's webhook URL (for a Hosted Link or Multi-Item Link token), and the session recorded
 * for /link/token/get. `webhooks: false` withholds the webhooks, so only /link/token/get tells.
 * Answers once every webhook was answered: what happened and how the receiver answered each, and no
 * public token, as the hosted page shows the app none.
 */
export async function devLinkSession(body: unknown, plaid: PlaidStandIn | undefined): Promise<DevAnswer> {
  if (!plaid) return NOT_THE_STAND_IN;
  const input = bodyOf(body);
  const refuse = (message: string): DevAnswer => ({ status: 400, body: { message } });
  const unknown = Object.keys(input).find((k) => !SESSION_FIELDS.has(k));
  if (unknown !== undefined) return refuse(`${unknown}: not a field of this route (${[...SESSION_FIELDS].join(', ')})`);
  if (typeof input.link_token !== 'string' || !input.link_token.startsWith('link-')) {
    return refuse('link_token: the link token of the Hosted Link or Multi-Item Link session is required');
  }
  const ids = input.institution_ids;
  if (
    ids !== undefined &&
    (!Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > MAX_INSTITUTIONS ||
      !ids.every((id) => typeof id === 'string'))
  ) {
    return refuse(`institution_ids: 1 to ${MAX_INSTITUTIONS} institution ids, each one of ${institutionList()}`);
  }
  if (input.webhooks !== undefined && typeof input.webhooks !== 'boolean') {
    return refuse('webhooks: true (default) or false');
  }
  if (input.outcome !== undefined && !OUTCOMES.includes(input.outcome as (typeof OUTCOMES)[number])) {
    return refuse(`outcome: one of ${OUTCOMES.join(', ')}`);
  }
  let outcome;
  try {
    outcome = await plaid.runLinkSession(input.link_token, {
      ...(ids !== undefined && { institutionIds: ids }),
      ...(input.webhooks !== undefined && { webhooks: input.webhooks }),
      ...(input.outcome !== undefined && { outcome: input.outcome as (typeof OUTCOMES)[number] }),
    });
  } catch (error) {
    if (error instanceof LinkSessionError) return refuse(`${error.field}: ${error.message}`);
    throw error;
  }
  return {
    status: 200,
    body: {
      link_session_id: outcome.link_session_id,
      status: outcome.status,
      item_count: outcome.items.length,
      institutions: outcome.items.map((i) => ({ institution_id: i.institution_id, name: i.institution_name })),
      // What was sent and how the receiver answered; never the bodies (public tokens) or headers (the JWT).
      webhooks: outcome.deliveries.map((d) => {
        const sent = JSON.parse(d.body) as { webhook_type?: string; webhook_code?: string };
        return {
          webhook_type: sent.webhook_type,
          webhook_code: sent.webhook_code,
          status: d.status ?? null,
          ...(d.error ? { error: d.error } : {}),
        };
      }),
      ...(outcome.no_webhooks_because && { webhooks_not_sent: outcome.no_webhooks_because }),
    },
  };
}

// Plaid's item_id: letters, digits, '-' and '_' (the stand-in's are 37 characters).
const ITEM_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * POST /dev/simulate/login-required {item_id}: the Item's login stops working at the bank, as
 * Plaid's /sandbox/item/reset_login does it (ITEM_LOGIN_REQUIRED, then the signed ITEM ERROR
 * webhook to the Item's URL). Answers once the webhook's delivery has been answered, with that
 * answer's status, so the page's next look at its Items and the bus sees the outcome.
 */
export async function simulateLoginRequired(body: unknown, plaid: PlaidStandIn | undefined): Promise<DevAnswer> {
  if (!plaid) return NOT_THE_STAND_IN;
  const itemId = bodyOf(body).item_id;
  if (typeof itemId !== 'string' || !ITEM_ID.test(itemId)) {
    return { status: 400, body: { message: 'item_id: the item_id of an Item (from GET /items) is required' } };
  }
  const item = plaid.item(itemId);
  if (!item || item.removed)
    return { status: 404, body: { message: 'item_id: no live Item of this Plaid stand-in has that id' } };
  if (item.webhook === null) {
    return {
      status: 409,
      body: {
        message:
          'item_id: the Item has no webhook URL (its link token\'s profile has no "webhook"), so no webhook would be sent',
      },
    };
  }
  const sentBefore = plaid.deliveries.length;
  plaid.resetLogin(item.item_id);
  await plaid.awaitDeliveries();
  const delivery = plaid.deliveries.slice(sentBefore).find((d) => d.url === item.webhook);
  if (!delivery) return { status: 502, body: { message: 'the Plaid stand-in sent no webhook' } };
  // What was sent and how the receiver answered; never the delivery's headers (the Plaid-Verification JWT).
  const sent = JSON.parse(delivery.body) as {
    webhook_type?: string;
    webhook_code?: string;
    error?: { error_code?: string };
  };
  const webhook = {
    webhook_type: sent.webhook_type,
    webhook_code: sent.webhook_code,
    error_code: sent.error?.error_code,
    status: delivery.status ?? null,
    ...(delivery.error ? { error: delivery.error } : {}),
  };
  return {
    status: delivery.status === 200 ? 200 : 502,
    body: { item_id: item.item_id, item_error: plaid.item(item.item_id)?.error_code ?? null, webhook },
  };
}
