// Bearer token → verified identity and tenant. Signature against the issuer's JWKS (cached for
// the life of the execution environment, refetched on an unknown kid), iss, aud or Cognito's
// client_id, exp/nbf with a small grace. Only RS*/ES*/EdDSA verify: alg none and HS* are refused
// by aws-jwt-verify itself. Beyond the library: `sub` and `exp` are required (it checks exp only
// when present and never requires sub), and a token may not live longer than its tenant allows.
// The tenant comes from verified claims only.
import { CognitoJwtVerifier } from 'aws-jwt-verify/cognito-verifier';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwksNotAvailableInCacheError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { Tenant } from '../config/tenant-schema.ts';
import { ServiceFailure } from '../domain/failure.ts';
import { identityFromClaims, type VerifiedIdentity } from '../domain/identity.ts';
import { cognitoUserPoolId, resolveTenant } from '../domain/resolve-tenant.ts';
// Before any verifier runs: RS* signatures checked without Node 24's slow options-object path.
import './signature-fast-path.ts';

export interface Authenticated {
  readonly tenant: Tenant;
  readonly identity: VerifiedIdentity;
}

export type Authenticator = (authorizationHeader: string | undefined) => Promise<Authenticated>;

/** Issuers whose signing keys could not be fetched ahead of the first request. */
export interface KeyPrefetchFailure {
  readonly issuer: string;
  readonly error_name: string;
}

type AnyVerifier = {
  verify(token: string): Promise<Record<string, unknown>>;
  verifySync(token: string): Record<string, unknown>;
  hydrate(): Promise<void>;
};

export function createAuthenticator(opts: {
  tenants: Iterable<Tenant>;
  fetcher: Fetcher;
  graceSeconds: number;
  now?: () => number;
}): Authenticator & { prefetchKeys(): Promise<KeyPrefetchFailure[]> } {
  const now = opts.now ?? Date.now;
  const byIssuer = new Map<string, Tenant[]>();
  for (const tenant of opts.tenants) byIssuer.set(tenant.auth.issuer, [...(byIssuer.get(tenant.auth.issuer) ?? []), tenant]);
  const jwksCache = new SimpleJwksCache({ fetcher: cognitoJwksRedirects(opts.fetcher, byIssuer) });

  const verifiers = new Map<string, AnyVerifier>();
  for (const [issuer, tenants] of byIssuer) verifiers.set(issuer, verifierFor(issuer, tenants, jwksCache, opts.graceSeconds));

  const authenticate: Authenticator = async (authorizationHeader) => {
    const token = bearerToken(authorizationHeader);
    const issuer = unverifiedIssuer(token);
    const verifier = issuer === undefined ? undefined : verifiers.get(issuer);
    if (!issuer || !verifier) throw invalidToken('The token was not issued by a trusted identity provider.');
    let claims: Record<string, unknown>;
    try {
      claims = verifySignedClaims(verifier, token) ?? (await verifier.verify(token));
    } catch (error) {
      throw verificationFailure(error);
    }
    requireSubjectAndExpiry(claims);
    const tenant = resolveTenant(claims, byIssuer.get(issuer) ?? []);
    refuseOverlongLifetime(claims as { exp: number; iat?: number }, tenant.auth.max_token_lifetime_seconds, now() / 1000);
    return { tenant, identity: identityFromClaims(claims) };
  };

  // Fills the JWKS cache for every issuer at once (aws-jwt-verify's hydrate), so that the first
  // request verifies synchronously instead of fetching keys first. A failure only means the first
  // request fetches them as it always could.
  const prefetchKeys = async (): Promise<KeyPrefetchFailure[]> => {
    const issuers = [...verifiers.keys()];
    const settled = await Promise.allSettled(issuers.map((issuer) => verifiers.get(issuer)!.hydrate()));
    return settled.flatMap((result, i) =>
      result.status === 'rejected' ? [{ issuer: issuers[i]!, error_name: result.reason instanceof FetchError ? 'JwksFetchError' : 'Error' }] : [],
    );
  };
  return Object.assign(authenticate, { prefetchKeys });
}

/** The JWKS URI configured for an issuer (the first tenant of the issuer that names one). */
function configuredJwksUri(tenants: readonly Tenant[]): string | undefined {
  return tenants.find((t) => t.auth.jwks_uri)?.auth.jwks_uri;
}

