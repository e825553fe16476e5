/**
 * DynamoDB for tests and the local stack: dynalite (an in-memory DynamoDB implementation on
 * LevelDB's memory-level, no native build needed) on a loopback port, behind a small loopback
 * proxy of our own that counts requests per operation, records them, and injects faults.
 *
 * What dynalite lacks (so the items code must not depend on it locally): TTL
 * (UpdateTimeToLive is an UnknownOperationException), transactions (TransactWriteItems and
 * TransactGetItems: UnknownOperationException), PITR (UpdateContinuousBackups), deletion
 * protection (DeletionProtectionEnabled is accepted and dropped), and
 * ReturnValuesOnConditionCheckFailure (the ConditionalCheckFailedException carries no Item).
 */
import { createRequire } from 'node:module';
import { Agent, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { isPlainObject, listen, parseJson, randomAlnum, readBody, sendJson } from './http-util.ts';

/**
 * internal: 500 InternalServerError; throttle: 400 ThrottlingException; throughput: 400
 * ProvisionedThroughputExceededException (what on-demand tables answer past their limits);
 * hang: never answered; network: the socket is destroyed. The SDK retries all but hang and
 * network-after-timeout by itself (maxAttempts, default 3).
 */
export type DynamoDbFault = 'internal' | 'throttle' | 'throughput' | 'hang' | 'network';

export interface DynamoDbRequestRecord {
  /** From X-Amz-Target, e.g. "PutItem". */
  operation: string;
  /** The parsed JSON request (DynamoDB's wire format: attribute values as {S: ...}, {B: base64}). */
  body: Record<string, unknown>;
}

export interface DynamoDbStandInOptions {
  port?: number;
  host?: string;
}

export interface DynamoDbStandIn {
  /** The proxy's base URL: point AWS_ENDPOINT_URL_DYNAMODB here. */
  url: string;
  /** dynalite itself, bypassing counts and faults. */
  directUrl: string;
  /** Requests per operation that reached the proxy (faulted ones included). */
  readonly calls: Readonly<Record<string, number>>;
  /** Every request that reached the proxy, faulted ones included, in order. */
  requests: DynamoDbRequestRecord[];
  resetCalls(): void;
  /**
   * The next n requests (of `operation` only, when given) get `fault`, queued after any already
   * scheduled. Requests of other operations pass untouched.
   */
  failNext(
    n: number,
    fault: DynamoDbFault,
    operation?: string,
    /** Only requests whose (wire-format) body this accepts: one kind of record among the writes. */
    matching?: (body: Record<string, unknown>) => boolean,
  ): void;
  clearFaults(): void;
  /** Delay every answer by ms (0 turns it off). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

interface DynaliteServer extends Server {
  close(callback?: (err?: Error) => void): this;
}
type Dynalite = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => DynaliteServer;

const TARGET_PREFIX = 'DynamoDB_20120810.';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
const MAX_BODY = 16 * 1024 * 1024;

export async function startDynamoDbStandIn(opts: DynamoDbStandInOptions = {}): Promise<DynamoDbStandIn> {
  // dynalite is CommonJS without type declarations.
  const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;
  // Tables are ACTIVE at once instead of after dynalite's default half-second CREATING state.
  const db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    db.once('error', reject);
    db.listen(0, '127.0.0.1', () => {
      db.off('error', reject);
      resolve();
    });
  });
  const dbPort = (db.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true });

  const calls: Record<string, number> = {};
  const requests: DynamoDbRequestRecord[] = [];
  let faults: Array<{
    fault: DynamoDbFault;
    operation: string | undefined;
    matching: ((body: Record<string, unknown>) => boolean) | undefined;
  }> = [];
  let latencyMs = 0;

  function takeFault(operation: string, body: Record<string, unknown>): DynamoDbFault | undefined {
    const i = faults.findIndex(
      (f) => (f.operation === undefined || f.operation === operation) && (f.matching?.(body) ?? true),
    );
    if (i < 0) return undefined;
    const [taken] = faults.splice(i, 1);
    return taken?.fault;
  }

  function sendError(res: ServerResponse, status: number, type: string, message: string) {
    sendJson(
      res,
      status,
      { __type: `${ERROR_PREFIX}${type}`, message },
      { 'x-amzn-requestid': randomAlnum(52).toUpperCase() },
      'application/x-amz-json-1.0',
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req, MAX_BODY);
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const parsed = operation === '' ? undefined : parseJson(raw);
    const body = isPlainObject(parsed) ? parsed : {};
    if (operation !== '') {
      calls[operation] = (calls[operation] ?? 0) + 1;
      requests.push({ operation, body });
    }

    const fault = operation === '' ? undefined : takeFault(operation, body);
    if (fault === 'hang') return;
    if (fault === 'network') {
      req.socket.destroy();
      return;
    }
    if (latencyMs > 0) await server.sleep(latencyMs);
    if (fault === 'internal') return sendError(res, 500, 'InternalServerError', 'Internal server error');
    if (fault === 'throttle')
      return sendError(res, 400, 'ThrottlingException', 'Rate of requests exceeds the allowed throughput.');
    if (fault === 'throughput') {
      return sendError(
        res,
        400,
        'ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      );
    }
    await forward(req, raw, res);
  }

  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const upstream = request(
        {
          host: '127.0.0.1',
          port: dbPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'content-length': body.length },
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  const server = await listen(handle, opts);
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    directUrl: `http://127.0.0.1:${dbPort}`,
    calls,
    requests,
    resetCalls() {
      for (const k of Object.keys(calls)) delete calls[k];
      requests.length = 0;
    },
    failNext(n, fault, operation, matching) {
      for (let i = 0; i < n; i++) faults.push({ fault, operation, matching });
    },
    clearFaults() {
      faults = [];
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close() {
      closing ??= (async () => {
        await server.close();
        agent.destroy();
        await new Promise<void>((resolve, reject) => {
          db.close((err) => (err ? reject(err) : resolve()));
          db.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

export const ITEMS_TABLE_GSI = 'by-item';

/** The items table exactly as the vault design gives it (the CDK stack declares the same keys and index). */
export function itemsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'item_key', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: ITEMS_TABLE_GSI,
        KeySchema: [{ AttributeName: 'item_key', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

/**
 * Creates the items table at `endpoint` (the stand-in, moto_server, or anything speaking
 * DynamoDB) through the real SDK and waits until it is ACTIVE. Returns the table name.
 */
export async function createItemsTable(
  endpoint: string,
  opts: { tableName?: string; region?: string } = {},
): Promise<string> {
  const tableName = opts.tableName ?? 'items';
  const client = new DynamoDBClient({
    endpoint,
    region: opts.region ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    await client.send(new CreateTableCommand(itemsTableDefinition(tableName)));
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  } finally {
    client.destroy();
  }
  return tableName;
}
