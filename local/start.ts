// `npm start`: the production handler, bundled as the deploy bundles it, behind a local API
// Gateway, with loopback stand-ins for everything it talks to unless told otherwise:
//   PORT / HOST                      where the API and demo page listen (3000 / 127.0.0.1)
//   TENANTS_FILE                     any tenants file in the deploy's format (default: a demo tenant);
//                                    each tenant's issuer is stood in for by the local OIDC issuer
//                                    (local-tenants.ts says how), POST /dev/token signs in to a tenant
//   LOCAL_SECRETS_FILE               JSON {secret_id: SecretString} for secrets the stand-in is seeded
//                                    with; every other secret the tenants file names is generated
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
//   OIDC_PORT                        port of the local OIDC issuer that signs dev tokens (random)
//   LOCAL_WORK_DIR                   where the bundles, the tenants files and stack.json go (dist/local);
//                                    stack.json says where the running stack listens (dev-token reads it)
//   LOCAL_FUNCTION_TIMEOUT_MS        the function's timeout, as Lambda's (12000)
// The local knobs are validated first (local-settings.ts): a mistake is one line naming the
// variable, exit code 1. SIGTERM and SIGINT close every server and stand-in, exit code 0.
// Besides the API it serves the demo page (/, /oauth-return, /demo/*), the dev sign-in
// POST /dev/token, the offline Link stand-in's POST /dev/plaid-link/success (a real sandbox
// public token, as Link's onSuccess hands one over), with the Plaid stand-in
// POST /dev/plaid-link/session (a Hosted Link or Multi-Item Link session, its LINK webhooks sent)
// and POST /dev/simulate/login-required {item_id} (what /sandbox/item/reset_login does, for a page
// that never holds the access token), and the OpenAPI description at GET /openapi.json
// (local/dev-plaid-link.ts has the Link routes).
// Every other setting of the function (REQUEST_BUDGET_MS, LOG_LEVEL, ...) passes through.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildBrowserClient } from '../client/build.ts';
import { loadTenantsFile } from '../lambda/config/load-tenants.ts';
import { isLoopbackHost } from '../lambda/config/url-rules.ts';
import type { Tenant } from '../lambda/config/tenant-schema.ts';
import { buildLambdaBundle } from './build.ts';
import { demoTenantsFile } from './demo-tenants.ts';
import { listenFailure, LocalStartError, readLocalKnobs } from './local-settings.ts';
import { DEFAULT_WORK_DIR, removeStackFile, writeStackFile } from './stack-file.ts';
import {
  devTokenClaims,
  devTokenLifetimeSeconds,
  generatedClientUserIdKey,
  generatedPlaidKeys,
  localTenants,
  namedSecrets,
  parseDevTokenRequest,
  plaidKeysIn,
  readLocalSecretsFile,
  type LocalTenants,
  type PlaidKeys,
} from './local-tenants.ts';
import { startLocalApiServer, type DevAnswer, type LambdaHandler } from './server.ts';
import { startOidcIssuer, type OidcIssuer } from './standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn, type PlaidStandIn } from './standins/plaid.ts';
import { devLinkSession, devLinkSuccess, simulateLoginRequired } from './dev-plaid-link.ts';
import { createItemsTable, startDynamoDbStandIn } from './standins/dynamodb.ts';
import { startKmsStandIn } from './standins/kms.ts';
import { startEventBridgeStandIn, type EventBridgeStandIn } from './standins/eventbridge.ts';
import { startSecretsManagerStandIn } from './standins/secrets-manager.ts';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';

export interface LocalStack {
  readonly apiUrl: string;
  /** The tenants file as given (TENANTS_FILE), or the demo's. */
  readonly tenantsFile: string;
  /** The derived copy the function runs with: every tenant's jwks_uri at the local issuer. */
  readonly functionTenantsFile: string;
  readonly tenants: readonly string[];
  /** The tenants whose issuer the local issuer stands in for (all but those with an issuer of their own on this machine). */
  readonly stoodIn: readonly string[];
  readonly issuer: OidcIssuer;
  /** The Plaid stand-in, when the stack runs one (no PLAID_BASE_URL or sandbox keys given). */
  readonly plaid: PlaidStandIn | undefined;
  /** Secret ids the Secrets Manager stand-in was seeded with, by where the value came from (none with another Secrets Manager). */
  readonly secrets: { readonly generated: readonly string[]; readonly fromFile: readonly string[] };
  readonly workDir: string;
  /** stack.json in the work folder: where this stack listens, until it stops. */
  readonly stackFile: string;
  close(): Promise<void>;
}

