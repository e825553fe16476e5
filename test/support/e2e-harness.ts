// End-to-end harness: loopback stand-ins run in the test process (so tests can script faults,
// rotate keys and count calls), and the local stack runs as a child process exactly as a user
// starts it, pointed at them through its documented knobs. Every log line it prints and every
// response the tests see are kept, so a test can prove that no secret ever left.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TenantsFileInput } from '../../lambda/config/tenant-schema.ts';
import { startOidcIssuer, type OidcIssuer } from '../../local/standins/oidc-issuer.ts';
import { startPlaidStandIn, type PlaidStandIn } from '../../local/standins/plaid.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { createItemsTable, startDynamoDbStandIn, type DynamoDbStandIn } from '../../local/standins/dynamodb.ts';
import { startKmsStandIn, type KmsStandIn } from '../../local/standins/kms.ts';
import { startEventBridgeStandIn, type EventBridgeStandIn } from '../../local/standins/eventbridge.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const E2E_BUS = 'e2e-webhooks';

export interface SeenResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json(): any;
}

export interface E2eStack {
  readonly apiUrl: string;
  readonly issuers: readonly OidcIssuer[];
  readonly plaid: PlaidStandIn;
  readonly secrets: SecretsManagerStandIn;
  /** The item vault's DynamoDB (dynalite behind a proxy that counts and faults) and KMS. */
  readonly dynamodb: DynamoDbStandIn;
  readonly kms: KmsStandIn;
  readonly itemsTable: string;
  /** The bus verified webhooks are published to (bus E2E_BUS). */
  readonly events: EventBridgeStandIn;
  readonly tenantsFile: TenantsFileInput;
  /** Every line the local stack printed (stdout and stderr). */
  readonly logLines: string[];
  /** Every response body and header block the tests received. */
  readonly transcripts: string[];
  call(opts: {
    method?: string;
    path?: string;
    token?: string;
    origin?: string;
    headers?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
  }): Promise<SeenResponse>;
  close(): Promise<void>;
}

export async function startE2eStack(opts: {
  issuerCount: number;
  tenants: (issuers: readonly OidcIssuer[]) => TenantsFileInput;
  secrets: Record<string, string>;
  plaidCredentials: Record<string, string>;
  env?: Record<string, string>;
  /** Runs after the stand-ins are up and before the stack starts (its cold start), e.g. to script a fault. */
  beforeStart?: (standIns: {
    issuers: readonly OidcIssuer[];
    plaid: PlaidStandIn;
    secrets: SecretsManagerStandIn;
  }) => void;
}): Promise<E2eStack> {
  const issuers = await Promise.all(Array.from({ length: opts.issuerCount }, () => startOidcIssuer()));
  const plaid = await startPlaidStandIn({ credentials: opts.plaidCredentials });
  const secrets = await startSecretsManagerStandIn({ secrets: opts.secrets });
  const [dynamodb, kms] = await Promise.all([
    startDynamoDbStandIn(),
    startKmsStandIn({ description: 'e2e item vault key' }),
  ]);
  const itemsTable = await createItemsTable(dynamodb.url, { tableName: 'e2e-items' });
  const events = await startEventBridgeStandIn({ eventBuses: [E2E_BUS] });
  const tenantsFile = opts.tenants(issuers);
  opts.beforeStart?.({ issuers, plaid, secrets });
  const dir = mkdtempSync(join(tmpdir(), 'link-token-e2e-'));
  const tenantsPath = join(dir, 'tenants.json');
  writeFileSync(tenantsPath, JSON.stringify(tenantsFile));

  const logLines: string[] = [];
  const transcripts: string[] = [];
  const child = spawn(process.execPath, ['local/start.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      LOCAL_WORK_DIR: dir,
      TENANTS_FILE: tenantsPath,
      PLAID_BASE_URL: plaid.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      AWS_ENDPOINT_URL_KMS: kms.url,
      ITEMS_TABLE_NAME: itemsTable,
      VAULT_KMS_KEY_ID: kms.keyArn,
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
      WEBHOOK_BUS_NAME: E2E_BUS,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      LOG_LEVEL: 'debug',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const apiUrl = await waitForReady(child, logLines);

  return {
    apiUrl,
    issuers,
    plaid,
    secrets,
    dynamodb,
    kms,
    itemsTable,
    events,
    tenantsFile,
    logLines,
    transcripts,
    async call({ method = 'POST', path = '/link-token', token, origin, headers = {}, body, rawBody }) {
      const h: Record<string, string> = { ...headers };
      if (token !== undefined) h.authorization = `Bearer ${token}`;
      if (origin !== undefined) h.origin = origin;
      if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
        h['content-type'] = 'application/json';
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: h,
        body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = await res.text();
      transcripts.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
      return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
    },
    async close() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await Promise.all([
        ...issuers.map((i) => i.close()),
        plaid.close(),
        secrets.close(),
        dynamodb.close(),
        kms.close(),
        events.close(),
      ]);
    },
  };
}

function waitForReady(child: ChildProcess, logLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local stack did not start:\n${logLines.join('\n')}`)), 60_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        logLines.push(line);
        if (line.includes('"local.ready"')) {
          clearTimeout(timer);
          resolve(JSON.parse(line).api as string);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with ${code}:\n${logLines.join('\n')}`));
    });
  });
}

/** Log lines the function wrote (JSON), parsed. */
export function functionLogs(stack: E2eStack): Array<Record<string, unknown>> {
  return stack.logLines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line);
      return parsed && typeof parsed === 'object' && 'level' in parsed ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The function's last `event` line for this response (by its correlation id). The line comes
 * through the child's stdout pipe, which may lag the HTTP response: waits up to 2 s for it.
 */
export async function functionLogFor(
  stack: E2eStack,
  res: SeenResponse,
  event: string,
): Promise<Record<string, unknown> | undefined> {
  const id = res.headers.get('x-correlation-id');
  const find = () => functionLogs(stack).findLast((l) => l.event === event && l.correlation_id === id);
  for (let waited = 0; !find() && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  return find();
}
