// The sweep's many-issuer stand-in (bench/lib/issuers.ts) is a real issuer to a real verifier:
// aws-jwt-verify accepts each issuer's tokens against that issuer's JWKS over HTTP, refuses a
// token of one issuer presented as another's, and every JWKS fetch is counted per issuer.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { startMultiIssuer, type MultiIssuer } from '../../bench/lib/issuers.ts';

// aws-jwt-verify's own fetcher speaks only https; the stand-in is plain http on loopback.
const httpFetcher = {
  fetch: (uri: string) =>
    new Promise<ArrayBuffer>((resolve, reject) => {
      request(uri, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        });
      })
        .on('error', reject)
        .end();
    }),
};

let issuers: MultiIssuer;
before(async () => {
  issuers = await startMultiIssuer({ keyPool: 2 });
});
after(async () => {
  await issuers?.close();
});

const verifierOf = (index: number) =>
  JwtRsaVerifier.create(
    {
      issuer: issuers.issuer(index),
      audience: `app-${index}`,
      jwksUri: `${issuers.issuer(index)}/.well-known/jwks.json`,
    },
    { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
  );

test("each issuer's tokens verify against its own JWKS, and each fetch is counted for that issuer", async () => {
  issuers.resetCounters();
  for (const index of [0, 1, 2, 999]) {
    const token = issuers.mint(index, { sub: `user-${index}`, aud: `app-${index}` }, 600);
    const claims = await verifierOf(index).verify(token);
    assert.equal(claims.iss, issuers.issuer(index));
    assert.equal(claims.sub, `user-${index}`);
  }
  assert.deepEqual(issuers.counters(), { jwksFetches: 4, issuersFetched: 4 });
});

test("a token of one issuer is refused by another issuer's verifier, even where both share a pooled key", async () => {
  // Issuers 0 and 2 share key 0 of a pool of 2; the token's iss and kid still tie it to issuer 0.
  const token = issuers.mint(0, { sub: 'user-0', aud: 'app-2' }, 600);
  await assert.rejects(verifierOf(2).verify(token), /[Ii]ssuer/);
});
