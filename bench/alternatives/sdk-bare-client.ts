// Alternative measured by the benchmark: GetSecretValue through the AWS SDK's bare client and
// one command (what lambda/secrets/secrets-manager.ts did before the direct path).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export async function read(secretId: string): Promise<string | undefined> {
  const client = new SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: { requestTimeout: 1500, connectionTimeout: 1500, throwOnRequestTimeout: true },
  });
  return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}
