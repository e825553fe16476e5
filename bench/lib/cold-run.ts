// One Lambda-style cold start of any bundled handler: a fresh Node process imports it and invokes
// it once with an API Gateway v2 event carrying a bearer token (bench/cold/product-cold.mjs).
// Spawn → response is measured here, import and first invocation inside the child. A response
// without a link token is a broken run and throws: the benchmark fails on that, never on a time.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exited, waitForLine } from './children.ts';

const COLD_SCRIPT = fileURLToPath(new URL('../cold/product-cold.mjs', import.meta.url));

export interface ColdStart {
  /** Spawn → the response reaches the benchmark. */
  totalMs: number;
  /** Import of the bundle (init), inside the child. */
  importMs: number;
  /** handler(event) → response, inside the child. */
  firstInvokeMs: number;
  peakRssKb: number;
}

export async function coldInvoke(
  label: string,
  handlerFile: string,
  env: Record<string, string>,
  token: string,
  origin: string,
): Promise<ColdStart> {
  const started = performance.now();
  const child = spawn(process.execPath, [COLD_SCRIPT, handlerFile], {
    env: { ...env, BENCH_TOKEN: token, BENCH_ORIGIN: origin },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { line, at } = await waitForLine(child.stdout!, (l) => l.startsWith('BENCH_RESULT '), child, 60_000);
  const code = await exited(child);
  const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as {
    statusCode: number;
    hasLinkToken: boolean;
    importMs: number;
    firstInvokeMs: number;
    peakRssKb: number;
  };
  if (result.statusCode !== 200 || !result.hasLinkToken || code !== 0) {
    throw new Error(`${label}: cold start answered ${line} (exit ${code})`);
  }
  return {
    totalMs: at - started,
    importMs: result.importMs,
    firstInvokeMs: result.firstInvokeMs,
    peakRssKb: result.peakRssKb,
  };
}

/** What Lambda puts in a function's environment, with the stand-ins as AWS and Plaid. */
export function lambdaEnv(opts: { plaidUrl: string; secretsUrl: string }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PLAID_BASE_URL: opts.plaidUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: opts.secretsUrl,
    AWS_REGION: 'us-east-1',
    // The role's temporary credentials and the function's identity.
    AWS_ACCESS_KEY_ID: 'ASIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'link-token-bench',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  };
}
