/**
 * Stand-in for Plaid's sandbox (API version 2020-09-14): POST /link/token/create (new and update
 * mode), /link/token/get, /sandbox/public_token/create, /item/public_token/exchange, /item/get,
 * /item/remove, /item/webhook/update, /user/create, /user/remove, /sandbox/item/reset_login,
 * /sandbox/item/fire_webhook and /webhook_verification_key/get, with Items, public tokens, users
 * and link tokens (with the Link sessions run with them) kept per client_id.
 *
 * Webhooks are signed as Plaid signs them (ES256 JWS in `Plaid-Verification` over the SHA-256 of the
 * exact body bytes, keys served by kid) and POSTed to the Item's webhook URL after the API answer.
 * The checks are our own reading of Plaid's documented contract, covering the rules our
 * service can plausibly break; they are not a copy of Plaid's schema.
 *
 * Nothing here logs: tokens appear only in answers to the caller and in `requests`, in memory.
 */
import { createHash, createHmac, generateKeyPairSync, randomUUID, sign as signBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, isPlainObject, listen, parseJson, randomAlnum, readBody, sendJson } from './http-util.ts';

export const PLAID_API_VERSION = '2020-09-14';
export const DEFAULT_PLAID_CREDENTIALS: Readonly<Record<string, string>> = { 'test-client-id': 'test-sandbox-secret' };

export const PLAID_ENDPOINTS = [
  '/link/token/create',
  '/link/token/get',
  '/sandbox/public_token/create',
  '/item/public_token/exchange',
  '/item/get',
  '/item/remove',
  '/user/create',
  '/user/remove',
  '/sandbox/item/reset_login',
  '/sandbox/item/fire_webhook',
  '/item/webhook/update',
  '/webhook_verification_key/get',
] as const;
export type PlaidEndpoint = (typeof PLAID_ENDPOINTS)[number];

export type PlaidFault =
  | { kind: 'error'; status: number; error_type: string; error_code: string; error_message?: string }
  /** The connection is dropped before the request has any effect. */
  | { kind: 'network' }
  /** The request takes effect (a token is exchanged, an Item removed), then the connection is dropped unanswered. */
  | { kind: 'lost-response' }
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body was not JSON. */
  body: unknown;
}

export interface SandboxInstitution {
  institution_id: string;
  name: string;
  /** Products an Item at this institution can have. */
  products: readonly string[];
}

const RETAIL_PRODUCTS = [
  'assets',
  'auth',
  'balance',
  'identity',
  'identity_match',
  'income_verification',
  'investments',
  'liabilities',
  'recurring_transactions',
  'signal',
  'statements',
  'transactions',
  'transfer',
] as const;

/** Plaid's non-OAuth sandbox test institutions. */
export const SANDBOX_INSTITUTIONS: readonly SandboxInstitution[] = [
  { institution_id: 'ins_109508', name: 'First Platypus Bank', products: RETAIL_PRODUCTS },
  { institution_id: 'ins_109509', name: 'First Gingham Credit Union', products: RETAIL_PRODUCTS },
  { institution_id: 'ins_109510', name: 'Tattersall Federal Credit Union', products: RETAIL_PRODUCTS },
  { institution_id: 'ins_109511', name: 'Tartan Bank', products: RETAIL_PRODUCTS },
  { institution_id: 'ins_109512', name: 'Houndstooth Bank', products: RETAIL_PRODUCTS },
];

/** "A public_token ... expires after 30 minutes" and can be exchanged once. */
export const PUBLIC_TOKEN_LIFETIME_MS = 30 * 60_000;

/** What a test may inspect about an Item; never its access token. */
export interface PlaidItemSnapshot {
  item_id: string;
  client_id: string;
  institution_id: string;
  institution_name: string;
  webhook: string | null;
  billed_products: string[];
  created_at: string;
  /** /item/remove was called for it. */
  removed: boolean;
  /** The Item's error (e.g. ITEM_LOGIN_REQUIRED after /sandbox/item/reset_login), or null. */
  error_code: string | null;
  /** The Plaid user it was created for, if any. */
  user_id: string | null;
}

/** A link token /link/token/create issued, with what it was created with. */
export interface LinkSession {
  link_token: string;
  client_id: string;
  client_user_id: string | undefined;
  user_id: string | undefined;
  /** Present in update mode: the Item being updated (never its access token). */
  update: { item_id: string; account_selection_enabled: boolean } | undefined;
  created_at: string;
  expiration: string;
  /** The `webhook` the link token was created with: Items created through it send webhooks there. */
  webhook: string | undefined;
  /** Created with a `hosted_link` object: Plaid hosts the Link page and reports the outcome by webhook. */
  hosted_link: boolean;
  /** Created with `enable_multi_item_link: true`: one session may add several Items. */
  enable_multi_item_link: boolean;
  /** The Link sessions run with this token, oldest first (Plaid's `link_sessions` of /link/token/get). */
  sessions: LinkSessionRun[];
}

/** One run of Link with a link token, as the stand-in records it (no public tokens: /link/token/get has them). */
export interface LinkSessionRun {
  link_session_id: string;
  started_at: string;
  /** null while the user is still in Link. */
  finished_at: string | null;
  /** SUCCESS or EXITED once finished, as SESSION_FINISHED says; null while the user is still in Link. */
  status: 'SUCCESS' | 'EXITED' | null;
  /** The institution of each Item added, in order. */
  institution_ids: string[];
}

export interface RunLinkSessionOptions {
  /** Where the user adds an Item, in order (default: the first sandbox institution); several only with Multi-Item Link. */
  institutionIds?: string[];
  /** false withholds the LINK webhooks, as when they are lost, so only /link/token/get tells (default true). */
  webhooks?: boolean;
  /** success (default); exited: the user closed Link without adding an Item; in-progress: still in Link. */
  outcome?: 'success' | 'exited' | 'in-progress';
}

/** What runLinkSession did. The public tokens are for the test; a hosted page shows none of them. */
export interface LinkSessionOutcome {
  link_session_id: string;
  status: 'SUCCESS' | 'EXITED' | null;
  items: Array<{ institution_id: string; institution_name: string; public_token: string }>;
  /** The LINK webhooks sent, in order, each answered or failed. */
  deliveries: WebhookDelivery[];
  /** Why no webhook was sent, when none was. */
  no_webhooks_because?: 'withheld' | 'no webhook URL' | 'not Hosted Link or Multi-Item Link' | 'not finished';
}

/** A runLinkSession request the stand-in cannot act on, naming the option at fault. */
export class LinkSessionError extends Error {
  readonly field: 'link_token' | 'institution_ids';
  constructor(field: 'link_token' | 'institution_ids', message: string) {
    super(message);
    this.name = 'LinkSessionError';
    this.field = field;
  }
}

/** One webhook POST the stand-in made (or is making). */
export interface WebhookDelivery {
  url: string;
  /** The exact body bytes sent (UTF-8). */
  body: string;
  /** Request headers sent, lower-case names. */
  headers: Record<string, string>;
  /** The receiver's HTTP status, once it answered. */
  status?: number;
  /** Why no answer came (connection refused, timeout, closed). */
  error?: string;
}

/** A public webhook verification key, as /webhook_verification_key/get serves it. */
export interface WebhookVerificationJwk {
  alg: 'ES256';
  crv: 'P-256';
  kid: string;
  kty: 'EC';
  use: 'sig';
  x: string;
  y: string;
  created_at: number;
  expired_at: number | null;
}

export interface SignWebhookOptions {
  /** The kid put in the JWS header (default: the signing key's own). */
  kid?: string;
  /** The payload's iat in Unix seconds (default: now). */
  iat?: number;
  /**
   * ES256 (default) signs properly; 'none' leaves the signature empty; 'HS256-public-key' is the
   * algorithm-confusion forgery: an HMAC keyed with the current public key's SPKI PEM.
   */
  alg?: 'ES256' | 'none' | 'HS256-public-key';
  /** current (default); the most recently expired key (after rotateWebhookKey()); or a key never served. */
  key?: 'current' | 'expired' | 'unknown';
  /** Hash this text instead of the body, for a request_body_sha256 that does not match. */
  bodyHashOf?: string;
}

export interface PlaidStandInOptions {
  port?: number;
  host?: string;
  /** client_id -> secret (default DEFAULT_PLAID_CREDENTIALS). */
  credentials?: Record<string, string>;
}

