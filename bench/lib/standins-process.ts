// The loopback upstreams of every benchmark, in a process of their own so that the CPU they burn
// never counts against the process measured: the Plaid stand-in (link tokens, public tokens,
// signed webhooks), Secrets Manager (the demo tenant's secrets, and each generated tenant's on
// request), many OIDC issuers on one server (bench/lib/issuers.ts), and with BENCH_STANDINS_VAULT
// the item vault's DynamoDB (dynalite) and KMS and the EventBridge bus webhooks are published to.
// The JWKS and every Secrets Manager read answer after a round trip set over IPC, as another
// service would. Driven by bench/lib/standins.ts.
import { DEMO_KEY_SECRET_ID, DEMO_PLAID_SECRET_ID } from '../../local/demo-tenants.ts';
import { createItemsTable, startDynamoDbStandIn } from '../../local/standins/dynamodb.ts';
import { startEventBridgeStandIn } from '../../local/standins/eventbridge.ts';
import { startKmsStandIn } from '../../local/standins/kms.ts';
import { DEFAULT_PLAID_CREDENTIALS, startPlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { startMultiIssuer } from './issuers.ts';
import { serveIpc } from './processes.ts';
import type { StandInsReady, StandInsRequest } from './standins.ts';
import { sweepSecretIds } from './tenants-gen.ts';

const CLIENT_USER_ID_KEY = 'bench-only-client-user-id-key-0123456789abcdef';
const BUS = 'bench-webhooks';
const [clientId, secret] = Object.entries(DEFAULT_PLAID_CREDENTIALS)[0]!;
const credentials = JSON.stringify({ client_id: clientId, secret });

const [plaid, secrets, issuers] = await Promise.all([
  startPlaidStandIn({}),
  startSecretsManagerStandIn({
    secrets: { [DEMO_PLAID_SECRET_ID]: credentials, [DEMO_KEY_SECRET_ID]: CLIENT_USER_ID_KEY },
  }),
  startMultiIssuer({ keyPool: Number(process.env.BENCH_ISSUER_KEY_POOL) || undefined }),
]);
const vault = process.env.BENCH_STANDINS_VAULT
  ? await Promise.all([
      startDynamoDbStandIn(),
      startKmsStandIn({ description: 'bench item vault key' }),
      startEventBridgeStandIn({ eventBuses: [BUS] }),
    ])
  : undefined;
const itemsTable = vault ? await createItemsTable(vault[0].url, { tableName: 'bench-items' }) : undefined;

function answer(request: StandInsRequest): unknown {
  switch (request.op) {
    case 'seed':
      // The first id is the shared HMAC key secret; every other one a tenant's Plaid credentials.
      sweepSecretIds(request.tenants).forEach((id, i) => secrets.putSecret(id, i ? credentials : CLIENT_USER_ID_KEY));
      return null;
    case 'mint':
      return request.tokens.map(({ issuer, claims }) => issuers.mint(issuer, claims, request.expiresInSeconds));
    case 'counters':
      return {
        plaid: plaid.calls,
        secrets: secrets.calls.GetSecretValue,
        jwks: issuers.counters().jwksFetches,
        events: vault?.[2].events.length ?? 0,
      };
    case 'reset':
      // Also bounds the stand-ins' memory: they record every request they see.
      plaid.reset();
      secrets.resetCalls();
      issuers.resetCounters();
      if (vault) vault[2].events.length = 0;
      return null;
    case 'setUpstreamLatency':
      secrets.setLatency(request.ms);
      issuers.setLatency(request.ms);
      return null;
    case 'lastPlaidRequest': {
      const last = plaid.requests.at(-1);
      return last ? { path: last.path, body: last.body } : null;
    }
    case 'signWebhooks':
      return request.bodies.map((body) => plaid.signWebhook(body));
  }
}

const ready: StandInsReady = {
  plaidUrl: plaid.url,
  secretsUrl: secrets.url,
  issuersUrl: issuers.url,
  plaidCredentials: { client_id: clientId, secret },
  ...(vault && {
    vault: {
      dynamodbUrl: vault[0].url,
      itemsTable: itemsTable!,
      kmsUrl: vault[1].url,
      kmsKeyArn: vault[1].keyArn,
      eventsUrl: vault[2].url,
      busName: BUS,
    },
  }),
};
serveIpc(
  answer,
  () => Promise.all([plaid.close(), secrets.close(), issuers.close(), ...(vault ?? []).map((s) => s.close())]),
  ready,
);
