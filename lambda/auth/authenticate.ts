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
import { identityFromClaims } from '../domain/identity.ts';
import type { Authenticator } from '../domain/ports.ts';
import { cognitoUserPoolId, resolveTenant } from '../domain/resolve-tenant.ts';

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

/** What the authenticator needs of the tenants: who trusts an issuer, and each tenant on demand. */
export interface TenantsByIssuer {
  idsOfIssuer(issuer: string): readonly string[] | undefined;
  get(id: string): Tenant | undefined;
}

export interface IssuerKeys {
  /** Fetches the signing keys of these configured issuers now (the init prefetch); resolves with the ones that failed. */
  prefetchKeys(issuers: readonly string[]): Promise<KeyPrefetchFailure[]>;
}

export function createAuthenticator(opts: {
  tenants: TenantsByIssuer;
  fetcher: Fetcher;
  graceSeconds: number;
  now?: () => number;
  /**
   * Called with the tenant an UNVERIFIED token names (its iss, plus the tenant claim where tenants
   * share an issuer) when its issuer's keys must be fetched first, so the caller can start that
   * tenant's secret reads at the same time: one round trip instead of keys, then secrets. A cache
   * fill only: nothing read because of it is used before the token is verified. An attacker can
   * at most make the function read one configured tenant's secret per cache TTL (an issuer no
   * tenant trusts triggers nothing); that read goes to Secrets Manager, never into a response.
   */
  onKeysFetchedFor?: (tenant: Tenant) => void;
}): Authenticator & IssuerKeys {
  const now = opts.now ?? Date.now;
  // One verifier, JWKS cache and fetcher per issuer, made when the issuer's first token arrives
  // (or by the init prefetch): a thousand tenants cost nothing until they are used, and an
  // issuer's slow or failing key fetch, its timeout and its wait period after an unknown kid are
  // its own; no request of another issuer ever waits on them.
  const issuers = new Map<string, { tenants: readonly Tenant[]; verifier: AnyVerifier }>();
  const issuerEntry = (issuer: string) => {
    let entry = issuers.get(issuer);
    if (entry === undefined) {
      const ids = opts.tenants.idsOfIssuer(issuer);
      if (ids === undefined) return undefined;
      const tenants = ids.map((id) => opts.tenants.get(id)!);
      const jwksCache = new SimpleJwksCache({ fetcher: cognitoJwksRedirect(opts.fetcher, issuer, tenants) });
      entry = { tenants, verifier: verifierFor(issuer, tenants, jwksCache, opts.graceSeconds) };
      issuers.set(issuer, entry);
    }
    return entry;
  };

  const authenticate: Authenticator = async (authorizationHeader) => {
    const token = bearerToken(authorizationHeader);
    const unverified = unverifiedPayload(token);
    const issuer = typeof unverified.iss === 'string' ? unverified.iss : undefined;
    const entry = issuer === undefined ? undefined : issuerEntry(issuer);
    if (!issuer || !entry) throw invalidToken('The token was not issued by a trusted identity provider.');
    let claims: Record<string, unknown>;
    try {
      claims = verifySignedClaims(entry.verifier, token) ?? (await verifyFetchingKeys(entry, unverified, token));
    } catch (error) {
      throw verificationFailure(error);
    }
    requireSubjectAndExpiry(claims);
    const tenant = resolveTenant(claims, entry.tenants);
    refuseOverlongLifetime(
      claims as { exp: number; iat?: number },
      tenant.auth.max_token_lifetime_seconds,
      now() / 1000,
    );
    return { tenant, identity: identityFromClaims(claims) };
  };

  const verifyFetchingKeys = (
    entry: { tenants: readonly Tenant[]; verifier: AnyVerifier },
    unverified: Record<string, unknown>,
    token: string,
  ) => {
    const verifying = entry.verifier.verify(token);
    const named = opts.onKeysFetchedFor && unverifiedTenant(entry.tenants, unverified);
    if (named) opts.onKeysFetchedFor!(named);
    return verifying;
  };

  // aws-jwt-verify's hydrate, per issuer: the first request of a prefetched issuer verifies
  // synchronously. A failure only means that request fetches the keys as it always could.
  const prefetchKeys = async (list: readonly string[]): Promise<KeyPrefetchFailure[]> => {
    const settled = await Promise.allSettled(
      list.map(async (issuer) => {
        await issuerEntry(issuer)?.verifier.hydrate();
      }),
    );
    return settled.flatMap((result, i) =>
      result.status === 'rejected'
        ? [{ issuer: list[i]!, error_name: result.reason instanceof FetchError ? 'JwksFetchError' : 'Error' }]
        : [],
    );
  };
  return Object.assign(authenticate, { prefetchKeys });
}

