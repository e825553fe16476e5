// Tenant fixtures for tests: one minimal valid tenant that each test changes where it matters,
// so a test shows only what it is about.
import { parseTenantsFile, tenantsById } from '../../lambda/config/load-tenants.ts';
import type { Tenant } from '../../lambda/config/tenant-schema.ts';

/** A valid production tenant (as JSON, before validation): one profile, US, English. */
export function minimalTenantConfig(changes: Record<string, unknown> = {}): Record<string, any> {
  return {
    client_name: 'Acme',
    plaid: { environment: 'production', secret_id: 'plaid/acme' },
    auth: { issuer: 'https://idp.acme.com', audience: ['web'] },
    languages: { default: 'en', allowed: ['en'] },
    country_codes: ['US'],
    profiles: { default: { products: ['auth'] } },
    ...changes,
  };
}

/** A tenants file (as JSON) holding these tenants, keyed by id. */
export function tenantsFileOf(tenants: Record<string, unknown>, keySecretId = 'link-token/client-user-id-key') {
  return { client_user_id_key_secret_id: keySecretId, tenants };
}

/** The validated tenant `acme` built from minimalTenantConfig(changes). */
export function acmeTenant(changes: Record<string, unknown> = {}): Tenant {
  return tenantsById(parseTenantsFile(tenantsFileOf({ acme: minimalTenantConfig(changes) }))).get('acme')!;
}
