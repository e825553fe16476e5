// The benchmark's side of bench/lib/fleet-standins-process.ts: start it, seed secrets, mint
// tokens of any issuer, set the upstream round trip, read and reset the call counters over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  mint(tokens: Array<{ issuer: number; claims: Record<string, unknown> }>, expiresInSeconds?: number): Promise<string[]>;
  counters(): Promise<FleetCounters>;
  reset(): Promise<void>;
  /** Delays every JWKS and Secrets Manager answer by ms (0 turns it off). */
  setUpstreamLatency(ms: number): Promise<void>;
  lastPlaidRequest(): Promise<{ path: string; body: unknown } | null>;
  close(): Promise<void>;
}

export async function startFleetStandIns(): Promise<FleetStandIns> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./fleet-standins-process.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, ...(process.env.BENCH_ISSUER_KEY_POOL ? { BENCH_ISSUER_KEY_POOL: process.env.BENCH_ISSUER_KEY_POOL } : {}) },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<FleetReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stand-ins did not start within 120 s')), 120_000);
    child.once('exit', (code) => reject(new Error(`stand-ins exited with ${code}`)));
    child.on('message', (message: { ready?: FleetReady; id?: number; result?: unknown; error?: string }) => {
      if (message.ready) {
        clearTimeout(timer);
        resolve(message.ready);
        return;
      }
      const waiter = message.id === undefined ? undefined : pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id!);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
  });
  const call = (request: FleetRequest) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, request });
    });
  return {
    ...ready,
    pid: child.pid!,
    seed: async (secretIds, firstIsHmacKey = true) => void (await call({ op: 'seed', secretIds, firstIsHmacKey })),
    mint: async (tokens, expiresInSeconds = 24 * 3600) => (await call({ op: 'mint', tokens, expiresInSeconds })) as string[],
    counters: async () => (await call({ op: 'counters' })) as FleetCounters,
    reset: async () => void (await call({ op: 'reset' })),
    setUpstreamLatency: async (ms) => void (await call({ op: 'setUpstreamLatency', ms })),
    lastPlaidRequest: async () => (await call({ op: 'lastPlaidRequest' })) as { path: string; body: unknown } | null,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
