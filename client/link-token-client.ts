// A small, framework-free browser client for the service: POST /link-token (new and update
// mode) and the user's Items (POST /items, GET /items, DELETE /items/{item_id}). It sends only
// the requests the endpoints accept and turns every way they can fail into an error a UI can act on:
//
//   SignInExpiredError   401, or no access token to send: sign the user in again
//   NotAllowedError      403: this user, tenant or page origin may not do this
//   TryAgainLaterError   429 / 503 / 504: busy or unavailable; retryAfterSeconds when known
//   NetworkError         no answer at all: offline, timed out, or blocked by the browser (CORS)
//   ItemConflictError    409 on POST /items: the user already has a live Item at this institution
//                        (existingItemId): offer update mode for that one instead
//   ItemNotFoundError    404 for an item_id: not one of this user's Items (gone, or never theirs)
//   RequestRejectedError 400 / 404 / 405 / 413 / 415: the request is wrong (a bug in the caller)
//   ServiceError         500 / 502 and anything unexpected: quote correlationId to support
//
// All extend LinkTokenError and carry `kind`, so a UI can switch on either. The wire format is
// the endpoint's OpenAPI description (openapi/link-token.openapi.json).

export type Platform = 'web' | 'ios' | 'android';

type AccessTokenSource = () => string | null | undefined | Promise<string | null | undefined>;

/** How to reach the service; shared by every call. */
export interface ServiceConnection {
  /** The signed-in user's access token (a JWT from the app's identity provider). Called once per request. */
  readonly getAccessToken: AccessTokenSource;
  /** Gives up (NetworkError) when no answer arrives in time. Default 15 000 ms. */
  readonly timeoutMs?: number;
  /** For tests and unusual runtimes; defaults to the global fetch. */
  readonly fetch?: typeof globalThis.fetch;
}

/** What the app may choose about a link token; everything else is the tenant's configuration. */
export interface LinkTokenChoices {
  /** Where Link will open; a web page is 'web' (the default). */
  readonly platform?: Platform;
  /** One of the tenant's Link profiles; the service uses 'default' when omitted. */
  readonly profile?: string;
  /** A Plaid Link language the tenant offers (e.g. 'en'); the tenant's default when omitted. */
  readonly language?: string;
  /** 'update': Link's update mode, to repair or extend one of the user's own Items (itemId). Default 'new'. */
  readonly mode?: 'new' | 'update';
  /** Update mode only: the Item to update, an itemId from listItems() or linkItem(). */
  readonly itemId?: string;
  /** Update mode only: let the user change which accounts are shared (Account Select), where the tenant allows it. */
  readonly accountSelection?: boolean;
  readonly signal?: AbortSignal;
}

export type CreateLinkTokenOptions = ServiceConnection &
  LinkTokenChoices & {
    /** The endpoint's full URL, e.g. 'https://api.example.com/link-token'. */
    readonly endpoint: string | URL;
  };

export type ItemStatus =
  'healthy' | 'login_required' | 'pending_expiration' | 'pending_disconnect' | 'new_accounts_available' | 'revoked';

/** One of the user's Items, as the service describes it: never a token. */
export interface Item {
  readonly itemId: string;
  readonly institution: { readonly institutionId: string | null; readonly name: string | null };
  /** Other values may be added; treat an unknown one like 'healthy'. */
  readonly status: ItemStatus | (string & {});
  readonly createdAt: Date;
  /** From listItems(); linkItem() answers without it. */
  readonly updatedAt?: Date;
  /**
   * From listItems(): what to offer the user. 'update' and 'update_with_account_selection': open
   * Link in update mode for this Item (the latter with accountSelection: true); 'relink': link
   * the institution again; 'none'. Other values may be added; treat an unknown one like 'none'.
   */
  readonly action?: ItemAction | (string & {});
  /** From listItems(): when the Item's consent expires, once Plaid has said so. */
  readonly consentExpirationTime?: Date | null;
}

