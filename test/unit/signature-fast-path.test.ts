// lambda/auth/signature-fast-path.ts replaces aws-jwt-verify's signature check for RS* with the
// same Node call minus the options object, which on Node 24 makes node:crypto throw and catch two
// TypeErrors per verification. These tests fail if the replacement is not in effect, if it ever
// answers differently from the library's own call, or if a verifier using it accepts a signature
// it must refuse.
import assert from 'node:assert/strict';
import { createSign, createVerify, generateKeyPairSync, sign as signBytes, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { JwtInvalidSignatureError } from 'aws-jwt-verify/error';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { SIGNATURE_FAST_PATH_INSTALLED, verifySignature } from '../../lambda/auth/signature-fast-path.ts';
// authenticate.ts is what installs it in the function.
import '../../lambda/auth/authenticate.ts';

const ISSUER = 'https://idp.example.com';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function token(
  alg: 'RS256' | 'RS384' | 'RS512' | 'ES256',
  kid: string,
  key: KeyObject,
  claims: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg, kid, typ: 'JWT' })}.${b64({ iss: ISSUER, aud: 'app', sub: 'user-1', iat: now(), exp: now() + 600, ...claims })}`;
  const signature =
    alg === 'ES256'
      ? signBytes('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : createSign(`RSA-SHA${alg.slice(2)}`)
          .update(input)
          .sign(key);
  return `${input}.${signature.toString('base64url')}`;
}

const verifier = JwtVerifier.create({ issuer: ISSUER, audience: 'app', jwksUri: `${ISSUER}/.well-known/jwks.json` });
verifier.cacheJwks({
  keys: [
    ...(['RS256', 'RS384', 'RS512'] as const).map((alg) => ({
      ...rsa.publicKey.export({ format: 'jwk' }),
      kid: `rsa-${alg}`,
      alg,
      use: 'sig',
    })),
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec', alg: 'ES256', use: 'sig' },
  ] as never,
});

test('aws-jwt-verify checks signatures through the fast path once authenticate.ts is loaded', () => {
  assert.equal(SIGNATURE_FAST_PATH_INSTALLED(), true);
});

test('a verifier still accepts good RS256/384/512 and ES256 signatures and refuses altered or foreign ones', () => {
  for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
    assert.equal(verifier.verifySync(token(alg, `rsa-${alg}`, rsa.privateKey)).sub, 'user-1');
    assert.throws(
      () => verifier.verifySync(token(alg, `rsa-${alg}`, otherRsa.privateKey)),
      JwtInvalidSignatureError,
      `${alg} by another key`,
    );
    const good = token(alg, `rsa-${alg}`, rsa.privateKey);
    const [h] = good.split('.');
    const forged = `${h}.${b64({ iss: ISSUER, aud: 'app', sub: 'someone-else', iat: now(), exp: now() + 600 })}.${good.split('.')[2]}`;
    assert.throws(() => verifier.verifySync(forged), JwtInvalidSignatureError, `${alg} payload swapped`);
  }
  assert.equal(verifier.verifySync(token('ES256', 'ec', ec.privateKey)).sub, 'user-1');
  assert.throws(
    () => verifier.verifySync(token('ES256', 'ec', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)),
    JwtInvalidSignatureError,
  );
});

test("the fast path answers as the library's own call does, for good, altered and foreign signatures", () => {
  const library = ({
    alg,
    keyObject,
    jwsSigningInput,
    signature,
  }: {
    alg: string;
    keyObject: KeyObject;
    jwsSigningInput: string;
    signature: string;
  }) =>
    createVerify(`RSA-SHA${alg.slice(2)}`)
      .update(jwsSigningInput)
      .verify({ key: keyObject, dsaEncoding: 'ieee-p1363' }, signature, 'base64');
  for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
    for (const signer of [rsa.privateKey, otherRsa.privateKey]) {
      const [h, p, s] = token(alg, 'k', signer).split('.');
      const flipped = `${s!.slice(0, 10)}${s![10] === 'A' ? 'B' : 'A'}${s!.slice(11)}`;
      for (const [input, signature] of [
        [`${h}.${p}`, s!],
        [`${h}.${p}x`, s!],
        [`${h}.${p}`, flipped],
        [`${h}.${p}`, ''],
      ] as const) {
        // As the library passes it (base64url) and re-encoded as base64.
        for (const sig of [signature, Buffer.from(signature, 'base64url').toString('base64')]) {
          const check = { alg, keyObject: rsa.publicKey, jwsSigningInput: input, signature: sig };
          assert.equal(verifySignature(check), library(check), `${alg} ${input.length} ${sig.length}`);
        }
      }
    }
  }
});
