// Composition root of the Lambda function. Everything here runs once per execution environment
// (cold start): settings and the tenants are read and fail fast, clients and caches are built and
// then reused by every warm request. What only some tenant's or route's first request needs (an
// issuer's verifier, a tenant's parsed config, the vault, webhooks) is made on that first use.
import middy, { type MiddlewareObj } from '@middy/core';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createAuthenticator } from './auth/authenticate.ts';
import { createJwksFetcher } from './auth/jwks-fetcher.ts';
import { readSettings } from './config/settings.ts';
import {
  COMPILED_TENANTS_FILE_NAME,
  isCompiledTenants,
  readCompiledTenants,
  type TenantDirectory,
} from './config/tenant-directory.ts';
import type { Tenant } from './config/tenant-schema.ts';
import { ServiceFailure } from './domain/failure.ts';
import type { EventPublisher, ItemVault, WebhookVerifier } from './domain/ports.ts';
import { createHttpApi, type HttpResponse } from './http/http-api.ts';
import { createLogger } from './log/logger.ts';
import { createPlaidClient } from './plaid/plaid-client.ts';
import { planInitPrefetch, prefetchAtInit } from './runtime/prefetch-at-init.ts';
import { createSecretCache } from './secrets/secret-cache.ts';
import { createSecretsManagerReader } from './secrets/secrets-manager.ts';

/** The fingerprint of the tenants schema this bundle was built with (esbuild define, infra/lambda-bundling.ts). */
declare const __TENANTS_SCHEMA_FINGERPRINT__: string | undefined;

const settings = readSettings(process.env, new URL(`./${COMPILED_TENANTS_FILE_NAME}`, import.meta.url));
const logger = createLogger({ level: settings.LOG_LEVEL });

/**
 * The deploy's asset holds the tenants in the form the build validated (tenants.compiled.json):
 * read without running the schema, once its fingerprint checks out. A tenants file as written
 * (TENANTS_FILE: the local stack, tests) is validated in full, by the schema loaded only then
 * (built apart, into lazy/, like the vault).
 */
