// Reads secret strings from AWS Secrets Manager with bounded time and attempts, so a slow or
// failing Secrets Manager turns into a quick, mapped 503 instead of a hung request. Only the
// bare client and the one command are imported, which keeps the bundle and the cold start small.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceFailure } from '../domain/failure.ts';

export interface SecretsManagerReaderOptions {
  /** Per attempt; the SDK only enforces it with throwOnRequestTimeout. */
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  maxAttempts: number;
  region?: string;
}

export function createSecretsManagerReader(opts: SecretsManagerReaderOptions): (secretId: string) => Promise<string> {
  const client = new SecretsManagerClient({
    region: opts.region,
    maxAttempts: opts.maxAttempts,
    requestHandler: {
      requestTimeout: opts.requestTimeoutMs,
      connectionTimeout: opts.connectionTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return async (secretId) => {
    let output;
    try {
      output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      const cause = secretsErrorSummary(error);
      if (NEEDS_AN_OPERATOR.has(cause.name)) {
        throw new ServiceFailure(
          'misconfigured',
          'The service cannot read its credentials; the operator has been alerted.',
          { cause },
        );
      }
      throw new ServiceFailure('secrets_unavailable', 'Credentials are temporarily unavailable.', { cause });
    }
    if (typeof output.SecretString !== 'string') {
      // Stored as SecretBinary (or empty): no retry will change that, only a put-secret-value.
      throw new ServiceFailure(
        'misconfigured',
        'The service cannot read its credentials; the operator has been alerted.',
        {
          cause: { name: output.SecretBinary === undefined ? 'SecretWithoutValue' : 'SecretIsBinary' },
        },
      );
    }
    return output.SecretString;
  };
}

/**
 * Secrets Manager errors that no retry heals: the secret is missing, scheduled for deletion, or
 * the role may not read it. They are the service's misconfiguration (500), not an outage (503),
 * so clients that retry on 503 do not retry forever. Throttling, 5xx, timeouts and
 * DecryptionFailure (KMS unavailable) stay 503: they heal.
 */
const NEEDS_AN_OPERATOR: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'InvalidRequestException',
  'AccessDeniedException',
]);

/** A loggable projection of an SDK error: its name and HTTP status, never its message or request. */
export function secretsErrorSummary(error: unknown): { name: string; status?: number } {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return { name: typeof e?.name === 'string' ? e.name : 'Error', status: e?.$metadata?.httpStatusCode };
}
