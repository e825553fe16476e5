// What only the HTTP adapter refuses: requests that never reach a use case because of their
// route, method, media type, size or browser origin. The domain's failures (domain/failure.ts)
// know nothing of these; both become problem+json through the one table in problem.ts.
import { isServiceFailure, type FailureKind, type FieldError } from '../domain/failure.ts';

export type HttpFailureKind =
  'not_found' | 'method_not_allowed' | 'unsupported_media_type' | 'payload_too_large' | 'origin_not_allowed';

/** Every kind the API answers with: the domain's and the adapter's own. */
export type ProblemKind = FailureKind | HttpFailureKind;

export class HttpFailure extends Error {
  readonly kind: HttpFailureKind;
  /** Safe to show the caller. */
  readonly detail: string;

  constructor(kind: HttpFailureKind, detail: string) {
    super(detail);
    this.name = 'HttpFailure';
    this.kind = kind;
    this.detail = detail;
  }
}

/** What the adapter answers and logs of a failure, whoever raised it. */
export interface Refusal {
  readonly kind: ProblemKind;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly retryAfterSeconds?: number;
  readonly extensions?: Readonly<Record<string, string | number>>;
  readonly cause?: unknown;
}

/** A ServiceFailure or HttpFailure as it is; anything else (a bug, a library's error) is undefined. */
export function refusalOf(error: unknown): Refusal | undefined {
  return isServiceFailure(error) || error instanceof HttpFailure ? error : undefined;
}
