// moto_server (moto 5) as the real implementation each AWS stand-in is checked against: started
// on a free loopback port for one test file, stopped after. Absent moto_server is not a failure
// (CI machines may lack it): startMoto() then resolves undefined and MOTO_ABSENT says why.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const MOTO_ABSENT = 'moto_server is not on PATH (moto 5: pip install "moto[server]")';

export interface Moto {
  /** Base URL without a trailing slash; every service answers here (moto routes by signature scope / target). */
  url: string;
  /** Forgets every resource moto holds (its /moto-api/reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

export function motoOnPath(): boolean {
  return spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
}

/** Starts moto_server on 127.0.0.1 (port chosen by the OS), or resolves undefined when it is not installed. */
export async function startMoto(): Promise<Moto | undefined> {
  if (!motoOnPath()) return undefined;
  // Its own process group, so close() also ends anything the pyenv shim may have started.
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  });
  const stopOnExit = () => kill(child, 'SIGKILL');
  process.once('exit', stopOnExit);

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`moto_server did not start within ${STARTUP_TIMEOUT_MS} ms:\n${output}`)),
        STARTUP_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        // Werkzeug prints the bound address once the socket listens.
        const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`moto_server exited (${code ?? signal}) before listening:\n${output}`));
      });
    });
    await waitUntilAnswering(url);
  } catch (err) {
    kill(child, 'SIGKILL');
    process.off('exit', stopOnExit);
    throw err;
  }
  // Keep draining its request log so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();

  let closing: Promise<void> | undefined;
  return {
    url,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        process.off('exit', stopOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        kill(child, 'SIGTERM');
        setTimeout(() => kill(child, 'SIGKILL'), 3_000).unref();
      });
      return closing;
    },
  };
}

async function waitUntilAnswering(url: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/moto-api/data.json`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`moto_server at ${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
