// aws-jwt-verify checks every signature with
//   createVerify(hash).update(input).verify({ key: keyObject, dsaEncoding: 'ieee-p1363' }, sig, 'base64').
// On Node 24 an options object there costs two thrown and caught TypeErrors (node:crypto's
// isKeyObject and isCryptoKey brand-check by trying to read a private slot, since
// nodejs/node#63111), ~40 µs per verification: more than the RS256 verification itself (~27 µs
// on this machine) and the largest single cost of a warm request. For RS256/384/512 the option
// has no effect (it is the ECDSA signature format), so the same Node call with the KeyObject
// itself checks exactly the same signature with exactly the same key. ES* and EdDSA keep the
// library's own call. Everything else (the JWKS, kid and alg checks, the KeyObject cache, every
// claim check) stays aws-jwt-verify's.
//
// The library keeps this function on a module object it does not export (package.json imports
// `#node-web-compat`), so it is reached by its file. A release that moves the file fails the
// build and `tsc`; test/unit/signature-fast-path.test.ts fails if the replacement is not in effect.
import { createVerify, type KeyObject } from 'node:crypto';
// @ts-expect-error aws-jwt-verify ships no types for its internal Node.js compatibility module.
import { nodeWebCompat as untyped } from '../../node_modules/aws-jwt-verify/dist/esm/node-web-compat-node.js';

interface SignatureCheck {
  alg: string;
  keyObject: KeyObject;
  jwsSigningInput: string;
  signature: string;
}
interface NodeWebCompat {
  verifySignatureSync(check: SignatureCheck): boolean;
}

const RSA_HASHES: ReadonlyMap<string, string> = new Map([
  ['RS256', 'RSA-SHA256'],
  ['RS384', 'RSA-SHA384'],
  ['RS512', 'RSA-SHA512'],
]);

const nodeWebCompat = untyped as NodeWebCompat;
const libraryVerify = nodeWebCompat.verifySignatureSync;

/** The library's signature check with the options object left out for RSA (see above). */
export function verifySignature(check: SignatureCheck): boolean {
  const hash = RSA_HASHES.get(check.alg);
  if (hash === undefined) return libraryVerify(check);
  return createVerify(hash).update(check.jwsSigningInput).verify(check.keyObject, check.signature, 'base64');
}

// verifySignatureAsync calls nodeWebCompat.verifySignatureSync too: both paths get it.
nodeWebCompat.verifySignatureSync = verifySignature;

/** Whether aws-jwt-verify now checks signatures through verifySignature (for the test). */
export const SIGNATURE_FAST_PATH_INSTALLED = (): boolean => nodeWebCompat.verifySignatureSync === verifySignature;
