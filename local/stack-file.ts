// Where a running local stack says it listens: `npm start` writes stack.json in its work folder
// once it is ready and removes it when it stops, so `npm run -s dev-token` (and any script) finds
// the stack without the user repeating PORT, HOST or the other knobs it was started with.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../infra/lambda-bundling.ts';

/** LOCAL_WORK_DIR's default. */
export const DEFAULT_WORK_DIR = join(PROJECT_ROOT, 'dist', 'local');

export interface StackFile {
  /** The API's base URL, e.g. http://127.0.0.1:3400. */
  readonly api: string;
  /** The process serving it: a file left by a stack that was killed names a process that is gone. */
  readonly pid: number;
  readonly tenants: readonly string[];
}

export const stackFileIn = (workDir: string): string => join(workDir, 'stack.json');

export function writeStackFile(workDir: string, stack: StackFile): string {
  const file = stackFileIn(workDir);
  writeFileSync(file, `${JSON.stringify(stack, null, 2)}\n`);
  return file;
}

/** Removes the file if it is still this process's (another stack may have started in the folder since). */
export function removeStackFile(file: string, pid = process.pid): void {
  if (readStackFile(file)?.pid === pid) rmSync(file, { force: true });
}

function readStackFile(file: string): StackFile | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<StackFile>;
    if (typeof json.api !== 'string' || typeof json.pid !== 'number') return undefined;
    return { api: json.api, pid: json.pid, tenants: Array.isArray(json.tenants) ? json.tenants : [] };
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The stack whose file is in this work folder, if its process is still running. */
export function runningStack(workDir: string): StackFile | undefined {
  const stack = readStackFile(stackFileIn(workDir));
  return stack && isRunning(stack.pid) ? stack : undefined;
}