export type ItemAction = 'update' | 'update_with_account_selection' | 'relink' | 'none';

export interface LinkedItem extends Item {
  /** false when this very Item was already stored (the same public token sent twice). */
  readonly created: boolean;
  readonly correlationId?: string;
}

export interface LinkToken {
  /** Hand this to Plaid Link: Plaid.create({ token, onSuccess, onExit }). */
  readonly linkToken: string;
  readonly expiration: Date;
  readonly hostedLinkUrl?: string;
  readonly correlationId?: string;
}

/** RFC 9457 problem details, as the endpoint sends them (application/problem+json). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly correlation_id: string;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
  /** On a 409 from POST /items: the user's Item at the same institution. */
  readonly existing_item_id?: string;
}

export type LinkTokenErrorKind =
  | 'sign-in-expired'
  | 'not-allowed'
  | 'try-again-later'
  | 'network'
  | 'item-conflict'
  | 'item-not-found'
  | 'bad-request'
  | 'service-error';

interface ErrorDetails {
  readonly status?: number;
  readonly problem?: Problem;
  readonly correlationId?: string;
  readonly retryAfterSeconds?: number;
  readonly cause?: unknown;
}

export class LinkTokenError extends Error {
  readonly kind: LinkTokenErrorKind;
  /** The HTTP status, when the endpoint answered. */
  readonly status: number | undefined;
  /** The problem+json body, when the endpoint sent one. */
  readonly problem: Problem | undefined;
  /** The id to quote to support (X-Correlation-Id), when the endpoint answered. */
  readonly correlationId: string | undefined;
  /** Seconds to wait before trying again, when the endpoint said (Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: LinkTokenErrorKind, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LinkTokenError';
    this.kind = kind;
    this.status = details.status;
    this.problem = details.problem;
    this.correlationId = details.correlationId ?? details.problem?.correlation_id;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** Whether the same request may succeed later without changing anything. */
  get retryable(): boolean {
    return this.kind === 'try-again-later' || this.kind === 'network';
  }

  /** The fields the endpoint named as wrong (400), if any. */
  get fieldErrors(): readonly { readonly field: string; readonly message: string }[] {
    return this.problem?.errors ?? [];
  }
}

export class SignInExpiredError extends LinkTokenError {
  declare readonly kind: 'sign-in-expired';
  constructor(message: string, details: ErrorDetails = {}) {
    super('sign-in-expired', message, details);
    this.name = 'SignInExpiredError';
  }
}

export class NotAllowedError extends LinkTokenError {
  declare readonly kind: 'not-allowed';
  constructor(message: string, details: ErrorDetails = {}) {
    super('not-allowed', message, details);
    this.name = 'NotAllowedError';
  }
}

export class TryAgainLaterError extends LinkTokenError {
  declare readonly kind: 'try-again-later';
  constructor(message: string, details: ErrorDetails = {}) {
    super('try-again-later', message, details);
    this.name = 'TryAgainLaterError';
  }
}

export class NetworkError extends LinkTokenError {
  declare readonly kind: 'network';
  constructor(message: string, details: ErrorDetails = {}) {
    super('network', message, details);
    this.name = 'NetworkError';
  }
}

export class ItemConflictError extends LinkTokenError {
  declare readonly kind: 'item-conflict';
  /** The user's live Item at the same institution: offer update mode for it. */
  readonly existingItemId: string | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super('item-conflict', message, details);
    this.name = 'ItemConflictError';
    this.existingItemId = details.problem?.existing_item_id;
  }
}

export class ItemNotFoundError extends LinkTokenError {
  declare readonly kind: 'item-not-found';
  constructor(message: string, details: ErrorDetails = {}) {
    super('item-not-found', message, details);
    this.name = 'ItemNotFoundError';
  }
}

