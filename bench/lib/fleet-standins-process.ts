// The loopback upstreams of the tenant-count sweep and the serverless comparison, in a process of
// their own (their CPU never counts against the process measured): the Plaid stand-in, the Secrets
// Manager stand-in holding every generated tenant's credentials secret and the shared HMAC key,
// and many OIDC issuers on one server (bench/lib/issuers.ts). The JWKS and every Secrets Manager
// read answer after a round trip set over IPC, as another service would. Driven by
// bench/lib/fleet-standins-client.ts.
import { serveIpc } from './children.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { startMultiIssuer } from './issuers.ts';
import type { FleetCounters, FleetReady, FleetRequest } from './fleet-standins-client.ts';

const BENCH_CLIENT_USER_ID_KEY = 'bench-only-client-user-id-key-0123456789abcdef';
const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
const credentials = JSON.stringify({ client_id: clientId, secret });

const [plaid, secrets, issuers] = await Promise.all([
  startPlaidStandIn({}),
  startSecretsManagerStandIn({}),
  startMultiIssuer({ keyPool: Number(process.env.BENCH_ISSUER_KEY_POOL) || undefined }),
]);
const seeded = new Set<string>();

function answer(request: FleetRequest): unknown {
  switch (request.op) {
    case 'seed':
      // The first id is the HMAC key secret; every other one a tenant's Plaid credentials.
      request.secretIds.forEach((id, i) => {
        if (seeded.has(id)) return;
        secrets.putSecret(id, i === 0 && request.firstIsHmacKey ? BENCH_CLIENT_USER_ID_KEY : credentials);
        seeded.add(id);
      });
      return null;
    case 'mint':
      return request.tokens.map(({ issuer, claims }) => issuers.mint(issuer, claims, request.expiresInSeconds));
    case 'counters': {
      const { jwksFetches, issuersFetched } = issuers.counters();
      return {
        plaid: plaid.calls,
        secrets: secrets.calls.GetSecretValue,
        jwks: jwksFetches,
        issuersFetched,
      } satisfies FleetCounters;
    }
    case 'reset':
      // Also bounds the stand-ins' memory: the Plaid stand-in records every request it sees.
      plaid.reset();
      secrets.resetCalls();
      issuers.resetCounters();
      return null;
    case 'setUpstreamLatency':
      secrets.setLatency(request.ms);
      issuers.setLatency(request.ms);
      return null;
    case 'lastPlaidRequest': {
      const last = plaid.requests.at(-1);
      return last ? { path: last.path, body: last.body } : null;
    }
  }
}

const ready: FleetReady = {
  plaidUrl: plaid.url,
  secretsUrl: secrets.url,
  issuersUrl: issuers.url,
  plaidCredentials: { client_id: clientId, secret },
};
serveIpc<FleetRequest, FleetReady>(answer, () => Promise.all([plaid.close(), secrets.close(), issuers.close()]), ready);