/**
 * The tenant an unverified token points at, for the speculative secret read only: the issuer's
 * one tenant, or the one whose tenant claim the payload carries. resolveTenant decides for real,
 * from verified claims.
 */
function unverifiedTenant(tenants: readonly Tenant[], payload: Record<string, unknown>): Tenant | undefined {
  if (tenants.length === 1 && !tenants[0]!.auth.tenant_claim) return tenants[0];
  return tenants.find((t) => t.auth.tenant_claim && payload[t.auth.tenant_claim.name] === t.auth.tenant_claim.value);
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
function cognitoJwksRedirect(fetcher: Fetcher, issuer: string, tenants: readonly Tenant[]): Fetcher {
  const userPoolId = cognitoUserPoolId(issuer);
  const jwksUri = configuredJwksUri(tenants);
  if (!userPoolId || !jwksUri) return fetcher;
  const region = userPoolId.split('_')[0]!;
  const redirected = new Set(
    [`cognito-idp.${region}.amazonaws.com`, `issuer-cognito-idp.${region}.amazonaws.com`].map(
      (host) => `https://${host}/${userPoolId}/.well-known/jwks.json`,
    ),
  );
  return {
    fetch: (uri, requestOptions, data) => fetcher.fetch(redirected.has(uri) ? jwksUri : uri, requestOptions, data),
  };
}

function verifierFor(
  issuer: string,
  tenants: readonly Tenant[],
  jwksCache: SimpleJwksCache,
  graceSeconds: number,
): AnyVerifier {
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
    );
  }
  return JwtVerifier.create(
    { issuer, audience, graceSeconds, jwksUri: jwksUri ?? `${issuer.replace(/\/$/, '')}/.well-known/jwks.json` },
    { jwksCache },
  );
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
    throw new ServiceFailure(
      header === undefined ? 'missing_token' : 'invalid_token',
      header === undefined ? 'A bearer token is required.' : 'The Authorization header must be "Bearer <token>".',
    );
  }
  return match[1]!;
}

/**
 * The token's payload, unverified: its iss picks the verifier (which then checks iss like every
 * other claim), and it may name the tenant whose secret to warm (onKeysFetchedFor).
 */
function unverifiedPayload(token: string): Record<string, unknown> {
  const parts = token.split('.');
  let payload: unknown;
  try {
    if (parts.length !== 3) throw new Error('not three parts');
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken('The token is not a well-formed JWT.');
  }
  return payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
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
  [
    CognitoJwtInvalidTokenUseError,
    'CognitoJwtInvalidTokenUseError',
    'The token is not of the expected kind (id or access).',
  ],
  [JwtInvalidIssuerError, 'JwtInvalidIssuerError', 'The token was not issued by a trusted identity provider.'],
  [
    JwtInvalidSignatureAlgorithmError,
    'JwtInvalidSignatureAlgorithmError',
    'The token is signed with an algorithm this service does not accept.',
  ],
  [JwtInvalidSignatureError, 'JwtInvalidSignatureError', 'The token signature is invalid.'],
  [KidNotFoundInJwksError, 'KidNotFoundInJwksError', 'The token is signed by an unknown key.'],
  [WaitPeriodNotYetEndedJwkError, 'WaitPeriodNotYetEndedJwkError', 'The token is signed by an unknown key.'],
  [JwtWithoutValidKidError, 'JwtWithoutValidKidError', 'The token does not name its signing key.'],
];

function verificationFailure(error: unknown): ServiceFailure {
  if (error instanceof FetchError) {
    return new ServiceFailure(
      'upstream_unavailable',
      "The identity provider's signing keys are unavailable; try again shortly.",
      {
        cause: { name: 'JwksFetchError' },
      },
    );
  }
  const known = REFUSAL_DETAILS.find(([type]) => error instanceof type);
  return new ServiceFailure('invalid_token', known?.[2] ?? 'The token could not be verified.', {
    cause: { name: known?.[1] ?? 'JwtVerificationError' },
  });
}