export class RequestRejectedError extends LinkTokenError {
  declare readonly kind: 'bad-request';
  constructor(message: string, details: ErrorDetails = {}) {
    super('bad-request', message, details);
    this.name = 'RequestRejectedError';
  }
}

export class ServiceError extends LinkTokenError {
  declare readonly kind: 'service-error';
  constructor(message: string, details: ErrorDetails = {}) {
    super('service-error', message, details);
    this.name = 'ServiceError';
  }
}

export function isLinkTokenError(error: unknown): error is LinkTokenError {
  return error instanceof LinkTokenError;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const ITEM_NOT_FOUND_TYPE = 'tag:link-token-service,2026:problems/item-not-found';
const NOT_FOUND_TYPE = 'tag:link-token-service,2026:problems/not-found';

/**
 * Asks the endpoint for a Plaid link token for the signed-in user: a new one, or with
 * mode 'update' one for an Item of theirs. Resolves with the token or rejects with a
 * LinkTokenError subclass (an AbortError if `signal` aborted the request).
 */
export async function createLinkToken(options: CreateLinkTokenOptions): Promise<LinkToken> {
  // Only the fields the endpoint accepts; any other field would be refused with a 400.
  const body: Record<string, string | boolean> = { platform: options.platform ?? 'web' };
  if (options.profile !== undefined) body.profile = options.profile;
  if (options.language !== undefined) body.language = options.language;
  // Sent as given: the service, not this client, says which combinations are wrong (400 naming the field).
  if (options.mode !== undefined) body.mode = options.mode;
  if (options.itemId !== undefined) body.item_id = options.itemId;
  if (options.accountSelection !== undefined) body.account_selection = options.accountSelection;
  const answer = await send(options, { url: options.endpoint, method: 'POST', body, signal: options.signal });
  const parsed = answer.json as { link_token?: unknown; expiration?: unknown; hosted_link_url?: unknown } | undefined;
  const expiration = typeof parsed?.expiration === 'string' ? new Date(parsed.expiration) : undefined;
  if (
    answer.status !== 200 ||
    typeof parsed?.link_token !== 'string' ||
    parsed.link_token === '' ||
    !expiration ||
    Number.isNaN(expiration.getTime())
  ) {
    throw notUnderstood(answer);
  }
  return {
    linkToken: parsed.link_token,
    expiration,
    ...(typeof parsed.hosted_link_url === 'string' ? { hostedLinkUrl: parsed.hosted_link_url } : {}),
    ...(answer.correlationId ? { correlationId: answer.correlationId } : {}),
  };
}

export interface ServiceClientOptions extends ServiceConnection {
  /** Where the service is, e.g. 'https://api.example.com' (a path prefix such as '/v1' is kept). */
  readonly baseUrl: string | URL;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface ServiceClient {
  /** POST /link-token. */
  createLinkToken(choices?: LinkTokenChoices): Promise<LinkToken>;
  /** POST /items: exchanges the public_token Link's onSuccess handed over; the service keeps the Item. */
  linkItem(publicToken: string, options?: CallOptions): Promise<LinkedItem>;
  /** GET /items: the signed-in user's Items. */
  listItems(options?: CallOptions): Promise<Item[]>;
  /** DELETE /items/{item_id}: removes the Item at Plaid and in the service. */
  removeItem(itemId: string, options?: CallOptions): Promise<void>;
}

/** One client for all of the service's routes, sharing how to reach it and sign requests. */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const url = (path: string) => new URL(`${base}${path}`);
  return {
    createLinkToken: (choices = {}) => createLinkToken({ ...options, ...choices, endpoint: url('/link-token') }),

    async linkItem(publicToken, call = {}) {
      if (typeof publicToken !== 'string' || publicToken === '') {
        throw new RequestRejectedError("linkItem needs the public_token from Link's onSuccess.");
      }
      const answer = await send(options, {
        url: url('/items'),
        method: 'POST',
        body: { public_token: publicToken },
        signal: call.signal,
      });
      const item = answer.status === 200 || answer.status === 201 ? readItem(answer.json) : undefined;
      if (!item) throw notUnderstood(answer);
      return {
        ...item,
        created: answer.status === 201,
        ...(answer.correlationId ? { correlationId: answer.correlationId } : {}),
      };
    },

    async listItems(call = {}) {
      const answer = await send(options, { url: url('/items'), method: 'GET', signal: call.signal });
      const raw = (answer.json as { items?: unknown } | undefined)?.items;
      const items = answer.status === 200 && Array.isArray(raw) ? raw.map(readItem) : undefined;
      if (!items || items.some((item) => item === undefined)) throw notUnderstood(answer);
      return items as Item[];
    },

    async removeItem(itemId, call = {}) {
      if (typeof itemId !== 'string' || itemId === '')
        throw new RequestRejectedError('removeItem needs an itemId from listItems().');
      // The service answers a malformed id with the plain 404 of an unknown path: that is no Item of this user's either.
      const answer = await send(options, {
        url: url(`/items/${encodeURIComponent(itemId)}`),
        method: 'DELETE',
        signal: call.signal,
        itemPath: true,
      });
      if (answer.status !== 204) throw notUnderstood(answer);
    },
  };
}

interface Answer {
  readonly status: number;
  readonly json: unknown;
  readonly correlationId: string | undefined;
}

/** One request to the service: a success status resolves, any other answer (or none) rejects. */
async function send(
  connection: ServiceConnection,
  request: {
    url: string | URL;
    method: 'GET' | 'POST' | 'DELETE';
    body?: unknown;
    signal: AbortSignal | undefined;
    itemPath?: boolean;
  },
): Promise<Answer> {
  let accessToken: string | null | undefined;
  try {
    accessToken = await connection.getAccessToken();
  } catch (cause) {
    throw new SignInExpiredError('Could not get an access token: sign in again.', { cause });
  }
  if (typeof accessToken !== 'string' || accessToken.trim() === '') {
    throw new SignInExpiredError('Not signed in: sign in again.');
  }

  request.signal?.throwIfAborted();
  const timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const fetchImpl = connection.fetch ?? globalThis.fetch;

  // Authorization and Content-Type are what the endpoint's CORS preflight allows; add no others.
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  headers.accept = 'application/json, application/problem+json';

  let response: Response;
  try {
    response = await fetchImpl(request.url, {
      method: request.method,
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      // A bearer token, never cookies: the endpoint does not allow credentialed CORS.
      credentials: 'omit',
      mode: 'cors',
      redirect: 'error',
      signal,
    });
  } catch (cause) {
    if (request.signal?.aborted) throw request.signal.reason ?? cause;
    if (timeout.aborted)
      throw new NetworkError(`The link-token service did not answer within ${timeoutMs} ms.`, { cause });
    // Browsers report a CORS refusal exactly like being offline: a TypeError and nothing more.
    throw new NetworkError(
      'Could not reach the link-token service: offline, or this page is not allowed to call it (CORS).',
      { cause },
    );
  }

  const correlationId = response.headers.get('x-correlation-id') ?? undefined;
  const text = await readText(response, signal, timeoutMs);
  if (response.ok) return { status: response.status, json: text === '' ? undefined : parseJson(text), correlationId };
  throw errorFor(response, asProblem(parseJson(text)), correlationId, request.itemPath === true);
}

function notUnderstood(answer: Answer): ServiceError {
  return new ServiceError('The link-token service sent an answer this client does not understand.', {
    status: answer.status,
    correlationId: answer.correlationId,
  });
}

function readItem(value: unknown): Item | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const raw = value as Record<string, unknown>;
  const institution = raw.institution as Record<string, unknown> | null | undefined;
  const createdAt = typeof raw.created_at === 'string' ? new Date(raw.created_at) : undefined;
  const updatedAt = typeof raw.updated_at === 'string' ? new Date(raw.updated_at) : undefined;
  const nullableString = (v: unknown) => (typeof v === 'string' ? v : v === null ? null : undefined);
  const institutionId = nullableString(institution?.institution_id);
  const name = nullableString(institution?.name);
  if (
    typeof raw.item_id !== 'string' ||
    raw.item_id === '' ||
    typeof raw.status !== 'string' ||
    institutionId === undefined ||
    name === undefined
  )
    return undefined;
  if (!createdAt || Number.isNaN(createdAt.getTime()) || (updatedAt && Number.isNaN(updatedAt.getTime())))
    return undefined;
  const consent = raw.consent_expiration_time;
  const consentExpirationTime = typeof consent === 'string' ? new Date(consent) : consent === null ? null : undefined;
  if (consentExpirationTime && Number.isNaN(consentExpirationTime.getTime())) return undefined;
  return {
    itemId: raw.item_id,
    institution: { institutionId, name },
    status: raw.status,
    createdAt,
    ...(updatedAt ? { updatedAt } : {}),
    ...(typeof raw.action === 'string' ? { action: raw.action } : {}),
    ...(consentExpirationTime !== undefined ? { consentExpirationTime } : {}),
  };
}

