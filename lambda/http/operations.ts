// One handler per operation of the route table (config/routes.ts): the request's parts in, a
// use case called, its result as a status and a body out. Everything the routes share (routing,
// CORS, authentication, body limits, problem+json) is http-api.ts's. Adding a route is an entry in
// the table and one handler here (the type below fails to compile until it exists).
import type { OperationName } from '../config/routes.ts';
import { ITEMS_PATH } from '../config/routes.ts';
import type { Tenant } from '../config/tenant-schema.ts';
import { parseClientChoices } from '../domain/client-choices.ts';
import { createLinkToken } from '../domain/create-link-token.ts';
import { eraseUser } from '../domain/erase-user.ts';
import { ServiceFailure } from '../domain/failure.ts';
import { linkItem, listItems, parseLinkItemBody, unlinkItem } from '../domain/items.ts';
import type { Authenticated, ServiceDeps } from '../domain/ports.ts';
import { receiveWebhook } from '../domain/receive-webhook.ts';

export interface ApiResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** What a handler may read of its request; each reader applies the adapter's rules (media type, size). */
export interface RequestContext {
  /** The route's path parameters, already checked against config/routes.ts's patterns. */
  readonly params: Readonly<Record<string, string>>;
  header(name: string): string | undefined;
  /** The body as JSON: application/json, at most 16 KiB; empty is {}. */
  jsonBody(): unknown;
  /** The exact body bytes (a signature covers them), at most 64 KiB. */
  rawBody(): Buffer;
  /** Where Plaid posts this tenant's webhooks: the service's own receiver. */
  serviceWebhookUrl(tenant: Tenant): string;
  readonly tenants: { get(id: string): Tenant | undefined };
}

type Operation =
  | {
      /** Called by an app user: the adapter has verified the token and the origin. */
      readonly caller: 'user';
      handle(request: RequestContext, caller: Authenticated, deps: ServiceDeps): Promise<ApiResult>;
    }
  | {
      /** Called by Plaid: no bearer token; the handler verifies Plaid's signature. */
      readonly caller: 'plaid';
      handle(request: RequestContext, deps: ServiceDeps): Promise<ApiResult>;
    };

export const OPERATIONS: { readonly [name in OperationName]: Operation } = {
  createLinkToken: {
    caller: 'user',
    async handle(request, { tenant, identity }, deps) {
      const choices = parseClientChoices(request.jsonBody());
      // A success logs one line, the use case's plaid.link_token_created: it already carries the
      // correlation id, tenant, profile, platform and duration.
      const serviceWebhookUrl = request.serviceWebhookUrl(tenant);
      const token = await createLinkToken({ tenant, identity, choices, serviceWebhookUrl }, deps);
      return { status: 200, body: token };
    },
  },
  linkItem: {
    caller: 'user',
    async handle(request, { tenant, identity }, deps) {
      const { publicToken } = parseLinkItemBody(request.jsonBody());
      const { item, created } = await linkItem({ tenant, identity, publicToken }, deps);
      const { updated_at: _u, action: _a, consent_expiration_time: _c, ...view } = item;
      return { status: created ? 201 : 200, body: view, headers: { location: `${ITEMS_PATH}/${item.item_id}` } };
    },
  },
  listItems: {
    caller: 'user',
    async handle(_request, { tenant, identity }, deps) {
      return { status: 200, body: { items: await listItems({ tenant, identity }, deps) } };
    },
  },
  unlinkItem: {
    caller: 'user',
    async handle(request, { tenant, identity }, deps) {
      await unlinkItem({ tenant, identity, itemId: request.params.item_id! }, deps);
      return { status: 204 };
    },
  },
  eraseUser: {
    caller: 'user',
    async handle(_request, { tenant, identity }, deps) {
      await eraseUser({ tenant, identity }, deps);
      return { status: 204 };
    },
  },
  receiveWebhook: {
    caller: 'plaid',
    async handle(request, deps) {
      const tenant = request.tenants.get(request.params.tenant_id!);
      // An unknown tenant looks like any other unverified webhook: nothing tells a prober which ids exist.
      if (!tenant) {
        throw new ServiceFailure('webhook_unverified', 'The webhook could not be verified.', {
          cause: { name: 'UnknownTenant' },
        });
      }
      const rawBody = request.rawBody();
      const outcome = await receiveWebhook(
        { tenant, verificationHeader: request.header('plaid-verification'), rawBody },
        deps,
      );
      return { status: 200, body: { status: outcome } };
    },
  },
};