export interface PlaidStandIn {
  url: string;
  requests: RecordedRequest[];
  readonly calls: number;
  /** Requests to one endpoint, in order (faulted ones included). */
  requestsTo(path: PlaidEndpoint): RecordedRequest[];
  callsTo(path: PlaidEndpoint): number;
  /** Link tokens issued since the last reset(), in order, with the Item each update-mode token is for. */
  linkSessions: LinkSession[];
  /** Any link token this stand-in issued (reset() does not forget them, as Plaid would not). */
  linkSession(linkToken: string): LinkSession | undefined;
  /** Forgets recorded requests, the linkSessions list and pending faults; credentials, Items, users and link tokens are kept. */
  reset(): void;
  /** Sets the secret for clientId; its previous secret then gets INVALID_API_KEYS. */
  setCredentials(clientId: string, secret: string): void;
  /**
   * The next n requests (to `path` only, when given) get `fault`, queued after any already
   * scheduled; requests to other paths pass untouched.
   */
  failNext(n: number, fault: PlaidFault, path?: PlaidEndpoint): void;
  /**
   * The nth request from now (to `path` only, when given) gets `fault`; the n-1 before it pass, so
   * a run of calls can fail half-way (the second /item/remove of three, say). Counted apart from
   * failNext's queue, which a counted fault takes precedence over.
   */
  failCall(nth: number, fault: PlaidFault, path?: PlaidEndpoint): void;
  /**
   * As /sandbox/public_token/create, without a request: what Link's onSuccess would hand the client.
   * With `linkToken` (a live, new-mode link token this stand-in issued), the Item gets that link
   * session's client_id, webhook, Plaid user and products, as one created through Link would.
   */
  createPublicToken(opts?: HelperItemOptions): string;
  /** A public token created and exchanged at once, for tests that need a live Item. */
  createItem(opts?: HelperItemOptions): { access_token: string; item_id: string };
  item(itemId: string): PlaidItemSnapshot | undefined;
  /**
   * The user finishing Link in update mode with this link token: the Item's error is cleared and
   * Link's onSuccess gets the public token returned, which exchanges for the same Item (its item_id
   * and access token): update mode never creates an Item. No webhook: Plaid sends LOGIN_REPAIRED
   * only when the Item recovers *without* update mode in your app (see repairLoginElsewhere).
   */
  completeUpdateMode(linkToken: string): string;
  /**
   * The user going through Link with a new-mode link token, as on Plaid's hosted page or in a
   * Multi-Item session: an Item (a public token with the link token's webhook, Plaid user and
   * products) per institution, recorded for /link/token/get; then, for a Hosted Link or Multi-Item
   * Link token with a webhook, a signed LINK ITEM_ADD_RESULT per Item and SESSION_FINISHED, sent
   * one after the other. Resolves once every one was answered or failed. Throws LinkSessionError
   * for a link token or institution it cannot act on.
   */
  runLinkSession(linkToken: string, opts?: RunLinkSessionOptions): Promise<LinkSessionOutcome>;
  /**
   * As /sandbox/item/reset_login, by item_id (for a caller that, like the app's browser, never holds
   * the access token): ITEM_LOGIN_REQUIRED and the signed ITEM ERROR webhook to the Item's URL.
   */
  resetLogin(itemId: string): void;
  /** The Item leaves ITEM_LOGIN_REQUIRED outside this app (e.g. update mode in another app): LOGIN_REPAIRED is sent. */
  repairLoginElsewhere(itemId: string): void;
  /** Webhook POSTs made, in order, since the last reset(). */
  deliveries: WebhookDelivery[];
  /** Resolves once every webhook queued so far has been answered or has failed. */
  awaitDeliveries(): Promise<void>;
  /** The kid webhooks are signed with now. */
  readonly webhookKeyId: string;
  /** A new signing key becomes current; the old one gets expired_at = now and is still served by its kid. Returns the new kid. */
  rotateWebhookKey(): string;
  /** A `Plaid-Verification` header value for `body`, proper by default, forged as `opts` say. */
  signWebhook(body: string, opts?: SignWebhookOptions): string;
  /** POSTs `body` byte for byte to url with that `Plaid-Verification` header; not recorded in deliveries. */
  deliverWebhook(url: string, body: string, header: string): Promise<{ status: number; body: string }>;
  /** Moves the stand-in's clock forward (public token and link token expiry). */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

export interface HelperItemOptions {
  clientId?: string;
  institutionId?: string;
  products?: string[];
  webhook?: string;
  userId?: string;
  /** A new-mode link token this stand-in issued: client_id, webhook, user and (unless given) products come from its session. */
  linkToken?: string;
}

const LANGUAGES = new Set([
  'da',
  'nl',
  'en',
  'et',
  'fr',
  'de',
  'hi',
  'it',
  'lv',
  'lt',
  'no',
  'pl',
  'pt',
  'ro',
  'es',
  'sv',
  'vi',
]);

const COUNTRY_CODES = new Set([
  'US',
  'GB',
  'ES',
  'NL',
  'FR',
  'IE',
  'CA',
  'DE',
  'IT',
  'PL',
  'DK',
  'NO',
  'SE',
  'EE',
  'LT',
  'LV',
  'PT',
  'BE',
  'AT',
  'FI',
]);

const PRODUCTS = new Set([
  'assets',
  'auth',
  'balance',
  'balance_plus',
  'beacon',
  'identity',
  'identity_match',
  'investments',
  'investments_auth',
  'liabilities',
  'payment_initiation',
  'identity_verification',
  'transactions',
  'credit_details',
  'income',
  'income_verification',
  'standing_orders',
  'transfer',
  'employment',
  'recurring_transactions',
  'transactions_refresh',
  'signal',
  'statements',
  'processor_payments',
  'processor_identity',
  'profile',
  'cra_base_report',
  'cra_income_insights',
  'cra_partner_insights',
  'cra_network_insights',
  'cra_cashflow_insights',
  'cra_monitoring',
  'cra_lend_score',
  'cra_plaid_credit_score',
  'layer',
  'pay_by_bank',
  'protect_linked_bank',
  'protect_transactions',
]);

const PRODUCT_LISTS = [
  'products',
  'required_if_supported_products',
  'optional_products',
  'additional_consented_products',
] as const;

type JsonType = 'string' | 'array' | 'object' | 'boolean';

/** Every top-level field the endpoint accepts, with its JSON type; anything else is UNKNOWN_FIELDS. */
const FIELDS: Record<string, JsonType> = {
  client_id: 'string',
  secret: 'string',
  client_name: 'string',
  language: 'string',
  user_id: 'string',
  webhook: 'string',
  access_token: 'string',
  link_customization_name: 'string',
  appearance_mode: 'string',
  redirect_uri: 'string',
  android_package_name: 'string',
  institution_id: 'string',
  consumer_report_permissible_purpose: 'string',
  user_token: 'string',
  third_party_user_token: 'string',
  country_codes: 'array',
  products: 'array',
  required_if_supported_products: 'array',
  optional_products: 'array',
  additional_consented_products: 'array',
  access_tokens: 'array',
  user: 'object',
  institution_data: 'object',
  card_switch: 'object',
  account_filters: 'object',
  eu_config: 'object',
  payment_configuration: 'object',
  payment_initiation: 'object',
  employment: 'object',
  income_verification: 'object',
  base_report: 'object',
  credit_partner_insights: 'object',
  cra_options: 'object',
  auth: 'object',
  transfer: 'object',
  update: 'object',
  identity_verification: 'object',
  statements: 'object',
  investments: 'object',
  investments_auth: 'object',
  hosted_link: 'object',
  transactions: 'object',
  cashflow_report: 'object',
  identity: 'object',
  cra_enabled: 'boolean',
  financekit_supported: 'boolean',
  enable_multi_item_link: 'boolean',
};

const CREDENTIAL_FIELDS = { client_id: 'string', secret: 'string' } as const;

/** The fields of the other endpoints, as FIELDS is for /link/token/create. */
const ENDPOINT_FIELDS: Record<Exclude<PlaidEndpoint, '/link/token/create'>, Record<string, JsonType>> = {
  '/sandbox/public_token/create': {
    ...CREDENTIAL_FIELDS,
    institution_id: 'string',
    initial_products: 'array',
    options: 'object',
    user_token: 'string',
    user_id: 'string',
  },
  '/link/token/get': { ...CREDENTIAL_FIELDS, link_token: 'string' },
  '/item/public_token/exchange': { ...CREDENTIAL_FIELDS, public_token: 'string' },
  '/item/get': { ...CREDENTIAL_FIELDS, access_token: 'string' },
  '/item/remove': { ...CREDENTIAL_FIELDS, access_token: 'string', reason_code: 'string', reason_note: 'string' },
  '/user/create': {
    ...CREDENTIAL_FIELDS,
    client_user_id: 'string',
    identity: 'object',
    end_customer: 'string',
    consumer_report_user_identity: 'object',
    with_upgraded_user: 'boolean',
  },
  '/user/remove': { ...CREDENTIAL_FIELDS, user_id: 'string', user_token: 'string' },
  '/sandbox/item/reset_login': { ...CREDENTIAL_FIELDS, access_token: 'string' },
  '/sandbox/item/fire_webhook': {
    ...CREDENTIAL_FIELDS,
    access_token: 'string',
    webhook_type: 'string',
    webhook_code: 'string',
  },
  '/item/webhook/update': { ...CREDENTIAL_FIELDS, access_token: 'string', webhook: 'string' },
  '/webhook_verification_key/get': { ...CREDENTIAL_FIELDS, key_id: 'string' },
};

/** SandboxItemFireWebhookRequest's enums. */
const FIRE_WEBHOOK_TYPES = new Set([
  'AUTH',
  'HOLDINGS',
  'INVESTMENTS_TRANSACTIONS',
  'ITEM',
  'LIABILITIES',
  'TRANSACTIONS',
  'ASSETS',
]);
const FIRE_WEBHOOK_CODES = new Set([
  'DEFAULT_UPDATE',
  'NEW_ACCOUNTS_AVAILABLE',
  'SMS_MICRODEPOSITS_VERIFICATION',
  'AUTHORIZATION_GRANTED',
  'USER_PERMISSION_REVOKED',
  'USER_ACCOUNT_REVOKED',
  'PENDING_DISCONNECT',
  'RECURRING_TRANSACTIONS_UPDATE',
  'LOGIN_REPAIRED',
  'SYNC_UPDATES_AVAILABLE',
  'PRODUCT_READY',
  'ERROR',
]);
const ITEM_FIRE_CODES = new Set([
  'NEW_ACCOUNTS_AVAILABLE',
  'USER_PERMISSION_REVOKED',
  'USER_ACCOUNT_REVOKED',
  'PENDING_DISCONNECT',
  'LOGIN_REPAIRED',
]);
const TRANSACTIONS_FIRE_CODES = new Set(['SYNC_UPDATES_AVAILABLE', 'DEFAULT_UPDATE']);

/** "PENDING_DISCONNECT: Fired when an Item will stop working in the near future": we say in a week. */
const PENDING_DISCONNECT_LEAD_MS = 7 * 24 * 3600_000;
/** How long a receiver may take to answer a webhook POST before it counts as failed. */
const WEBHOOK_TIMEOUT_MS = 10_000;

const REMOVE_REASONS = new Set([
  'FRAUD_FIRST_PARTY',
  'FRAUD_FALSE_IDENTITY',
  'FRAUD_ABUSE',
  'FRAUD_OTHER',
  'CONNECTION_IS_NON_FUNCTIONAL',
  'OTHER',
]);

/** "should be omitted (unless you are using update mode to add a credit product, such as Assets, Statements, Income, or Plaid Check Consumer Report ...)" */
const UPDATE_MODE_ADDABLE = (product: string) =>
  ['assets', 'statements', 'income_verification'].includes(product) || product.startsWith('cra_');

const MAX_HOSTED_LINK_LIFETIME_S = 21 * 24 * 3600;
/** "Session data will be provided for up to six hours after the session has ended." */
const LINK_SESSION_RETENTION_MS = 6 * 3600_000;
const DEFAULT_EXPIRY_S = 4 * 3600;
const UPDATE_MODE_EXPIRY_S = 30 * 60;
const MAX_BODY = 1024 * 1024;

class PlaidError extends Error {
  status: number;
  error_type: string;
  error_code: string;
  display_message: string | null;
  constructor(
    status: number,
    error_type: string,
    error_code: string,
    message: string,
    display_message: string | null = null,
  ) {
    super(message);
    this.status = status;
    this.error_type = error_type;
    this.error_code = error_code;
    this.display_message = display_message;
  }
}

const invalidRequest = (code: string, message: string) => new PlaidError(400, 'INVALID_REQUEST', code, message);
const invalidField = (message: string) => invalidRequest('INVALID_FIELD', message);
const missingFields = (...fields: string[]) =>
  invalidRequest('MISSING_FIELDS', `the following required fields are missing: ${fields.join(', ')}`);

// Plaid's documented messages. None of them echoes the token it refuses.
const invalidAccessToken = (format: boolean) =>
  new PlaidError(
    400,
    'INVALID_INPUT',
    'INVALID_ACCESS_TOKEN',
    format
      ? 'provided access token is in an invalid format. expected format: access-<environment>-<identifier>'
      : 'could not find matching access token',
  );
const itemNotFound = () =>
  new PlaidError(
    400,
    'ITEM_ERROR',
    'ITEM_NOT_FOUND',
    'The Item you requested cannot be found. This Item does not exist, has been previously removed via /item/remove, or has had access removed by the user.',
  );
const invalidPublicToken = (reason: 'format' | 'unknown' | 'expired') =>
  new PlaidError(
    400,
    'INVALID_INPUT',
    'INVALID_PUBLIC_TOKEN',
    {
      format: 'provided public token is in an invalid format. expected format: public-<environment>-<identifier>',
      unknown: 'could not find matching public token',
      expired:
        'provided public token is expired. Public tokens expire 30 minutes after creation at which point they can no longer be exchanged',
    }[reason],
  );

const invalidLinkToken = (format: boolean) =>
  new PlaidError(
    400,
    'INVALID_INPUT',
    'INVALID_LINK_TOKEN',
    format
      ? 'provided link token is in an invalid format. expected format: link-<environment>-<identifier>'
      : 'could not find matching link token',
  );

function plaidErrorBody(err: PlaidError) {
  return {
    display_message: err.display_message,
    documentation_url: `https://plaid.com/docs/?ref=error#${err.error_type.toLowerCase().replaceAll('_', '-')}-errors`,
    error_code: err.error_code,
    error_code_reason: null,
    error_message: err.message,
    error_type: err.error_type,
    request_id: requestId(),
    causes: [],
    status: err.status,
    suggested_action: null,
  };
}

interface Item {
  itemId: string;
  accessToken: string;
  /** The one account a sandbox Item here has (named by USER_ACCOUNT_REVOKED). */
  accountId: string;
  clientId: string;
  institution: SandboxInstitution;
  webhook: string | null;
  products: string[];
  created: number;
  removed: boolean;
  error: PlaidError | null;
  userId: string | null;
}

/** What a public token exchanges for: a new Item (registered at the exchange) or, in update mode, an existing one. */
interface PublicToken {
  clientId: string;
  item: Item;
  created: number;
}

interface PlaidUser {
  clientId: string;
  clientUserId: string;
  userId: string;
  userToken: string;
  /** /user/remove was called: unknown from then on, but its client_user_id stays taken. */
  removed: boolean;
}

/** A LinkSessionRun with what only /link/token/get shows: the public token and account of each Item. */
interface Run {
  view: LinkSessionRun;
  started: number;
  finished: number | null;
  added: Array<{ publicToken: string; item: Item }>;
  /** Link events, recorded once so /link/token/get answers the same event_ids each time (Hosted Link only). */
  events: Record<string, unknown>[];
  hosted: boolean;
}

/** What /link/token/get answers in `metadata`, taken from the /link/token/create request. */
interface LinkTokenMetadata {
  initial_products: string[];
  webhook: string | null;
  country_codes: string[];
  language: string | null;
  redirect_uri: string | null;
  client_name: string | null;
  account_filters?: Record<string, unknown>;
  institution_data?: Record<string, unknown>;
}

interface LinkToken {
  session: LinkSession;
  metadata: LinkTokenMetadata;
  runs: Run[];
}

const SANDBOX_ACCOUNT = { name: 'Plaid Checking', mask: '0000', type: 'depository', subtype: 'checking' } as const;

export async function startPlaidStandIn(opts: PlaidStandInOptions = {}): Promise<PlaidStandIn> {
  const credentials = new Map(Object.entries(opts.credentials ?? DEFAULT_PLAID_CREDENTIALS));
  const defaultClientId = [...credentials.keys()][0] ?? 'test-client-id';
  const requests: RecordedRequest[] = [];
  const linkSessions: LinkSession[] = [];
  let faults: Array<{ fault: PlaidFault; path: string | undefined }> = [];
  let countedFaults: Array<{ fault: PlaidFault; path: string | undefined; remaining: number }> = [];
  let clockOffsetMs = 0;
  const nowMs = () => Date.now() + clockOffsetMs;

  const publicTokens = new Map<string, PublicToken>();
  const items = new Map<string, Item>(); // by access token
  const itemsById = new Map<string, Item>();
  const users = new Map<string, PlaidUser>(); // by `${client_id}\n${client_user_id}`
  const usersByToken = new Map<string, PlaidUser>();
  const usersById = new Map<string, PlaidUser>();
  /** Update-mode link token -> the Item it updates. */
  const updateSessions = new Map<string, Item>();
  /** New-mode link token -> the products Link initialises for the Item it creates. */
  const linkTokenProducts = new Map<string, string[]>();
  const linkTokens = new Map<string, LinkToken>();

  // Webhook times are real Unix time, not the offset clock: the receiver checks iat and expired_at
  // against its own clock, as Plaid's receivers do.
  const unixNow = () => Math.floor(Date.now() / 1000);
  const webhookKeys = new Map<string, WebhookKey>();
  let currentKey = newWebhookKey(unixNow());
  webhookKeys.set(currentKey.jwk.kid, currentKey);
  let lastExpiredKey: WebhookKey | undefined;

  const deliveries: WebhookDelivery[] = [];
  const inFlight = new Set<Promise<void>>();
  const closing = new AbortController();

  /** Sends `payload` to the Item's webhook URL once the current API answer has gone out. */
  function queueWebhook(url: string | null, payload: Record<string, unknown>): void {
    if (url === null) return;
    const sending = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await deliver(url, webhookBody(payload));
    });
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  }

  async function deliver(url: string, body: string): Promise<WebhookDelivery> {
    const headers = { 'content-type': 'application/json', 'plaid-verification': sign(body, {}) };
    const delivery: WebhookDelivery = { url, body, headers };
    deliveries.push(delivery);
    try {
      const answer = await post(url, body, headers);
      delivery.status = answer.status;
    } catch (err) {
      delivery.error =
        err instanceof Error
          ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`
          : String(err);
    }
    return delivery;
  }

  async function post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: Buffer.from(body, 'utf8'),
      redirect: 'manual',
      signal: AbortSignal.any([closing.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
    });
    return { status: res.status, body: await res.text() };
  }

  function sign(body: string, o: SignWebhookOptions): string {
    const key = o.key === 'expired' ? lastExpiredKey : o.key === 'unknown' ? newWebhookKey(unixNow()) : currentKey;
    if (!key) throw new Error('no expired webhook key yet: call rotateWebhookKey() first');
    const alg = o.alg ?? 'ES256';
    const header = { alg: alg === 'HS256-public-key' ? 'HS256' : alg, kid: o.kid ?? key.jwk.kid, typ: 'JWT' };
    const payload = { iat: o.iat ?? unixNow(), request_body_sha256: sha256Hex(o.bodyHashOf ?? body) };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    let signature: Buffer;
    if (alg === 'ES256') {
      // JWS wants the raw r||s form, not DER.
      signature = signBytes('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    } else if (alg === 'none') {
      signature = Buffer.alloc(0);
    } else {
      signature = createHmac('sha256', key.publicPem).update(signingInput).digest();
    }
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  function itemWebhook(item: Item, code: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      webhook_type: 'ITEM',
      webhook_code: code,
      item_id: item.itemId,
      ...(item.userId !== null && { user_id: item.userId }),
      ...extra,
      environment: 'sandbox',
    };
  }

  function sendError(res: ServerResponse, err: PlaidError) {
    sendJson(res, err.status, plaidErrorBody(err));
  }

  function takeFault(path: string): PlaidFault | undefined {
    let due: PlaidFault | undefined;
    for (const counted of countedFaults) {
      if (counted.path !== undefined && counted.path !== path) continue;
      counted.remaining -= 1;
      if (counted.remaining === 0) due ??= counted.fault;
    }
    countedFaults = countedFaults.filter((c) => c.remaining > 0);
    if (due) return due;
    const i = faults.findIndex((f) => f.path === undefined || f.path === path);
    return i < 0 ? undefined : faults.splice(i, 1)[0]?.fault;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      requests.push({ path, headers: req.headers, body: undefined });
      res.setHeader('connection', 'close');
      return sendError(res, new PlaidError(413, 'INVALID_REQUEST', 'INVALID_BODY', err.message));
    }
    const parsed = raw.length === 0 ? undefined : parseJson(raw);
    requests.push({
      path,
      headers: req.headers,
      body: parsed === undefined && raw.length > 0 ? raw.toString('utf8') : parsed,
    });

    const fault = takeFault(path);
    if (fault?.kind === 'network') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await server.sleep(fault.ms);
    if (fault?.kind === 'error') {
      return sendError(
        res,
        new PlaidError(
          fault.status,
          fault.error_type,
          fault.error_code,
          fault.error_message ?? `injected ${fault.error_code}`,
        ),
      );
    }

    let answer: { status: number; body: Record<string, unknown> };
    try {
      const route = Object.hasOwn(routes, path) ? routes[path as PlaidEndpoint] : undefined;
      if (req.method !== 'POST' || !route) {
        throw new PlaidError(404, 'INVALID_REQUEST', 'NOT_FOUND', 'not found');
      }
      const { body, clientId } = checkEnvelope(req, parsed);
      answer = { status: 200, body: { ...route(body, clientId), request_id: requestId() } };
    } catch (err) {
      if (!(err instanceof PlaidError)) throw err;
      answer = { status: err.status, body: plaidErrorBody(err) };
    }
    if (fault?.kind === 'lost-response') {
      req.socket.destroy();
      return;
    }
    sendJson(res, answer.status, answer.body);
  }

  function checkEnvelope(req: IncomingMessage, body: unknown): { body: Record<string, unknown>; clientId: string } {
    const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json' || !isPlainObject(body)) {
      throw invalidRequest(
        'INVALID_BODY',
        'body could not be parsed as JSON; the request must have Content-Type: application/json and a JSON object body',
      );
    }
    const clientId = header(req.headers['plaid-client-id']) ?? body.client_id;
    const secret = header(req.headers['plaid-secret']) ?? body.secret;
    const missing = Object.entries({ client_id: clientId, secret })
      .filter(([, v]) => typeof v !== 'string' || v === '')
      .map(([k]) => k);
    if (missing.length > 0) throw missingFields(...missing);
    if (credentials.get(clientId as string) !== secret) {
      throw new PlaidError(400, 'INVALID_INPUT', 'INVALID_API_KEYS', 'invalid client_id or secret provided');
    }
    const version = header(req.headers['plaid-version']);
    if (version !== undefined && version !== PLAID_API_VERSION) {
      throw invalidRequest(
        'INVALID_HEADERS',
        `invalid Plaid-Version header "${version}": this server supports ${PLAID_API_VERSION}`,
      );
    }
    return { body, clientId: clientId as string };
  }

  /** The live Item behind an access token of this client, or the error Plaid gives for it. */
  function liveItem(accessToken: unknown, clientId: string): Item {
    if (typeof accessToken !== 'string') throw missingFields('access_token');
    if (!/^access-[a-z]+-[A-Za-z0-9-]+$/.test(accessToken)) throw invalidAccessToken(true);
    const item = items.get(accessToken);
    if (!item || item.clientId !== clientId) throw invalidAccessToken(false);
    if (item.removed) throw itemNotFound();
    return item;
  }

  function userByToken(token: string, clientId: string): PlaidUser {
    const user = usersByToken.get(token);
    if (!user || user.clientId !== clientId || user.removed) {
      throw new PlaidError(400, 'INVALID_INPUT', 'INVALID_USER_TOKEN', 'could not find matching user token');
    }
    return user;
  }

  function userById(userId: string, clientId: string): PlaidUser {
    const user = usersById.get(userId);
    if (!user || user.clientId !== clientId || user.removed) {
      throw new PlaidError(
        400,
        'USER_ERROR',
        'USER_NOT_FOUND',
        'The User you requested cannot be found. This User does not exist or has had access removed by the user.',
      );
    }
    return user;
  }

  /** The Plaid user named by user_token and/or user_id (which must agree), or undefined when neither is given. */
  function namedUser(body: Record<string, unknown>, clientId: string): PlaidUser | undefined {
    const byToken = typeof body.user_token === 'string' ? userByToken(body.user_token, clientId) : undefined;
    const byId = typeof body.user_id === 'string' ? userById(body.user_id, clientId) : undefined;
    if (byToken && byId && byToken !== byId) throw invalidField('user_id and user_token identify different users');
    return byToken ?? byId;
  }

  function institutionFor(id: unknown): SandboxInstitution {
    const institution = SANDBOX_INSTITUTIONS.find((i) => i.institution_id === id);
    if (!institution) {
      throw new PlaidError(400, 'INVALID_INPUT', 'INVALID_INSTITUTION', 'invalid institution_id provided');
    }
    return institution;
  }

  /** A public token for a new Item, which exists for the API once the token is exchanged. */
  function issuePublicToken(token: {
    clientId: string;
    institution: SandboxInstitution;
    products: string[];
    webhook: string | null;
    userId: string | null;
  }): { publicToken: string; item: Item } {
    const unsupported = token.products.filter((p) => !token.institution.products.includes(p));
    if (unsupported.length > 0) {
      throw new PlaidError(
        400,
        'ITEM_ERROR',
        'PRODUCTS_NOT_SUPPORTED',
        `the following products are not supported by ${token.institution.name}: ${unsupported.join(', ')}`,
      );
    }
    const item: Item = {
      itemId: randomAlnum(37),
      accessToken: `access-sandbox-${randomUUID()}`,
      accountId: randomAlnum(37),
      clientId: token.clientId,
      institution: token.institution,
      webhook: token.webhook,
      products: token.products.filter((p) => p !== 'balance'),
      created: nowMs(),
      removed: false,
      error: null,
      userId: token.userId,
    };
    return { publicToken: publicTokenFor(item), item };
  }

  function publicTokenFor(item: Item): string {
    const publicToken = `public-sandbox-${randomUUID()}`;
    publicTokens.set(publicToken, { clientId: item.clientId, item, created: nowMs() });
    return publicToken;
  }

  function exchange(publicToken: unknown, clientId: string): { access_token: string; item_id: string } {
    if (typeof publicToken !== 'string') throw missingFields('public_token');
    if (!/^public-[a-z]+-[A-Za-z0-9-]+$/.test(publicToken)) throw invalidPublicToken('format');
    const token = publicTokens.get(publicToken);
    if (!token || token.clientId !== clientId) throw invalidPublicToken('unknown');
    if (nowMs() - token.created >= PUBLIC_TOKEN_LIFETIME_MS) throw invalidPublicToken('expired');
    // Single use: the token is gone once exchanged.
    publicTokens.delete(publicToken);
    const { item } = token;
    if (item.removed) throw itemNotFound();
    // An update-mode token names an Item that exists already: the same item_id and access token.
    if (!itemsById.has(item.itemId)) {
      item.created = nowMs();
      items.set(item.accessToken, item);
      itemsById.set(item.itemId, item);
    }
    return { access_token: item.accessToken, item_id: item.itemId };
  }

  function checkProducts(products: unknown, field: string): string[] {
    if (!Array.isArray(products)) throw missingFields(field);
    if (products.length === 0) throw invalidField(`${field} must contain at least one product`);
    const bad: unknown = products.find((p) => !PRODUCTS.has(p as string));
    if (bad !== undefined) throw invalidField(`${field} contains an unknown product: ${JSON.stringify(bad)}`);
    return products as string[];
  }

  const routes: Record<PlaidEndpoint, (body: Record<string, unknown>, clientId: string) => Record<string, unknown>> = {
    '/link/token/create': (body, clientId) => {
      validateLinkTokenCreate(body);
      const fields = withoutNulls(body);
      const user = namedUser(fields, clientId);
      const clientUserId =
        isPlainObject(fields.user) && typeof fields.user.client_user_id === 'string'
          ? fields.user.client_user_id
          : undefined;
      if (user && clientUserId !== undefined && user.clientUserId !== clientUserId) {
        throw invalidField('user.client_user_id does not match the client_user_id the Plaid user was created with');
      }
      const update = isPlainObject(fields.update) ? fields.update : {};
      if (update.user === true && !user) throw missingFields('user_token');
      if (update.item_ids !== undefined && update.item_ids !== null && !user) throw missingFields('user_token');

      let updated: Item | undefined;
      if (fields.access_token !== undefined) updated = liveItem(fields.access_token, clientId);
      if (Array.isArray(fields.access_tokens)) for (const token of fields.access_tokens) liveItem(token, clientId);
      if (isUpdateMode(fields)) {
        const added = Array.isArray(fields.products)
          ? (fields.products as string[]).filter((p) => !UPDATE_MODE_ADDABLE(p))
          : [];
        if (added.length > 0) {
          throw invalidField(
            `products must be omitted in update mode, except to add assets, statements, income_verification or Plaid Check products; got: ${added.join(', ')}`,
          );
        }
      }
      const created = nowMs();
      const answer = linkTokenCreate(fields, created / 1000);
      const linkToken = answer.link_token as string;
      if (updated) updateSessions.set(linkToken, updated);
      else if (Array.isArray(fields.products)) linkTokenProducts.set(linkToken, [...(fields.products as string[])]);
      const session: LinkSession = {
        link_token: linkToken,
        client_id: clientId,
        client_user_id: clientUserId ?? user?.clientUserId,
        user_id: user?.userId,
        update: updated && {
          item_id: updated.itemId,
          account_selection_enabled: update.account_selection_enabled === true,
        },
        created_at: isoSeconds(created),
        expiration: answer.expiration as string,
        webhook: typeof fields.webhook === 'string' ? fields.webhook : undefined,
        hosted_link: isPlainObject(fields.hosted_link),
        enable_multi_item_link: fields.enable_multi_item_link === true,
        sessions: [],
      };
      linkSessions.push(session);
      linkTokens.set(linkToken, { session, metadata: linkTokenMetadata(fields), runs: [] });
      return answer;
    },

    '/link/token/get': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/link/token/get']);
      if (body.link_token === undefined) throw missingFields('link_token');
      if (!/^link-[a-z]+-[A-Za-z0-9-]+$/.test(body.link_token as string)) throw invalidLinkToken(true);
      const token = linkTokens.get(body.link_token as string);
      if (!token || token.session.client_id !== clientId) throw invalidLinkToken(false);
      const { session } = token;
      return {
        link_token: session.link_token,
        created_at: session.created_at,
        expiration: session.expiration,
        metadata: { ...token.metadata },
        link_sessions: token.runs
          .filter((run) => run.finished === null || nowMs() - run.finished < LINK_SESSION_RETENTION_MS)
          .map((run) => linkSessionJson(run)),
        ...(session.user_id !== undefined && { user_id: session.user_id }),
      };
    },

    '/sandbox/public_token/create': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/sandbox/public_token/create']);
      if (body.institution_id === undefined) throw missingFields('institution_id');
      const institution = institutionFor(body.institution_id);
      const products = checkProducts(body.initial_products, 'initial_products');
      const options = isPlainObject(body.options) ? body.options : {};
      if (options.webhook !== undefined && (typeof options.webhook !== 'string' || !URL.canParse(options.webhook))) {
        throw invalidField('options.webhook must be a valid URL');
      }
      const user = namedUser(body, clientId);
      const { publicToken } = issuePublicToken({
        clientId,
        institution,
        products,
        webhook: options.webhook ?? null,
        userId: user?.userId ?? null,
      });
      return { public_token: publicToken };
    },

    '/item/public_token/exchange': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/item/public_token/exchange']);
      return exchange(body.public_token, clientId);
    },

    '/item/get': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/item/get']);
      const item = liveItem(body.access_token, clientId);
      return { item: itemJson(item), status: { investments: null, transactions: null, last_webhook: null } };
    },

    '/item/webhook/update': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/item/webhook/update']);
      const item = liveItem(body.access_token, clientId);
      if (body.webhook !== undefined && !URL.canParse(body.webhook as string))
        throw invalidField('webhook must be a valid URL');
      // A null (or absent) webhook removes the Item's webhook.
      item.webhook = (body.webhook as string | undefined) ?? null;
      // "This request triggers a WEBHOOK_UPDATE_ACKNOWLEDGED webhook to the newly specified webhook URL."
      queueWebhook(
        item.webhook,
        itemWebhook(item, 'WEBHOOK_UPDATE_ACKNOWLEDGED', { error: null, new_webhook_url: item.webhook }),
      );
      return { item: itemJson(item) };
    },

    '/webhook_verification_key/get': (input) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/webhook_verification_key/get']);
      if (body.key_id === undefined) throw missingFields('key_id');
      const key = webhookKeys.get(body.key_id as string);
      if (!key) {
        // Plaid's errors reference (Invalid Input errors), not the OpenAPI spec, names this one.
        throw new PlaidError(
          400,
          'INVALID_INPUT',
          'INVALID_WEBHOOK_VERIFICATION_KEY_ID',
          'invalid key_id provided. note that key_ids are specific to Plaid environments, and verification requests must be made to the same environment that the webhook was sent from',
        );
      }
      return { key: { ...key.jwk } };
    },

    '/sandbox/item/fire_webhook': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/sandbox/item/fire_webhook']);
      const code = body.webhook_code;
      if (code === undefined) throw missingFields('webhook_code');
      if (!FIRE_WEBHOOK_CODES.has(code as string))
        throw invalidField(`webhook_code must be one of: ${[...FIRE_WEBHOOK_CODES].join(', ')}`);
      const type = body.webhook_type;
      if (type !== undefined && !FIRE_WEBHOOK_TYPES.has(type as string))
        throw invalidField(`webhook_type must be one of: ${[...FIRE_WEBHOOK_TYPES].join(', ')}`);
      const item = liveItem(body.access_token, clientId);
      const payload = fireWebhookPayload(item, type as string | undefined, code as string);
      if (item.webhook === null || !URL.canParse(item.webhook)) {
        throw new PlaidError(
          400,
          'SANDBOX_ERROR',
          'SANDBOX_WEBHOOK_INVALID',
          "Webhook for this item is either not set up, or invalid. Please update the item's webhook and try again.",
        );
      }
      queueWebhook(item.webhook, payload);
      return { webhook_fired: true };
    },

    '/item/remove': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/item/remove']);
      const item = liveItem(body.access_token, clientId);
      if (body.reason_code !== undefined && !REMOVE_REASONS.has(body.reason_code as string)) {
        throw invalidField(`reason_code must be one of: ${[...REMOVE_REASONS].join(', ')}`);
      }
      if (typeof body.reason_note === 'string' && body.reason_note.length > 512) {
        throw invalidField('reason_note must be at most 512 characters');
      }
      item.removed = true;
      return {};
    },

    '/user/create': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/user/create']);
      const clientUserId = body.client_user_id;
      if (clientUserId === undefined) throw missingFields('client_user_id');
      if (typeof clientUserId !== 'string' || clientUserId.length < 1 || clientUserId.length > 128) {
        throw invalidField('client_user_id must be a non-empty string of at most 128 characters');
      }
      const key = `${clientId}\n${clientUserId}`;
      // "the first creation call will succeed and the rest will fail with an error message indicating
      // that the user has been created for the given client_user_id" (Plaid names no error code for it).
      if (users.has(key)) throw invalidField('a user has already been created for the given client_user_id');
      const user: PlaidUser = {
        clientId,
        clientUserId,
        userId: `usr_${randomAlnum(14)}`,
        userToken: `user-sandbox-${randomUUID()}`,
        removed: false,
      };
      users.set(key, user);
      usersByToken.set(user.userToken, user);
      usersById.set(user.userId, user);
      return { user_token: user.userToken, user_id: user.userId };
    },

    '/user/remove': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/user/remove']);
      const user = namedUser(body, clientId);
      if (!user) throw missingFields('user_id or user_token');
      // "deletes a user_id or user_token and associated information, including any Items associated with the user"
      user.removed = true;
      for (const item of itemsById.values()) if (item.userId === user.userId) item.removed = true;
      for (const [token, pending] of publicTokens) if (pending.item.userId === user.userId) publicTokens.delete(token);
      return {};
    },

    '/sandbox/item/reset_login': (input, clientId) => {
      const body = checkFields(input, ENDPOINT_FIELDS['/sandbox/item/reset_login']);
      requireLogin(liveItem(body.access_token, clientId));
      return { reset_login: true };
    },
  };

  /** What /sandbox/item/reset_login does to an Item: ITEM_LOGIN_REQUIRED, and the ITEM ERROR webhook. */
  function requireLogin(item: Item): void {
    item.error = new PlaidError(
      400,
      'ITEM_ERROR',
      'ITEM_LOGIN_REQUIRED',
      "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state",
      'The login details of this item have changed. Please update your login in Link to reconnect.',
    );
    queueWebhook(
      item.webhook,
      itemWebhook(item, 'ERROR', { error: { ...plaidErrorBody(item.error), status: item.error.status } }),
    );
  }

  /** The webhook body /sandbox/item/fire_webhook sends, or the error Plaid answers for the combination. */
  function fireWebhookPayload(item: Item, type: string | undefined, code: string): Record<string, unknown> {
    if (ITEM_FIRE_CODES.has(code)) {
      if (type !== undefined && type !== 'ITEM')
        throw invalidField(`webhook_code ${code} is an ITEM webhook; webhook_type must be ITEM or omitted`);
      if (code === 'PENDING_DISCONNECT') {
        return itemWebhook(item, code, {
          reason: 'INSTITUTION_MIGRATION',
          disconnect_time: new Date(Date.now() + PENDING_DISCONNECT_LEAD_MS).toISOString(),
        });
      }
      if (code === 'USER_ACCOUNT_REVOKED') return itemWebhook(item, code, { account_id: item.accountId });
      if (code === 'NEW_ACCOUNTS_AVAILABLE') return itemWebhook(item, code, { error: null });
      return itemWebhook(item, code);
    }
    // DEFAULT_UPDATE is fired "for the respective product as specified with the webhook_type"; we take
    // an omitted type as TRANSACTIONS, the product both codes here belong to.
    if (TRANSACTIONS_FIRE_CODES.has(code) && (type === undefined || type === 'TRANSACTIONS')) {
      if (!item.products.includes('transactions')) {
        throw new PlaidError(
          400,
          'SANDBOX_ERROR',
          'SANDBOX_PRODUCT_NOT_ENABLED',
          'The transactions product is not enabled on this item',
        );
      }
      const base = { webhook_type: 'TRANSACTIONS', webhook_code: code, item_id: item.itemId };
      return code === 'SYNC_UPDATES_AVAILABLE'
        ? { ...base, initial_update_complete: true, historical_update_complete: true, environment: 'sandbox' }
        : { ...base, error: null, new_transactions: 0, environment: 'sandbox' };
    }
    // A limit of this stand-in, not a Plaid error: say so rather than pretend the webhook went out.
    throw invalidField(
      `this Plaid stand-in does not simulate ${type ?? 'the'} ${code} webhook; it fires ITEM ${[...ITEM_FIRE_CODES].join('/')} and TRANSACTIONS ${[...TRANSACTIONS_FIRE_CODES].join('/')}`,
    );
  }

  function itemJson(item: Item): Record<string, unknown> {
    return {
      item_id: item.itemId,
      institution_id: item.institution.institution_id,
      institution_name: item.institution.name,
      webhook: item.webhook,
      auth_method: null,
      error: item.error && { ...plaidErrorBody(item.error), status: null },
      available_products: item.institution.products.filter((p) => !item.products.includes(p)),
      billed_products: [...item.products],
      products: [...item.products],
      consented_products: [...item.products],
      consent_expiration_time: null,
      update_type: 'background',
      created_at: isoSeconds(item.created),
    };
  }

  function helperToken(o: HelperItemOptions) {
    let { clientId, webhook, userId, products } = o;
    let linkToken: LinkToken | undefined;
    if (o.linkToken !== undefined) {
      linkToken = linkTokens.get(o.linkToken);
      const session = linkToken?.session;
      if (!session) throw new Error('not a link token issued by this stand-in');
      if (session.update) throw new Error('an update-mode link token updates an existing Item: use completeUpdateMode');
      if (Date.parse(session.expiration) <= nowMs()) throw new Error('the link token has expired');
      for (const [name, given, fromSession] of [
        ['clientId', clientId, session.client_id],
        ['webhook', webhook, session.webhook],
        ['userId', userId, session.user_id],
      ] as const) {
        if (given !== undefined && given !== fromSession)
          throw new Error(`${name} differs from the link session's; omit it when passing linkToken`);
      }
      ({ client_id: clientId, webhook, user_id: userId } = session);
      products ??= linkTokenProducts.get(session.link_token);
    }
    clientId ??= defaultClientId;
    const issued = issuePublicToken({
      clientId,
      institution: institutionFor(o.institutionId ?? SANDBOX_INSTITUTIONS[0]?.institution_id),
      products: products ?? ['transactions'],
      webhook: webhook ?? null,
      userId: userId ?? null,
    });
    // Link's onSuccess: a finished session of that link token, for /link/token/get.
    if (linkToken) finishRun(startRun(linkToken), 'SUCCESS', [issued]);
    return { clientId, token: issued.publicToken };
  }

  function startRun(token: LinkToken): Run {
    const started = nowMs();
    const run: Run = {
      view: {
        link_session_id: randomUUID(),
        started_at: new Date(started).toISOString(),
        finished_at: null,
        status: null,
        institution_ids: [],
      },
      started,
      finished: null,
      added: [],
      events: [],
      hosted: token.session.hosted_link,
    };
    recordEvent(run, 'OPEN', started);
    token.runs.push(run);
    token.session.sessions.push(run.view);
    return run;
  }

  function finishRun(run: Run, status: 'SUCCESS' | 'EXITED', added: Array<{ publicToken: string; item: Item }>) {
    run.finished = nowMs();
    for (const { item } of added) {
      const institution = { institution_id: item.institution.institution_id, institution_name: item.institution.name };
      recordEvent(run, 'SELECT_INSTITUTION', run.finished, institution);
      recordEvent(run, 'HANDOFF', run.finished, institution);
    }
    if (status === 'EXITED') recordEvent(run, 'EXIT', run.finished);
    run.added = added;
    run.view.finished_at = new Date(run.finished).toISOString();
    run.view.status = status;
    run.view.institution_ids = added.map((a) => a.item.institution.institution_id);
  }

  function recordEvent(run: Run, name: string, at: number, metadata: Record<string, unknown> = {}): void {
    // Plaid gives complete event data only for Hosted Link sessions by default.
    if (!run.hosted) return;
    run.events.push({
      event_id: randomUUID(),
      event_name: name,
      timestamp: isoSeconds(at),
      event_metadata: { request_id: requestId(), ...metadata },
    });
  }

  /** One entry of /link/token/get's link_sessions. */
  function linkSessionJson(run: Run): Record<string, unknown> {
    const id = run.view.link_session_id;
    return {
      link_session_id: id,
      started_at: run.view.started_at,
      finished_at: run.view.finished_at,
      events: run.events.map((e) => structuredClone(e)),
      results:
        run.view.status === 'SUCCESS'
          ? {
              item_add_results: run.added.map(({ publicToken, item }) => ({
                public_token: publicToken,
                accounts: [{ id: item.accountId, ...SANDBOX_ACCOUNT, verification_status: null, class_type: null }],
                institution: { name: item.institution.name, institution_id: item.institution.institution_id },
              })),
              cra_item_add_results: [],
              cra_update_results: [],
              bank_income_results: [],
              payroll_income_results: [],
              document_income_results: null,
            }
          : null,
      exit:
        run.view.status === 'EXITED'
          ? {
              error: null,
              metadata: {
                institution: null,
                status: 'requires_credentials',
                link_session_id: id,
                request_id: requestId(),
              },
            }
          : null,
    };
  }

  async function runLinkSession(linkToken: string, o: RunLinkSessionOptions = {}): Promise<LinkSessionOutcome> {
    const token = linkTokens.get(linkToken);
    if (!token) throw new LinkSessionError('link_token', 'not a link token issued by this Plaid stand-in');
    const { session } = token;
    if (session.update) {
      throw new LinkSessionError(
        'link_token',
        'an update-mode link token repairs its Item and adds none: finish it with POST /dev/plaid-link/success',
      );
    }
    if (Date.parse(session.expiration) <= nowMs())
      throw new LinkSessionError('link_token', 'the link token has expired');
    const outcome = o.outcome ?? 'success';
    const institutionIds = o.institutionIds ?? [SANDBOX_INSTITUTIONS[0]!.institution_id];
    if (outcome === 'success') {
      if (institutionIds.length === 0)
        throw new LinkSessionError('institution_ids', 'a successful session adds at least one Item');
      if (institutionIds.length > 1 && !session.enable_multi_item_link) {
        throw new LinkSessionError(
          'institution_ids',
          'only a link token created with enable_multi_item_link adds more than one Item in a session',
        );
      }
    }
    const institutions = institutionIds.map((id) => {
      const found = SANDBOX_INSTITUTIONS.find((i) => i.institution_id === id);
      if (!found) {
        throw new LinkSessionError(
          'institution_ids',
          `${JSON.stringify(id)} is not one of ${SANDBOX_INSTITUTIONS.map((i) => i.institution_id).join(', ')}`,
        );
      }
      return found;
    });
    const products = linkTokenProducts.get(linkToken) ?? ['transactions'];
    const added =
      outcome === 'success'
        ? institutions.map((institution) => {
            try {
              return issuePublicToken({
                clientId: session.client_id,
                institution,
                products,
                webhook: session.webhook ?? null,
                userId: session.user_id ?? null,
              });
            } catch (err) {
              if (err instanceof PlaidError) throw new LinkSessionError('institution_ids', err.message);
              throw err;
            }
          })
        : [];

    const run = startRun(token);
    const result: LinkSessionOutcome = {
      link_session_id: run.view.link_session_id,
      status: null,
      items: added.map(({ publicToken, item }) => ({
        institution_id: item.institution.institution_id,
        institution_name: item.institution.name,
        public_token: publicToken,
      })),
      deliveries: [],
    };
    if (outcome === 'in-progress') return { ...result, no_webhooks_because: 'not finished' };
    const status = outcome === 'success' ? 'SUCCESS' : 'EXITED';
    finishRun(run, status, added);
    result.status = status;

    // Plaid sends these by default only for Hosted Link and Multi-Item Link sessions.
    const because =
      o.webhooks === false
        ? 'withheld'
        : !session.hosted_link && !session.enable_multi_item_link
          ? 'not Hosted Link or Multi-Item Link'
          : session.webhook === undefined
            ? 'no webhook URL'
            : undefined;
    if (because) return { ...result, no_webhooks_because: because };
    const url = session.webhook!;
    const base = { webhook_type: 'LINK', link_session_id: run.view.link_session_id, link_token: linkToken };
    const payloads: Record<string, unknown>[] = [
      ...added.map(({ publicToken }) => ({
        ...base,
        webhook_code: 'ITEM_ADD_RESULT',
        public_token: publicToken,
        environment: 'sandbox',
      })),
      {
        ...base,
        webhook_code: 'SESSION_FINISHED',
        status,
        // An exited session has no public tokens to give, so the field is left out.
        ...(status === 'SUCCESS' && { public_tokens: added.map((a) => a.publicToken) }),
        ...(session.user_id !== undefined && { user_id: session.user_id }),
        environment: 'sandbox',
      },
    ];
    // One after the other, so a receiver sees each Item's result before the session's end.
    const sending = (async () => {
      for (const payload of payloads) result.deliveries.push(await deliver(url, webhookBody(payload)));
    })();
    inFlight.add(sending);
    try {
      await sending;
    } finally {
      inFlight.delete(sending);
    }
    return result;
  }

  const server = await listen(handle, opts);
  return {
    url: server.url,
    requests,
    get calls() {
      return requests.length;
    },
    requestsTo: (path) => requests.filter((r) => r.path === path),
    callsTo: (path) => requests.filter((r) => r.path === path).length,
    linkSessions,
    linkSession: (linkToken) => linkTokens.get(linkToken)?.session,
    reset() {
      requests.length = 0;
      linkSessions.length = 0;
      deliveries.length = 0;
      faults = [];
      countedFaults = [];
    },
    setCredentials(clientId, secret) {
      credentials.set(clientId, secret);
    },
    failNext(n, fault, path) {
      for (let i = 0; i < n; i++) faults.push({ fault, path });
    },
    failCall(nth, fault, path) {
      if (!Number.isInteger(nth) || nth < 1) throw new Error('failCall: nth counts from 1');
      countedFaults.push({ fault, path, remaining: nth });
    },
    createPublicToken: (o = {}) => helperToken(o).token,
    createItem(o = {}) {
      const { clientId, token } = helperToken(o);
      return exchange(token, clientId);
    },
    item(itemId) {
      const item = itemsById.get(itemId);
      if (!item) return undefined;
      return {
        item_id: item.itemId,
        client_id: item.clientId,
        institution_id: item.institution.institution_id,
        institution_name: item.institution.name,
        webhook: item.webhook,
        billed_products: [...item.products],
        created_at: isoSeconds(item.created),
        removed: item.removed,
        error_code: item.error?.error_code ?? null,
        user_id: item.userId,
      };
    },
    completeUpdateMode(linkToken) {
      const item = updateSessions.get(linkToken);
      const token = linkTokens.get(linkToken);
      if (!item || !token) throw new Error('not an update-mode link token issued by this stand-in');
      if (item.removed) throw new Error('the Item of this update-mode link token has been removed');
      item.error = null;
      const publicToken = publicTokenFor(item);
      finishRun(startRun(token), 'SUCCESS', [{ publicToken, item }]);
      return publicToken;
    },
    runLinkSession,
    resetLogin(itemId) {
      const item = itemsById.get(itemId);
      if (!item || item.removed) throw new Error('not a live Item of this stand-in');
      requireLogin(item);
    },
    repairLoginElsewhere(itemId) {
      const item = itemsById.get(itemId);
      if (!item || item.removed) throw new Error('not a live Item of this stand-in');
      item.error = null;
      queueWebhook(item.webhook, itemWebhook(item, 'LOGIN_REPAIRED'));
    },
    deliveries,
    async awaitDeliveries() {
      // A delivery may be queued while others are awaited; wait until none is left.
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    get webhookKeyId() {
      return currentKey.jwk.kid;
    },
    rotateWebhookKey() {
      const now = unixNow();
      currentKey.jwk.expired_at = now;
      lastExpiredKey = currentKey;
      currentKey = newWebhookKey(now);
      webhookKeys.set(currentKey.jwk.kid, currentKey);
      return currentKey.jwk.kid;
    },
    signWebhook: (body, o = {}) => sign(body, o),
    deliverWebhook: (url, body, header) =>
      post(url, body, { 'content-type': 'application/json', 'plaid-verification': header }),
    advanceClock(ms) {
      clockOffsetMs += ms;
    },
    close() {
      closing.abort(new Error('Plaid stand-in closed'));
      return server.close();
    },
  };
}