function errorFor(
  response: Response,
  problem: Problem | undefined,
  correlationId: string | undefined,
  itemPath: boolean,
): LinkTokenError {
  const status = response.status;
  const details: ErrorDetails = { status, problem, correlationId };
  const detail = problem?.detail;
  switch (status) {
    case 401:
      return new SignInExpiredError(detail ?? 'The sign-in has expired or is not valid: sign in again.', details);
    case 403:
      return new NotAllowedError(detail ?? 'Not allowed to do this.', details);
    case 409:
      return new ItemConflictError(detail ?? 'The user already has this Item: offer update mode for it.', details);
    case 429:
    case 503:
    case 504:
      return new TryAgainLaterError(detail ?? 'The service is busy: try again shortly.', {
        ...details,
        retryAfterSeconds: retryAfter(response.headers.get('retry-after')),
      });
    default:
      if (status === 404 && (problem?.type === ITEM_NOT_FOUND_TYPE || (itemPath && problem?.type === NOT_FOUND_TYPE))) {
        return new ItemNotFoundError(detail ?? 'No such Item for the signed-in user.', details);
      }
      if (status >= 400 && status < 500)
        return new RequestRejectedError(detail ?? `The request was refused (HTTP ${status}).`, details);
      return new ServiceError(detail ?? `The link-token service failed (HTTP ${status}).`, details);
  }
}

