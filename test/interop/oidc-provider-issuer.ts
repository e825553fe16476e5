// oidc-provider (panva's certified OpenID Provider) as a tenant's identity provider, in-process
// on a loopback port. Access tokens are real: a user signs in through the provider's own login
// and consent pages (its development interactions) in an authorization code flow with PKCE and a
// resource indicator, so the provider issues an RFC 9068 JWT access token for the service's
// audience. It can be restarted on the same port with other signing keys (key rotation while
// the function keeps running), and it counts the requests for its JWKS.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type JWK } from 'oidc-provider';

export const APP_CLIENT = { id: 'interop-app', secret: 'interop-app-secret-0123456789abcdef' } as const;
/** A machine client whose tokens the provider issues without `sub`, as some providers do for client credentials. */
export const SUBJECTLESS_CLIENT = { id: 'interop-daemon', secret: 'interop-daemon-secret-0123456789abcdef' } as const;
const REDIRECT_URI = 'http://127.0.0.1/interop-callback';

export interface RealOidcProvider {
  readonly issuer: string;
  readonly jwksUri: string;
  /** GET requests for the JWKS since start (across restarts). */
  readonly jwksRequests: number;
  /** The user signs in as `login` and consents: the code is exchanged for tokens. */
  signIn(login: string): Promise<{ accessToken: string; idToken: string }>;
  /** A client credentials grant for the service's audience. */
  clientCredentials(client: { id: string; secret: string }): Promise<string>;
  /** Stops and starts again on the same port, publishing `keys` and signing with the first. */
  restart(keys: JWK[]): Promise<void>;
  close(): Promise<void>;
}

/** A new private ES256 signing key in JWK form. */
export function signingKey(kid: string): JWK {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256', use: 'sig' };
}

export async function startOidcProvider(opts: {
  keys: JWK[];
  /** The audience (resource indicator) of the access tokens. */
  audience: string;
  /** Claims to be this issuer while listening elsewhere (an impostor); the real issuer URL otherwise. */
  issuer?: string;
}): Promise<RealOidcProvider> {
  let jwksRequests = 0;
  let handle: ReturnType<Provider['callback']> | undefined;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/jwks') jwksRequests++;
    // No kept-alive connections: a client must not reuse a socket that a restart has cut.
    res.setHeader('connection', 'close');
    void handle!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const ownUrl = `http://127.0.0.1:${port}`;
  const issuer = opts.issuer ?? ownUrl;
  handle = createProvider(issuer, opts.keys, opts.audience).callback();

  const tokenRequest = async (params: Record<string, string>) => {
    const res = await fetch(`${ownUrl}/token`, { method: 'POST', body: new URLSearchParams(params) });
    const body = (await res.json()) as Record<string, string>;
    if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    get jwksRequests() {
      return jwksRequests;
    },
    async signIn(login) {
      const code = await authorizationCode(ownUrl, login, opts.audience);
      const tokens = await tokenRequest({
        grant_type: 'authorization_code',
        code: code.code,
        code_verifier: code.verifier,
        redirect_uri: REDIRECT_URI,
        resource: opts.audience,
        client_id: APP_CLIENT.id,
        client_secret: APP_CLIENT.secret,
      });
      return { accessToken: tokens.access_token!, idToken: tokens.id_token! };
    },
    async clientCredentials(client) {
      const tokens = await tokenRequest({
        grant_type: 'client_credentials',
        resource: opts.audience,
        scope: 'link',
        client_id: client.id,
        client_secret: client.secret,
      });
      return tokens.access_token!;
    },
    async restart(keys) {
      await stop(server);
      handle = createProvider(issuer, keys, opts.audience).callback();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    close: () => stop(server),
  };
}

function createProvider(issuer: string, keys: JWK[], audience: string): Provider {
  const ttl = {
    AccessToken: 600,
    ClientCredentials: 600,
    IdToken: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
    AuthorizationCode: 60,
  };
  const configuration: Configuration = {
    clients: [
      {
        client_id: APP_CLIENT.id,
        client_secret: APP_CLIENT.secret,
        grant_types: ['authorization_code', 'client_credentials'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: SUBJECTLESS_CLIENT.id,
        client_secret: SUBJECTLESS_CLIENT.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys },
    // Any login name is an account whose subject is that name.
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    ttl,
    pkce: { required: () => true },
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'link',
          audience,
          accessTokenTTL: ttl.AccessToken,
          accessTokenFormat: 'jwt',
          // The first key signs: a restart with [B, A] signs with B and still publishes A.
          jwt: { sign: { alg: 'ES256', kid: keys[0]!.kid } },
        }),
      },
    },
    formats: {
      customizers: {
        jwt(_ctx, token, jwt) {
          if (token.clientId === SUBJECTLESS_CLIENT.id) delete jwt.payload.sub;
        },
      },
    },
  };
  // oidc-provider warns at construction that its in-memory store and its built-in login pages
  // are for development only; both are exactly what a test wants, so those two lines are dropped.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('quick start development-only')) warn(...args);
  };
  try {
    return new Provider(issuer, configuration);
  } finally {
    console.warn = warn;
  }
}

/**
 * The browser's part of the authorization code flow, done with fetch and a cookie jar: the
 * authorization request, the provider's login page (any login name, as its dev interactions
 * accept), its consent page, and the redirect back carrying the code.
 */
async function authorizationCode(
  baseUrl: string,
  login: string,
  resource: string,
): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const jar = new Map<string, string>();
  const go = async (url: string, form?: Record<string, string>) => {
    const res = await fetch(new URL(url, baseUrl), {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };

  let res = await go(
    `/auth?${new URLSearchParams({
      client_id: APP_CLIENT.id,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid link',
      resource,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    })}`,
  );
  for (let step = 0; step < 12; step++) {
    const location = res.headers.get('location');
    if (location?.startsWith(REDIRECT_URI)) {
      const code = new URL(location).searchParams.get('code');
      if (!code) throw new Error(`the provider redirected back without a code: ${location}`);
      return { code, verifier };
    }
    if (location) {
      await res.arrayBuffer();
      res = await go(location);
      continue;
    }
    const page = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
    if (res.status !== 200 || !action || !prompt)
      throw new Error(`unexpected page from the provider (${res.status}): ${page.slice(0, 300)}`);
    res = await go(action, prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
  }
  throw new Error('the authorization flow did not come back to the redirect URI');
}

function stop(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // A request still in flight must not hold a restart up.
    server.closeAllConnections();
  });
}
