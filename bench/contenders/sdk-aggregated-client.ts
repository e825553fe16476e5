// Alternative measured by the benchmark: GetSecretValue through the AWS SDK's aggregated,
// SDK-wide SecretsManager class (every command of the service behind one object).
import { SecretsManager } from '@aws-sdk/client-secrets-manager';

export async function read(secretId: string): Promise<string | undefined> {
  const client = new SecretsManager({
    maxAttempts: 2,
    requestHandler: { requestTimeout: 1500, connectionTimeout: 1500, throwOnRequestTimeout: true },
  });
  return (await client.getSecretValue({ SecretId: secretId })).SecretString;
}
