// Generated tenants files for the tenant-count sweep: n tenants, each with its own issuer (a path
// of the benchmark's multi-issuer stand-in), its own audience, its own browser origin and its own
// Plaid credentials secret, in the deploy's format. Each tenant is shaped like the demo tenant
// (local/demo-tenants.ts) so the per-tenant cost the sweep measures is that of a realistic tenant.
import type { TenantsFileInput } from '../../lambda/config/tenant-schema.ts';

export const SWEEP_CLIENT_USER_ID_KEY_SECRET_ID = 'bench/link-token/client-user-id-key';

/** Zero-padded so that ids sort in index order and every file names its tenants the same way. */
export const tenantId = (index: number): string => `tenant-${String(index).padStart(4, '0')}`;
export const tenantIssuer = (issuersBaseUrl: string, index: number): string =>
  `${issuersBaseUrl.replace(/\/$/, '')}/issuers/${index}`;
export const tenantAudience = (index: number): string => `app-${index}`;
export const tenantOrigin = (index: number): string => `https://tenant-${index}.example.com`;
export const tenantPlaidSecretId = (index: number): string => `bench/plaid/${tenantId(index)}`;

/** The tenants file of `count` tenants, 0 … count-1, pointed at `issuersBaseUrl`. */
export function generateTenantsFile(count: number, issuersBaseUrl: string): TenantsFileInput {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`tenant count must be a positive integer, got ${count}`);
  const tenants: TenantsFileInput['tenants'] = {};
  for (let i = 0; i < count; i++) {
    const origin = tenantOrigin(i);
    tenants[tenantId(i)] = {
      client_name: `Bench Tenant ${i}`,
      plaid: { environment: 'sandbox', secret_id: tenantPlaidSecretId(i) },
      auth: { issuer: tenantIssuer(issuersBaseUrl, i), audience: [tenantAudience(i)], token_use: 'access' },
      allowed_origins: [origin],
      client_user_id: { strategy: 'hmac-sha256' },
      prefill: { email_address: true, phone_number: false },
      languages: { default: 'en', allowed: ['en', 'fr', 'es'] },
      country_codes: ['US', 'CA'],
      profiles: {
        default: {
          products: ['transactions'],
          optional_products: ['liabilities'],
          redirect_uri: `${origin}/oauth-return`,
          android_package_name: 'com.example.bench',
          transactions: { days_requested: 180 },
        },
        payments: {
          products: ['auth'],
          account_filters: { depository: { account_subtypes: ['checking', 'savings'] } },
          redirect_uri: `${origin}/oauth-return`,
          android_package_name: 'com.example.bench',
        },
      },
    };
  }
  return { client_user_id_key_secret_id: SWEEP_CLIENT_USER_ID_KEY_SECRET_ID, tenants };
}

/** Every secret a tenants file of `count` tenants names: the shared HMAC key, then each tenant's Plaid credentials. */
export function sweepSecretIds(count: number): string[] {
  return [SWEEP_CLIENT_USER_ID_KEY_SECRET_ID, ...Array.from({ length: count }, (_, i) => tenantPlaidSecretId(i))];
}

/**
 * Interleaved schedule of the sweep: every run visits each (count, prefetch) cell once, in an
 * order rotated run by run, so no cell always follows the same one (and drifts of the machine's
 * load spread over all cells). Pure, for the unit test.
 */
export function sweepSchedule<C, P>(
  runs: number,
  counts: readonly C[],
  prefetch: readonly P[],
): Array<{ run: number; count: C; prefetch: P }> {
  const cells = counts.flatMap((count) => prefetch.map((p) => ({ count, prefetch: p })));
  const out: Array<{ run: number; count: C; prefetch: P }> = [];
  for (let run = 0; run < runs; run++) {
    const shift = cells.length === 0 ? 0 : run % cells.length;
    const order = [...cells.slice(shift), ...cells.slice(0, shift)];
    if (run % 2 === 1) order.reverse();
    for (const cell of order) out.push({ run, ...cell });
  }
  return out;
}
