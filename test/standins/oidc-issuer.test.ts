import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Jwks } from 'aws-jwt-verify/jwk';
import {
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import { startOidcIssuer } from '../../local/standins/oidc-issuer.ts';
import type { OidcIssuer } from '../../local/standins/oidc-issuer.ts';

const AUDIENCE = 'plaid-link-token-api';

let idp: OidcIssuer;

before(async () => {
  idp = await startOidcIssuer();
});
beforeEach(() => idp.resetCounters());
after(() => idp.close());

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

/** The brief's recipe: aws-jwt-verify only fetches over https, so pre-load the JWKS. */
async function preloadedVerifier(issuer: OidcIssuer = idp) {
  const verifier = JwtVerifier.create({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri });
  verifier.cacheJwks((await getJson(issuer.jwksUri)) as unknown as Jwks);
  return verifier;
}

/** A verifier that fetches the JWKS over plain http itself, like the Lambda would against a real IdP. */
function fetchingVerifier(issuer: OidcIssuer = idp) {
  const jwksCache = new SimpleJwksCache({
    fetcher: { fetch: async (uri: string) => (await fetch(uri)).arrayBuffer() },
  });
  return JwtVerifier.create({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri }, { jwksCache });
}

test('discovery document and JWKS are served', async () => {
  const discovery = await getJson(`${idp.url}/.well-known/openid-configuration`);
  assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(discovery.issuer, idp.issuer);
  assert.equal(discovery.jwks_uri, idp.jwksUri);
  assert.equal(discovery.token_endpoint, `${idp.issuer}/token`);
  assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);

  const jwks = await getJson(idp.jwksUri);
  const keys = jwks.keys as Array<Record<string, unknown>>;
  assert.equal(keys.length, 1);
  const [key] = keys;
  assert.equal(key?.kty, 'RSA');
  assert.equal(key?.alg, 'RS256');
  assert.equal(key?.use, 'sig');
  assert.equal(key?.kid, idp.currentKid);
  assert.equal(key?.e, 'AQAB');
  assert.equal(Buffer.from(String(key?.n), 'base64url').length, 256);
  assert.equal(key?.d, undefined, 'private parts must not be published');
  assert.equal(idp.jwksFetches, 1);
});

test('minted tokens verify with aws-jwt-verify (pre-loaded JWKS)', async () => {
  const verifier = await preloadedVerifier();
  const payload = await verifier.verify(idp.mint({ sub: 'user-1', aud: AUDIENCE, email: 'u@example.com' }));
  assert.equal(payload.sub, 'user-1');
  assert.equal(payload.iss, idp.issuer);
  assert.equal(payload.email, 'u@example.com');
  assert.equal((payload.exp as number) - (payload.iat as number), 3600);
});

test('minted tokens verify with a verifier that fetches the JWKS itself', async () => {
  const verifier = fetchingVerifier();
  await verifier.verify(idp.mint({ sub: 'user-1', aud: AUDIENCE }));
  await verifier.verify(idp.mint({ sub: 'user-2', aud: AUDIENCE }));
  assert.equal(idp.jwksFetches, 1, 'the JWKS is cached after the first fetch');
});

test('claims and options shape the token', async () => {
  const verifier = await preloadedVerifier();
  const now = Math.floor(Date.now() / 1000);
  await assert.rejects(
    verifier.verify(idp.mint({ sub: 'u', aud: AUDIENCE }, { expiresInSeconds: -60 })),
    JwtExpiredError,
  );
  await assert.rejects(
    verifier.verify(idp.mint({ sub: 'u', aud: AUDIENCE }, { notBeforeSeconds: 600 })),
    JwtNotBeforeError,
  );
  await assert.rejects(
    verifier.verify(idp.mint({ sub: 'u', aud: AUDIENCE }, { issuedAt: now - 7200 })),
    JwtExpiredError,
  );
  await assert.rejects(verifier.verify(idp.mint({ sub: 'u', aud: 'someone-else' })), JwtInvalidAudienceError);
  await assert.rejects(
    verifier.verify(idp.mint({ sub: 'u', aud: AUDIENCE, iss: 'https://evil.example' })),
    JwtInvalidIssuerError,
  );
  await assert.rejects(
    verifier.verify(idp.mint({ sub: 'u', aud: AUDIENCE }, { omitKid: true })),
    JwtWithoutValidKidError,
  );
  const payload = await verifier.verify(idp.mint({ sub: 'u', aud: AUDIENCE, exp: now + 60 }));
  assert.equal(payload.exp, now + 60);
});

