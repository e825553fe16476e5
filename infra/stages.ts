// What differs between the deployments of this service: one entry per stage, chosen with
// `-c stage=dev|prod`. Everything a tenant needs lives in the stage's tenants file; this file
// holds what the operator of the stage decides (limits, retention, alarms, secret ownership).
// A few settings can be overridden per deploy with `-c key=value` (see CONTEXT_OVERRIDES) so a
// one-off change needs no code edit; lasting changes belong here, reviewed like code.
import { resolve } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as v from 'valibot';
import { PROJECT_ROOT } from './lambda-bundling.ts';

export const STAGE_NAMES = ['dev', 'prod'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface StageSettings {
  /** The tenants file deployed with the stage (validated at synth, shipped in the asset). */
  readonly tenantsFile: string;
  /** Pin the stage to an account and region so a deploy with the wrong credentials fails. */
  readonly account?: string;
  readonly region?: string;
  /** API Gateway stage throttling: steady requests per second and burst bucket size. */
  readonly throttle: Throttle;
  /**
   * Throttling of POST /webhooks/plaid/{tenant_id} alone, in place of `throttle` on that route.
   * Anyone who learns the URL can post to it, and every post costs an invocation (and, for an
   * unknown key id, a bounded call to Plaid) before its signature is found forged: the gateway
   * cuts a flood at this rate without the function seeing it. Plaid retries every non-200
   * answer (429 included) with backoff for up to 24 hours, so a genuine webhook refused here in
   * a burst arrives again later; set the limit well above the stage's real webhook traffic.
   */
  readonly webhookThrottle: Throttle;
  /**
   * The public base URL of the API (a custom domain such as https://api.example.com, without a
   * trailing slash): the function's PUBLIC_BASE_URL, the base of the webhook URL it gives Plaid
   * in link tokens. Unset: the function derives it per request from the execute-api domain and stage.
   */
  readonly publicBaseUrl?: string;
  readonly logRetention: RetentionDays;
  /** Keep the log groups when the stack is deleted (audit trail) or delete them with it. */
  readonly retainLogs: boolean;
  /**
   * The function's LOG_LEVEL and Lambda's application log-level filter, kept equal. Not above
   * info: the upstream error rate alarm counts the info-level plaid.link_token_created lines.
   */
  readonly logLevel: 'debug' | 'info';
  /**
   * X-Ray active tracing of the function (Lambda's Tracing: Active): Lambda samples invocations
   * (by default the first each second and 5% of the rest) and records a trace of each, with the
   * init and invoke phases; the function's log lines then carry its xray_trace_id. Only the
   * function: API Gateway HTTP APIs have no X-Ray tracing (REST APIs do), so a trace starts at
   * Lambda. Off by default, because it costs (at the time of writing: the first 100,000 traces
   * recorded each month are free, then $5.00 per million recorded; the first 1,000,000 retrieved
   * or scanned free, then $0.50 per million) and because the access and function logs already
   * give every request's latency, status and correlation id.
   */
  readonly xrayTracing: boolean;
  /**
   * Create, empty, every secret the tenants file references by name (not by ARN), and a random
   * client_user_id key. Off: the secrets must exist before the first deploy.
   */
  readonly createMissingSecrets: boolean;
  /** Customer managed KMS key of the stage's secrets; unset means aws/secretsmanager (no grant needed). */
  readonly secretsKmsKeyArn?: string;
  /**
   * The items vault (table and key) holds the only copy of each user's Plaid access tokens: on,
   * the table has deletion protection and both outlive the stack; off, `cdk destroy` removes them.
   */
  readonly protectItemsVault: boolean;
  /** Alarm notifications: an existing SNS topic, or an address the stack subscribes to a new one. */
  readonly alarmTopicArn?: string;
  readonly alarmEmail?: string;
}

/** API Gateway throttling: steady requests per second and the burst bucket size. */
export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export const STAGES: Readonly<Record<StageName, StageSettings>> = {
  dev: {
    tenantsFile: 'infra/tenants/dev.json',
    // Enough for a team testing by hand and for a load test of a few seconds; low enough that a
    // leaked dev URL cannot run up a bill or burn the sandbox's Plaid quota.
    throttle: { rateLimit: 10, burstLimit: 20 },
    // Sandbox webhooks come from a team's test Items and /sandbox/item/fire_webhook: a handful a
    // minute. 5/s with a burst of 10 leaves room for a test that fires a batch.
    webhookThrottle: { rateLimit: 5, burstLimit: 10 },
    logRetention: RetentionDays.ONE_MONTH,
    retainLogs: false,
    logLevel: 'info',
    xrayTracing: false,
    // The dev stack owns its secrets: one deploy creates them, put-secret-value fills them.
    createMissingSecrets: true,
    // Sandbox Items only: a torn-down dev stack should leave no table or key (and no bill) behind.
    protectItemsVault: false,
  },
  prod: {
    tenantsFile: 'infra/tenants/prod.json',
    // One link token starts one Plaid Link session: 50/s sustained is 180,000 sessions an hour,
    // far above what the tenants' sign-up flows produce, and it bounds what abuse can cost.
    throttle: { rateLimit: 50, burstLimit: 100 },
    // Plaid sends a few webhooks per Item per day, in bursts when it updates many Items at once
    // (transactions updates, consent expirations). 25/s is 90,000 an hour, far above that; what
    // Plaid does send beyond it in a burst is refused with 429 and retried by Plaid.
    webhookThrottle: { rateLimit: 25, burstLimit: 50 },
    // The access and function logs are the record of who asked for a link token and when.
    logRetention: RetentionDays.ONE_YEAR,
    retainLogs: true,
    logLevel: 'info',
    xrayTracing: false,
    // Production Plaid keys are created and owned by whoever holds them, not by this stack.
    createMissingSecrets: false,
    // A lost access token cannot be recovered: the user would have to link the bank again, and
    // Plaid would keep billing the Item nobody can remove. Neither a stack delete nor a
    // replacement may take the table or its key.
    protectItemsVault: true,
  },
};

const positiveInt = (max: number) =>
  v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.transform(Number))], 'must be a number'),
    v.integer('must be a whole number'),
    v.minValue(1, 'must be at least 1'),
    v.maxValue(max, `must be at most ${max}`),
  );
