// Which tenant a verified token belongs to: its issuer, plus the configured tenant claim where
// tenants share an issuer. Nothing the client sends outside the signed token takes part.
import type { Tenant } from '../config/tenant-schema.ts';
import { ServiceFailure } from './failure.ts';

const COGNITO_ISSUER = /^https:\/\/cognito-idp\.([a-z0-9-]+)\.amazonaws\.com\/([a-z0-9-]+_[A-Za-z0-9]+)$/;

/** The user pool of a Cognito issuer URL, or undefined for any other OIDC issuer. */
export function cognitoUserPoolId(issuer: string): string | undefined {
  return COGNITO_ISSUER.exec(issuer)?.[2];
}

export function resolveTenant(claims: Readonly<Record<string, unknown>>, candidates: readonly Tenant[]): Tenant {
  const tenant =
    candidates.length === 1 && !candidates[0]!.auth.tenant_claim
      ? candidates[0]
      : candidates.find((t) => t.auth.tenant_claim && claims[t.auth.tenant_claim.name] === t.auth.tenant_claim.value);
  if (!tenant) throw new ServiceFailure('unknown_tenant', 'The signed-in user does not belong to a configured tenant.');

  // The issuer's verifier accepts every audience of the tenants sharing it; the token must
  // carry this tenant's own.
  const isCognito = cognitoUserPoolId(tenant.auth.issuer) !== undefined;
  if (isCognito && claims.token_use !== tenant.auth.token_use) {
    throw new ServiceFailure('invalid_token', 'The token is not of the expected kind (id or access).');
  }
  const audiences =
    isCognito && claims.token_use === 'access'
      ? [claims.client_id]
      : Array.isArray(claims.aud)
        ? claims.aud
        : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && tenant.auth.audience.includes(aud))) {
    throw new ServiceFailure('invalid_token', 'The token was not issued for this service.');
  }
  return tenant;
}