test('forged tokens are rejected', async () => {
  const verifier = await preloadedVerifier();
  const claims = { sub: 'attacker', aud: AUDIENCE };
  // aws-jwt-verify refuses the empty signature segment before it even looks at alg.
  await assert.rejects(verifier.verify(idp.forgeAlgNone(claims)), JwtParseError);
  await assert.rejects(verifier.verify(idp.forgeHs256WithPublicKey(claims)), JwtInvalidSignatureAlgorithmError);
  await assert.rejects(fetchingVerifier().verify(idp.mintWithUnpublishedKey(claims)), KidNotFoundInJwksError);
  await assert.rejects(
    verifier.verify(idp.tamper(idp.mint({ sub: 'user-1', aud: AUDIENCE }))),
    JwtInvalidSignatureError,
  );
  await assert.rejects(
    verifier.verify(idp.tamper(idp.mint({ sub: 'user-1', aud: AUDIENCE }), { sub: 'admin' })),
    JwtInvalidSignatureError,
  );
});

test('forgeries are well-formed, so only their signatures give them away', () => {
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const none = idp.forgeAlgNone({ sub: 'x' }).split('.');
  assert.equal(none.length, 3);
  assert.equal(none[2], '');
  assert.equal(decode(none[0]).alg, 'none');
  assert.equal(decode(none[1]).iss, idp.issuer);

  const hs = idp.forgeHs256WithPublicKey({ sub: 'x' }).split('.');
  assert.equal(decode(hs[0]).alg, 'HS256');
  assert.equal(decode(hs[0]).kid, idp.currentKid);

  const tampered = idp.tamper(idp.mint({ sub: 'user-1' })).split('.');
  assert.equal(decode(tampered[1]).sub, 'user-1-tampered');
});

test('rotateKey publishes the new key and keeps the old one unless dropOld', async () => {
  const other = await startOidcIssuer({ issuerPath: '/realms/dev' });
  try {
    assert.match(other.issuer, /^http:\/\/127\.0\.0\.1:\d+\/realms\/dev$/);
    assert.equal(other.jwksUri, `${other.issuer}/.well-known/jwks.json`);
    const verifier = fetchingVerifier(other);
    const oldToken = other.mint({ sub: 'u', aud: AUDIENCE });
    await verifier.verify(oldToken);

    const newKid = other.rotateKey();
    assert.equal(other.currentKid, newKid);
    const newToken = other.mint({ sub: 'u', aud: AUDIENCE });
    await verifier.verify(newToken); // unknown kid makes the verifier refetch the JWKS
    await verifier.verify(oldToken);
    assert.equal(other.jwksFetches, 2);
    assert.equal(((await getJson(other.jwksUri)).keys as unknown[]).length, 2);

    other.rotateKey({ dropOld: true });
    const keys = (await getJson(other.jwksUri)).keys as Array<{ kid: string }>;
    assert.deepEqual(
      keys.map((k) => k.kid),
      [other.currentKid],
    );
    await assert.rejects(fetchingVerifier(other).verify(oldToken), KidNotFoundInJwksError);
  } finally {
    await other.close();
  }
});

test('the dev token endpoint is off unless configured', async () => {
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 404);
  await res.body?.cancel();
});

test('the dev token endpoint signs in browsers from another origin', async () => {
  const dev = await startOidcIssuer({
    devTokenEndpoint: { audience: AUDIENCE, defaultClaims: { scope: 'link:create' } },
  });
  try {
    const preflight = await fetch(dev.tokenEndpoint, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/i);

    const res = await fetch(dev.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:5173' },
      body: JSON.stringify({ email: 'dev@example.com', claims: { role: 'tester' } }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);

    const payload = await (await preloadedVerifier(dev)).verify(body.access_token);
    assert.equal(payload.sub, 'dev-user-1');
    assert.equal(payload.aud, AUDIENCE);
    assert.equal(payload.email, 'dev@example.com');
    assert.equal(payload.role, 'tester');
    assert.equal(payload.scope, 'link:create');

    const custom = await fetch(dev.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'alice', audience: 'other-api' }),
    });
    const customToken = ((await custom.json()) as { access_token: string }).access_token;
    await assert.rejects((await preloadedVerifier(dev)).verify(customToken), JwtInvalidAudienceError);

    const bad = await fetch(dev.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1]',
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await dev.close();
  }
});
