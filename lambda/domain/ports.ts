// The ports of the use cases: what the domain needs of the world outside it, in its own words.
// The adapters implement them (auth/authenticate.ts the authenticator the HTTP adapter calls,
// plaid/plaid-client.ts the Plaid API, secrets/secret-cache.ts the secret source,
// log/logger.ts the logger) and import these types from here; the domain imports
// no adapter. handler.ts, the composition root, hands the adapters in. The other ports sit with
// the use case they serve: the item vault in item-vault.ts, the webhook verifier and publisher
// in receive-webhook.ts.

import type { Tenant } from '../config/tenant-schema.ts';
import type { VerifiedIdentity } from './identity.ts';

/** A verified bearer token: the caller's tenant and identity. */
export interface Authenticated {
  readonly tenant: Tenant;
  readonly identity: VerifiedIdentity;
}

/** Verifies the Authorization header; throws ServiceFailure missing_token / invalid_token / unknown_tenant. */
export type Authenticator = (authorizationHeader: string | undefined) => Promise<Authenticated>;

/** Milliseconds since the epoch, as Date.now (tests hand in a fixed or stepping clock). */
export type Clock = () => number;

export type LogFields = Readonly<Record<string, unknown>>;

/**
 * One structured line per event. Callers log projections (ids, codes, durations), never raw
 * events, headers, errors or anything secret.
 */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line (the tenant, the correlation id). */
  child(fields: LogFields): Logger;
}

/** Secret values by Secrets Manager id (name or ARN), cached or not. */
export interface SecretSource {
  get(secretId: string): Promise<string>;
  /**
   * The value get would answer without fetching (held and within its TTL), else undefined: lets a
   * warm request use it synchronously, with no promise, race or timer. Optional for sources
   * that hold nothing.
   */
  held?(secretId: string): string | undefined;
  /** The next get fetches again: used once when Plaid reports rotated keys. */
  invalidate(secretId: string): void;
}

// The Plaid API as the use cases call it.

export interface PlaidCredentials {
  readonly client_id: string;
  readonly secret: string;
}

export interface LinkTokenCreated {
  readonly link_token: string;
  readonly expiration: string;
  readonly request_id?: string;
  readonly hosted_link_url?: string;
}

/** What Plaid said, reduced to what may be logged and acted on: never the full error body. */
export interface PlaidErrorSummary {
  readonly status: number;
  readonly error_type?: string;
  readonly error_code?: string;
  readonly request_id?: string;
}

export type PlaidFailure =
  | { readonly ok: false; readonly kind: 'plaid_error'; readonly error: PlaidErrorSummary; readonly attempts: number }
  | { readonly ok: false; readonly kind: 'network'; readonly code: string; readonly attempts: number }
  | { readonly ok: false; readonly kind: 'timeout'; readonly attempts: number }
  | { readonly ok: false; readonly kind: 'malformed'; readonly status: number; readonly attempts: number };

export type PlaidResult<T> = { readonly ok: true; readonly value: T; readonly attempts: number } | PlaidFailure;
export type PlaidOutcome = PlaidResult<LinkTokenCreated>;

export interface PlaidRequest {
  baseUrl: string;
  credentials: PlaidCredentials;
  body: unknown;
  /** Absolute time (ms since epoch) by which the whole call, retries included, must end. */
  deadline: number;
}

/** Calls to Plaid's API: a typed outcome, never a thrown Plaid error; mapping outcomes to failures is the use case's job. */
export interface PlaidApi {
  createLinkToken(request: PlaidRequest): Promise<PlaidOutcome>;
  /**
   * Any other endpoint: `read` takes the 200 body apart (undefined means malformed). A call that
   * is not `repeatable` is never retried: a lost answer to /item/public_token/exchange cannot be
   * asked for again (the public token is spent), and a retried /user/create would conflict.
   */
  call<T>(
    path: string,
    request: PlaidRequest & { repeatable: boolean; read: (json: Record<string, unknown>) => T | undefined },
  ): Promise<PlaidResult<T>>;
}
