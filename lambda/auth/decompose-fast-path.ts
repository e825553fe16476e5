// aws-jwt-verify decomposes every token with decomposeUnverifiedJwt, which JSON-parses header and
// payload through a reviver that deletes every object's own `__proto__` and `constructor` keys
// (prototype-pollution guard). On V8 a reviver forces JSON.parse off its fast path: ~9 µs per
// token on this machine, against ~1.6 µs for a plain JSON.parse followed by a walk that deletes
// the same two keys from every object it reaches: the same objects, the same guard.
//
// Everything else of the decomposition is the library's, word for word: the same sanity checks
// in the same order, the same base64 decoding, the same JwtParseError messages (the header and
// payload assertions are not exported, so they are restated here), and the same verify
// parameters (issuer config merged with the call's properties). The replacement is installed on
// JwtVerifierBase.prototype.getVerifyParameters, which verify and verifySync of both JwtVerifier
// and CognitoJwtVerifier call; test/unit/decompose-fast-path.test.ts checks that it answers as
// decomposeUnverifiedJwt does, for well-formed and malformed tokens alike, and that it is in effect.
import { JwtParseError } from 'aws-jwt-verify/error';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import { JwtVerifierBase } from 'aws-jwt-verify/jwt-verifier';

type Json = Record<string, unknown>;
export type DecomposedJwt = ReturnType<typeof decomposeUnverifiedJwt>;

const JWT_REGEX = /^[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}$/;

const isJsonObject = (j: unknown): j is Json => typeof j === 'object' && !Array.isArray(j) && j !== null;

/** Deletes `__proto__` and `constructor` own keys from every object in a parsed JSON value, as the library's reviver does. */
function withoutPrototypeKeys(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) {
      for (const item of value) withoutPrototypeKeys(item);
    } else {
      for (const key of Object.keys(value)) withoutPrototypeKeys((value as Json)[key]);
      Reflect.deleteProperty(value, '__proto__');
      Reflect.deleteProperty(value, 'constructor');
    }
  }
  return value;
}

const safeJsonParse = (s: string): unknown => withoutPrototypeKeys(JSON.parse(s));

function assertJwtHeader(header: unknown): asserts header is Json {
  if (!isJsonObject(header)) throw new JwtParseError('JWT header is not an object');
  if (header.alg !== undefined && typeof header.alg !== 'string')
    throw new JwtParseError('JWT header alg claim is not a string');
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw new JwtParseError('JWT header kid claim is not a string');
}

function assertJwtPayload(payload: unknown): asserts payload is Json {
  if (!isJsonObject(payload)) throw new JwtParseError('JWT payload is not an object');
  if (payload.exp !== undefined && !Number.isFinite(payload.exp))
    throw new JwtParseError('JWT payload exp claim is not a number');
  if (payload.iss !== undefined && typeof payload.iss !== 'string')
    throw new JwtParseError('JWT payload iss claim is not a string');
  if (payload.sub !== undefined && typeof payload.sub !== 'string')
    throw new JwtParseError('JWT payload sub claim is not a string');
  if (
    payload.aud !== undefined &&
    typeof payload.aud !== 'string' &&
    (!Array.isArray(payload.aud) || payload.aud.some((aud) => typeof aud !== 'string'))
  ) {
    throw new JwtParseError('JWT payload aud claim is not a string or array of strings');
  }
  if (payload.nbf !== undefined && !Number.isFinite(payload.nbf))
    throw new JwtParseError('JWT payload nbf claim is not a number');
  if (payload.iat !== undefined && !Number.isFinite(payload.iat))
    throw new JwtParseError('JWT payload iat claim is not a number');
  if (payload.scope !== undefined && typeof payload.scope !== 'string')
    throw new JwtParseError('JWT payload scope claim is not a string');
  if (payload.jti !== undefined && typeof payload.jti !== 'string')
    throw new JwtParseError('JWT payload jti claim is not a string');
}

/** decomposeUnverifiedJwt with the reviver replaced by a plain parse and a walk (see above). */
export function decomposeJwt(jwt: string): DecomposedJwt {
  if (!jwt) throw new JwtParseError('Empty JWT');
  if (typeof jwt !== 'string') throw new JwtParseError('JWT is not a string');
  if (!JWT_REGEX.test(jwt))
    throw new JwtParseError('JWT string does not consist of exactly 3 parts (header, payload, signature)');
  const [headerB64, payloadB64, signatureB64] = jwt.split('.') as [string, string, string];
  // The library's nodeWebCompat.parseB64UrlString: Node's base64 decoder reads both alphabets.
  const headerString = Buffer.from(headerB64, 'base64').toString('utf8');
  const payloadString = Buffer.from(payloadB64, 'base64').toString('utf8');
  let header: unknown;
  try {
    header = safeJsonParse(headerString);
  } catch (err) {
    throw new JwtParseError('Invalid JWT. Header is not a valid JSON object', err);
  }
  assertJwtHeader(header);
  let payload: unknown;
  try {
    payload = safeJsonParse(payloadString);
  } catch (err) {
    throw new JwtParseError('Invalid JWT. Payload is not a valid JSON object', err);
  }
  assertJwtPayload(payload);
  return { header, headerB64, payload, payloadB64, signatureB64 } as DecomposedJwt;
}

interface VerifierInternals {
  getIssuerConfig(issuer: unknown): { jwksUri: string } & Json;
  getVerifyParameters(jwt: string, verifyProperties?: Json): unknown;
}
const base = JwtVerifierBase.prototype as unknown as VerifierInternals;

// The decomposition of the token authenticate.ts just peeked at (its iss picks the verifier),
// handed to that verifier's call with the very same string instead of decoding it a second time.
// A decomposition is a pure function of the string, so this is the object the verifier would
// have made; used once, then dropped.
let peeked: { jwt: string; decomposed: DecomposedJwt } | undefined;

/** decomposeJwt, kept for the next verification of this very token (one decode per request). */
export function decomposeJwtForVerify(jwt: string): DecomposedJwt {
  const decomposed = decomposeJwt(jwt);
  peeked = { jwt, decomposed };
  return decomposed;
}

/** The library's getVerifyParameters with decomposeJwt in place of decomposeUnverifiedJwt. */
function getVerifyParameters(this: VerifierInternals, jwt: string, verifyProperties?: Json) {
  const decomposedJwt = peeked !== undefined && peeked.jwt === jwt ? peeked.decomposed : decomposeJwt(jwt);
  peeked = undefined;
  const issuerConfig = this.getIssuerConfig(decomposedJwt.payload.iss);
  return { decomposedJwt, jwksUri: issuerConfig.jwksUri, verifyProperties: { ...issuerConfig, ...verifyProperties } };
}

base.getVerifyParameters = getVerifyParameters;

/** Whether aws-jwt-verify's verifiers now decompose through decomposeJwt (for the test). */
export const DECOMPOSE_FAST_PATH_INSTALLED = (): boolean => base.getVerifyParameters === getVerifyParameters;
