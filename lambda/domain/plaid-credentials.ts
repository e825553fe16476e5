// The tenant's Plaid credentials as the operator stores them in its secret (plaid.secret_id):
// {"client_id": "...", "secret": "..."}. The format is the service's, so it is read here, not
// by the secret source that fetched the string.
import * as v from 'valibot';
import { ServiceFailure } from './failure.ts';
import type { PlaidCredentials } from './ports.ts';

const PlaidCredentialsSchema = v.object({
  client_id: v.pipe(v.string(), v.nonEmpty()),
  secret: v.pipe(v.string(), v.nonEmpty()),
});

export function parsePlaidCredentials(secretString: string): PlaidCredentials {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    json = undefined;
  }
  const result = v.safeParse(PlaidCredentialsSchema, json);
  if (!result.success) {
    // The message names the expected shape only; the secret's content never reaches an error.
    throw new ServiceFailure(
      'misconfigured',
      'The tenant\'s Plaid credentials secret is not {"client_id","secret"} JSON.',
    );
  }
  return { client_id: result.output.client_id, secret: result.output.secret };
}
