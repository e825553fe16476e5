// `npm start`: the production handler, bundled as the deploy bundles it, behind a local API
// Gateway, with loopback stand-ins for everything it talks to unless told otherwise:
//   PORT / HOST                      where the API and demo page listen (3000 / 127.0.0.1)
//   TENANTS_FILE                     a tenants file in the deploy's format (default: a demo tenant)
//   PLAID_BASE_URL                   Plaid to call (default: the Plaid stand-in; with
//   PLAID_CLIENT_ID + PLAID_SECRET   real sandbox keys: https://sandbox.plaid.com)
//   AWS_ENDPOINT_URL_SECRETS_MANAGER Secrets Manager to read (default: the stand-in), AWS_REGION
//   AWS_ENDPOINT_URL_DYNAMODB        the item vault's DynamoDB (default: dynalite in process) and
//   ITEMS_TABLE_NAME                 its table (created when the endpoint is loopback and none is named)
//   AWS_ENDPOINT_URL_KMS             the vault's KMS (default: the KMS stand-in) and
//   VAULT_KMS_KEY_ID                 its key (created when the endpoint is loopback and none is named)
//   AWS_ENDPOINT_URL_EVENTBRIDGE     where verified webhooks are published (default: the EventBridge
//   WEBHOOK_BUS_NAME                 stand-in, bus link-token-local-webhooks; POST /dev/events lists them)
//   PUBLIC_BASE_URL                  the base of the webhook URL given to Plaid (default: this server)
//   OIDC_PORT                        port of the local OIDC issuer that mints dev tokens (random)
//   LOCAL_WORK_DIR                   where the bundles and the demo tenants file go (dist/local)
// Besides the API it serves the demo page (/, /oauth-return, /demo/*), the dev sign-in
// POST /dev/token, the offline Link stand-in's POST /dev/plaid-link/success (a real sandbox
// public token, as Link's onSuccess hands one over), with the Plaid stand-in
// POST /dev/simulate/login-required {item_id} (what /sandbox/item/reset_login does, for a page
// that never holds the access token) and the OpenAPI description at GET /openapi.json.
// Every other setting of the function (REQUEST_BUDGET_MS, LOG_LEVEL, ...) passes through.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildBrowserClient } from '../client/build.ts';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { buildLambdaBundle } from './build.ts';
import type { TenantsFileInput } from '../lambda/config/tenant-schema.ts';
import { DEMO_AUDIENCE, DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID, demoTenantsFile } from './demo-tenants.ts';
import { startLocalApiServer, type LambdaHandler } from './server.ts';
import { startOidcIssuer, type OidcIssuer } from './standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, SANDBOX_INSTITUTIONS, startPlaidStandIn, type PlaidStandIn } from './standins/plaid.ts';
import { createItemsTable, startDynamoDbStandIn } from './standins/dynamodb.ts';
import { startKmsStandIn } from './standins/kms.ts';
import { startEventBridgeStandIn, type EventBridgeStandIn } from './standins/eventbridge.ts';
import { startSecretsManagerStandIn } from './standins/secrets-manager.ts';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';

// Only for the local stand-in: a fixed key keeps dev client_user_ids stable across restarts.
const LOCAL_CLIENT_USER_ID_KEY = 'local-development-only-client-user-id-key-0123456789';

export interface LocalStack {
  readonly apiUrl: string;
  readonly tenantsFile: string;
  readonly issuer: OidcIssuer;
  /** The Plaid stand-in, when the stack runs one (no PLAID_BASE_URL or sandbox keys given). */
  readonly plaid: PlaidStandIn | undefined;
  close(): Promise<void>;
}

