// The function's runtime settings from its environment, validated once at cold start. Every
// knob has a production default; the local stack and tests override a few.
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { urlProblem } from './url-rules.ts';

const intFrom = (min: number, max: number, fallback: number) =>
  v.optional(
    v.pipe(v.string(), v.transform(Number), v.integer('must be a whole number'), v.minValue(min), v.maxValue(max)),
    String(fallback),
  );

const SettingsSchema = v.object({
  TENANTS_FILE: v.optional(v.pipe(v.string(), v.nonEmpty())),
  PLAID_BASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => urlProblem(value, { allowLoopbackHttp: true }) === undefined,
        'must be https (http only for loopback hosts)',
      ),
    ),
  ),
  // Secrets, JWKS and Plaid together; API Gateway gives up at 30 s, the function's timeout sits between.
  REQUEST_BUDGET_MS: intFrom(1000, 25_000, 8000),
  SECRET_TTL_SECONDS: intFrom(1, 86_400, 300),
  SECRET_STALE_IF_ERROR_SECONDS: intFrom(0, 86_400, 900),
  SECRETS_TIMEOUT_MS: intFrom(100, 10_000, 1500),
  SECRETS_MAX_ATTEMPTS: intFrom(1, 5, 2),
  JWKS_TIMEOUT_MS: intFrom(100, 10_000, 1500),
  TOKEN_GRACE_SECONDS: intFrom(0, 300, 30),
  RATE_LIMIT_RETRY_AFTER_SECONDS: intFrom(1, 3600, 30),
  // Cold start of a deployment with at most two issuers: fetch their signing keys and up to this
  // many secrets during init, never more than 3 whatever is set (runtime/prefetch-at-init.ts).
  INIT_PREFETCH: v.optional(v.picklist(['on', 'off']), 'on'),
  INIT_PREFETCH_MAX_SECRETS: intFrom(0, 500, 3),
  LOG_LEVEL: v.optional(v.picklist(['debug', 'info', 'warn', 'error']), 'info'),
  // The item vault (items routes and update mode): its DynamoDB table and the KMS key that
  // encrypts access tokens and Plaid user tokens. Both are set by the stack.
  // No format check: at synth they are still the stack's tokens, resolved only at deploy.
  ITEMS_TABLE_NAME: v.optional(v.pipe(v.string(), v.nonEmpty(), v.maxLength(1024))),
  VAULT_KMS_KEY_ID: v.optional(v.pipe(v.string(), v.nonEmpty(), v.maxLength(2048))),
  VAULT_TIMEOUT_MS: intFrom(100, 10_000, 1500),
  VAULT_MAX_ATTEMPTS: intFrom(1, 5, 2),
  // Plaid's webhooks: the bus they are handed on to (set by the stack), the service's public base
  // URL when it has a custom domain (else the API's own domain, per request), and the answer's
  // budget: Plaid counts no answer within 10 s as a failed delivery.
  WEBHOOK_BUS_NAME: v.optional(v.pipe(v.string(), v.nonEmpty(), v.maxLength(1600))),
  PUBLIC_BASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => urlProblem(value, { allowLoopbackHttp: true }) === undefined && !value.endsWith('/'),
        'must be https (http only for loopback hosts), without a trailing slash',
      ),
    ),
  ),
  WEBHOOK_BUDGET_MS: intFrom(1000, 9000, 5000),
  EVENTS_TIMEOUT_MS: intFrom(100, 5000, 1500),
});

export type Settings = v.InferOutput<typeof SettingsSchema> & { TENANTS_FILE: string };

export function readSettings(env: Readonly<Record<string, string | undefined>>, defaultTenantsFile: URL): Settings {
  const known = Object.fromEntries(
    Object.keys(SettingsSchema.entries).flatMap((key) =>
      env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]],
    ),
  );
  const result = v.safeParse(SettingsSchema, known);
  if (!result.success) {
    const issue = result.issues[0];
    const key = issue.path?.[0]?.key;
    throw new Error(`Invalid environment variable ${String(key)}: ${issue.message}`);
  }
  return { ...result.output, TENANTS_FILE: result.output.TENANTS_FILE ?? fileURLToPath(defaultTenantsFile) };
}
