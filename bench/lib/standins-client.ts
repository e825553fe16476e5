// The benchmark's side of the stand-ins process (bench/lib/standins-process.ts): start it,
// then mint tokens, read and reset the call counters over IPC.
import { fileURLToPath } from 'node:url';
import { forkIpcChild } from './children.ts';

export type StandInsRequest =
  | { op: 'mint'; claims: Record<string, unknown>; expiresInSeconds: number }
  | { op: 'counters' }
  | { op: 'reset' }
  | { op: 'setUpstreamLatency'; ms: number }
  | { op: 'lastPlaidRequest' };

export interface StandInsReady {
  plaidUrl: string;
  secretsUrl: string;
  issuer: string;
  plaidCredentials: { client_id: string; secret: string };
}

export interface Counters {
  plaid: number;
  secrets: number;
  jwks: number;
}

export interface StandIns extends StandInsReady {
  readonly pid: number;
  mint(claims: Record<string, unknown>, expiresInSeconds: number): Promise<string>;
  counters(): Promise<Counters>;
  reset(): Promise<void>;
  /** Delays every JWKS and Secrets Manager answer by ms (0 turns it off). */
  setUpstreamLatency(ms: number): Promise<void>;
  lastPlaidRequest(): Promise<{ path: string; body: unknown } | null>;
  close(): Promise<void>;
}

export async function startStandIns(): Promise<StandIns> {
  const { child, ready, call, close } = await forkIpcChild<StandInsReady, StandInsRequest>(
    fileURLToPath(new URL('./standins-process.ts', import.meta.url)),
    {
      env: { PATH: process.env.PATH },
      startTimeoutMs: 30_000,
    },
  );
  return {
    ...ready,
    pid: child.pid!,
    mint: async (claims, expiresInSeconds) => (await call({ op: 'mint', claims, expiresInSeconds })) as string,
    counters: async () => (await call({ op: 'counters' })) as Counters,
    reset: async () => void (await call({ op: 'reset' })),
    setUpstreamLatency: async (ms) => void (await call({ op: 'setUpstreamLatency', ms })),
    lastPlaidRequest: async () => (await call({ op: 'lastPlaidRequest' })) as { path: string; body: unknown } | null,
    close,
  };
}