// -c flags arrive as strings; cdk.json may hold real booleans.
const flag = v.pipe(
  v.union([v.boolean(), v.picklist(['true', 'false'])], 'must be true or false'),
  v.transform((value) => value === true || value === 'true'),
);
const nonEmpty = v.pipe(v.string('must be a string'), v.trim(), v.nonEmpty('must not be empty'));

/** The settings `-c key=value` may override for one deploy, with what each accepts. */
const ContextOverridesSchema = v.object({
  /** Absolute, or relative to the project root. */
  tenantsFile: v.optional(nonEmpty),
  throttleRateLimit: v.optional(positiveInt(10_000)),
  throttleBurstLimit: v.optional(positiveInt(5_000)),
  webhookThrottleRateLimit: v.optional(positiveInt(10_000)),
  webhookThrottleBurstLimit: v.optional(positiveInt(5_000)),
  publicBaseUrl: v.optional(nonEmpty),
  logLevel: v.optional(v.picklist(['debug', 'info'], 'must be debug or info (the alarms count info lines)')),
  createMissingSecrets: v.optional(flag),
  xrayTracing: v.optional(flag),
  secretsKmsKeyArn: v.optional(
    v.pipe(nonEmpty, v.regex(/^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/, 'must be a KMS key ARN')),
  ),
  alarmTopicArn: v.optional(
    v.pipe(nonEmpty, v.regex(/^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w.-]+$/, 'must be an SNS topic ARN')),
  ),
  alarmEmail: v.optional(v.pipe(nonEmpty, v.email('must be an email address'))),
});

