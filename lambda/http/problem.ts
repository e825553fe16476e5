// RFC 9457 problem details for every failure, with the correlation id a user can quote to
// support. The table below is the only place a failure kind becomes an HTTP status.
import type { FieldError } from '../domain/failure.ts';
import type { ProblemKind } from './http-failure.ts';

interface ProblemType {
  readonly status: number;
  readonly title: string;
  readonly slug: string;
}

export const PROBLEM_TYPES: Readonly<Record<ProblemKind, ProblemType>> = {
  missing_token: { status: 401, title: 'Authentication required', slug: 'authentication-required' },
  invalid_token: { status: 401, title: 'Invalid token', slug: 'invalid-token' },
  unknown_tenant: { status: 403, title: 'Unknown tenant', slug: 'unknown-tenant' },
  origin_not_allowed: { status: 403, title: 'Origin not allowed', slug: 'origin-not-allowed' },
  invalid_request: { status: 400, title: 'Invalid request', slug: 'invalid-request' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', slug: 'unsupported-media-type' },
  payload_too_large: { status: 413, title: 'Payload too large', slug: 'payload-too-large' },
  method_not_allowed: { status: 405, title: 'Method not allowed', slug: 'method-not-allowed' },
  not_found: { status: 404, title: 'Not found', slug: 'not-found' },
  item_not_found: { status: 404, title: 'Item not found', slug: 'item-not-found' },
  conflict: { status: 409, title: 'Conflict', slug: 'conflict' },
  upstream_rejected: { status: 502, title: 'Upstream rejected the request', slug: 'upstream-rejected' },
  upstream_rate_limited: { status: 429, title: 'Rate limited', slug: 'rate-limited' },
  upstream_unavailable: { status: 503, title: 'Upstream unavailable', slug: 'upstream-unavailable' },
  upstream_timeout: { status: 504, title: 'Upstream timeout', slug: 'upstream-timeout' },
  secrets_unavailable: { status: 503, title: 'Credentials unavailable', slug: 'credentials-unavailable' },
  vault_unavailable: { status: 503, title: 'Item store unavailable', slug: 'item-store-unavailable' },
  events_unavailable: { status: 503, title: 'Event bus unavailable', slug: 'event-bus-unavailable' },
  webhook_unverified: { status: 401, title: 'Webhook not verified', slug: 'webhook-not-verified' },
  misconfigured: { status: 500, title: 'Service misconfigured', slug: 'service-misconfigured' },
  internal: { status: 500, title: 'Internal error', slug: 'internal-error' },
};

export const PROBLEM_TYPE_BASE = 'tag:link-token-service,2026:problems/';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly correlation_id: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

export function problemBody(
  kind: ProblemKind,
  detail: string,
  correlationId: string,
  errors?: readonly FieldError[],
  extensions?: Readonly<Record<string, string | number>>,
): ProblemBody {
  const type = PROBLEM_TYPES[kind];
  return {
    ...extensions,
    type: `${PROBLEM_TYPE_BASE}${type.slug}`,
    title: type.title,
    status: type.status,
    detail,
    correlation_id: correlationId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}
