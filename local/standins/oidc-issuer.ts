/**
 * Local OpenID Connect issuer: discovery document, JWKS and RS256 token minting, plus
 * forgeries for negative tests and an opt-in dev sign-in endpoint for the browser demo.
 */
import { createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, isPlainObject, listen, parseJson, readBody, sendJson } from './http-util.ts';

export interface MintOptions {
  /** Lifetime from iat (default 3600). Negative values give an already expired token. */
  expiresInSeconds?: number;
  /** Adds nbf = iat + notBeforeSeconds. */
  notBeforeSeconds?: number;
  /** iat in epoch seconds (default now); exp and nbf are relative to it. */
  issuedAt?: number;
  /** Header kid to claim instead of the signing key's own. */
  kid?: string;
  omitKid?: boolean;
}

export interface DevTokenEndpointOptions {
  audience: string;
  defaultClaims?: Record<string, unknown>;
}

export interface OidcIssuerOptions {
  port?: number;
  host?: string;
  /** Path prefix of the issuer, e.g. '/realms/dev'. */
  issuerPath?: string;
  /** Enables POST <issuer>/token (off by default so tests cannot sign in by accident). */
  devTokenEndpoint?: DevTokenEndpointOptions;
}

export interface OidcIssuer {
  url: string;
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  /** kid of the key future mints are signed with. */
  readonly currentKid: string;
  readonly jwksFetches: number;
  resetCounters(): void;
  /** Delay every JWKS answer by ms, like a real identity provider's round trip (0 turns it off). */
  setJwksLatency(ms: number): void;
  mint(claims?: Record<string, unknown>, opts?: MintOptions): string;
  /** New signing key, published alongside the old ones unless dropOld. Returns its kid. */
  rotateKey(opts?: { dropOld?: boolean }): string;
  forgeAlgNone(claims?: Record<string, unknown>): string;
  /** HS256 keyed with the current public key PEM: the RS/HS key-confusion attack. */
  forgeHs256WithPublicKey(claims?: Record<string, unknown>): string;
  mintWithUnpublishedKey(claims?: Record<string, unknown>): string;
  /** Rewrites payload claims (default: sub) and keeps the original signature. */
  tamper(token: string, changes?: Record<string, unknown>): string;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const DEV_TOKEN_LIFETIME_S = 3600;

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const encodeJson = (v: unknown) => b64url(JSON.stringify(v));

function signRs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${encodeJson(header)}.${encodeJson(payload)}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}

export async function startOidcIssuer(opts: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const prefix = normalizePath(opts.issuerPath);
  const devToken = opts.devTokenEndpoint;
  let keys: SigningKey[] = [newKey()];
  let unpublished: SigningKey | undefined;
  let jwksFetches = 0;
  let jwksLatencyMs = 0;

  const current = () => keys.at(-1) as SigningKey;

  function jwks() {
    return {
      keys: keys.map(({ kid, publicKey }) => ({
        ...publicKey.export({ format: 'jwk' }),
        kid,
        alg: 'RS256',
        use: 'sig',
      })),
    };
  }

  function standardClaims(claims: Record<string, unknown>, o: MintOptions = {}): Record<string, unknown> {
    const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
    return {
      iss: issuer,
      iat,
      exp: iat + (o.expiresInSeconds ?? 3600),
      ...(o.notBeforeSeconds !== undefined && { nbf: iat + o.notBeforeSeconds }),
      ...claims,
    };
  }

  function mint(claims: Record<string, unknown> = {}, o: MintOptions = {}): string {
    const key = current();
    const header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' };
    if (!o.omitKid) header.kid = o.kid ?? key.kid;
    return signRs256(header, standardClaims(claims, o), key.privateKey);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const path = pathname.startsWith(`${prefix}/`) ? pathname.slice(prefix.length) : undefined;
    // Browsers fetch discovery and JWKS cross-origin too, so every answer allows any origin.
    res.setHeader('access-control-allow-origin', '*');

    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer,
        jwks_uri: jwksUri,
        token_endpoint: tokenEndpoint,
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['none'],
        claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'email'],
      });
    }
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      jwksFetches++;
      if (jwksLatencyMs > 0) await server.sleep(jwksLatencyMs);
      return sendJson(res, 200, jwks());
    }
    if (path === '/token' && devToken) return devSignIn(req, res, devToken);
    sendJson(res, 404, { error: 'not_found' });
  }

  async function devSignIn(req: IncomingMessage, res: ServerResponse, config: DevTokenEndpointOptions) {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request' }, { allow: 'POST, OPTIONS' });
    let body: unknown;
    try {
      const raw = await readBody(req, 64 * 1024);
      body = raw.length === 0 ? {} : parseJson(raw);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      return sendJson(res, 413, { error: 'invalid_request', error_description: err.message });
    }
    if (!isPlainObject(body)) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'body must be a JSON object' });
    }
    const { sub = 'dev-user-1', email, audience = config.audience, claims = {} } = body;
    if (
      typeof sub !== 'string' ||
      typeof audience !== 'string' ||
      (email !== undefined && typeof email !== 'string') ||
      !isPlainObject(claims)
    ) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'expected {sub?: string, email?: string, audience?: string, claims?: object}',
      });
    }
    const accessToken = mint(
      { ...config.defaultClaims, ...claims, sub, aud: audience, ...(email !== undefined && { email }) },
      { expiresInSeconds: DEV_TOKEN_LIFETIME_S },
    );
    sendJson(
      res,
      200,
      { access_token: accessToken, token_type: 'Bearer', expires_in: DEV_TOKEN_LIFETIME_S },
      { 'cache-control': 'no-store' },
    );
  }

  const server = await listen(handle, opts);
  const issuer = `${server.url}${prefix}`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  const tokenEndpoint = `${issuer}/token`;

  return {
    url: server.url,
    issuer,
    jwksUri,
    tokenEndpoint,
    get currentKid() {
      return current().kid;
    },
    get jwksFetches() {
      return jwksFetches;
    },
    resetCounters() {
      jwksFetches = 0;
    },
    setJwksLatency(ms) {
      jwksLatencyMs = ms;
    },
    mint,
    rotateKey({ dropOld = false } = {}) {
      const key = newKey();
      keys = dropOld ? [key] : [...keys, key];
      return key.kid;
    },
    forgeAlgNone(claims = {}) {
      return `${encodeJson({ alg: 'none', typ: 'JWT', kid: current().kid })}.${encodeJson(standardClaims(claims))}.`;
    },
    forgeHs256WithPublicKey(claims = {}) {
      const key = current();
      const input = `${encodeJson({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${encodeJson(standardClaims(claims))}`;
      const pem = key.publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    },
    mintWithUnpublishedKey(claims = {}) {
      unpublished ??= newKey();
      return signRs256(
        { alg: 'RS256', typ: 'JWT', kid: unpublished.kid },
        standardClaims(claims),
        unpublished.privateKey,
      );
    },
    tamper(token, changes) {
      const [header, payload, signature] = token.split('.');
      if (header === undefined || payload === undefined || signature === undefined)
        throw new Error('not a compact JWT');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const patched = {
        ...claims,
        ...(changes ?? { sub: `${typeof claims.sub === 'string' ? claims.sub : ''}-tampered` }),
      };
      return `${header}.${encodeJson(patched)}.${signature}`;
    },
    close: () => server.close(),
  };
}

function normalizePath(p: string | undefined): string {
  if (!p) return '';
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
