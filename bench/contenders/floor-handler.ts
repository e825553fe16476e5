// The stack's floor: the least any function built on this stack does for a link token. Bundled
// with the product's own esbuild settings (infra/lambda-bundling.ts). On the first invocation it
// reads one secret with the AWS SDK (the bare Secrets Manager client and one command, as the
// product does) and builds a fixed /link/token/create body from it; every invocation then makes
// one keep-alive node:http POST of that body to the Plaid stand-in, reads the JSON answer and
// returns link_token and expiration. No token check, no tenants, no logs, no validation: a cold
// start of this is the floor of the product's cold path, and an invocation of it the floor of the
// product's warm CPU per invocation.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Agent, request } from 'node:http';

const secretsManager = new SecretsManagerClient({});
const agent = new Agent({ keepAlive: true });
const endpoint = new URL('/link/token/create', process.env.PLAID_BASE_URL);

let fixedBody: Promise<string> | undefined;
const body = () =>
  (fixedBody ??= secretsManager
    .send(new GetSecretValueCommand({ SecretId: process.env.FLOOR_SECRET_ID }))
    .then((secret) => {
      const { client_id, secret: plaidSecret } = JSON.parse(secret.SecretString!) as {
        client_id: string;
        secret: string;
      };
      return JSON.stringify({
        client_id,
        secret: plaidSecret,
        client_name: 'Bench Floor',
        user: { client_user_id: 'floor-user' },
        products: ['transactions'],
        country_codes: ['US', 'CA'],
        language: 'en',
      });
    }));

function post(payload: string): Promise<{ status: number; data: { link_token?: string; expiration?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(
      endpoint,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const data = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              link_token?: string;
              expiration?: string;
            };
            resolve({ status: res.statusCode ?? 0, data });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function handler(): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const { status, data } = await post(await body());
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link_token: data.link_token, expiration: data.expiration }),
  };
}