/**
 * aws-jwt-verify's Cognito verifier has no jwksUri option: it always fetches the keys from
 * `<issuer>/.well-known/jwks.json`, in the regional and the issuer-cognito-idp form. Where a
 * tenant names its own jwks_uri (a key mirror, a private network, an emulator), the fetches of
 * those two URIs are sent there instead, so the Cognito verifier keeps every check of its own
 * (token_use, client_id of access tokens, aud of ID tokens) and reads the configured keys.
 */
function cognitoJwksRedirects(fetcher: Fetcher, byIssuer: ReadonlyMap<string, readonly Tenant[]>): Fetcher {
  const redirects = new Map<string, string>();
  for (const [issuer, tenants] of byIssuer) {
    const userPoolId = cognitoUserPoolId(issuer);
    const jwksUri = configuredJwksUri(tenants);
    if (!userPoolId || !jwksUri) continue;
    const region = userPoolId.split('_')[0]!;
    for (const host of [`cognito-idp.${region}.amazonaws.com`, `issuer-cognito-idp.${region}.amazonaws.com`]) {
      redirects.set(`https://${host}/${userPoolId}/.well-known/jwks.json`, jwksUri);
    }
  }
  if (redirects.size === 0) return fetcher;
  return { fetch: (uri, requestOptions, data) => fetcher.fetch(redirects.get(uri) ?? uri, requestOptions, data) };
}

function verifierFor(issuer: string, tenants: Tenant[], jwksCache: SimpleJwksCache, graceSeconds: number): AnyVerifier {
  const audience = [...new Set(tenants.flatMap((t) => t.auth.audience))];
  const jwksUri = configuredJwksUri(tenants);
  const userPoolId = cognitoUserPoolId(issuer);
  if (userPoolId) {
    const tokenUses = new Set(tenants.map((t) => t.auth.token_use));
    // A configured jwks_uri is honoured by the fetcher (cognitoJwksRedirects), not here.
    return CognitoJwtVerifier.create(
      {
        userPoolId,
        clientId: audience,
        // Tenants of one pool may differ; resolveTenant then checks each tenant's own token_use.
        tokenUse: tokenUses.size === 1 ? [...tokenUses][0]! : null,
        graceSeconds,
      },
      { jwksCache },
    ) as unknown as AnyVerifier;
  }
  return JwtVerifier.create(
    { issuer, audience, graceSeconds, jwksUri: jwksUri ?? `${issuer.replace(/\/$/, '')}/.well-known/jwks.json` },
    { jwksCache },
  ) as unknown as AnyVerifier;
}

/**
 * With the issuer's JWKS cached and the token's kid in it (every warm request), verifies
 * synchronously: the same checks as verify() without its promise chain (~15% of the time).
 * Returns undefined when the keys must be fetched first; verify() then does what it always did.
 */
function verifySignedClaims(verifier: AnyVerifier, token: string): Record<string, unknown> | undefined {
  try {
    return verifier.verifySync(token);
  } catch (error) {
    if (error instanceof JwksNotAvailableInCacheError || error instanceof KidNotFoundInJwksError) return undefined;
    throw error;
  }
}

function bearerToken(header: string | undefined): string {
  const match = header === undefined ? null : /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  if (!match) {
    throw new ServiceFailure(header === undefined ? 'missing_token' : 'invalid_token',
      header === undefined ? 'A bearer token is required.' : 'The Authorization header must be "Bearer <token>".');
  }
  return match[1]!;
}

/**
 * The claimed issuer, read only to pick the verifier, which then checks iss like every other
 * claim. A plain decode of the payload: verifySync decomposes the token again anyway, and a
 * second full decomposition (header and payload, JSON parsed through a reviver) was ~15 µs of
 * CPU per warm request in a profile of the benchmark's warm path.
 */
function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split('.');
  let payload: unknown;
  try {
    if (parts.length !== 3) throw new Error('not three parts');
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken('The token is not a well-formed JWT.');
  }
  const iss = payload !== null && typeof payload === 'object' ? (payload as { iss?: unknown }).iss : undefined;
  return typeof iss === 'string' ? iss : undefined;
}