export async function startLocalStack(env: NodeJS.ProcessEnv = process.env): Promise<LocalStack> {
  if ((env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL) && !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)) {
    // The bundle reads credentials from the environment only, as Lambda provides them
    // (lambda/runtime/aws-credentials-from-env.ts): a profile alone would fail every read.
    throw new Error(
      'AWS_ENDPOINT_URL_SECRETS_MANAGER is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not: the function reads its ' +
        'AWS credentials from the environment, as in Lambda. From a profile: eval "$(aws configure export-credentials --format env)"',
    );
  }
  const closers: Array<() => Promise<void>> = [];
  const workDir = env.LOCAL_WORK_DIR ? resolve(env.LOCAL_WORK_DIR) : join(PROJECT_ROOT, 'dist', 'local');
  mkdirSync(workDir, { recursive: true });
  // The demo page imports the browser client, built from its one TypeScript source.
  const clientFile = await buildBrowserClient({ outfile: join(workDir, 'demo', 'link-token-client.js') });

  // Dev tokens are minted through the local server's /dev/token (same origin as the demo page).
  const issuer = await startOidcIssuer({ port: Number(env.OIDC_PORT ?? 0) });
  closers.push(() => issuer.close());

  // Filled in below, once Plaid and the tenants file are known; the route answers 503 until then.
  let linkSuccess: ((body: unknown) => Promise<{ status: number; body: unknown }>) | undefined;
  let events: EventBridgeStandIn | undefined;
  let plaid: PlaidStandIn | undefined;
  const server = await startLocalApiServer({
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? '127.0.0.1',
    functionTimeoutMs: Number(env.LOCAL_FUNCTION_TIMEOUT_MS ?? 12_000),
    staticDir: fileURLToPath(new URL('./demo/', import.meta.url)),
    devToken: async (body) => devSignIn(issuer, body),
    devRoutes: {
      '/dev/plaid-link/success': (body) => linkSuccess?.(body) ?? Promise.resolve({ status: 503, body: { message: 'starting' } }),
      '/dev/simulate/login-required': async (body) =>
        plaid ? simulateLoginRequired(plaid, body) : { status: 404, body: { message: 'Plaid is not the local stand-in: use its own tools' } },
      // The events the function published to the local bus (the tenant's backend would subscribe).
      '/dev/events': async () =>
        events
          ? { status: 200, body: { events: events.events.map(({ DetailType, Source, Detail, Time }) => ({ detail_type: DetailType, source: Source, time: Time, detail: Detail })) } }
          : { status: 404, body: { message: 'the event bus is not the local stand-in' } },
    },
    files: {
      '/demo/link-token-client.js': { file: clientFile },
      '/demo/link-token-client.js.map': { file: `${clientFile}.map` },
      // The committed description (a test keeps it equal to what the schemas generate); public.
      '/openapi.json': { file: fileURLToPath(new URL('../openapi/link-token.openapi.json', import.meta.url)), headers: { 'access-control-allow-origin': '*' } },
    },
  });
  closers.push(() => server.close());

  const realPlaidKeys = env.PLAID_CLIENT_ID && env.PLAID_SECRET ? { client_id: env.PLAID_CLIENT_ID, secret: env.PLAID_SECRET } : undefined;
  let plaidBaseUrl = env.PLAID_BASE_URL ?? (realPlaidKeys ? 'https://sandbox.plaid.com' : undefined);
  if (!plaidBaseUrl) {
    const standIn = (plaid = await startPlaidStandIn({}));
    closers.push(() => standIn.close());
    plaidBaseUrl = standIn.url;
  }

  let tenantsFile = env.TENANTS_FILE;
  if (!tenantsFile) {
    tenantsFile = join(workDir, 'tenants.json');
    const origins = [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`];
    const demo = demoTenantsFile({ issuer: issuer.issuer, origins, withOAuthRedirect: !realPlaidKeys });
    writeFileSync(tenantsFile, `${JSON.stringify(demo, null, 2)}\n`);
  }

  {
    const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
    const keys = realPlaidKeys ?? { client_id: clientId, secret };
    // The demo page asks for the default profile's link token: its Items get that profile's products.
    let products: readonly string[] = [];
    try {
      const tenantsJson = JSON.parse(readFileSync(tenantsFile, 'utf8')) as TenantsFileInput;
      products = Object.values(tenantsJson.tenants)[0]?.profiles.default?.products ?? [];
    } catch {
      // A tenants file the demo cannot read: the route then reports Plaid's refusal, startup goes on.
    }
    linkSuccess = (body) => devLinkSuccess(body, { plaid, plaidBaseUrl: plaidBaseUrl!, keys, products });
  }

  let secretsEndpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const childEnv: Record<string, string> = {};
  if (!secretsEndpoint) {
    const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
    const secrets = await startSecretsManagerStandIn({
      region,
      secrets: {
        [DEMO_PLAID_SECRET_ID]: JSON.stringify(realPlaidKeys ?? { client_id: clientId, secret }),
        [DEMO_KEY_SECRET_ID]: LOCAL_CLIENT_USER_ID_KEY,
      },
    });
    closers.push(() => secrets.close());
    secretsEndpoint = secrets.url;
    // The stand-in checks that requests are signed, not by whom: any credentials do.
    if (!env.AWS_ACCESS_KEY_ID) Object.assign(childEnv, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  }

  Object.assign(childEnv, await startVault(env, region, closers));
  const busName = env.WEBHOOK_BUS_NAME ?? 'link-token-local-webhooks';
  childEnv.WEBHOOK_BUS_NAME = busName;
  childEnv.PUBLIC_BASE_URL = env.PUBLIC_BASE_URL ?? server.url;
  if (!(env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? env.AWS_ENDPOINT_URL)) {
    const bus = (events = await startEventBridgeStandIn({ region, eventBuses: [busName] }));
    closers.push(() => bus.close());
    childEnv.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.url;
  }

  // The bundled handler reads its settings at import (cold start), as in Lambda.
  Object.assign(process.env, childEnv, {
    TENANTS_FILE: tenantsFile,
    PLAID_BASE_URL: plaidBaseUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
    AWS_REGION: region,
  });
  const bundle = await buildLambdaBundle({ outdir: join(workDir, 'lambda') });
  try {
    // The import runs the function's init (top-level await included): only then are calls sent to it.
    server.setHandler((await import(`${pathToFileURL(bundle.handlerFile).href}?t=${Date.now()}`)).handler as LambdaHandler);
  } catch (error) {
    await Promise.all(closers.reverse().map((close) => close()));
    throw error;
  }

  return {
    apiUrl: server.url,
    tenantsFile,
    issuer,
    plaid,
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
}

/**
 * The item vault: DynamoDB and KMS stand-ins in process unless endpoints are given; a table and a
 * key are created on a loopback endpoint (an emulator such as moto_server) when none is named.
 */
async function startVault(env: NodeJS.ProcessEnv, region: string, closers: Array<() => Promise<void>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let dynamodbEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  if (!dynamodbEndpoint) {
    const dynamodb = await startDynamoDbStandIn();
    closers.push(() => dynamodb.close());
    dynamodbEndpoint = out.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.url;
  }
  out.ITEMS_TABLE_NAME = env.ITEMS_TABLE_NAME ?? (await createOnLoopback(dynamodbEndpoint, 'ITEMS_TABLE_NAME', () =>
    createItemsTable(dynamodbEndpoint!, { tableName: 'link-token-items', region })));

  let kmsEndpoint = env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL;
  if (!kmsEndpoint) {
    const kms = await startKmsStandIn({ region, description: 'local item vault key' });
    closers.push(() => kms.close());
    out.AWS_ENDPOINT_URL_KMS = kms.url;
    out.VAULT_KMS_KEY_ID = env.VAULT_KMS_KEY_ID ?? kms.keyArn;
    return out;
  }
  out.VAULT_KMS_KEY_ID = env.VAULT_KMS_KEY_ID ?? (await createOnLoopback(kmsEndpoint, 'VAULT_KMS_KEY_ID', async () => {
    const client = new KMSClient({ endpoint: kmsEndpoint, region, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local' } });
    try {
      const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'local item vault key' }));
      return KeyMetadata!.Arn!;
    } finally {
      client.destroy();
    }
  }));
  return out;
}

/** Creates a resource only on a loopback emulator: against a real account the operator names it. */
async function createOnLoopback(endpoint: string, knob: string, create: () => Promise<string>): Promise<string> {
  const host = new URL(endpoint).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(`${knob} must be set when the vault's endpoint (${endpoint}) is not a local emulator.`);
  }
  return create();
}

