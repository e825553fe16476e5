// The local stack's own knobs (`npm start`), validated before anything listens, in the style of
// the function's settings (lambda/config/settings.ts): one line naming the variable and what it
// may be. The function's settings (REQUEST_BUDGET_MS, LOG_LEVEL, ...) pass through to it and are
// validated by the function itself at its cold start.
import * as v from 'valibot';
import { urlProblem } from '../lambda/config/url-rules.ts';

/** A local-stack mistake the user fixes in their environment: printed as one line, exit code 1. */
export class LocalStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStartError';
  }
}

const port = (what: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, `must be a whole number from 0 to 65535 (0 picks a free port), the port ${what} listens on`),
      v.transform(Number),
      v.maxValue(65_535, `must be a whole number from 0 to 65535 (0 picks a free port), the port ${what} listens on`),
    ),
  );
const wholeNumber = (min: number, max: number, unit: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, `must be a whole number of ${unit} from ${min} to ${max}`),
      v.transform(Number),
      v.minValue(min, `must be a whole number of ${unit} from ${min} to ${max}`),
      v.maxValue(max, `must be a whole number of ${unit} from ${min} to ${max}`),
    ),
  );
const path = v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty('must be a path')));
// Where the local stack sends the function's AWS calls instead of the stand-in.
const endpoint = v.optional(
  v.pipe(
    v.string(),
    v.check((value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, 'must be an http(s) URL such as http://127.0.0.1:5000'),
  ),
);

const LocalKnobsSchema = v.object({
  PORT: port('the API, the demo page and the dev sign-in'),
  HOST: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^(?:[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:]+\]?)$/,
        'must be a host name or IP address to listen on, such as 127.0.0.1 or localhost',
      ),
    ),
  ),
  OIDC_PORT: port("the local OIDC issuer (its JWKS stands in for every tenant's)"),
  TENANTS_FILE: path,
  LOCAL_SECRETS_FILE: path,
  LOCAL_WORK_DIR: path,
  // Lambda's timeout range: 1 s to 15 min.
  LOCAL_FUNCTION_TIMEOUT_MS: wholeNumber(1000, 900_000, 'milliseconds'),
  PLAID_BASE_URL: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => urlProblem(value, { allowLoopbackHttp: true }) === undefined,
        'must be https (http only for loopback hosts)',
      ),
    ),
  ),
  PLAID_CLIENT_ID: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9]+$/, "must be the Plaid client_id from the Dashboard's Keys page (letters and digits)"),
    ),
  ),
  PLAID_SECRET: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9]+$/, "must be the Plaid sandbox secret from the Dashboard's Keys page (letters and digits)"),
    ),
  ),
  AWS_ENDPOINT_URL: endpoint,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
  AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  AWS_ENDPOINT_URL_KMS: endpoint,
  AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
  AWS_REGION: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1')),
  ),
});

export type LocalKnobs = v.InferOutput<typeof LocalKnobsSchema>;

/** The knobs `npm start` reads, each one named in the message when it is wrong. Empty counts as unset. */
export function readLocalKnobs(env: Readonly<Record<string, string | undefined>>): LocalKnobs {
  const given = Object.fromEntries(
    Object.keys(LocalKnobsSchema.entries).flatMap((key) =>
      env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]],
    ),
  );
  const result = v.safeParse(LocalKnobsSchema, given);
  if (!result.success) {
    const issue = result.issues[0];
    const key = String(issue.path?.[0]?.key);
    throw new LocalStartError(`Invalid environment variable ${key}=${JSON.stringify(given[key])}: ${issue.message}`);
  }
  const knobs = result.output;
  if ((knobs.PLAID_CLIENT_ID === undefined) !== (knobs.PLAID_SECRET === undefined)) {
    throw new LocalStartError(
      'PLAID_CLIENT_ID and PLAID_SECRET go together: set both (your Plaid sandbox keys) or neither (the Plaid stand-in).',
    );
  }
  if (knobs.PORT !== undefined && knobs.PORT !== 0 && knobs.PORT === knobs.OIDC_PORT) {
    throw new LocalStartError(
      `PORT and OIDC_PORT are both ${knobs.PORT}: the API and the local OIDC issuer need a port each (OIDC_PORT=0 picks a free one).`,
    );
  }
  if (
    knobs.LOCAL_SECRETS_FILE !== undefined &&
    (knobs.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? knobs.AWS_ENDPOINT_URL) !== undefined
  ) {
    throw new LocalStartError(
      'LOCAL_SECRETS_FILE seeds the local Secrets Manager stand-in, but AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) points the function at another Secrets Manager: unset one of them.',
    );
  }
  return knobs;
}

/**
 * A listen() failure as the user can act on it: the port in use (another `npm start`?), a
 * privileged port, or a HOST that is not an address of this machine. Other errors pass as they are.
 */
export function listenFailure(error: unknown, knob: 'PORT' | 'OIDC_PORT', port: number, host: string): Error {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    const hint =
      knob === 'PORT'
        ? 'another `npm start` running? Stop it, or set PORT to a free port (PORT=0 picks one)'
        : 'set OIDC_PORT to a free port, or leave it unset to pick one';
    return new LocalStartError(`Port ${port} on ${host} is already in use (${knob}): ${hint}.`);
  }
  if (code === 'EACCES')
    return new LocalStartError(
      `Port ${port} on ${host} needs privileges to listen on (${knob}): use a port from 1024 to 65535, or 0 for a free one.`,
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new LocalStartError(`HOST=${host} is not an address of this machine (${code}): use 127.0.0.1 or localhost.`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
