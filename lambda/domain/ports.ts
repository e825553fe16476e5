// The ports of the use cases: what the domain needs of the world outside it, in its own words,
// and the one shape of dependencies every use case is given (ServiceDeps). The adapters implement
// these ports (auth/ the authenticator, plaid/ the Plaid API, secrets/ the secret source, vault/
// the item vault, webhooks/ the webhook verifier, events/ the event publisher, log/ the logger)
// and import their types from here; the domain imports no adapter. handler.ts, the composition
// root, hands the adapters in.

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

// The item vault: each user's Items and Plaid user. The adapter encrypts every token it is
// given under the owner it is given; a record read back under any other owner yields nothing.

/** Whose records these are: a tenant and the Plaid client_user_id derived from the verified user. */
export interface ItemOwner {
  readonly tenantId: string;
  readonly clientUserId: string;
}

export const ITEM_STATUSES = [
  'healthy',
  'login_required',
  'pending_expiration',
  'pending_disconnect',
  'new_accounts_available',
  'revoked',
] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export interface StoredItem {
  readonly itemId: string;
  readonly institutionId: string | null;
  readonly institutionName: string | null;
  readonly status: ItemStatus;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When Plaid said the Item's consent expires (PENDING_EXPIRATION), ISO 8601. */
  readonly consentExpirationTime?: string | null;
}

/** A change of an Item's health that a verified webhook reported. */
export interface ItemStatusChange {
  readonly status: ItemStatus;
  /** ISO 8601 time the change was received. */
  readonly at: string;
  /** The webhook JWT's iat: the last writer (by Plaid's clock) wins. */
  readonly iat: number;
  readonly consentExpirationTime?: string | null;
}

/** The user's Plaid user (/user/create): integrations since 2025-12 get a user_id only, older ones also a user_token. */
export interface PlaidUser {
  readonly userId: string;
  /** Secret: encrypted in the store like an access token. */
  readonly userToken?: string;
  readonly createdAt: string;
}

/** How an exchange of one public token ended: what a second delivery of the same token is answered. */
export type ExchangeOutcome =
  | { readonly kind: 'stored'; readonly itemId: string }
  | { readonly kind: 'duplicate'; readonly existingItemId: string }
  | { readonly kind: 'over_limit'; readonly limit: number }
  /** The Item Plaid created was removed again (a step after the exchange failed): link again. */
  | { readonly kind: 'undone' };

/** What claiming a public token's exchange found. */
export type ExchangeClaim =
  | { readonly state: 'claimed' }
  /** Another request of the same owner is exchanging it now. */
  | { readonly state: 'pending' }
  | { readonly state: 'settled'; readonly outcome: ExchangeOutcome }
  /** Another user of the tenant claimed it: nothing of theirs may be told. */
  | { readonly state: 'foreign' };

/** A Link session the service completes itself (Hosted Link, Multi-Item Link). */
export interface OpenLinkSession {
  /** Hex SHA-256 of the link token: the session's key. */
  readonly tokenHash: string;
  readonly linkToken: string;
  readonly expiresAtMs: number;
}

/** Everything kept in one user's partition, read at once. */
export interface UserRecords {
  readonly items: readonly StoredItem[];
  readonly plaidUser: PlaidUser | undefined;
  /** Sessions not finished yet, oldest first; the link token is decrypted only on request. */
  readonly openSessions: readonly { readonly tokenHash: string; readonly expiresAtMs: number }[];
  /** Every session and exchange key the user has, for erasure. */
  readonly sessionHashes: readonly string[];
  readonly exchangeHashes: readonly string[];
  /** An erasure begun and not finished. */
  readonly erasure: { readonly startedAt: string; readonly itemsRemoved: number } | undefined;
}

/** Lease and retention of a claim record (exchange or webhook). */
export interface ClaimTiming {
  readonly nowMs: number;
  /** A pending claim older than this is taken over: its request died. */
  readonly leaseMs: number;
  /** When DynamoDB's TTL deletes the record (epoch seconds). */
  readonly keepUntilEpochSeconds: number;
}

export interface ItemVault {
  /** The owner's Items, oldest first. */
  listItems(owner: ItemOwner): Promise<StoredItem[]>;
  /** Everything in the owner's partition (Items, Plaid user, sessions, exchange keys) in one read. */
  userRecords(owner: ItemOwner): Promise<UserRecords>;
  /**
   * The Item's access token, decrypted under this owner and item id; undefined when the owner has
   * no such Item or its ciphertext was not encrypted for them (a record moved between users).
   */
  accessToken(owner: ItemOwner, itemId: string): Promise<string | undefined>;
  getItem(owner: ItemOwner, itemId: string): Promise<StoredItem | undefined>;
  /** Stores a new Item; 'exists' when the owner already has one with this id (a retried exchange). */
  putItem(owner: ItemOwner, item: StoredItem, accessToken: string): Promise<'created' | 'exists'>;
  deleteItem(owner: ItemOwner, itemId: string): Promise<void>;
  plaidUser(owner: ItemOwner): Promise<PlaidUser | undefined>;
  /** 'exists' when another request stored the owner's Plaid user first. */
  putPlaidUser(owner: ItemOwner, user: PlaidUser): Promise<'created' | 'exists'>;
  deletePlaidUser(owner: ItemOwner): Promise<void>;
  /** Whose Item this is, within one tenant only; undefined for an item_id the tenant does not have. */
  findItemOwner(tenantId: string, itemId: string): Promise<ItemOwner | undefined>;
  /** 'stale' when a change with a later (or equal) iat was applied already; 'missing' when the Item is gone. */
  applyItemStatus(owner: ItemOwner, itemId: string, change: ItemStatusChange): Promise<'applied' | 'stale' | 'missing'>;

