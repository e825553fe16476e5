// lambda/auth/decompose-fast-path.ts replaces aws-jwt-verify's token decomposition (JSON.parse
// with a prototype-pollution reviver) with a plain parse and a walk removing the same keys. These
// tests fail if the replacement is not in effect, if it ever answers differently from the
// library's decomposeUnverifiedJwt (result or error message), or if a verifier using it accepts
// what it must refuse.
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { JwtExpiredError, JwtInvalidIssuerError, JwtInvalidSignatureError, JwtParseError } from 'aws-jwt-verify/error';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import {
  DECOMPOSE_FAST_PATH_INSTALLED,
  decomposeJwt,
  decomposeJwtForVerify,
} from '../../lambda/auth/decompose-fast-path.ts';
// authenticate.ts is what installs it in the function.
import '../../lambda/auth/authenticate.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const enc = (value: unknown) => b64(JSON.stringify(value));

/** Both decompositions of one input: their results, or their errors' class and message. */
function both(jwt: string) {
  const run = (f: (t: string) => unknown) => {
    try {
      return { ok: f(jwt) };
    } catch (error) {
      return { error: (error as Error).constructor.name, message: (error as Error).message };
    }
  };
  return { library: run(decomposeUnverifiedJwt), ours: run(decomposeJwt) };
}

function assertSame(jwt: string) {
  const { library, ours } = both(jwt);
  assert.deepStrictEqual(ours, library, jwt);
}

test("aws-jwt-verify's verifiers decompose through the fast path once authenticate.ts is loaded", () => {
  assert.equal(DECOMPOSE_FAST_PATH_INSTALLED(), true);
});

