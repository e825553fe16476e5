// Child processes of the benchmark: free loopback ports, waiting for a server, reading lines.
import { fork, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves with the first line of `stream` that `match` accepts, and the time it arrived. */
export function waitForLine(
  stream: Readable,
  match: (line: string) => boolean,
  child: ChildProcess,
  timeoutMs = 30_000,
): Promise<{ line: string; at: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    const seen: string[] = [];
    const timer = setTimeout(
      () => finish(new Error(`no expected line within ${timeoutMs} ms:\n${seen.slice(-20).join('\n')}`)),
      timeoutMs,
    );
    const onExit = (code: number | null) =>
      finish(new Error(`process exited with ${code} first:\n${seen.slice(-20).join('\n')}`));
    const finish = (error?: Error, value?: { line: string; at: number }) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.removeAllListeners('line');
      // Keep draining so the child never blocks on a full pipe.
      lines.on('line', () => undefined);
      if (error) reject(error);
      else resolve(value!);
    };
    lines.on('line', (line) => {
      const at = performance.now();
      seen.push(line);
      if (match(line)) finish(undefined, { line, at });
    });
    child.once('exit', onExit);
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(timer);
}

/** A stand-ins process driven over IPC: it sends `{ready}` once listening, then answers `{id, request}` with `{id, result | error}`. */
export interface IpcChild<Ready, Request> {
  readonly child: ChildProcess;
  readonly ready: Ready;
  call<T = unknown>(request: Request): Promise<T>;
  /** Disconnects (the child exits when its IPC channel closes), SIGKILL after 5 s. */
  close(): Promise<void>;
}

export async function forkIpcChild<Ready, Request>(
  script: string,
  opts: { env: NodeJS.ProcessEnv; startTimeoutMs: number },
): Promise<IpcChild<Ready, Request>> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: opts.env });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stand-ins did not start within ${opts.startTimeoutMs / 1000} s`)),
      opts.startTimeoutMs,
    );
    child.once('exit', (code) => reject(new Error(`stand-ins exited with ${code}`)));
    child.on('message', (message: { ready?: Ready; id?: number; result?: unknown; error?: string }) => {
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
  return {
    child,
    ready,
    call: <T>(request: Request) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, request });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * The child side of forkIpcChild: answers each `{id, request}` with `answer(request)`, closes
 * everything and exits when the parent disconnects, and announces `ready`.
 */
export function serveIpc<Request, Ready>(
  answer: (request: Request) => unknown,
  closeAll: () => Promise<unknown>,
  ready: Ready,
): void {
  process.on('message', (message: { id: number; request: Request }) => {
    let reply: { id: number; result?: unknown; error?: string };
    try {
      reply = { id: message.id, result: answer(message.request) };
    } catch (error) {
      reply = { id: message.id, error: String(error) };
    }
    process.send!(reply);
  });
  process.on('disconnect', () => void closeAll().then(() => process.exit(0)));
  process.send!({ ready });
}
