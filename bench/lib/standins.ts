// The benchmark's side of the stand-ins process (bench/lib/standins-process.ts), and what a
// function measured against it gets in its environment.
import { fileURLToPath } from 'node:url';
import { DEMO_AUDIENCE, demoTenantsFile } from '../../local/demo-tenants.ts';
import { forkIpc } from './processes.ts';

export type StandInsRequest =
  | { op: 'seed'; tenants: number }
  | { op: 'mint'; tokens: Array<{ issuer: number; claims: Record<string, unknown> }>; expiresInSeconds: number }
  | { op: 'counters' }
  | { op: 'reset' }
  | { op: 'setUpstreamLatency'; ms: number }
  | { op: 'lastPlaidRequest' }
  | { op: 'signWebhooks'; bodies: string[] };

export interface StandInsReady {
  plaidUrl: string;
  secretsUrl: string;
  /** Issuer i is `${issuersUrl}/issuers/${i}`. */
  issuersUrl: string;
  plaidCredentials: { client_id: string; secret: string };
  vault?: {
    dynamodbUrl: string;
    itemsTable: string;
    kmsUrl: string;
    kmsKeyArn: string;
    eventsUrl: string;
    busName: string;
  };
}

/** Calls counted at the stand-ins since the last reset: Plaid, GetSecretValue, JWKS fetches, events on the bus. */
export interface Counters {
  plaid: number;
  secrets: number;
  jwks: number;
  events: number;
}

export interface StandIns extends StandInsReady {
  readonly pid: number;
  /** Issuer 0, the demo tenant's. */
  readonly issuer: string;
  /** Creates the secrets of generated tenants 0 … n-1 and their shared HMAC key. */
  seed(tenants: number): Promise<void>;
  /** Tokens of issuer `issuer` (default 0) for each subject, with the demo tenant's audience unless claims say otherwise. */
  mint(
    subs: string[],
    opts?: { issuer?: number; claims?: Record<string, unknown>; expiresInSeconds?: number },
  ): Promise<string[]>;
  counters(): Promise<Counters>;
  reset(): Promise<void>;
  /** Delays every JWKS and Secrets Manager answer by ms (0 turns it off). */
  setUpstreamLatency(ms: number): Promise<void>;
  lastPlaidRequest(): Promise<{ path: string; body: unknown } | null>;
  signWebhooks(bodies: string[]): Promise<string[]>;
  close(): Promise<void>;
}

export async function startStandIns(opts: { keyPool?: number; vault?: boolean } = {}): Promise<StandIns> {
  const { child, ready, call, close } = await forkIpc<StandInsReady, StandInsRequest>(
    fileURLToPath(new URL('./standins-process.ts', import.meta.url)),
    {
      PATH: process.env.PATH,
      BENCH_ISSUER_KEY_POOL: String(opts.keyPool ?? 1),
      ...(opts.vault ? { BENCH_STANDINS_VAULT: '1' } : {}),
    },
    120_000,
  );
  return {
    ...ready,
    pid: child.pid!,
    issuer: `${ready.issuersUrl}/issuers/0`,
    seed: (tenants) => call({ op: 'seed', tenants }),
    mint: (subs, o = {}) =>
      call({
        op: 'mint',
        tokens: subs.map((sub) => ({
          issuer: o.issuer ?? 0,
          claims: { sub, aud: DEMO_AUDIENCE, email: `${sub}@example.com`, email_verified: true, ...o.claims },
        })),
        expiresInSeconds: o.expiresInSeconds ?? 24 * 3600,
      }),
    counters: () => call({ op: 'counters' }),
    reset: () => call({ op: 'reset' }),
    setUpstreamLatency: (ms) => call({ op: 'setUpstreamLatency', ms }),
    lastPlaidRequest: () => call({ op: 'lastPlaidRequest' }),
    signWebhooks: (bodies) => call({ op: 'signWebhooks', bodies }),
    close,
  };
}

export const BENCH_ORIGIN = 'https://app.example.com';

/** The demo tenant pointed at issuer 0, allowing BENCH_ORIGIN. */
export const demoTenants = (s: StandIns) =>
  demoTenantsFile({ issuer: s.issuer, origins: [BENCH_ORIGIN], withOAuthRedirect: true });

/** What Lambda puts in a function's environment, with the stand-ins as AWS and Plaid. */
export function lambdaEnv(s: Pick<StandInsReady, 'plaidUrl' | 'secretsUrl'>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PLAID_BASE_URL: s.plaidUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: s.secretsUrl,
    AWS_REGION: 'us-east-1',
    // The role's temporary credentials and the function's identity.
    AWS_ACCESS_KEY_ID: 'ASIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'link-token-bench',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  };
}

/** A new link token for a user's token, as the web app asks for one. */
export const linkTokenReq = (token: string, origin = BENCH_ORIGIN, body: object = { platform: 'web' }) => ({
  method: 'POST',
  path: '/link-token',
  headers: { authorization: `Bearer ${token}`, origin },
  body: JSON.stringify(body),
});
