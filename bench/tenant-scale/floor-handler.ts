// The stack's cold floor for bench/tenant-scale-probe.ts: what any function on this stack does
// for a first link token, and nothing more. One secret read with the SDK, one keep-alive POST of
// a fixed body to Plaid with its JSON read; bundled with the function's own settings.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import http from 'node:http';

const client = new SecretsManagerClient({});
const agent = new http.Agent({ keepAlive: true });

export async function handler(): Promise<{ statusCode: number; body: string }> {
  const secret = await client.send(new GetSecretValueCommand({ SecretId: process.env.FLOOR_SECRET_ID }));
  const { client_id, secret: plaidSecret } = JSON.parse(secret.SecretString!) as { client_id: string; secret: string };
  const body = JSON.stringify({
    client_id,
    secret: plaidSecret,
    client_name: 'Floor',
    user: { client_user_id: 'floor-user' },
    products: ['auth'],
    country_codes: ['US'],
    language: 'en',
  });
  const url = new URL('/link/token/create', process.env.PLAID_BASE_URL);
  const answer = await new Promise<string>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  const { link_token, expiration } = JSON.parse(answer) as { link_token: string; expiration: string };
  return { statusCode: 200, body: JSON.stringify({ link_token, expiration }) };
}
