// Many OpenID Connect issuers on one loopback server, for the tenant-count sweep: issuer i is
// <url>/issuers/<i>, with its discovery document and its JWKS at <issuer>/.well-known/jwks.json,
// answered after a configurable round trip (as a real identity provider's, over the network),
// and every JWKS fetch counted per issuer.
//
// Each issuer publishes its own key id. The RSA key behind it comes from a pool (default 16 keys,
// issuer i uses key i mod pool): generating a 2048-bit RSA key takes ~200 ms here, 1,000 of them
// over 3 minutes per run. A verifier cannot tell: it caches keys by JWKS URI and kid, and turns
// every issuer's JWK into its own key object, so its work per issuer is that of distinct keys.
import { createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, sendJson } from '../../local/standins/http-util.ts';

export interface MultiIssuer {
  /** Base URL; issuer i is `${url}/issuers/${i}`. */
  readonly url: string;
  issuer(index: number): string;
  /** An RS256 access token of issuer `index`, signed with its key, with its kid. */
  mint(index: number, claims: Record<string, unknown>, expiresInSeconds: number): string;
  /** JWKS fetches since the last reset, over all issuers, and how many distinct issuers were fetched. */
  counters(): { jwksFetches: number; issuersFetched: number };
  resetCounters(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

const ISSUER_PATH = /^\/issuers\/(\d{1,6})(\/\.well-known\/(?:jwks\.json|openid-configuration))$/;
const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function rsaKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, privateKey) =>
      error ? reject(error) : resolve(privateKey),
    ),
  );
}

export async function startMultiIssuer(opts: { keyPool?: number } = {}): Promise<MultiIssuer> {
  const pool = await Promise.all(Array.from({ length: Math.max(1, opts.keyPool ?? 16) }, rsaKey));
  const publicJwks = pool.map((key) => createPublicKey(key).export({ format: 'jwk' }));
  const keyOf = (index: number) => index % pool.length;
  const kidOf = (index: number) => `bench-issuer-${index}-key-1`;
  const fetches = new Map<number, number>();
  let latencyMs = 0;

  function jwks(index: number) {
    const { kty, n, e } = publicJwks[keyOf(index)]!;
    return { keys: [{ kty, n, e, kid: kidOf(index), alg: 'RS256', use: 'sig' }] };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const match = ISSUER_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (req.method !== 'GET' || !match) return sendJson(res, 404, { error: 'not_found' });
    const index = Number(match[1]);
    const issuer = `${server.url}/issuers/${index}`;
    if (match[2] === '/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    fetches.set(index, (fetches.get(index) ?? 0) + 1);
    if (latencyMs > 0) await server.sleep(latencyMs);
    return sendJson(res, 200, jwks(index));
  }

  const server = await listen(handle);
  return {
    url: server.url,
    issuer: (index) => `${server.url}/issuers/${index}`,
    mint(index, claims, expiresInSeconds) {
      const iat = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', typ: 'JWT', kid: kidOf(index) };
      const payload = { iss: `${server.url}/issuers/${index}`, iat, exp: iat + expiresInSeconds, ...claims };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
      return `${input}.${b64url(sign('sha256', Buffer.from(input), pool[keyOf(index)]!))}`;
    },
    counters: () => ({ jwksFetches: [...fetches.values()].reduce((a, b) => a + b, 0), issuersFetched: fetches.size }),
    resetCounters: () => fetches.clear(),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: () => server.close(),
  };
}
