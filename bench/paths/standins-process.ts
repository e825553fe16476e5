// The loopback upstreams of `npm run bench:paths`, in a process of their own (as
// bench/lib/standins-process.ts does for `npm run bench`) so that their CPU never counts against
// the function: the Plaid stand-in (link tokens, public tokens, signed webhooks and their keys),
// Secrets Manager, the OIDC issuer, and the item vault's DynamoDB (dynalite) and KMS, and the
// EventBridge bus verified webhooks are published to. Driven by bench/paths.ts over IPC.
import { startDemoStandIns } from '../lib/demo-standins.ts';
import { serveIpc } from '../lib/children.ts';
import { createItemsTable, startDynamoDbStandIn } from '../../local/standins/dynamodb.ts';
import { startEventBridgeStandIn } from '../../local/standins/eventbridge.ts';
import { startKmsStandIn } from '../../local/standins/kms.ts';

export const PATHS_BUS = 'bench-paths-webhooks';
export type PathsStandInsRequest =
  | { op: 'mint'; claims: Array<Record<string, unknown>>; expiresInSeconds: number }
  | { op: 'signWebhooks'; bodies: string[] }
  | { op: 'counters' }
  | { op: 'reset' };

export interface PathsStandInsReady {
  plaidUrl: string;
  secretsUrl: string;
  issuer: string;
  dynamodbUrl: string;
  kmsUrl: string;
  kmsKeyArn: string;
  itemsTable: string;
  eventsUrl: string;
  busName: string;
  plaidCredentials: { client_id: string; secret: string };
}

const { plaid, secrets, issuer, plaidCredentials } = await startDemoStandIns();
const [dynamodb, kms, events] = await Promise.all([
  startDynamoDbStandIn(),
  startKmsStandIn({ description: 'bench paths item vault key' }),
  startEventBridgeStandIn({ eventBuses: [PATHS_BUS] }),
]);
const itemsTable = await createItemsTable(dynamodb.url, { tableName: 'bench-paths-items' });

function answer(request: PathsStandInsRequest): unknown {
  switch (request.op) {
    case 'mint':
      return request.claims.map((claims) => issuer.mint(claims, { expiresInSeconds: request.expiresInSeconds }));
    case 'signWebhooks':
      return request.bodies.map((body) => plaid.signWebhook(body));
    case 'counters':
      return {
        plaid: plaid.calls,
        secrets: secrets.calls.GetSecretValue,
        jwks: issuer.jwksFetches,
        webhookKeyFetches: plaid.callsTo('/webhook_verification_key/get'),
        events: events.events.length,
      };
    case 'reset':
      // Bounds the stand-ins' memory: they record every request they see.
      plaid.reset();
      secrets.resetCalls();
      issuer.resetCounters();
      events.events.length = 0;
      return null;
  }
}

const ready: PathsStandInsReady = {
  plaidUrl: plaid.url,
  secretsUrl: secrets.url,
  issuer: issuer.issuer,
  dynamodbUrl: dynamodb.url,
  kmsUrl: kms.url,
  kmsKeyArn: kms.keyArn,
  itemsTable,
  eventsUrl: events.url,
  busName: PATHS_BUS,
  plaidCredentials,
};
serveIpc<PathsStandInsRequest, PathsStandInsReady>(
  answer,
  () => Promise.all([plaid.close(), secrets.close(), issuer.close(), dynamodb.close(), kms.close(), events.close()]),
  ready,
);