async function loadTenants(path: string): Promise<TenantDirectory> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `Invalid tenants file ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
      },
    );
  }
  if (isCompiledTenants(text)) {
    return readCompiledTenants(
      text,
      path,
      typeof __TENANTS_SCHEMA_FINGERPRINT__ === 'string' ? __TENANTS_SCHEMA_FINGERPRINT__ : undefined,
    );
  }
  const { tenantDirectoryFromText } = await import('./config/load-tenants.ts');
  return tenantDirectoryFromText(text, path);
}
const tenants = await loadTenants(settings.TENANTS_FILE);
// Accepted but worth hearing about (Plaid-deprecated fields, values Plaid adjusts): found when the
// file was validated, logged once per cold start.
for (const { tenant, profile, field, message } of tenants.warnings)
  logger.warn('config.warning', { tenant, profile, field, warning: message });

const secrets = createSecretCache({
  fetch: createSecretsManagerReader({
    requestTimeoutMs: settings.SECRETS_TIMEOUT_MS,
    connectionTimeoutMs: settings.SECRETS_TIMEOUT_MS,
    maxAttempts: settings.SECRETS_MAX_ATTEMPTS,
  }),
  ttlMs: settings.SECRET_TTL_SECONDS * 1000,
  staleIfErrorMs: settings.SECRET_STALE_IF_ERROR_SECONDS * 1000,
  onStaleServed: (secretId, error) =>
    logger.warn('secrets.stale_served', { secret_id: secretId, error_name: (error as Error)?.name }),
});

/** The secrets a tenant's request reads: its Plaid credentials, and the shared key when it derives client_user_id with it. */
const secretIdsOf = (tenant: Tenant) =>
  tenant.client_user_id.strategy === 'hmac-sha256'
    ? [tenant.plaid.secret_id, tenants.clientUserIdKeySecretId]
    : [tenant.plaid.secret_id];

const authenticate = createAuthenticator({
  tenants,
  fetcher: createJwksFetcher({ timeoutMs: settings.JWKS_TIMEOUT_MS }),
  graceSeconds: settings.TOKEN_GRACE_SECONDS,
  // While the issuer's keys are fetched, the tenant's secrets are read too (a cache fill: the
  // request uses them only once the token is verified, through the cache). A failure here is
  // the request's own read's to report, so it is dropped.
  onKeysFetchedFor: (tenant) => {
    for (const secretId of secretIdsOf(tenant)) secrets.get(secretId).catch(() => undefined);
  },
});

/**
 * A port whose adapter is imported on its first call: the vault (DynamoDB and KMS clients), the
 * webhook verifier (jose) and the event publisher (EventBridge client) are built apart, into lazy/
 * beside index.mjs (infra/lambda-bundling.ts), so a new link token's cold start never reads,
 * parses or evaluates them. The use cases see a port like any other.
 */
function loadedOnFirstUse<T extends object>(load: () => Promise<T>, methods: { readonly [K in keyof T]: true }): T {
  let loaded: Promise<T> | undefined;
  const port: Record<string, unknown> = {};
  for (const method of Object.keys(methods)) {
    port[method] = async (...args: unknown[]) => {
      const adapter = await (loaded ??= load());
      return (adapter[method as keyof T] as (...a: unknown[]) => unknown).apply(adapter, args);
    };
  }
  return port as T;
}

const vault = loadedOnFirstUse<ItemVault>(
  () =>
    import('./vault/dynamodb-kms-vault.ts').then(({ createDynamoDbKmsVault }) => {
      if (!settings.ITEMS_TABLE_NAME || !settings.VAULT_KMS_KEY_ID) {
        throw new ServiceFailure('misconfigured', 'The item vault is not configured; the operator has been alerted.', {
          cause: { name: 'VaultNotConfigured' },
        });
      }
      return createDynamoDbKmsVault({
        tableName: settings.ITEMS_TABLE_NAME,
        kmsKeyId: settings.VAULT_KMS_KEY_ID,
        requestTimeoutMs: settings.VAULT_TIMEOUT_MS,
        maxAttempts: settings.VAULT_MAX_ATTEMPTS,
        logger,
      });
    }),
  {
    listItems: true,
    userRecords: true,
    accessToken: true,
    getItem: true,
    putItem: true,
    deleteItem: true,
    plaidUser: true,
    putPlaidUser: true,
    deletePlaidUser: true,
    findItemOwner: true,
    applyItemStatus: true,
    claimExchange: true,
    settleExchange: true,
    releaseExchange: true,
    forgetExchange: true,
    recordSession: true,
    sessionOwner: true,
    sessionLinkToken: true,
    finishSession: true,
    forgetSession: true,
    beginErasure: true,
    countErasedItem: true,
    endErasure: true,
    claimWebhook: true,
    releaseWebhook: true,
    finishWebhook: true,
  },
);

const plaid = createPlaidClient();

const webhookVerifier = loadedOnFirstUse<WebhookVerifier>(
  () =>
    import('./webhooks/plaid-webhook-verifier.ts').then(({ createPlaidWebhookVerifier }) =>
      createPlaidWebhookVerifier({ plaid, secrets, plaidBaseUrlOverride: settings.PLAID_BASE_URL, now: Date.now }),
    ),
  { verify: true },
);

const events = loadedOnFirstUse<EventPublisher>(
  () =>
    import('./events/eventbridge-publisher.ts').then(({ createEventBridgePublisher }) => {
      if (!settings.WEBHOOK_BUS_NAME) {
        throw new ServiceFailure('misconfigured', 'The event bus is not configured; the operator has been alerted.', {
          cause: { name: 'EventBusNotConfigured' },
        });
      }
      return createEventBridgePublisher({
        busName: settings.WEBHOOK_BUS_NAME,
        requestTimeoutMs: settings.EVENTS_TIMEOUT_MS,
        maxAttempts: 2,
      });
    }),
  { publish: true },
);

const api = createHttpApi({
  tenants,
  authenticate,
  deps: {
    secrets,
    plaid,
    vault,
    webhookVerifier,
    events,
    clientUserIdKeySecretId: tenants.clientUserIdKeySecretId,
    plaidBaseUrlOverride: settings.PLAID_BASE_URL,
    budgetMs: settings.REQUEST_BUDGET_MS,
    webhookBudgetMs: settings.WEBHOOK_BUDGET_MS,
    rateLimitRetryAfterSeconds: settings.RATE_LIMIT_RETRY_AFTER_SECONDS,
    now: Date.now,
  },
  publicBaseUrl: settings.PUBLIC_BASE_URL,
  logger,
});
logger.info('function.initialised', {
  tenants: tenants.size,
  plaid_base_url_override: settings.PLAID_BASE_URL !== undefined,
});

// A small deployment's keys and secrets are fetched during init; a larger one's by each first
// request, for its own tenant only (runtime/prefetch-at-init.ts).
const prefetchPlan =
  settings.INIT_PREFETCH === 'on' ? planInitPrefetch(tenants, settings.INIT_PREFETCH_MAX_SECRETS) : undefined;
if (prefetchPlan) await prefetchAtInit({ plan: prefetchPlan, keys: authenticate, secrets, logger });

// API Gateway's request id is what the caller sees in its logs and our access logs: use it.
const correlationId = (event: APIGatewayProxyEventV2 | undefined, context: Context) =>
  event?.requestContext?.requestId ?? context.awsRequestId;

const mapFailures: MiddlewareObj<APIGatewayProxyEventV2, HttpResponse, Error, Context> = {
  onError: (request) => {
    const error =
      request.error?.name === 'TimeoutError'
        ? new ServiceFailure('upstream_timeout', 'The request took too long.')
        : request.error;
    request.response = api.failure(error, request.event, correlationId(request.event, request.context));
  },
};

export const handler = middy<APIGatewayProxyEventV2, HttpResponse, Error, Context>({
  // Leaves time to answer 504 with a problem body before Lambda would cut the invocation off.
  timeoutEarlyInMillis: 250,
})
  .use(mapFailures)
  .handler((event, context) => {
    logger.startInvocation(context);
    return api(event, correlationId(event, context));
  });
