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

export class ServiceFailure extends Error {
  readonly kind: FailureKind;
  /** Safe to show the caller: never carries a secret, a token or an upstream body. */
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly retryAfterSeconds?: number;
  /** Extra members of the answer, safe to show (ids, never tokens): e.g. the Item a conflict is with. */
  readonly extensions?: Readonly<Record<string, string | number>>;

  constructor(
    kind: FailureKind,
    detail: string,
    extra: {
      errors?: readonly FieldError[];
      retryAfterSeconds?: number;
      cause?: unknown;
      extensions?: Readonly<Record<string, string | number>>;
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

/**
 * Whether a value is a ServiceFailure, whichever copy of this module made it: the vault, the
 * webhook verifier and the event publisher are bundled apart from index.mjs and load on first use
 * (infra/lambda-bundling.ts), each with its own copy of the class, so `instanceof` would miss
 * theirs. The name and a string kind are what every copy has in common.
 */
export function isServiceFailure(value: unknown): value is ServiceFailure {
  return (
    value instanceof Error && value.name === 'ServiceFailure' && typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** A failure of this kind, from any copy of this module. */
export function isFailureOf(value: unknown, kind: FailureKind): value is ServiceFailure {
  return isServiceFailure(value) && value.kind === kind;
}

/** The loggable name of what caused a failure (a ServiceFailure's cause keeps only names and codes), never a message. */
export function causeName(cause: unknown): string | undefined {
  if (cause && typeof cause === 'object' && 'name' in cause && typeof cause.name === 'string') return cause.name;
  return undefined;
}

/** An item_id that is not the caller's: exactly as for one that does not exist. */
export function itemNotFound(): ServiceFailure {
  return new ServiceFailure('item_not_found', 'No such Item for the signed-in user.');
}
