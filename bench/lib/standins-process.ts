// The loopback upstreams of the benchmark, in a process of their own so that the CPU they burn
// is never counted against the server under test: the Plaid stand-in (also the "floor"), the
// Secrets Manager stand-in and the OIDC issuer. Driven by bench/run.ts over the IPC channel.
import { startDemoStandIns } from './demo-standins.ts';
import { serveIpc } from './children.ts';
import type { StandInsReady, StandInsRequest } from './standins-client.ts';

const { plaid, secrets, issuer, plaidCredentials } = await startDemoStandIns();

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
  plaidCredentials,
};
serveIpc<StandInsRequest, StandInsReady>(
  answer,
  () => Promise.all([plaid.close(), secrets.close(), issuer.close()]),
  ready,
);
