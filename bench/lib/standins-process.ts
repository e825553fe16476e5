// The loopback upstreams of the benchmark, in a process of their own so that the CPU they burn
// is never counted against the server under test: the Plaid stand-in (also the "floor"), the
// Secrets Manager stand-in and the OIDC issuer. Driven by bench/run.ts over the IPC channel.
import { serveIpc } from './children.ts';
import { DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID } from '../../local/demo-tenants.ts';
import { startOidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import type { StandInsReady, StandInsRequest } from './standins-client.ts';

const BENCH_CLIENT_USER_ID_KEY = 'bench-only-client-user-id-key-0123456789abcdef';

const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
const plaid = await startPlaidStandIn({});
const secrets = await startSecretsManagerStandIn({
  secrets: {
    [DEMO_PLAID_SECRET_ID]: JSON.stringify({ client_id: clientId, secret }),
    [DEMO_KEY_SECRET_ID]: BENCH_CLIENT_USER_ID_KEY,
  },
});
const issuer = await startOidcIssuer({});

function answer(request: StandInsRequest): unknown {
  switch (request.op) {
    case 'mint':
      return issuer.mint(request.claims, { expiresInSeconds: request.expiresInSeconds });
    case 'counters':
      return { plaid: plaid.calls, secrets: secrets.calls.GetSecretValue, jwks: issuer.jwksFetches };
    case 'reset':
      // Also bounds the stand-in's memory: it records every request it sees.
      plaid.reset();
      secrets.resetCalls();
      issuer.resetCounters();
      return null;
    case 'setUpstreamLatency':
      // Round trips of the JWKS and Secrets Manager as in production (TLS to another service).
      secrets.setLatency(request.ms);
      issuer.setJwksLatency(request.ms);
      return null;
    case 'lastPlaidRequest': {
      const last = plaid.requests.at(-1);
      return last ? { path: last.path, body: last.body } : null;
    }
  }
}

const ready: StandInsReady = {
  plaidUrl: plaid.url,
  secretsUrl: secrets.url,
  issuer: issuer.issuer,
  plaidCredentials: { client_id: clientId, secret },
};
serveIpc<StandInsRequest, StandInsReady>(answer, () => Promise.all([plaid.close(), secrets.close(), issuer.close()]), ready);

