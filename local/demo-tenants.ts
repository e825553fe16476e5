// The demo tenant the local stack runs with when no TENANTS_FILE is given: a tenants file in
// the deploy's format, pointed at the local OIDC issuer and the local page's origins.
import type { TenantsFileInput } from '../lambda/config/tenant-schema.ts';

export const DEMO_AUDIENCE = 'demo-web-app';
export const DEMO_PLAID_SECRET_ID = 'local/plaid/demo';
export const DEMO_KEY_SECRET_ID = 'local/link-token/client-user-id-key';

export function demoTenantsFile(opts: {
  issuer: string;
  origins: string[];
  withOAuthRedirect: boolean;
}): TenantsFileInput {
  const pageOrigin = opts.origins[0]!;
  return {
    client_user_id_key_secret_id: DEMO_KEY_SECRET_ID,
    tenants: {
      demo: {
        client_name: 'Demo Budget App',
        plaid: { environment: 'sandbox', secret_id: DEMO_PLAID_SECRET_ID },
        auth: { issuer: opts.issuer, audience: [DEMO_AUDIENCE], token_use: 'access' },
        allowed_origins: opts.origins,
        client_user_id: { strategy: 'hmac-sha256' },
        prefill: { email_address: true, phone_number: false },
        languages: { default: 'en', allowed: ['en', 'fr', 'es'] },
        country_codes: ['US', 'CA'],
        profiles: {
          default: {
            products: ['transactions'],
            optional_products: ['liabilities'],
            // The service's own receiver: verified webhooks keep Item health and reach the event bus.
            webhook: 'service',
            // Plaid's real sandbox accepts only redirect URIs registered in its Dashboard.
            ...(opts.withOAuthRedirect ? { redirect_uri: `${pageOrigin}/oauth-return` } : {}),
            android_package_name: 'com.example.demo',
            transactions: { days_requested: 180 },
          },
          // Hosted Link: Plaid hosts the Link page (hosted_link_url) and tells the service how the
          // session ended by webhook (LINK ITEM_ADD_RESULT, SESSION_FINISHED) to its own receiver.
          hosted: {
            products: ['transactions'],
            webhook: 'service',
            hosted_link: { url_lifetime_seconds: 1800 },
            android_package_name: 'com.example.demo',
          },
          payments: {
            products: ['auth'],
            account_filters: { depository: { account_subtypes: ['checking', 'savings'] } },
            ...(opts.withOAuthRedirect ? { redirect_uri: `${pageOrigin}/oauth-return` } : {}),
            android_package_name: 'com.example.demo',
          },
        },
      },
    },
  };
}
