// A small, framework-free browser client for POST /link-token. It sends the one request the
// endpoint accepts and turns every way that can fail into an error a UI can act on:
//
//   SignInExpiredError   401, or no access token to send: sign the user in again
//   NotAllowedError      403: this user, tenant or page origin may not get link tokens
//   TryAgainLaterError   429 / 503 / 504: busy or unavailable; retryAfterSeconds when known
//   NetworkError         no answer at all: offline, timed out, or blocked by the browser (CORS)
//   RequestRejectedError 400 / 404 / 405 / 413 / 415: the request is wrong (a bug in the caller)
//   ServiceError         500 / 502 and anything unexpected: quote correlationId to support
//
// All extend LinkTokenError and carry `kind`, so a UI can switch on either. The wire format is
// the endpoint's OpenAPI description (openapi/link-token.openapi.json).

export type Platform = 'web' | 'ios' | 'android';

export interface CreateLinkTokenOptions {
  /** The endpoint's full URL, e.g. 'https://api.example.com/link-token'. */
  readonly endpoint: string | URL;
  /** The signed-in user's access token (a JWT from the app's identity provider). Called once per request. */
  readonly getAccessToken: () => string | null | undefined | Promise<string | null | undefined>;
  /** Where Link will open; a web page is 'web' (the default). */
  readonly platform?: Platform;
  /** One of the tenant's Link profiles; the service uses 'default' when omitted. */
  readonly profile?: string;
  /** A Plaid Link language the tenant offers (e.g. 'en'); the tenant's default when omitted. */
  readonly language?: string;
  readonly signal?: AbortSignal;
  /** Gives up (NetworkError) when no answer arrives in time. Default 15 000 ms. */
  readonly timeoutMs?: number;
  /** For tests and unusual runtimes; defaults to the global fetch. */
  readonly fetch?: typeof globalThis.fetch;
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
}

export type LinkTokenErrorKind = 'sign-in-expired' | 'not-allowed' | 'try-again-later' | 'network' | 'bad-request' | 'service-error';

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

/**
 * Asks the endpoint for a Plaid link token for the signed-in user. Resolves with the token or
 * rejects with a LinkTokenError subclass (an AbortError if `signal` aborted the request).
 */
export async function createLinkToken(options: CreateLinkTokenOptions): Promise<LinkToken> {
  let accessToken: string | null | undefined;
  try {
    accessToken = await options.getAccessToken();
  } catch (cause) {
    throw new SignInExpiredError('Could not get an access token: sign in again.', { cause });
  }
  if (typeof accessToken !== 'string' || accessToken.trim() === '') {
    throw new SignInExpiredError('Not signed in: sign in again.');
  }

  // Only the fields the endpoint accepts; any other field would be refused with a 400.
  const body: Record<string, string> = { platform: options.platform ?? 'web' };
  if (options.profile !== undefined) body.profile = options.profile;
  if (options.language !== undefined) body.language = options.language;

  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const fetchImpl = options.fetch ?? globalThis.fetch;

  let response: Response;
  try {
    response = await fetchImpl(options.endpoint, {
      method: 'POST',
      // Authorization and Content-Type are what the endpoint's CORS preflight allows; add no others.
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, application/problem+json' },
      body: JSON.stringify(body),
      // A bearer token, never cookies: the endpoint does not allow credentialed CORS.
      credentials: 'omit',
      mode: 'cors',
      redirect: 'error',
      signal,
    });
  } catch (cause) {
    if (options.signal?.aborted) throw options.signal.reason ?? cause;
    if (timeout.aborted) throw new NetworkError(`The link-token service did not answer within ${timeoutMs} ms.`, { cause });
    // Browsers report a CORS refusal exactly like being offline: a TypeError and nothing more.
    throw new NetworkError('Could not reach the link-token service: offline, or this page is not allowed to call it (CORS).', { cause });
  }

  const correlationId = response.headers.get('x-correlation-id') ?? undefined;
  const text = await readText(response, signal, timeoutMs);
  if (response.ok) {
    const parsed = parseJson(text) as { link_token?: unknown; expiration?: unknown; hosted_link_url?: unknown } | undefined;
    const expiration = typeof parsed?.expiration === 'string' ? new Date(parsed.expiration) : undefined;
    if (typeof parsed?.link_token !== 'string' || parsed.link_token === '' || !expiration || Number.isNaN(expiration.getTime())) {
      throw new ServiceError('The link-token service sent an answer this client does not understand.', { status: response.status, correlationId });
    }
    return {
      linkToken: parsed.link_token,
      expiration,
      ...(typeof parsed.hosted_link_url === 'string' ? { hostedLinkUrl: parsed.hosted_link_url } : {}),
      ...(correlationId ? { correlationId } : {}),
    };
  }
  throw errorFor(response, asProblem(parseJson(text)), correlationId);
}

function errorFor(response: Response, problem: Problem | undefined, correlationId: string | undefined): LinkTokenError {
  const status = response.status;
  const details: ErrorDetails = { status, problem, correlationId };
  const detail = problem?.detail;
  switch (status) {
    case 401:
      return new SignInExpiredError(detail ?? 'The sign-in has expired or is not valid: sign in again.', details);
    case 403:
      return new NotAllowedError(detail ?? 'Not allowed to request a link token.', details);
    case 429:
    case 503:
    case 504:
      return new TryAgainLaterError(detail ?? 'The service is busy: try again shortly.', {
        ...details,
        retryAfterSeconds: retryAfter(response.headers.get('retry-after')),
      });
    default:
      if (status >= 400 && status < 500) return new RequestRejectedError(detail ?? `The request was refused (HTTP ${status}).`, details);
      return new ServiceError(detail ?? `The link-token service failed (HTTP ${status}).`, details);
  }
}

async function readText(response: Response, signal: AbortSignal, timeoutMs: number): Promise<string> {
  try {
    return await response.text();
  } catch (cause) {
    if (signal.aborted) throw new NetworkError(`The link-token service did not answer within ${timeoutMs} ms.`, { cause });
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
  if (typeof p.type !== 'string' || typeof p.title !== 'string' || typeof p.status !== 'number' || typeof p.detail !== 'string') return undefined;
  return {
    type: p.type,
    title: p.title,
    status: p.status,
    detail: p.detail,
    correlation_id: typeof p.correlation_id === 'string' ? p.correlation_id : '',
    ...(Array.isArray(p.errors)
      ? {
          errors: p.errors
            .filter((e): e is { field: string; message: string } => !!e && typeof e.field === 'string' && typeof e.message === 'string')
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