/** The UNKNOWN_FIELDS / INVALID_FIELD checks of an endpoint; null counts as absent, as Plaid decodes it. */
function checkFields(input: Record<string, unknown>, fields: Record<string, JsonType>): Record<string, unknown> {
  const body = withoutNulls(input);
  const unknown = Object.keys(body).filter((k) => !Object.hasOwn(fields, k));
  if (unknown.length > 0) {
    throw invalidRequest(
      'UNKNOWN_FIELDS',
      `the following fields are not recognized by this endpoint: ${unknown.join(', ')}`,
    );
  }
  for (const [key, value] of Object.entries(body)) {
    const expected = fields[key];
    if (expected && jsonType(value) !== expected) throw invalidField(`${key} must be of type ${expected}`);
  }
  return body;
}

interface WebhookKey {
  jwk: WebhookVerificationJwk;
  privateKey: KeyObject;
  /** The public key as SPKI PEM: what an algorithm-confusion forger would use as an HMAC secret. */
  publicPem: string;
}

function newWebhookKey(createdAt: number): WebhookKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string' || typeof y !== 'string') throw new Error('P-256 public key without x/y');
  return {
    jwk: {
      alg: 'ES256',
      crv: 'P-256',
      kid: randomUUID(),
      kty: 'EC',
      use: 'sig',
      x,
      y,
      created_at: createdAt,
      expired_at: null,
    },
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Plaid's webhook bodies are pretty-printed (2 spaces) with sorted keys, so a receiver must hash the raw bytes, not a re-serialisation. */
function webhookBody(payload: Record<string, unknown>): string {
  return JSON.stringify(sortKeys(payload), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function withoutNulls(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The /link/token/create fields /link/token/get echoes in `metadata`. */
function linkTokenMetadata(body: Record<string, unknown>): LinkTokenMetadata {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    initial_products: Array.isArray(body.products) ? [...(body.products as string[])] : [],
    webhook: str(body.webhook),
    country_codes: [...(body.country_codes as string[])],
    language: str(body.language),
    redirect_uri: str(body.redirect_uri),
    client_name: str(body.client_name),
    ...(isPlainObject(body.account_filters) && { account_filters: structuredClone(body.account_filters) }),
    ...(isPlainObject(body.institution_data) && { institution_data: structuredClone(body.institution_data) }),
  };
}

function linkTokenCreate(body: Record<string, unknown>, now: number): Record<string, unknown> {
  const hostedLink = body.hosted_link;
  const lifetime =
    isPlainObject(hostedLink) && typeof hostedLink.url_lifetime_seconds === 'number'
      ? hostedLink.url_lifetime_seconds
      : isUpdateMode(body)
        ? UPDATE_MODE_EXPIRY_S
        : DEFAULT_EXPIRY_S;
  return {
    link_token: `link-sandbox-${randomUUID()}`,
    expiration: isoSeconds((now + lifetime) * 1000),
    ...(isPlainObject(hostedLink) && { hosted_link_url: `https://secure.plaid.com/hl/${randomAlnum(32)}` }),
    ...(typeof body.user_id === 'string' && { user_id: body.user_id }),
  };
}

/** Throws the PlaidError the sandbox would answer for the first broken rule. */
export function validateLinkTokenCreate(input: Record<string, unknown>): void {
  // Plaid decodes null as "not given", so treat it that way throughout.
  const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));

  const unknown = Object.keys(body).filter((k) => !Object.hasOwn(FIELDS, k));
  if (unknown.length > 0) {
    throw invalidRequest(
      'UNKNOWN_FIELDS',
      `the following fields are not recognized by this endpoint: ${unknown.join(', ')}`,
    );
  }

  const missing = ['client_name', 'language', 'country_codes'].filter((k) => body[k] === undefined);
  if (body.user === undefined && body.user_id === undefined) missing.push('user');
  else if (isPlainObject(body.user) && body.user.client_user_id === undefined && body.user_id === undefined) {
    missing.push('user.client_user_id');
  }
  if (body.products === undefined && !isUpdateMode(body)) missing.push('products');
  if (hasProduct(body, 'statements') && body.statements === undefined) missing.push('statements');
  // Plaid's API reference: each of these objects "is required if <product> is included in the products array".
  for (const product of ['payment_initiation', 'employment', 'income_verification', 'identity_verification']) {
    if (hasProduct(body, product) && body[product] === undefined) missing.push(product);
  }
  if (missing.length > 0) {
    throw invalidRequest('MISSING_FIELDS', `the following required fields are missing: ${missing.join(', ')}`);
  }

  for (const [key, value] of Object.entries(body)) {
    const expected = FIELDS[key];
    if (expected && jsonType(value) !== expected) throw invalidField(`${key} must be of type ${expected}`);
  }

  if (body.client_name === '') throw invalidField('client_name must be a non-empty string');
  if (!LANGUAGES.has(body.language as string)) {
    throw invalidField(`language must be one of: ${[...LANGUAGES].join(', ')}`);
  }

  const countries = body.country_codes as unknown[];
  if (countries.length === 0) throw invalidField('country_codes must contain at least one country code');
  const badCountry = countries.find((c) => !COUNTRY_CODES.has(c as string));
  if (badCountry !== undefined)
    throw invalidField(`country_codes contains an unsupported country code: ${JSON.stringify(badCountry)}`);

  if (isPlainObject(body.user)) {
    const id = body.user.client_user_id;
    if (id !== undefined && (typeof id !== 'string' || id.trim() === '')) {
      throw invalidField('user.client_user_id must be a non-empty string');
    }
  }

  for (const list of PRODUCT_LISTS) {
    const values = body[list] as unknown[] | undefined;
    if (values === undefined) continue;
    const bad = values.find((p) => !PRODUCTS.has(p as string));
    if (bad !== undefined) throw invalidField(`${list} contains an unknown product: ${JSON.stringify(bad)}`);
    // The docs single these two lists out: balance is initialised implicitly.
    if ((list === 'products' || list === 'additional_consented_products') && values.includes('balance')) {
      throw invalidField(`balance is not a valid value in ${list}; the Balance product is initialized automatically`);
    }
  }
  if (Array.isArray(body.products) && body.products.length === 0 && !isUpdateMode(body)) {
    throw invalidField('products must contain at least one product');
  }
  for (let i = 0; i < PRODUCT_LISTS.length; i++) {
    for (let j = i + 1; j < PRODUCT_LISTS.length; j++) {
      const a = PRODUCT_LISTS[i] as string;
      const b = PRODUCT_LISTS[j] as string;
      const overlap = ((body[a] as unknown[] | undefined) ?? []).filter((p) =>
        ((body[b] as unknown[] | undefined) ?? []).includes(p),
      );
      if (overlap.length > 0) throw invalidField(`${a} and ${b} must not overlap; both contain: ${overlap.join(', ')}`);
    }
  }

  if (typeof body.webhook === 'string' && !URL.canParse(body.webhook))
    throw invalidField('webhook must be a valid URL');
  if (typeof body.redirect_uri === 'string') {
    const uri = URL.canParse(body.redirect_uri) ? new URL(body.redirect_uri) : undefined;
    if (!uri) throw invalidField('redirect_uri must be a valid URI');
    if (uri.search !== '' || body.redirect_uri.includes('?'))
      throw invalidField('redirect_uri must not contain query parameters');
  }
  if (body.redirect_uri !== undefined && body.android_package_name !== undefined) {
    throw invalidField(
      'android_package_name and redirect_uri cannot both be set; use android_package_name on Android and redirect_uri elsewhere',
    );
  }

  if (isPlainObject(body.transactions) && body.transactions.days_requested !== undefined) {
    const days = body.transactions.days_requested;
    if (!Number.isInteger(days) || (days as number) < 1 || (days as number) > 730) {
      throw invalidField('transactions.days_requested must be an integer between 1 and 730');
    }
  }

  if (isPlainObject(body.hosted_link)) {
    const { url_lifetime_seconds: lifetime, delivery_method: delivery } = body.hosted_link;
    if (
      lifetime !== undefined &&
      lifetime !== null &&
      (!Number.isInteger(lifetime) || (lifetime as number) <= 0 || (lifetime as number) > MAX_HOSTED_LINK_LIFETIME_S)
    ) {
      throw invalidField(
        `hosted_link.url_lifetime_seconds must be a positive integer no greater than ${MAX_HOSTED_LINK_LIFETIME_S} (21 days)`,
      );
    }
    if (delivery !== undefined && delivery !== null && delivery !== 'sms' && delivery !== 'email') {
      throw invalidField('hosted_link.delivery_method must be one of: sms, email');
    }
  }

  if (isPlainObject(body.statements)) {
    const { start_date: start, end_date: end } = body.statements;
    if (start === undefined || end === undefined) {
      throw invalidRequest(
        'MISSING_FIELDS',
        'the following required fields are missing: statements.start_date, statements.end_date',
      );
    }
    if (!isIsoDate(start) || !isIsoDate(end))
      throw invalidField('statements.start_date and statements.end_date must be dates in YYYY-MM-DD format');
    if (start > end) throw invalidField('statements.start_date must not be after statements.end_date');
    // "You can request up to two years of data."
    const limit = new Date(`${start}T00:00:00Z`);
    limit.setUTCFullYear(limit.getUTCFullYear() + 2);
    if (end > limit.toISOString().slice(0, 10))
      throw invalidField('statements.end_date must be at most two years after statements.start_date');
  }

  validateProductOptions(body, countries);
}

const US_ONLY_AUTH_FLAGS = [
  'instant_match_enabled',
  'instant_microdeposits_enabled',
  'same_day_microdeposits_enabled',
  'automated_microdeposits_enabled',
  'database_match_enabled',
  'database_insights_enabled',
];

const ACCOUNT_SUBTYPES: Record<string, ReadonlySet<string>> = {
  depository: new Set([
    'checking',
    'savings',
    'hsa',
    'cd',
    'money market',
    'paypal',
    'prepaid',
    'cash management',
    'ebt',
    'limited purpose checking',
    'all',
  ]),
  credit: new Set(['credit card', 'paypal', 'all']),
  loan: new Set([
    'auto',
    'business',
    'commercial',
    'construction',
    'consumer',
    'home equity',
    'loan',
    'mortgage',
    'overdraft',
    'line of credit',
    'student',
    'other',
    'all',
  ]),
  investment: new Set([
    '529',
    '401a',
    '401k',
    '403B',
    '457b',
    'brokerage',
    'cash isa',
    'crypto exchange',
    'education savings account',
    'fhsa',
    'fixed annuity',
    'gic',
    'health reimbursement arrangement',
    'hsa',
    'ira',
    'isa',
    'keogh',
    'lif',
    'life insurance',
    'line of credit',
    'lira',
    'lrif',
    'lrsp',
    'mutual fund',
    'non-custodial wallet',
    'non-taxable brokerage account',
    'other',
    'other annuity',
    'other insurance',
    'pension',
    'prif',
    'profit sharing plan',
    'qshr',
    'rdsp',
    'resp',
    'retirement',
    'rlif',
    'roth',
    'roth 401k',
    'roth 403B',
    'roth 457b',
    'roth pension',
    'roth profit sharing plan',
    'roth thrift savings plan',
    'rrif',
    'rrsp',
    'sarsep',
    'sep ira',
    'simple ira',
    'sipp',
    'stock plan',
    'thrift savings plan',
    'tfsa',
    'trust',
    'ugma',
    'utma',
    'variable annuity',
    'all',
  ]),
  other: new Set(['other', 'all']),
};

/** Plaid's documented rules for the product option objects, countries and filters. */
function validateProductOptions(body: Record<string, unknown>, countries: unknown[]): void {
  // "If launching Link with CRA products, cra_base_reports is required and must be included in the products array."
  const listed = PRODUCT_LISTS.flatMap((list) => (Array.isArray(body[list]) ? (body[list] as unknown[]) : []));
  if (
    listed.some((p) => typeof p === 'string' && p.startsWith('cra_')) &&
    !(body.products as unknown[] | undefined)?.includes('cra_base_report')
  ) {
    throw invalidField('products must include cra_base_report when launching Link with CRA products');
  }
  if (isPlainObject(body.cra_options)) {
    const days = body.cra_options.days_requested;
    if (days === undefined)
      throw invalidRequest('MISSING_FIELDS', 'the following required fields are missing: cra_options.days_requested');
    // "Maximum is 731; minimum is 180. If a value lower than 180 is provided, a minimum of 180 days of history will be requested."
    if (!Number.isInteger(days) || (days as number) > 731)
      throw invalidField('cra_options.days_requested must be an integer no greater than 731');
  }

  // "If using the Auth features Instant Match, Instant Micro-deposits, Same-day Micro-deposits,
  // Automated Micro-deposits, or Database Auth, country_codes must be set to ['US']."
  if (isPlainObject(body.auth)) {
    const auth = body.auth;
    const usOnly = US_ONLY_AUTH_FLAGS.filter((flag) => auth[flag] === true);
    if (usOnly.length > 0 && !(countries.length === 1 && countries[0] === 'US')) {
      throw invalidField(`country_codes must be ['US'] when using ${usOnly.map((flag) => `auth.${flag}`).join(', ')}`);
    }
  }

  if (isPlainObject(body.hosted_link) && isPlainObject(body.user)) {
    const delivery = body.hosted_link.delivery_method;
    if (delivery === 'sms' && body.user.phone_number === undefined) {
      throw invalidRequest(
        'MISSING_FIELDS',
        'the following required fields are missing: user.phone_number (hosted_link.delivery_method sms)',
      );
    }
    if (delivery === 'email' && body.user.email_address === undefined) {
      throw invalidRequest(
        'MISSING_FIELDS',
        'the following required fields are missing: user.email_address (hosted_link.delivery_method email)',
      );
    }
  }

  if (
    isPlainObject(body.payment_initiation) &&
    body.payment_initiation.payment_id === undefined &&
    body.payment_initiation.consent_id === undefined
  ) {
    throw invalidRequest('MISSING_FIELDS', 'payment_initiation requires either payment_id or consent_id');
  }
  if (isPlainObject(body.payment_configuration)) {
    const { amount, description } = body.payment_configuration;
    if (typeof amount !== 'string' || !/^\d+\.\d{2}$/.test(amount)) {
      throw invalidField(
        'payment_configuration.amount must be a decimal string with two digits of precision, e.g. "10.00"',
      );
    }
    if (description !== undefined && (typeof description !== 'string' || description.length > 256)) {
      throw invalidField('payment_configuration.description must be a string of at most 256 characters');
    }
  }
  for (const [object, sources, bank] of [
    ['employment', 'employment_source_types', 'bank_employment'],
    ['income_verification', 'income_source_types', 'bank_income'],
  ] as const) {
    const options = body[object];
    if (!isPlainObject(options)) continue;
    const types = options[sources];
    // "Currently you can only specify one of these options."
    if (Array.isArray(types) && types.length > 1)
      throw invalidField(`${object}.${sources} may contain only one source type`);
    if (Array.isArray(types) && types.includes('bank') && options[bank] === undefined) {
      throw invalidRequest('MISSING_FIELDS', `the following required fields are missing: ${object}.${bank}`);
    }
  }
  if (isPlainObject(body.identity_verification) && typeof body.identity_verification.template_id !== 'string') {
    throw invalidRequest(
      'MISSING_FIELDS',
      'the following required fields are missing: identity_verification.template_id',
    );
  }

  if (isPlainObject(body.account_filters)) {
    for (const [type, filter] of Object.entries(body.account_filters)) {
      const allowed = ACCOUNT_SUBTYPES[type];
      if (!allowed) throw invalidField(`account_filters.${type} is not an account type`);
      const subtypes = isPlainObject(filter) ? filter.account_subtypes : undefined;
      if (!Array.isArray(subtypes)) throw invalidField(`account_filters.${type}.account_subtypes must be an array`);
      const bad: unknown = subtypes.find((subtype) => !allowed.has(subtype as string));
      if (bad !== undefined)
        throw invalidField(
          `account_filters.${type}.account_subtypes contains an invalid subtype: ${JSON.stringify(bad)}`,
        );
    }
  }
}

function isUpdateMode(body: Record<string, unknown>): boolean {
  return (
    typeof body.access_token === 'string' ||
    Array.isArray(body.access_tokens) ||
    (isPlainObject(body.update) && body.update.user === true)
  );
}

/** Whether Link would initialise `product`; additional_consented_products only collects consent. */
function hasProduct(body: Record<string, unknown>, product: string): boolean {
  return PRODUCT_LISTS.filter((l) => l !== 'additional_consented_products').some(
    (list) => Array.isArray(body[list]) && (body[list] as unknown[]).includes(product),
  );
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

function isIsoDate(v: unknown): v is string {
  return (
    typeof v === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(v) &&
    !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
    new Date(`${v}T00:00:00Z`).toISOString().startsWith(v)
  );
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function requestId(): string {
  return randomAlnum(15);
}
