// The bundled handler (built as the deploy builds it) imported into the test process, as a warm
// Lambda execution environment holds it, behind the local API Gateway emulator, against loopback
// stand-ins that count every call. For tests that need the function's own process: its
// environment, its stdout, its in-memory caches.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLambdaBundle, type BuiltBundle } from '../../local/build.ts';
import { DEMO_AUDIENCE, DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID, demoTenantsFile } from '../../local/demo-tenants.ts';
import { startLocalApiServer, type LambdaHandler, type LocalApiServer } from '../../local/server.ts';
import { startOidcIssuer, type OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { startVaultStandIns } from './vault-standins.ts';

export const BUNDLED_FUNCTION_ORIGIN = 'https://app.example.com';

export interface BundledFunction {
  readonly dir: string;
  readonly issuer: OidcIssuer;
  readonly plaid: PlaidStandIn;
  readonly secrets: SecretsManagerStandIn;
  readonly server: LocalApiServer;
  readonly bundle: BuiltBundle;
  /** POST /link-token as the demo tenant's user `sub`, from the allowed origin. */
  linkTokenRequest(sub: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startBundledFunction(opts: {
  /** The function's environment on top of the stand-ins' endpoints; undefined removes a variable. */
  env: (dir: string) => Record<string, string | undefined>;
  /** Runs after the bundle is built, right before its import (the cold start). */
  beforeImport?: () => void;
}): Promise<BundledFunction> {
  const dir = mkdtempSync(join(tmpdir(), 'bundled-function-'));
  const issuer = await startOidcIssuer();
  const plaid = await startPlaidStandIn({});
  const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  const secrets = await startSecretsManagerStandIn({
    secrets: {
      [DEMO_PLAID_SECRET_ID]: JSON.stringify({ client_id: clientId, secret }),
      [DEMO_KEY_SECRET_ID]: 'bundled-function-test-client-user-id-key-0123456789abcdef',
    },
  });
  const vault = await startVaultStandIns();
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(
    tenantsFile,
    JSON.stringify(
      demoTenantsFile({ issuer: issuer.issuer, origins: [BUNDLED_FUNCTION_ORIGIN], withOAuthRedirect: true }),
    ),
  );
  // The handler reads its settings when it is imported (its cold start), as in Lambda.
  const env: Record<string, string | undefined> = {
    TENANTS_FILE: tenantsFile,
    PLAID_BASE_URL: plaid.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    ...vault.env,
    ...opts.env(dir),
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const bundle = await buildLambdaBundle({ outdir: join(dir, 'lambda') });
  opts.beforeImport?.();
  const { handler } = (await import(pathToFileURL(bundle.handlerFile).href)) as { handler: LambdaHandler };
  const server = await startLocalApiServer({ handler, functionTimeoutMs: 12_000 });

  return {
    dir,
    issuer,
    plaid,
    secrets,
    server,
    bundle,
    linkTokenRequest: (sub) =>
      fetch(`${server.url}/link-token`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${issuer.mint({ sub, aud: DEMO_AUDIENCE, email: `${sub}@example.com`, email_verified: true })}`,
          'content-type': 'application/json',
          origin: BUNDLED_FUNCTION_ORIGIN,
        },
        body: JSON.stringify({ platform: 'web' }),
      }),
    async close() {
      await server.close();
      await Promise.all([issuer.close(), plaid.close(), secrets.close(), vault.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
