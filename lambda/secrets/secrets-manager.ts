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
      throw new ServiceFailure('secrets_unavailable', 'Credentials are temporarily unavailable.', {
        cause: secretsErrorSummary(error),
      });
    }
    if (typeof output.SecretString !== 'string') {
      throw new ServiceFailure('secrets_unavailable', 'Credentials are temporarily unavailable.', {
        cause: { name: 'SecretNotAString' },
      });
    }
    return output.SecretString;
  };
}

/** A loggable projection of an SDK error: its name and HTTP status, never its message or request. */
export function secretsErrorSummary(error: unknown): { name: string; status?: number } {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return { name: typeof e?.name === 'string' ? e.name : 'Error', status: e?.$metadata?.httpStatusCode };
}