export const CONTEXT_OVERRIDE_KEYS = Object.keys(ContextOverridesSchema.entries) as ReadonlyArray<
  keyof typeof ContextOverridesSchema.entries
>;

export class StageSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageSettingsError';
  }
}

export interface ResolvedStage {
  readonly name: StageName;
  readonly settings: StageSettings;
  /** Absolute path of the tenants file. */
  readonly tenantsFilePath: string;
}

/** The stage named by the `stage` context value, with any context overrides applied. */
export function resolveStage(context: (key: string) => unknown): ResolvedStage {
  const name = context('stage');
  if (typeof name !== 'string' || !(STAGE_NAMES as readonly string[]).includes(name)) {
    throw new StageSettingsError(
      `Choose the stage with -c stage=<${STAGE_NAMES.join('|')}> (got ${name === undefined ? 'none' : JSON.stringify(name)}).`,
    );
  }
  const stage = name as StageName;
  const given = Object.fromEntries(
    CONTEXT_OVERRIDE_KEYS.flatMap((key) => (context(key) === undefined ? [] : [[key, context(key)]])),
  );
  const parsed = v.safeParse(ContextOverridesSchema, given);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = String(issue.path?.[0]?.key);
    throw new StageSettingsError(`Context value ${key}=${JSON.stringify(given[key])} ${issue.message}.`);
  }
  const overrides = parsed.output;
  const base = STAGES[stage];
  const settings: StageSettings = {
    ...base,
    tenantsFile: overrides.tenantsFile ?? base.tenantsFile,
    throttle: {
      rateLimit: overrides.throttleRateLimit ?? base.throttle.rateLimit,
      burstLimit: overrides.throttleBurstLimit ?? base.throttle.burstLimit,
    },
    webhookThrottle: {
      rateLimit: overrides.webhookThrottleRateLimit ?? base.webhookThrottle.rateLimit,
      burstLimit: overrides.webhookThrottleBurstLimit ?? base.webhookThrottle.burstLimit,
    },
    publicBaseUrl: checkPublicBaseUrl(stage, overrides.publicBaseUrl ?? base.publicBaseUrl),
    logLevel: overrides.logLevel ?? base.logLevel,
    createMissingSecrets: overrides.createMissingSecrets ?? base.createMissingSecrets,
    xrayTracing: overrides.xrayTracing ?? base.xrayTracing,
    secretsKmsKeyArn: overrides.secretsKmsKeyArn ?? base.secretsKmsKeyArn,
    alarmTopicArn: overrides.alarmTopicArn ?? base.alarmTopicArn,
    alarmEmail: overrides.alarmEmail ?? base.alarmEmail,
  };
  for (const [label, throttle] of [
    ['throttling', settings.throttle],
    ['webhook throttling', settings.webhookThrottle],
  ] as const) {
    if (throttle.burstLimit < throttle.rateLimit) {
      throw new StageSettingsError(
        `Stage ${stage}: the ${label} burst (${throttle.burstLimit}) must be at least the rate (${throttle.rateLimit}).`,
      );
    }
  }
  return { name: stage, settings, tenantsFilePath: resolve(PROJECT_ROOT, settings.tenantsFile) };
}

/**
 * The public base URL as the function will use it, or why not: https (Plaid posts to it from
 * the internet, so not even loopback http), no credentials, query or fragment (the function
 * appends /webhooks/plaid/<tenant_id>); a trailing slash is dropped.
 */
function checkPublicBaseUrl(stage: StageName, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const fail = (problem: string) =>
    new StageSettingsError(
      `Stage ${stage}: publicBaseUrl ${JSON.stringify(value)} ${problem} (e.g. https://api.example.com).`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail('must be an absolute URL');
  }
  if (url.protocol !== 'https:') throw fail('must be https: Plaid posts webhooks to it from the internet');
  if (url.username || url.password) throw fail('must not carry credentials');
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    throw fail('must not have a query or fragment');
  return value.replace(/\/+$/, '');
}