function invalidToken(detail: string, causeName?: string): ServiceFailure {
  return new ServiceFailure('invalid_token', detail, causeName === undefined ? {} : { cause: { name: causeName } });
}

/**
 * A token without a subject would give every such caller of a tenant one shared Plaid
 * client_user_id; a token without exp would never expire (RFC 9068 requires both). The library
 * has already refused a sub that is not a string and an exp that is not a number.
 */
function requireSubjectAndExpiry(claims: Readonly<Record<string, unknown>>): void {
  if (typeof claims.sub !== 'string' || claims.sub.trim() === '') {
    throw invalidToken('The token does not name its subject (sub).', 'JwtWithoutSubject');
  }
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
    throw invalidToken('The token has no expiry (exp).', 'JwtWithoutExpiry');
  }
  // RFC 9068 §2.2: a token an application got for itself (client credentials) names the client as
  // its subject. It has no end user, and all its holders would share one Plaid client_user_id.
  if (typeof claims.client_id === 'string' && claims.sub === claims.client_id) {
    throw invalidToken('The token was issued to an application, not to a signed-in user.', 'JwtWithoutEndUser');
  }
}

/** Clock skew allowed between the identity provider and the function for iat. */
const FUTURE_IAT_TOLERANCE_SECONDS = 300;

/** A stolen long-lived token stays useful for as long as it lives: each tenant bounds that. */
function refuseOverlongLifetime(claims: { exp: number; iat?: number }, maxSeconds: number, nowSeconds: number): void {
  // An iat in the future would shorten the lifetime counted from it (exp − iat) at will.
  if (typeof claims.iat === 'number' && claims.iat > nowSeconds + FUTURE_IAT_TOLERANCE_SECONDS) {
    throw invalidToken('The token claims to be issued in the future.', 'JwtIssuedInFuture');
  }
  const issuedAt = typeof claims.iat === 'number' ? claims.iat : nowSeconds;
  if (claims.exp - issuedAt > maxSeconds) {
    throw invalidToken(`The token lives longer than this tenant allows (${maxSeconds} s).`, 'JwtLifetimeTooLong');
  }
}

// The caller learns that the token was refused and, for the common cases, why; never the token.
// aws-jwt-verify's errors all carry the name "Error" (and minifying renames classes), so they are
// told apart by class and logged by the label written here.
const REFUSAL_DETAILS: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, string, string]> = [
  [JwtExpiredError, 'JwtExpiredError', 'The token has expired.'],
  [JwtNotBeforeError, 'JwtNotBeforeError', 'The token is not valid yet.'],
  [JwtInvalidAudienceError, 'JwtInvalidAudienceError', 'The token was not issued for this service.'],
  [CognitoJwtInvalidClientIdError, 'CognitoJwtInvalidClientIdError', 'The token was not issued for this service.'],
  [CognitoJwtInvalidTokenUseError, 'CognitoJwtInvalidTokenUseError', 'The token is not of the expected kind (id or access).'],
  [JwtInvalidIssuerError, 'JwtInvalidIssuerError', 'The token was not issued by a trusted identity provider.'],
  [JwtInvalidSignatureAlgorithmError, 'JwtInvalidSignatureAlgorithmError', 'The token is signed with an algorithm this service does not accept.'],
  [JwtInvalidSignatureError, 'JwtInvalidSignatureError', 'The token signature is invalid.'],
  [KidNotFoundInJwksError, 'KidNotFoundInJwksError', 'The token is signed by an unknown key.'],
  [WaitPeriodNotYetEndedJwkError, 'WaitPeriodNotYetEndedJwkError', 'The token is signed by an unknown key.'],
  [JwtWithoutValidKidError, 'JwtWithoutValidKidError', 'The token does not name its signing key.'],
];

function verificationFailure(error: unknown): ServiceFailure {
  if (error instanceof FetchError) {
    return new ServiceFailure('upstream_unavailable', "The identity provider's signing keys are unavailable; try again shortly.", {
      cause: { name: 'JwksFetchError' },
    });
  }
  const known = REFUSAL_DETAILS.find(([type]) => error instanceof type);
  return new ServiceFailure('invalid_token', known?.[2] ?? 'The token could not be verified.', {
    cause: { name: known?.[1] ?? 'JwtVerificationError' },
  });
}