  /** Claims the exchange of a public token (by its hash) for this owner with a conditional write. */
  claimExchange(owner: ItemOwner, tokenHash: string, timing: ClaimTiming): Promise<ExchangeClaim>;
  settleExchange(owner: ItemOwner, tokenHash: string, outcome: ExchangeOutcome): Promise<void>;
  /** Gives a pending claim up (nothing was exchanged): the next delivery of the token tries again. */
  releaseExchange(owner: ItemOwner, tokenHash: string): Promise<void>;
  /** Deletes an exchange record and the owner's pointer to it. */
  forgetExchange(owner: ItemOwner, tokenHash: string): Promise<void>;

  /** Records a Link session the service completes; the link token is stored encrypted only. */
  recordSession(owner: ItemOwner, session: OpenLinkSession): Promise<void>;
  /** Whose session this is, within one tenant only. */
  sessionOwner(tenantId: string, tokenHash: string): Promise<ItemOwner | undefined>;
  /** The session's link token, decrypted under its owner; undefined when gone or not theirs. */
  sessionLinkToken(owner: ItemOwner, tokenHash: string): Promise<string | undefined>;
  finishSession(owner: ItemOwner, tokenHash: string): Promise<void>;
  forgetSession(owner: ItemOwner, tokenHash: string): Promise<void>;

  /** Marks an erasure begun (kept until endErasure), or returns the one begun already. */
  beginErasure(owner: ItemOwner, startedAt: string): Promise<{ startedAt: string; itemsRemoved: number }>;
  countErasedItem(owner: ItemOwner): Promise<void>;
  endErasure(owner: ItemOwner): Promise<void>;

  /** Claims a webhook body (by its hash) for processing: 'done' when processed already, 'busy' while another delivery is. */
  claimWebhook(tenantId: string, bodySha256: string, timing: ClaimTiming): Promise<'claimed' | 'done' | 'busy'>;
  releaseWebhook(tenantId: string, bodySha256: string): Promise<void>;
  finishWebhook(tenantId: string, bodySha256: string, keepUntilEpochSeconds: number): Promise<void>;
}

// Plaid's webhooks: their verification, and the bus they are handed on through.

export interface VerifiedWebhook {
  readonly iat: number;
  /** Hex SHA-256 of the raw body: the webhook's identity for replays and the event id. */
  readonly bodySha256: string;
}

export interface WebhookVerifier {
  /** Throws ServiceFailure 'webhook_unverified' (with the reason as its cause) for anything unverified. */
  verify(tenant: Tenant, header: string | undefined, rawBody: Buffer): Promise<VerifiedWebhook>;
}

/** Who sends an event on the bus: verified Plaid webhooks handed on, or the service's own changes. */
export type EventOrigin = 'plaid_webhook' | 'item_lifecycle' | 'user_lifecycle';

export interface BusEvent {
  readonly origin: EventOrigin;
  readonly detailType: string;
  readonly time: Date;
  /** Never a token of any kind. */
  readonly detail: { readonly event_id: string; readonly tenant_id: string } & Readonly<Record<string, unknown>>;
}

export interface EventPublisher {
  publish(event: BusEvent): Promise<void>;
}

/** What every use case is given: the ports, and the settings that bound their use. */
export interface ServiceDeps {
  readonly secrets: SecretSource;
  readonly plaid: PlaidApi;
  readonly vault: ItemVault;
  readonly webhookVerifier: WebhookVerifier;
  readonly events: EventPublisher;
  readonly clientUserIdKeySecretId: string;
  /** Replaces the tenant environment's Plaid URL (local runs); validated at cold start. */
  readonly plaidBaseUrlOverride?: string;
  /** Total time for secrets, Plaid and the store together, well inside API Gateway's 30 s. */
  readonly budgetMs: number;
  /** Seconds a client is told to wait after Plaid's rate limit, when Plaid gives no hint. */
  readonly rateLimitRetryAfterSeconds: number;
  /** Plaid waits 10 s for a webhook's answer; the service answers well inside that. */
  readonly webhookBudgetMs: number;
  readonly now: Clock;
  readonly logger: Logger;
}
