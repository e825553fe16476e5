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
//   OIDC_PORT                        port of the local OIDC issuer that mints dev tokens (random)
//   LOCAL_WORK_DIR                   where the bundles and the demo tenants file go (dist/local)
// Besides POST /link-token it serves the demo page (/, /oauth-return, /demo/*), the dev sign-in
// POST /dev/token and the endpoint's OpenAPI description at GET /openapi.json.
// Every other setting of the function (REQUEST_BUDGET_MS, LOG_LEVEL, ...) passes through.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildBrowserClient } from '../client/build.ts';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';
import { buildLambdaBundle } from './build.ts';
import { DEMO_AUDIENCE, DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID, demoTenantsFile } from './demo-tenants.ts';
import { startLocalApiServer, type LambdaHandler } from './server.ts';
import { startOidcIssuer, type OidcIssuer } from './standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from './standins/plaid.ts';
import { createItemsTable, startDynamoDbStandIn } from './standins/dynamodb.ts';
import { startKmsStandIn } from './standins/kms.ts';
import { startSecretsManagerStandIn } from './standins/secrets-manager.ts';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';

// Only for the local stand-in: a fixed key keeps dev client_user_ids stable across restarts.
const LOCAL_CLIENT_USER_ID_KEY = 'local-development-only-client-user-id-key-0123456789';

export interface LocalStack {
  readonly apiUrl: string;
  readonly tenantsFile: string;
  readonly issuer: OidcIssuer;
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

  const server = await startLocalApiServer({
    port: Number(env.PORT ?? 3000),
    host: env.HOST ?? '127.0.0.1',
    functionTimeoutMs: Number(env.LOCAL_FUNCTION_TIMEOUT_MS ?? 12_000),
    staticDir: fileURLToPath(new URL('./demo/', import.meta.url)),
    devToken: async (body) => devSignIn(issuer, body),
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
    const plaid = await startPlaidStandIn({});
    closers.push(() => plaid.close());
    plaidBaseUrl = plaid.url;
  }

  let tenantsFile = env.TENANTS_FILE;
  if (!tenantsFile) {
    tenantsFile = join(workDir, 'tenants.json');
    const origins = [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`];
    const demo = demoTenantsFile({ issuer: issuer.issuer, origins, withOAuthRedirect: !realPlaidKeys });
    writeFileSync(tenantsFile, `${JSON.stringify(demo, null, 2)}\n`);
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
