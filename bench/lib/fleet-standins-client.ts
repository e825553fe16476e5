// The benchmark's side of bench/lib/fleet-standins-process.ts: start it, seed secrets, mint
// tokens of any issuer, set the upstream round trip, read and reset the call counters over IPC.
import { fileURLToPath } from 'node:url';
import { forkIpcChild } from './children.ts';

export type FleetRequest =
  | { op: 'seed'; secretIds: string[]; firstIsHmacKey: boolean }
  | { op: 'mint'; tokens: Array<{ issuer: number; claims: Record<string, unknown> }>; expiresInSeconds: number }
  | { op: 'counters' }
  | { op: 'reset' }
  | { op: 'setUpstreamLatency'; ms: number }
  | { op: 'lastPlaidRequest' };

export interface FleetReady {
  plaidUrl: string;
  secretsUrl: string;
  /** Issuer i is `${issuersUrl}/issuers/${i}`. */
  issuersUrl: string;
  plaidCredentials: { client_id: string; secret: string };
}

export interface FleetCounters {
  plaid: number;
  /** GetSecretValue calls. */
  secrets: number;
  /** JWKS fetches, all issuers. */
  jwks: number;
  /** Distinct issuers whose JWKS was fetched. */
  issuersFetched: number;
}

export interface FleetStandIns extends FleetReady {
  readonly pid: number;
  /** Creates the secrets (first: the client_user_id HMAC key when firstIsHmacKey; the others: Plaid credentials). */
  seed(secretIds: string[], firstIsHmacKey?: boolean): Promise<void>;
  mint(
    tokens: Array<{ issuer: number; claims: Record<string, unknown> }>,
    expiresInSeconds?: number,
  ): Promise<string[]>;
  counters(): Promise<FleetCounters>;
  reset(): Promise<void>;
  /** Delays every JWKS and Secrets Manager answer by ms (0 turns it off). */
  setUpstreamLatency(ms: number): Promise<void>;
  lastPlaidRequest(): Promise<{ path: string; body: unknown } | null>;
  close(): Promise<void>;
}

export async function startFleetStandIns(): Promise<FleetStandIns> {
  const { child, ready, call, close } = await forkIpcChild<FleetReady, FleetRequest>(
    fileURLToPath(new URL('./fleet-standins-process.ts', import.meta.url)),
    {
      env: {
        PATH: process.env.PATH,
        ...(process.env.BENCH_ISSUER_KEY_POOL ? { BENCH_ISSUER_KEY_POOL: process.env.BENCH_ISSUER_KEY_POOL } : {}),
      },
      startTimeoutMs: 120_000,
    },
  );
  return {
    ...ready,
    pid: child.pid!,
    seed: async (secretIds, firstIsHmacKey = true) => void (await call({ op: 'seed', secretIds, firstIsHmacKey })),
    mint: async (tokens, expiresInSeconds = 24 * 3600) =>
      (await call({ op: 'mint', tokens, expiresInSeconds })) as string[],
    counters: async () => (await call({ op: 'counters' })) as FleetCounters,
    reset: async () => void (await call({ op: 'reset' })),
    setUpstreamLatency: async (ms) => void (await call({ op: 'setUpstreamLatency', ms })),
    lastPlaidRequest: async () => (await call({ op: 'lastPlaidRequest' })) as { path: string; body: unknown } | null,
    close,
  };
}