/**
 * POST /dev/plaid-link/success {link_token, institution_id?}: what Plaid Link does when the user
 * finishes, for the offline Link stand-in. A new-mode session gets a real public token from
 * Plaid's /sandbox/public_token/create (the stand-in's, or Plaid's sandbox with real keys), so the
 * app's POST /items exchanges it exactly as it would Link's. An update-mode session marks the Item
 * repaired at the Plaid stand-in, and also gets a public token, as Link hands one over in update
 * mode too (the app need not exchange it). Never an access token: Plaid's answer has none.
 */
async function devLinkSuccess(
  body: unknown,
  ctx: { plaid: PlaidStandIn | undefined; plaidBaseUrl: string; keys: { client_id: string; secret: string }; products: readonly string[] },
): Promise<{ status: number; body: unknown }> {
  const input = (body && typeof body === 'object' ? body : {}) as { link_token?: unknown; institution_id?: unknown };
  if (typeof input.link_token !== 'string' || !input.link_token.startsWith('link-')) {
    return { status: 400, body: { message: 'link_token: the link token Link was opened with is required' } };
  }
  let institutionId = typeof input.institution_id === 'string' ? input.institution_id : SANDBOX_INSTITUTIONS[0]!.institution_id;
  let mode: 'new' | 'update' = 'new';
  // Link gives the Item the link token's webhook; the sandbox endpoint takes it as options.webhook.
  let webhook: string | undefined;
  if (ctx.plaid) {
    // Only a live link token this Plaid issued, as Link would insist.
    const session = ctx.plaid.linkSessions.find((s) => s.link_token === input.link_token);
    if (!session || Date.parse(session.expiration) <= Date.now()) {
      return { status: 400, body: { message: 'link_token: not a live link token of this Plaid stand-in' } };
    }
    webhook = session.webhook;
    if (session.update) {
      mode = 'update';
      ctx.plaid.completeUpdateMode(session.link_token);
      institutionId = ctx.plaid.item(session.update.item_id)?.institution_id ?? institutionId;
    }
  }
  const institution = SANDBOX_INSTITUTIONS.find((i) => i.institution_id === institutionId);
  if (!institution) return { status: 400, body: { message: `institution_id: one of ${SANDBOX_INSTITUTIONS.map((i) => i.institution_id).join(', ')}` } };
  const answer = await fetch(new URL('/sandbox/public_token/create', ctx.plaidBaseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...ctx.keys, institution_id: institution.institution_id, initial_products: ctx.products, ...(webhook ? { options: { webhook } } : {}) }),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await answer.json().catch(() => ({}))) as { public_token?: unknown; error_code?: unknown };
  if (!answer.ok || typeof json.public_token !== 'string') {
    return { status: 502, body: { message: `Plaid's /sandbox/public_token/create failed: ${String(json.error_code ?? answer.status)}` } };
  }
  return { status: 200, body: { public_token: json.public_token, mode, institution: { institution_id: institution.institution_id, name: institution.name } } };
}