test('well-formed and malformed tokens decompose, or fail, exactly as the library decomposes them', () => {
  const sig = 'c2lnbmF0dXJl';
  const header = enc({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
  const cases = [
    '',
    'a.b',
    'a.b.c.d',
    `${header}.${enc({ sub: 'u', iss: 'https://idp', aud: ['x', 'y'], exp: 1, nbf: 0, iat: 0, scope: 's', jti: 'j', nested: { a: [1, { b: 2 }] } })}.${sig}`,
    `${header}.${b64('not json')}.${sig}`,
    `${b64('{"alg":')}.${enc({ sub: 'u' })}.${sig}`,
    `${enc([1])}.${enc({})}.${sig}`,
    `${enc(null)}.${enc({})}.${sig}`,
    `${enc({ alg: 1 })}.${enc({})}.${sig}`,
    `${enc({ kid: {} })}.${enc({})}.${sig}`,
    `${header}.${enc('string')}.${sig}`,
    `${header}.${enc([{}])}.${sig}`,
    ...['exp', 'nbf', 'iat'].flatMap((claim) => [
      `${header}.${enc({ [claim]: '1' })}.${sig}`,
      `${header}.${b64(`{"${claim}":1e999}`)}.${sig}`,
    ]),
    ...['iss', 'sub', 'scope', 'jti'].map((claim) => `${header}.${enc({ [claim]: 1 })}.${sig}`),
    `${header}.${enc({ aud: ['x', 1] })}.${sig}`,
    `${header}.${enc({ aud: { x: 1 } })}.${sig}`,
    // The prototype-pollution guard: own __proto__ and constructor keys removed at every depth.
    `${header}.${b64('{"sub":"u","__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"a":[{"__proto__":{"y":1}}],"b":{"constructor":1,"c":2}}')}.${sig}`,
    `${b64('{"alg":"RS256","__proto__":{"kid":"evil"}}')}.${enc({ sub: 'u' })}.${sig}`,
    // Padding and the standard alphabet's characters, which the regex refuses.
    `${header}=.${enc({ sub: 'u' })}==.${sig}`,
    `${header}.${enc({ sub: 'u' })}.ab+c`,
    `${header}.${enc({ sub: 'u' })}.ab/c`,
    `${header}.${enc({ sub: 'u' })}.`,
  ];
  for (const jwt of cases) assertSame(jwt);
  const guarded = decomposeJwt(cases[cases.length - 6]!);
  assert.equal(Object.hasOwn(guarded.payload, '__proto__'), false);
  assert.equal(Object.hasOwn(guarded.payload, 'constructor'), false);
  assert.equal(({} as Record<string, unknown>).admin, undefined);
  assert.deepStrictEqual(guarded.payload.b, { c: 2 });
});

test('for arbitrary JSON headers and payloads and arbitrary token text, both decompositions agree', () => {
  const jsonText = fc.oneof(
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string(),
  );
  fc.assert(
    fc.property(jsonText, jsonText, fc.stringMatching(/^[A-Za-z0-9_-]{0,12}$/), (h, p, s) =>
      assertSame(`${b64(h)}.${b64(p)}.${s}`),
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string(), (t) => assertSame(t)),
    { numRuns: 300 },
  );
});

test('a verifier using it still accepts a good token and refuses a forged, expired or foreign-issuer one', () => {
  const ISSUER = 'https://idp.example.com';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const verifier = JwtVerifier.create({ issuer: ISSUER, audience: 'app', jwksUri: `${ISSUER}/.well-known/jwks.json` });
  verifier.cacheJwks({
    keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256', use: 'sig' }] as never,
  });
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>) => {
    const input = `${enc({ alg: 'RS256', kid: 'k' })}.${enc({ iss: ISSUER, aud: 'app', sub: 'user-1', iat: now, exp: now + 600, ...claims })}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(rsa.privateKey).toString('base64url')}`;
  };
  assert.equal(verifier.verifySync(sign({})).sub, 'user-1');
  const good = sign({});
  const [h, , s] = good.split('.');
  assert.throws(
    () => verifier.verifySync(`${h}.${enc({ iss: ISSUER, aud: 'app', sub: 'someone-else', exp: now + 600 })}.${s}`),
    JwtInvalidSignatureError,
  );
  assert.throws(() => verifier.verifySync(sign({ exp: now - 3600 })), JwtExpiredError);
  assert.throws(() => verifier.verifySync(sign({ iss: 'https://other.example.com' })), JwtInvalidIssuerError);
  assert.throws(() => verifier.verifySync(`${h}.${b64('{')}.${s}`), JwtParseError);
});

test('the peeked decomposition is what the verifier uses for that very token, once, and never for another', () => {
  const ISSUER = 'https://idp.example.com';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const verifier = JwtVerifier.create({ issuer: ISSUER, audience: 'app', jwksUri: `${ISSUER}/.well-known/jwks.json` });
  verifier.cacheJwks({
    keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256', use: 'sig' }] as never,
  });
  const now = Math.floor(Date.now() / 1000);
  const sign = (sub: string) => {
    const input = `${enc({ alg: 'RS256', kid: 'k' })}.${enc({ iss: ISSUER, aud: 'app', sub, exp: now + 600 })}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(rsa.privateKey).toString('base64url')}`;
  };
  const alice = sign('alice');
  const bob = sign('bob');
  const peeked = decomposeJwtForVerify(alice);
  assert.equal(verifier.verifySync(alice), peeked.payload, 'one decode: the verified claims are the peeked payload');
  assert.notEqual(verifier.verifySync(alice), peeked.payload, 'used once');
  decomposeJwtForVerify(alice);
  assert.equal(verifier.verifySync(bob).sub, 'bob', 'a different token is decoded for itself');
  const [h, , s] = alice.split('.');
  const forged = `${h}.${enc({ iss: ISSUER, aud: 'app', sub: 'mallory', exp: now + 600 })}.${s}`;
  decomposeJwtForVerify(forged);
  assert.throws(
    () => verifier.verifySync(forged),
    JwtInvalidSignatureError,
    'the peeked decomposition is still verified',
  );
});
