// The benchmark's side of the stand-ins process (bench/lib/standins-process.ts): start it,
// then mint tokens, read and reset the call counters over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  const child: ChildProcess = fork(fileURLToPath(new URL('./standins-process.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<StandInsReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stand-ins did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`stand-ins exited with ${code}`)));
    child.on('message', (message: { ready?: StandInsReady; id?: number; result?: unknown; error?: string }) => {
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
  const call = (request: StandInsRequest) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, request });
    });
  return {
    ...ready,
    pid: child.pid!,
    mint: async (claims, expiresInSeconds) => (await call({ op: 'mint', claims, expiresInSeconds })) as string,
    counters: async () => (await call({ op: 'counters' })) as Counters,
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