// Plaid's item_id: letters, digits, '-' and '_' (the stand-in's are 37 characters).
const ITEM_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * POST /dev/simulate/login-required {item_id}: the Item's login stops working at the bank, as
 * Plaid's /sandbox/item/reset_login does it (ITEM_LOGIN_REQUIRED, then the signed ITEM ERROR
 * webhook to the Item's URL). Answers once the webhook's delivery has been answered, with that
 * answer's status, so the page's next look at its Items and the bus sees the outcome.
 */
async function simulateLoginRequired(plaid: PlaidStandIn, body: unknown): Promise<{ status: number; body: unknown }> {
  const itemId = (body && typeof body === 'object' ? body : {}) as { item_id?: unknown };
  if (typeof itemId.item_id !== 'string' || !ITEM_ID.test(itemId.item_id)) {
    return { status: 400, body: { message: 'item_id: the item_id of an Item (from GET /items) is required' } };
  }
  const item = plaid.item(itemId.item_id);
  if (!item || item.removed) return { status: 404, body: { message: 'item_id: no live Item of this Plaid stand-in has that id' } };
  if (item.webhook === null) {
    return { status: 409, body: { message: "item_id: the Item has no webhook URL (its link token's profile has no \"webhook\"), so no webhook would be sent" } };
  }
  const sentBefore = plaid.deliveries.length;
  plaid.resetLogin(item.item_id);
  await plaid.awaitDeliveries();
  const delivery = plaid.deliveries.slice(sentBefore).find((d) => d.url === item.webhook);
  if (!delivery) return { status: 502, body: { message: 'the Plaid stand-in sent no webhook' } };
  // What was sent and how the receiver answered; never the delivery's headers (the Plaid-Verification JWT).
  const sent = JSON.parse(delivery.body) as { webhook_type?: string; webhook_code?: string; error?: { error_code?: string } };
  const webhook = { webhook_type: sent.webhook_type, webhook_code: sent.webhook_code, error_code: sent.error?.error_code, status: delivery.status ?? null, ...(delivery.error ? { error: delivery.error } : {}) };
  return { status: delivery.status === 200 ? 200 : 502, body: { item_id: item.item_id, item_error: plaid.item(item.item_id)?.error_code ?? null, webhook } };
}

function devSignIn(issuer: OidcIssuer, body: unknown): { access_token: string; token_type: 'Bearer'; expires_in: number } {
  const input = (body && typeof body === 'object' ? body : {}) as { sub?: unknown; email?: unknown };
  const sub = typeof input.sub === 'string' && input.sub ? input.sub : 'dev-user-1';
  const email = typeof input.email === 'string' && input.email ? input.email : 'dev.user@example.com';
  const expiresIn = 3600;
  const token = issuer.mint({ sub, aud: DEMO_AUDIENCE, email, email_verified: true }, { expiresInSeconds: expiresIn });
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn };
}

if (import.meta.main) {
  try {
    const stack = await startLocalStack();
    process.stdout.write(
      `${JSON.stringify({ event: 'local.ready', api: stack.apiUrl, demo: `${stack.apiUrl.replace('127.0.0.1', 'localhost')}/`, issuer: stack.issuer.issuer, tenants_file: stack.tenantsFile })}\n`,
    );
    const stop = () => void stack.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    // Config errors name tenant, profile and field; print them as they are and fail.
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
