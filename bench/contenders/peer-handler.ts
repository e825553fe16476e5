// The serverless peer: the same job on Lambda, written as a competent team would from Plaid's and
// AWS's documentation. aws-jwt-verify checks the caller's access token against the issuer's JWKS;
// @aws-sdk/client-secrets-manager reads the Plaid credentials once per execution environment
// (cached in module scope, as AWS recommends); the official `plaid` SDK calls /link/token/create;
// link_token and expiration go back to the app. The verified `sub` is the client_user_id.
// Bundled two ways by bench/lib/builds.ts: as CDK's NodejsFunction does by default, and tuned.
//
// What it leaves out that the product does: tenants (one issuer, one audience, one Plaid
// account), origin checks, request body rules, problem+json errors, the HMAC client_user_id and
// its key secret, logs, the early timeout. Each omission makes it faster, never slower.
// The one adaptation to the benchmark: the stand-ins speak plain HTTP on loopback, and
// aws-jwt-verify's default fetcher speaks only HTTPS, so an http:// JWKS URI (loopback only) is
// fetched through node:http with the same response handling; the product fetches over the same
// transport. In production the default fetcher is used as is.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { request } from 'node:http';
import { Configuration, CountryCode, PlaidApi, PlaidEnvironments, Products } from 'plaid';

const loopbackJwks = process.env.JWKS_URI?.startsWith('http://') ?? false;
const httpFetcher = {
  fetch: (uri: string) =>
    new Promise<ArrayBuffer>((resolve, reject) => {
      request(uri, { method: 'GET' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`JWKS: status ${res.statusCode}`));
          const buf = Buffer.concat(chunks);
          resolve(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        });
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    }),
};

const verifier = JwtRsaVerifier.create(
  { issuer: process.env.ISSUER!, audience: process.env.AUDIENCE!, jwksUri: process.env.JWKS_URI },
  loopbackJwks ? { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) } : undefined,
);
const secretsManager = new SecretsManagerClient({});

let plaidClient: Promise<PlaidApi> | undefined;
function plaid(): Promise<PlaidApi> {
  plaidClient ??= secretsManager
    .send(new GetSecretValueCommand({ SecretId: process.env.PLAID_SECRET_ID }))
    .then((secret) => {
      const { client_id, secret: plaidSecret } = JSON.parse(secret.SecretString!) as {
        client_id: string;
        secret: string;
      };
      return new PlaidApi(
        new Configuration({
          basePath: process.env.PLAID_BASE_URL ?? PlaidEnvironments.sandbox,
          baseOptions: {
            headers: { 'PLAID-CLIENT-ID': client_id, 'PLAID-SECRET': plaidSecret, 'Plaid-Version': '2020-09-14' },
          },
        }),
      );
    })
    .catch((error: unknown) => {
      plaidClient = undefined; // the next invocation tries again
      throw error;
    });
  return plaidClient;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const token = /^Bearer (.+)$/.exec(event.headers?.authorization ?? '')?.[1];
  if (!token) return json(401, { message: 'Unauthorized' });
  let sub: string | undefined;
  try {
    sub = (await verifier.verify(token)).sub;
  } catch {
    return json(401, { message: 'Unauthorized' });
  }
  if (!sub) return json(401, { message: 'Unauthorized' });
  try {
    const response = await (
      await plaid()
    ).linkTokenCreate({
      user: { client_user_id: sub },
      client_name: 'Bench App',
      products: [Products.Transactions],
      country_codes: [CountryCode.Us, CountryCode.Ca],
      language: 'en',
    });
    return json(200, { link_token: response.data.link_token, expiration: response.data.expiration });
  } catch (error) {
    console.error(
      'link token creation failed',
      (error as { response?: { data?: unknown } }).response?.data ?? (error as Error).message,
    );
    return json(502, { message: 'Could not create a link token' });
  }
};