async function readText(response: Response, signal: AbortSignal, timeoutMs: number): Promise<string> {
  try {
    return await response.text();
  } catch (cause) {
    if (signal.aborted)
      throw new NetworkError(`The link-token service did not answer within ${timeoutMs} ms.`, { cause });
    throw new NetworkError('The connection to the link-token service broke off.', { cause });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asProblem(value: unknown): Problem | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const p = value as Record<string, unknown>;
  if (
    typeof p.type !== 'string' ||
    typeof p.title !== 'string' ||
    typeof p.status !== 'number' ||
    typeof p.detail !== 'string'
  )
    return undefined;
  return {
    type: p.type,
    title: p.title,
    status: p.status,
    detail: p.detail,
    correlation_id: typeof p.correlation_id === 'string' ? p.correlation_id : '',
    ...(typeof p.existing_item_id === 'string' ? { existing_item_id: p.existing_item_id } : {}),
    ...(Array.isArray(p.errors)
      ? {
          errors: p.errors
            .filter(
              (e: unknown): e is { field: string; message: string } =>
                typeof e === 'object' &&
                e !== null &&
                'field' in e &&
                typeof e.field === 'string' &&
                'message' in e &&
                typeof e.message === 'string',
            )
            .map(({ field, message }) => ({ field, message })),
        }
      : {}),
  };
}

/** Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
