// The processes a benchmark measures, each apart from the benchmark's own: a cold start (a fresh
// Node process imports a bundle and invokes it once), a warm execution environment (imported
// once, then invoked one request at a time over IPC), a server, and the stand-ins process driven
// over IPC. A broken answer throws: the benchmark fails on that, never on a time.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const COLD_SCRIPT = fileURLToPath(new URL('../runtime/cold.mjs', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('../runtime/worker.mjs', import.meta.url));

/** An HTTP request as the function sees it through API Gateway; header names lower-case. */
export interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

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

/** The first line of `stream` that `match` accepts, and when it arrived; the stream is drained after. */
export function waitForLine(
  stream: Readable,
  match: (line: string) => boolean,
  child: ChildProcess,
  timeoutMs = 60_000,
): Promise<{ line: string; at: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    const seen: string[] = [];
    const fail = (why: string) => finish(new Error(`${why}:\n${seen.slice(-20).join('\n')}`));
    const timer = setTimeout(() => fail(`no expected line within ${timeoutMs} ms`), timeoutMs);
    const onExit = (code: number | null) => fail(`process exited with ${code} first`);
    const finish = (error?: Error, value?: { line: string; at: number }) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.removeAllListeners('line');
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

export interface ColdStart {
  /** Spawn → the answer reaches the benchmark. */
  totalMs: number;
  /** Node's own start, before the script runs. */
  bootMs: number;
  /** Import of the bundle (init), inside the child. */
  importMs: number;
  /** The first invocation (or secret read), inside the child. */
  firstInvokeMs: number;
  peakRssKb: number;
  /** CPU time of the whole process. */
  cpuMs: number;
}

export interface ColdExpectation {
  status?: number;
  /** The answer must carry a link token (the default for status 200 on POST /link-token). */
  linkToken?: boolean;
  label?: string;
}

/**
 * One Lambda-style cold start of `bundle`: invoked once with `request`, or, for a bundle exporting
 * read(secretId) instead of a handler, one read of `request` (a secret id).
 */
export async function coldStart(
  bundle: string,
  env: Record<string, string>,
  request: Req | string,
  expect: ColdExpectation = {},
): Promise<ColdStart> {
  const started = performance.now();
  const input = typeof request === 'string' ? { BENCH_SECRET_ID: request } : { BENCH_REQUEST: JSON.stringify(request) };
  const child = spawn(process.execPath, [COLD_SCRIPT, bundle], {
    env: { ...env, ...input },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { line, at } = await waitForLine(child.stdout, (l) => l.startsWith('BENCH_RESULT '), child);
  const code = await exited(child);
  const r = JSON.parse(line.slice('BENCH_RESULT '.length)) as ColdStart & { statusCode: number; linkToken: boolean };
  const status = expect.status ?? 200;
  const needsToken =
    expect.linkToken ?? (typeof request !== 'string' && request.path === '/link-token' && status === 200);
  if (code !== 0 || r.statusCode !== status || (needsToken && !r.linkToken)) {
    throw new Error(`${expect.label ?? bundle}: cold start answered ${line} (exit ${code}), expected ${status}`);
  }
  return {
    totalMs: at - started,
    bootMs: r.bootMs,
    importMs: r.importMs,
    firstInvokeMs: r.firstInvokeMs,
    peakRssKb: r.peakRssKb,
    cpuMs: r.cpuMs,
  };
}

export interface Batch {
  /** CPU of the whole batch (process.cpuUsage around it), ms. */
  cpuMs: number;
  wallMs: number[];
  /** Per invocation, when asked for (perInvocationCpu). */
  cpuMsEach: number[];
  statuses: number[];
  bodies: string[];
  memory: { rssMb: number; heapUsedMb: number };
  logBytes: number;
}

export interface Worker {
  readonly child: ChildProcess;
  /** Import of the bundle and the memory right after, as the worker measured them. */
  readonly init: { importMs: number; importCpuMs: number; rssMb: number };
  run(
    requests: readonly Req[],
    opts?: { expect?: number; keepBodies?: boolean; perInvocationCpu?: boolean },
  ): Promise<Batch>;
  close(): Promise<void>;
}

/** A warm execution environment: the bundle imported once, then invoked one request at a time. */
export async function startWorker(
  label: string,
  bundle: string,
  env: Record<string, string>,
  stdout: 'ignore' | 'pipe' = 'ignore',
): Promise<Worker> {
  const child = spawn(process.execPath, [WORKER_SCRIPT, bundle], { env, stdio: ['ignore', stdout, 'inherit', 'ipc'] });
  const init = await new Promise<Worker['init']>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${label}: worker exited with ${code}`)));
    child.once('message', (m: Worker['init']) => resolve(m));
  });
  let nextId = 1;
  return {
    child,
    init,
    run: (requests, opts = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const onMessage = (
          m: Batch & { id: number; broken: Array<{ index: number; status: number; body: string }> },
        ) => {
          if (m.id !== id) return;
          child.off('message', onMessage);
          const bad = m.broken[0];
          if (!bad) return resolve(m);
          const r = requests[bad.index]!;
          reject(
            new Error(
              `${label}: ${r.method} ${r.path} answered ${bad.status} ${bad.body}, expected ${opts.expect ?? 200}`,
            ),
          );
        };
        child.on('message', onMessage);
        child.send({
          id,
          requests,
          expect: opts.expect ?? 200,
          keepBodies: opts.keepBodies ?? false,
          perInvocationCpu: opts.perInvocationCpu ?? false,
        });
      }),
    close: () =>
      new Promise<void>((resolve) =>
        child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.disconnect()),
      ),
  };
}

/** The parent side of a process answering `{id, request}` with `{id, result | error}` over IPC. */
export async function forkIpc<Ready, Request>(
  script: string,
  env: NodeJS.ProcessEnv,
  startTimeoutMs: number,
): Promise<{
  child: ChildProcess;
  ready: Ready;
  call: <T>(request: Request) => Promise<T>;
  close: () => Promise<void>;
}> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${startTimeoutMs / 1000} s`)),
      startTimeoutMs,
    );
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.on('message', (m: { ready?: Ready; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) {
        clearTimeout(timer);
        return resolve(m.ready);
      }
      const waiter = pending.get(m.id ?? -1);
      pending.delete(m.id ?? -1);
      if (m.error !== undefined) waiter?.reject(new Error(m.error));
      else waiter?.resolve(m.result);
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

/** The child side of forkIpc: answers each request, announces `ready`, exits when the parent disconnects. */
export function serveIpc<Request, Ready>(
  answer: (request: Request) => unknown,
  closeAll: () => Promise<unknown>,
  ready: Ready,
): void {
  process.on('message', (m: { id: number; request: Request }) => {
    Promise.resolve()
      .then(() => answer(m.request))
      .then(
        (result) => process.send!({ id: m.id, result }),
        (error: unknown) => process.send!({ id: m.id, error: String(error) }),
      );
  });
  process.on('disconnect', () => void closeAll().then(() => process.exit(0)));
  process.send!({ ready });
}
