// GetSecretValue through the AWS SDK's bare client and one command, configured as
// lambda/secrets/secrets-manager.ts configures it: the benchmark's "SDK alone" cold floor and its
// module-first / CommonJS comparison.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export async function read(secretId: string): Promise<string | undefined> {
  const client = new SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: { requestTimeout: 1500, connectionTimeout: 1500, throwOnRequestTimeout: true },
  });
  return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}
