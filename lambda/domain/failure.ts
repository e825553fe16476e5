// What can go wrong in the use cases, in the domain's words: no status codes here. The HTTP
// adapter maps each kind to a status (http/problem.ts) and has its own kinds for what only it
// refuses (route, method, media type, size, origin: http/http-failure.ts).

export type FailureKind =
  | 'missing_token'
  | 'invalid_token'
  | 'unknown_tenant'
  | 'invalid_request'
  | 'item_not_found'
  | 'conflict'
  | 'upstream_rejected'
  | 'upstream_rate_limited'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'secrets_unavailable'
  | 'vault_unavailable'
  | 'events_unavailable'
  | 'webhook_unverified'
  | 'misconfigured'
  | 'internal';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Shared by every copy of this module: the lazily loaded builds (lazy/*.mjs) carry their own. */
const SERVICE_FAILURE = Symbol.for('link-token-service.ServiceFailure');

export class ServiceFailure extends Error {
  /**
   * instanceof holds for a ServiceFailure of any copy of this class: the vault, the webhook
   * verifier and the event publisher are built apart from index.mjs (infra/lambda-bundling.ts).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SERVICE_FAILURE] === true;
  }
  readonly [SERVICE_FAILURE] = true;
  readonly kind: FailureKind;
  /** Safe to show the caller: never carries a secret, a token or an upstream body. */
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly retryAfterSeconds?: number;
  /** Extra members of the answer, safe to show (ids, never tokens): e.g. the Item a conflict is with. */
  readonly extensions?: Readonly<Record<string, string>>;

  constructor(
    kind: FailureKind,
    detail: string,
    extra: {
      errors?: readonly FieldError[];
      retryAfterSeconds?: number;
      cause?: unknown;
      extensions?: Readonly<Record<string, string>>;
    } = {},
  ) {
    super(detail, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ServiceFailure';
    this.kind = kind;
    this.detail = detail;
    this.errors = extra.errors;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.extensions = extra.extensions;
  }
}

/** The loggable name of what caused a failure (a ServiceFailure's cause keeps only names and codes), never a message. */
export function causeName(cause: unknown): string | undefined {
  if (cause && typeof cause === 'object' && 'name' in cause && typeof cause.name === 'string') return cause.name;
  return undefined;
}