/** What has been started so far, closed in reverse order; a failing close does not stop the others. */
export class LocalResources {
  private readonly closers: Array<() => Promise<void>> = [];
  private closing: Promise<void> | undefined;
  add(close: () => Promise<void>): void {
    this.closers.push(close);
  }
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const close of this.closers.reverse()) await close().catch(() => undefined);
    })();
    return this.closing;
  }
}

/** Starts the local stack; on any failure everything started so far is closed before the error is thrown. */
export async function startLocalStack(
  env: NodeJS.ProcessEnv = process.env,
  resources = new LocalResources(),
): Promise<LocalStack> {
  try {
    return await startInto(env, resources);
  } catch (error) {
    await resources.close();
    throw error;
  }
}

async function startInto(env: NodeJS.ProcessEnv, resources: LocalResources): Promise<LocalStack> {
  const knobs = readLocalKnobs(env);
  if (
    (knobs.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? knobs.AWS_ENDPOINT_URL) &&
    !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
  ) {
    // The bundle reads credentials from the environment only, as Lambda provides them
    // (lambda/runtime/aws-credentials-from-env.ts): a profile alone would fail every read.
    throw new LocalStartError(
      'AWS_ENDPOINT_URL_SECRETS_MANAGER is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not: the function reads its ' +
        'AWS credentials from the environment, as in Lambda. From a profile: eval "$(aws configure export-credentials --format env)"',
    );
  }
  // A given tenants file is checked before anything listens: its mistakes come first, naming it.
  if (knobs.TENANTS_FILE) loadTenantsFile(knobs.TENANTS_FILE);
  const workDir = knobs.LOCAL_WORK_DIR ? resolve(knobs.LOCAL_WORK_DIR) : DEFAULT_WORK_DIR;
  mkdirSync(workDir, { recursive: true });
  // The demo page imports the browser client, built from its one TypeScript source.
  const clientFile = await buildBrowserClient({ outfile: join(workDir, 'demo', 'link-token-client.js') });

  // Signs every dev token; its JWKS stands in for every tenant's (local-tenants.ts).
  const oidcPort = knobs.OIDC_PORT ?? 0;
  const issuer = await startOidcIssuer({ port: oidcPort }).catch((error: unknown) => {
    throw listenFailure(error, 'OIDC_PORT', oidcPort, '127.0.0.1');
  });
  resources.add(() => issuer.close());

  // Filled in below, once Plaid and the tenants file are known; the routes answer 503 until then.
  let local: LocalTenants | undefined;
  let linkSuccess: ((body: unknown) => Promise<DevAnswer>) | undefined;
  let events: EventBridgeStandIn | undefined;
  let plaid: PlaidStandIn | undefined;
  const starting: DevAnswer = { status: 503, body: { message: 'starting' } };
  const port = knobs.PORT ?? 3000;
  const host = knobs.HOST ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    process.stderr.write(
      `HOST=${host}: the dev sign-in (POST /dev/token mints a token for any tenant) is reachable from the network, not only from this machine.\n`,
    );
  }
  const server = await startLocalApiServer({
    port,
    host,
    functionTimeoutMs: knobs.LOCAL_FUNCTION_TIMEOUT_MS ?? 12_000,
    staticDir: fileURLToPath(new URL('./demo/', import.meta.url)),
    devToken: (body) => Promise.resolve(local ? devSignIn(issuer, local, body) : starting),
    devRoutes: {
      '/dev/plaid-link/success': (body) => linkSuccess?.(body) ?? Promise.resolve(starting),
      '/dev/plaid-link/session': async (body) => (local ? devLinkSession(body, plaid) : starting),
      '/dev/simulate/login-required': async (body) => (local ? simulateLoginRequired(body, plaid) : starting),
      // The events the function published to the local bus (the tenant's backend would subscribe).
      '/dev/events': () =>
        Promise.resolve(
          events
            ? {
                status: 200,
                body: {
                  events: events.events.map(({ DetailType, Source, Detail, Time }) => ({
                    detail_type: DetailType,
                    source: Source,
                    time: Time,
                    detail: Detail,
                  })),
                },
              }
            : { status: 404, body: { message: 'the event bus is not the local stand-in' } },
        ),
    },
    files: {
      '/demo/link-token-client.js': { file: clientFile },
      '/demo/link-token-client.js.map': { file: `${clientFile}.map` },
      // The committed description (a test keeps it equal to what the schemas generate); public.
      '/openapi.json': {
        file: fileURLToPath(new URL('../openapi/link-token.openapi.json', import.meta.url)),
        headers: { 'access-control-allow-origin': '*' },
      },
    },
  }).catch((error: unknown) => {
    throw listenFailure(error, 'PORT', port, host);
  });
  resources.add(() => server.close());

  const realPlaidKeys: PlaidKeys | undefined =
    knobs.PLAID_CLIENT_ID && knobs.PLAID_SECRET
      ? { client_id: knobs.PLAID_CLIENT_ID, secret: knobs.PLAID_SECRET }
      : undefined;
  let tenantsFile = knobs.TENANTS_FILE;
  if (!tenantsFile) {
    tenantsFile = join(workDir, 'tenants.json');
    const origins = [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`];
    const demo = demoTenantsFile({ issuer: issuer.issuer, origins, withOAuthRedirect: !realPlaidKeys });
    writeFileSync(tenantsFile, `${JSON.stringify(demo, null, 2)}\n`);
  }
  const tenants = localTenants(tenantsFile, { issuer: issuer.issuer, jwksUri: issuer.jwksUri });
  const functionTenantsFile = join(workDir, 'tenants.local.json');
  writeFileSync(functionTenantsFile, `${JSON.stringify(tenants.derived, null, 2)}\n`);

  // Every secret the file names: from LOCAL_SECRETS_FILE, else generated in the shape the function
  // reads (Plaid keys the Plaid stand-in accepts, or the sandbox keys given; a random HMAC key).
  const secretsEndpointGiven = knobs.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? knobs.AWS_ENDPOINT_URL;
  const ownPlaid = !knobs.PLAID_BASE_URL && !realPlaidKeys;
  const named = namedSecrets(tenants.file);
  const fromFile = knobs.LOCAL_SECRETS_FILE
    ? readLocalSecretsFile(knobs.LOCAL_SECRETS_FILE, named)
    : new Map<string, string>();
  for (const id of fromFile.keys()) {
    if (!named.plaid.has(id) && id !== named.clientUserIdKey)
      process.stderr.write(`LOCAL_SECRETS_FILE: secret '${id}' is not named by ${tenantsFile} (seeded anyway)\n`);
  }
  const [defaultClientId, defaultSecret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  const seeded = new Map<string, string>(fromFile);
  const generated: string[] = [];
  for (const id of named.plaid.keys()) {
    if (seeded.has(id)) continue;
    // An external Plaid (PLAID_BASE_URL without keys) is a Plaid stand-in started with its defaults.
    const keys =
      realPlaidKeys ?? (ownPlaid ? generatedPlaidKeys() : { client_id: defaultClientId, secret: defaultSecret });
    seeded.set(id, JSON.stringify(keys));
    generated.push(id);
  }
  if (named.clientUserIdKey !== undefined && !seeded.has(named.clientUserIdKey)) {
    seeded.set(named.clientUserIdKey, generatedClientUserIdKey());
    generated.push(named.clientUserIdKey);
  }
  // Plaid keys by client_id, of every tenant: the Plaid stand-in accepts exactly these.
  const plaidKeys = new Map<string, { keys: PlaidKeys; tenant: Tenant }>();
  for (const tenant of tenants.tenants.values()) {
    const keys = secretsEndpointGiven ? undefined : plaidKeysIn(seeded.get(tenant.plaid.secret_id)!);
    if (keys && !plaidKeys.has(keys.client_id)) plaidKeys.set(keys.client_id, { keys, tenant });
  }

  let plaidBaseUrl = knobs.PLAID_BASE_URL ?? (realPlaidKeys ? 'https://sandbox.plaid.com' : undefined);
  if (!plaidBaseUrl) {
    // With another Secrets Manager its Plaid secrets are unknown here: the stand-in's default keys, as before.
    const credentials =
      plaidKeys.size > 0
        ? Object.fromEntries([...plaidKeys.values()].map(({ keys }) => [keys.client_id, keys.secret]))
        : undefined;
    const standIn = (plaid = await startPlaidStandIn({ credentials }));
    resources.add(() => standIn.close());
    plaidBaseUrl = standIn.url;
  }
  const firstTenant = tenants.tenants.values().next().value!;
  linkSuccess = (body) =>
    devLinkSuccess(body, {
      plaid,
      plaidBaseUrl: plaidBaseUrl,
      // The Link session's own client (its tenant's keys), as Link completes it for that client.
      keysFor: (clientId) =>
        plaidKeys.get(clientId ?? '') ?? {
          keys: realPlaidKeys ?? { client_id: defaultClientId, secret: defaultSecret },
          tenant: firstTenant,
        },
    });

  let secretsEndpoint = secretsEndpointGiven;
  const region = knobs.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const childEnv: Record<string, string> = {};
  if (!secretsEndpoint) {
    const secrets = await startSecretsManagerStandIn({ region, secrets: Object.fromEntries(seeded) });
    resources.add(() => secrets.close());
    secretsEndpoint = secrets.url;
    // The stand-in checks that requests are signed, not by whom: any credentials do.
    if (!env.AWS_ACCESS_KEY_ID) Object.assign(childEnv, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  }

  Object.assign(childEnv, await startVault(env, region, resources));
  const busName = env.WEBHOOK_BUS_NAME ?? 'link-token-local-webhooks';
  childEnv.WEBHOOK_BUS_NAME = busName;
  childEnv.PUBLIC_BASE_URL = env.PUBLIC_BASE_URL ?? server.url;
  if (!(knobs.AWS_ENDPOINT_URL_EVENTBRIDGE ?? knobs.AWS_ENDPOINT_URL)) {
    const bus = (events = await startEventBridgeStandIn({ region, eventBuses: [busName] }));
    resources.add(() => bus.close());
    childEnv.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.url;
  }

  // The bundled handler reads its settings at import (cold start), as in Lambda.
  Object.assign(process.env, childEnv, {
    TENANTS_FILE: functionTenantsFile,
    PLAID_BASE_URL: plaidBaseUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
    AWS_REGION: region,
  });
  const bundle = await buildLambdaBundle({ outdir: join(workDir, 'lambda') });
  // The import runs the function's init (top-level await included): only then are calls sent to it.
  server.setHandler(
    ((await import(`${pathToFileURL(bundle.handlerFile).href}?t=${Date.now()}`)) as { handler: LambdaHandler }).handler,
  );
  local = tenants;
  const stackFile = writeStackFile(workDir, {
    api: server.url,
    pid: process.pid,
    tenants: [...tenants.tenants.keys()],
  });
  resources.add(() => Promise.resolve(removeStackFile(stackFile)));

  return {
    apiUrl: server.url,
    tenantsFile,
    functionTenantsFile,
    tenants: [...tenants.tenants.keys()],
    stoodIn: [...tenants.stoodIn],
    issuer,
    plaid,
    secrets: secretsEndpointGiven ? { generated: [], fromFile: [] } : { generated, fromFile: [...fromFile.keys()] },
    workDir,
    stackFile,
    close: () => resources.close(),
  };
}

/**
 * The item vault: DynamoDB and KMS stand-ins in process unless endpoints are given; a table and a
 * key are created on a loopback endpoint (an emulator such as moto_server) when none is named.
 */
async function startVault(
  env: NodeJS.ProcessEnv,
  region: string,
  resources: LocalResources,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let dynamodbEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  if (!dynamodbEndpoint) {
    const dynamodb = await startDynamoDbStandIn();
    resources.add(() => dynamodb.close());
    dynamodbEndpoint = out.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.url;
  }
  out.ITEMS_TABLE_NAME =
    env.ITEMS_TABLE_NAME ??
    (await createOnLoopback(dynamodbEndpoint, 'ITEMS_TABLE_NAME', () =>
      createItemsTable(dynamodbEndpoint, { tableName: 'link-token-items', region }),
    ));

  const kmsEndpoint = env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL;
  if (!kmsEndpoint) {
    const kms = await startKmsStandIn({ region, description: 'local item vault key' });
    resources.add(() => kms.close());
    out.AWS_ENDPOINT_URL_KMS = kms.url;
    out.VAULT_KMS_KEY_ID = env.VAULT_KMS_KEY_ID ?? kms.keyArn;
    return out;
  }
  out.VAULT_KMS_KEY_ID =
    env.VAULT_KMS_KEY_ID ??
    (await createOnLoopback(kmsEndpoint, 'VAULT_KMS_KEY_ID', async () => {
      const client = new KMSClient({
        endpoint: kmsEndpoint,
        region,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local',
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local',
        },
      });
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
 * POST /dev/token {"tenant"?, "sub"?, "email"?}: a token as the tenant's identity provider would
 * sign it (its issuer, audience, tenant claim and token use: local-tenants.ts), signed by the local
 * issuer whose JWKS the local function reads for every tenant. Local only: the deployed API has no
 * such route, and nothing but this stack trusts these keys.
 */
function devSignIn(issuer: OidcIssuer, local: LocalTenants, body: unknown): DevAnswer {
  const request = parseDevTokenRequest(body, local.tenants, local.stoodIn);
  if ('field' in request) {
    const detail = request.field ? `${request.field}: ${request.message}` : request.message;
    return {
      status: 400,
      contentType: 'application/problem+json',
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail,
        errors: [{ field: request.field || '(body)', message: request.message }],
      },
    };
  }
  const expiresIn = devTokenLifetimeSeconds(request.tenant);
  const token = issuer.mint(devTokenClaims(request), { expiresInSeconds: expiresIn });
  return {
    status: 200,
    body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn, tenant: request.tenant.id },
  };
}

/** The one line a person reads: where it listens, which tenants, how to get a token, what is local only. */
export function humanReadyLine(stack: LocalStack): string {
  const shown =
    stack.tenants.slice(0, 5).join(', ') + (stack.tenants.length > 5 ? ` and ${stack.tenants.length - 5} more` : '');
  const first = stack.stoodIn[0] ?? stack.tenants[0]!;
  const own = stack.tenants.length - stack.stoodIn.length;
  const file = shortPath(stack.tenantsFile);
  // dev-token finds the stack through stack.json in the default work folder; from another, it needs the URL.
  const url = stack.workDir === DEFAULT_WORK_DIR ? '' : ` --url ${stack.apiUrl}`;
  return (
    `Ready: ${stack.apiUrl} serves ${stack.tenants.length === 1 ? 'tenant' : `${stack.tenants.length} tenants:`} ${shown} (${file}). ` +
    `Token: curl -s -X POST ${stack.apiUrl}/dev/token -d '{"tenant":"${first}","sub":"dev-user-1"}' or npm run -s dev-token -- --tenant ${first}${url}. ` +
    `Local only: tokens are signed by the local issuer ${stack.issuer.url}, which stands in for ${own === 0 ? "every tenant's issuer" : `the issuer of ${stack.stoodIn.length} tenant(s) (${own} with an issuer of their own on this machine)`} (jwks_uri rewritten in ${shortPath(stack.functionTenantsFile)}), ` +
    `Plaid runs as sandbox${stack.plaid ? ' (the Plaid stand-in)' : ''}` +
    `${stack.secrets.generated.length ? `, ${stack.secrets.generated.length} secret(s) generated` : ''}${stack.secrets.fromFile.length ? `, ${stack.secrets.fromFile.length} from LOCAL_SECRETS_FILE` : ''}.`
  );
}

/** A path inside the working directory relative to it, any other as it is. */
function shortPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') ? inside : path;
}

/** How long SIGTERM/SIGINT wait for the servers to close before giving up (exit code 1). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

if (import.meta.main) {
  const resources = new LocalResources();
  // Installed before anything starts, so a signal during start-up closes what is already up.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting for the servers to close\n`);
      process.exit(1);
    }
    stopping = true;
    const timer = setTimeout(() => {
      process.stderr.write(`the servers did not close within ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    void resources.close().then(() => process.exit(0));
  };
  // `npm start` execs node (package.json), so the signal npm forwards reaches this process.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  try {
    const stack = await startLocalStack(process.env, resources);
    if (!stopping) {
      process.stdout.write(
        `${JSON.stringify({
          event: 'local.ready',
          api: stack.apiUrl,
          demo: `${stack.apiUrl.replace('127.0.0.1', 'localhost')}/`,
          issuer: stack.issuer.issuer,
          tenants_file: stack.tenantsFile,
          function_tenants_file: stack.functionTenantsFile,
          tenants: stack.tenants,
          issuer_stood_in_for: stack.stoodIn,
          dev_token: `${stack.apiUrl}/dev/token`,
          stack_file: stack.stackFile,
          // Secret ids only, never values.
          secrets: { generated: stack.secrets.generated, from_local_secrets_file: stack.secrets.fromFile },
          local_only:
            'the local issuer stands in for the issuers of issuer_stood_in_for; secrets are seeded in the Secrets Manager stand-in',
        })}\n`,
      );
      process.stdout.write(`${humanReadyLine(stack)}\n`);
    }
  } catch (error) {
    if (!stopping) {
      // Config errors name the variable, or the tenant, profile and field: printed as they are.
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    }
  }
}
