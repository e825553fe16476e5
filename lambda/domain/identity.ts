// The verified identity of the app user, as the domain needs it: no token, no raw claims.

export interface VerifiedIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** Present only when the identity provider marked it verified. */
  readonly verifiedEmail?: string;
  /** E.164, present only when the identity provider marked it verified. */
  readonly verifiedPhone?: string;
  /** All verified claims, for tenant resolution by a configured claim. */
  readonly claims: Readonly<Record<string, unknown>>;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Identity providers disagree on the type: Cognito ID tokens carry "true", most others true.
const isTrue = (value: unknown) => value === true || value === 'true';

export function identityFromClaims(claims: Readonly<Record<string, unknown>>): VerifiedIdentity {
  const email = claims.email;
  const phone = claims.phone_number;
  return {
    issuer: String(claims.iss),
    subject: String(claims.sub),
    verifiedEmail: typeof email === 'string' && EMAIL.test(email) && isTrue(claims.email_verified) ? email : undefined,
    verifiedPhone:
      typeof phone === 'string' && E164.test(phone) && isTrue(claims.phone_number_verified) ? phone : undefined,
    claims,
  };
}
