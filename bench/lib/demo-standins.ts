// The upstreams every benchmark stand-ins process starts: the Plaid stand-in with its default
// keys, Secrets Manager holding the demo tenant's Plaid secret and client_user_id key, and the
// OIDC issuer. A process adds what its own runs need (bench/paths adds the vault and the bus).
import { DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID } from '../../local/demo-tenants.ts';
import { startOidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';

const BENCH_CLIENT_USER_ID_KEY = 'bench-only-client-user-id-key-0123456789abcdef';

export async function startDemoStandIns() {
  const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
  const plaid = await startPlaidStandIn({});
  const secrets = await startSecretsManagerStandIn({
    secrets: {
      [DEMO_PLAID_SECRET_ID]: JSON.stringify({ client_id: clientId, secret }),
      [DEMO_KEY_SECRET_ID]: BENCH_CLIENT_USER_ID_KEY,
    },
  });
  const issuer = await startOidcIssuer({});
  return { plaid, secrets, issuer, plaidCredentials: { client_id: clientId, secret } };
}
