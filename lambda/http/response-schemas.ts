// The adapter's response bodies as valibot schemas, so the OpenAPI description
// (openapi/generate.ts) can be generated from them, as the request body is generated from
// ClientChoicesSchema. The adapter does not import this file: nothing here runs in the function.
// The type checks at the bottom fail `tsc` if a schema and the body the adapter really builds
// (LinkTokenResult, ProblemBody) drift apart; the OpenAPI tests check real responses too.
import * as v from 'valibot';
import type { LinkTokenResult } from '../domain/create-link-token.ts';
import { PROBLEM_TYPE_BASE, type ProblemBody } from './problem.ts';

export const LinkTokenResponseSchema = v.strictObject({
  link_token: v.pipe(
    v.string(),
    v.startsWith('link-'),
    v.description(
      "The token to initialise Plaid Link with (web: Plaid.create({ token }); iOS and Android SDKs: LinkTokenConfiguration). Valid until `expiration`, for one user's Link session.",
    ),
  ),
  expiration: v.pipe(
    v.string(),
    v.isoTimestamp(),
    v.description('When the link token expires (RFC 3339, UTC). Ask for a new token after this.'),
  ),
  hosted_link_url: v.optional(
    v.pipe(
      v.string(),
      v.url(),
      v.description("Plaid Hosted Link URL; present only when the tenant's profile configures Hosted Link."),
    ),
  ),
});

export const FieldErrorSchema = v.strictObject({
  field: v.pipe(v.string(), v.description("The request field at fault, or '(body)' for the body as a whole.")),
  message: v.pipe(v.string(), v.description('What is wrong with it, safe to show to a developer.')),
});

export const ProblemSchema = v.strictObject({
  type: v.pipe(
    v.string(),
    v.startsWith(PROBLEM_TYPE_BASE),
    v.description('Identifies the kind of problem; stable, compare it rather than `title`.'),
  ),
  title: v.pipe(v.string(), v.description('Short summary of the problem type.')),
  status: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(400),
    v.maxValue(599),
    v.description('The HTTP status code, repeated.'),
  ),
  detail: v.pipe(
    v.string(),
    v.description('What went wrong on this request; never carries a secret, a token or an upstream body.'),
  ),
  correlation_id: v.pipe(
    v.string(),
    v.description('The request id, also in the X-Correlation-Id header: quote it to support.'),
  ),
  errors: v.optional(v.pipe(v.array(FieldErrorSchema), v.description('Every request field at fault (400 only).'))),
});

// ---- drift checks (type-level only) ----
type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
type Same<A, B> = [DeepReadonly<A>] extends [DeepReadonly<B>]
  ? [DeepReadonly<B>] extends [DeepReadonly<A>]
    ? true
    : false
  : false;

export const RESPONSE_SCHEMAS_MATCH_THE_ADAPTER: [
  Same<v.InferOutput<typeof LinkTokenResponseSchema>, LinkTokenResult>,
  Same<v.InferOutput<typeof ProblemSchema>, ProblemBody>,
] = [true, true];
