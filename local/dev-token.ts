// `npm run -s dev-token -- --tenant <id> [--sub <subject>] [--email <address>] [--url <api>]`:
// asks a running local stack's dev sign-in (POST /dev/token) for a token of that tenant and
// prints only the token, for TOKEN=$(npm run -s dev-token -- --tenant acme-budget).
// The stack is found at --url, else where the running stack's stack.json says (in LOCAL_WORK_DIR,
// default dist/local: `npm start` writes it when ready), else at http://$HOST:$PORT (127.0.0.1:3000).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readLocalKnobs } from './local-settings.ts';
import { DEFAULT_WORK_DIR, runningStack, stackFileIn } from './stack-file.ts';

const USAGE = `Usage: npm run -s dev-token -- --tenant <id> [--sub <subject>] [--email <address>] [--url <api>]
  Prints a bearer token of that tenant from the local stack's dev sign-in (npm start must be running).
  --tenant  a tenant id of the stack's tenants file (may be left out when it has one tenant)
  --sub     the signed-in user (default dev-user-1)
  --email   the user's verified email (default dev.user@example.com)
  --url     the local stack's API (default: the running stack's, from stack.json in $LOCAL_WORK_DIR
            or dist/local; without one, http://$HOST:$PORT, i.e. http://127.0.0.1:3000)`;

export async function devToken(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  let values: { tenant?: string; sub?: string; email?: string; url?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        tenant: { type: 'string' },
        sub: { type: 'string' },
        email: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { code: 2, out: '', err: `${(error as Error).message}\n${USAGE}\n` };
  }
  if (values.help) return { code: 0, out: `${USAGE}\n`, err: '' };
  let base = values.url;
  const knobs = readLocalKnobs({ PORT: env.PORT, HOST: env.HOST, LOCAL_WORK_DIR: env.LOCAL_WORK_DIR });
  const workDir = knobs.LOCAL_WORK_DIR ? resolve(knobs.LOCAL_WORK_DIR) : DEFAULT_WORK_DIR;
  base ??= runningStack(workDir)?.api ?? `http://${knobs.HOST ?? '127.0.0.1'}:${knobs.PORT || 3000}`;
  const body = Object.fromEntries(
    Object.entries({ tenant: values.tenant, sub: values.sub, email: values.email }).filter(([, v]) => v !== undefined),
  );
  let res: Response;
  try {
    res = await fetch(new URL('/dev/token', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const reason = (error as Error).cause as NodeJS.ErrnoException | undefined;
    const cause = reason?.code ?? reason?.message ?? (error as Error).message;
    return {
      code: 1,
      out: '',
      err:
        `No local stack answers at ${base} (${cause})${values.url ? '' : `, and ${stackFileIn(workDir)} names no running one`}: ` +
        'start it with npm start, or pass --url <api> (the "api" of its local.ready line).\n',
    };
  }
  const answer = (await res.json().catch(() => ({}))) as { access_token?: string; detail?: string; message?: string };
  if (!res.ok || typeof answer.access_token !== 'string') {
    return {
      code: 1,
      out: '',
      err: `The dev sign-in at ${base} refused (${res.status}): ${answer.detail ?? answer.message ?? 'no detail'}\n`,
    };
  }
  return { code: 0, out: `${answer.access_token}\n`, err: '' };
}

if (import.meta.main) {
  try {
    const result = await devToken(process.argv.slice(2), process.env);
    process.stdout.write(result.out);
    process.stderr.write(result.err);
    process.exitCode = result.code;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
