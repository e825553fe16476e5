// Rules of the Plaid contract that relate one field of a tenant to another, checked after the
// schema has accepted the file's structure. Each violation carries the path of the field it is
// about, so load-tenants.ts can name tenant, profile and field in one message.
import { DEPRECATED_CONFIGURED_FIELDS } from './field-classes.ts';
import {
  CRA_PRODUCTS,
  STATEMENTS_MAX_YEARS,
  TRANSACTIONS_DAYS,
  US_ONLY_AUTH_FLAGS,
  type Product,
} from './plaid-vocabulary.ts';
import type { LinkProfile, TenantConfig, TenantsFile } from './tenant-schema.ts';
import { urlProblem } from './url-rules.ts';

export type ConfigPath = ReadonlyArray<string | number>;
export interface RuleViolation {
  readonly path: ConfigPath;
  readonly message: string;
}

const PRODUCT_ARRAYS = [
  'products',
  'required_if_supported_products',
  'optional_products',
  'additional_consented_products',
] as const;
// Plaid's API reference: Balance needs no initialisation, so Plaid rejects it where products are initialised or consented.
const NO_BALANCE_IN = ['products', 'additional_consented_products'] as const;

export function tenantRuleViolations(file: TenantsFile): RuleViolation[] {
  const violations: RuleViolation[] = [];
  for (const [tenantId, tenant] of Object.entries(file.tenants)) {
    const at = (...path: ConfigPath): ConfigPath => ['tenants', tenantId, ...path];
    const add = (path: ConfigPath, message: string) => violations.push({ path, message });
    const allowLoopbackHttp = tenant.plaid.environment === 'sandbox';

    if (!tenant.languages.allowed.includes(tenant.languages.default)) {
      add(at('languages', 'default'), `"${tenant.languages.default}" must also be listed in languages.allowed`);
    }
    for (const field of ['issuer', 'jwks_uri'] as const) {
      const value = tenant.auth[field];
      const problem = value === undefined ? undefined : urlProblem(value, { allowLoopbackHttp });
      if (problem) add(at('auth', field), problem);
    }
    tenant.allowed_origins.forEach((origin, i) => {
      const problem = originProblem(origin, allowLoopbackHttp);
      if (problem) add(at('allowed_origins', i), problem);
    });
    for (const [profileName, profile] of Object.entries(tenant.profiles)) {
      for (const v of profileRuleViolations(profile, tenant)) {
        add(at('profiles', profileName, ...v.path), v.message);
      }
    }
  }
  violations.push(...sharedIssuerViolations(file));
  return violations;
}

function profileRuleViolations(profile: LinkProfile, tenant: TenantConfig): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const add = (path: ConfigPath, message: string) => violations.push({ path, message });
  const allowLoopbackHttp = tenant.plaid.environment === 'sandbox';
  const countryCodes = profile.country_codes ?? tenant.country_codes;
  const inherited =
    profile.country_codes === undefined
      ? ', inherited from the tenant: set country_codes on this profile to override'
      : '';

  for (const field of NO_BALANCE_IN) {
    const index = profile[field]?.indexOf('balance') ?? -1;
    if (index >= 0)
      add([field, index], '"balance" is not valid here: Plaid initialises Balance with any other product');
  }
  const seenIn = new Map<string, string>();
  for (const field of PRODUCT_ARRAYS) {
    (profile[field] ?? []).forEach((product, i) => {
      const earlier = seenIn.get(product);
      if (earlier) add([field, i], `"${product}" is already listed in ${earlier}: the product arrays must not overlap`);
      else seenIn.set(product, field);
    });
  }
  const where = (product: Product) => PRODUCT_ARRAYS.find((field) => profile[field]?.includes(product));
  // additional_consented_products only collects consent: the product is not initialised in Link.
  const initialised = (product: Product) =>
    PRODUCT_ARRAYS.some((field) => field !== 'additional_consented_products' && profile[field]?.includes(product));
  const locate = (product: Product): ConfigPath => {
    const field = where(product)!;
    return [field, profile[field]!.indexOf(product)];
  };

  // Payment Initiation cannot be set up from configuration: each session needs its own payment.
  if (where('payment_initiation')) {
    add(
      locate('payment_initiation'),
      '"payment_initiation" needs a payment_initiation.payment_id or consent_id created for each payment, which this service does not take from clients: Payment Initiation cannot be offered through a profile',
    );
  }

  // Plaid Check (CRA): cra_base_report in products, cra_options and a permissible purpose.
  const craProduct = CRA_PRODUCTS.find((product) => where(product));
  if (craProduct) {
    const found = `(found "${craProduct}" in ${where(craProduct)})`;
    if (!profile.products.includes('cra_base_report')) {
      add(['products'], `must include "cra_base_report" when a Plaid Check (CRA) product is used ${found}`);
    }
    if (!profile.cra_options) add(['cra_options'], `is required with Plaid Check (CRA) products ${found}`);
    if (!profile.consumer_report_permissible_purpose) {
      add(['consumer_report_permissible_purpose'], `is required with Plaid Check (CRA) products ${found}`);
    }
  } else if (profile.consumer_report_permissible_purpose) {
    add(['consumer_report_permissible_purpose'], 'is only valid with Plaid Check (CRA) products (cra_base_report, …)');
  }
  const craDays = profile.cra_options;
  if (craDays?.days_required !== undefined && craDays.days_required > craDays.days_requested) {
    add(['cra_options', 'days_required'], `must not exceed cra_options.days_requested (${craDays.days_requested})`);
  }
  // Plaid's API reference: base_report "is required if assets is included in the products array and the client is CRA-enabled".
  if (profile.cra_enabled && initialised('assets') && !profile.base_report) {
    add(['base_report'], 'is required when products include "assets" and cra_enabled is true');
  }

  // Products whose options object Plaid's API reference requires.
  const requiredObjects = [
    ['statements', 'statements'],
    ['employment', 'employment'],
    ['income_verification', 'income_verification'],
    ['identity_verification', 'identity_verification'],
  ] as const;
  for (const [product, object] of requiredObjects) {
    if (initialised(product) && profile[object] === undefined)
      add([object], `is required with the "${product}" product`);
  }
  if (profile.employment?.employment_source_types.includes('bank') && !profile.employment.bank_employment) {
    add(['employment', 'bank_employment'], 'is required when employment_source_types is ["bank"]');
  }
  if (profile.income_verification?.income_source_types.includes('bank') && !profile.income_verification.bank_income) {
    add(['income_verification', 'bank_income'], 'is required when income_source_types is ["bank"]');
  }
  if (profile.statements) {
    const { start_date: start, end_date: end } = profile.statements;
    if (start > end) add(['statements', 'end_date'], `must not be before start_date (${start})`);
    else if (end > addYears(start, STATEMENTS_MAX_YEARS)) {
      add(
        ['statements', 'end_date'],
        `must be at most two years after start_date (${start}): Plaid returns up to two years of statements`,
      );
    }
  }

  // Country rules: US-only Auth flows, and Identity Verification's one country.
  for (const flag of US_ONLY_AUTH_FLAGS) {
    if (profile.auth?.[flag] === true && !(countryCodes.length === 1 && countryCodes[0] === 'US')) {
      add(
        ['auth', flag],
        `needs country_codes to be ["US"]: Plaid offers this Auth flow only in the US (country_codes is ${JSON.stringify(countryCodes)}${inherited})`,
      );
    }
  }
  if (initialised('identity_verification') && countryCodes.length !== 1) {
    add(
      ['country_codes'],
      `must name exactly one country, where your company is based, for Identity Verification (country_codes is ${JSON.stringify(countryCodes)}${inherited})`,
    );
  }

  if (profile.redirect_uri !== undefined) {
    const problem = redirectUriProblem(profile.redirect_uri, allowLoopbackHttp);
    if (problem) add(['redirect_uri'], problem);
  }
  if (profile.webhook !== undefined && profile.webhook !== 'service') {
    const problem = urlProblem(profile.webhook, { allowLoopbackHttp });
    if (problem) add(['webhook'], problem);
    else if (profile.hosted_link !== undefined || profile.enable_multi_item_link === true) {
      add(
        ['webhook'],
        `must be "service" (or left out) with ${profile.hosted_link !== undefined ? 'hosted_link' : 'enable_multi_item_link'}: the service completes these sessions from Plaid's LINK webhooks, which go to its own receiver`,
      );
    }
  }

  const hostedLink = profile.hosted_link;
  if (hostedLink?.completion_redirect_uri !== undefined) {
    const problem = completionRedirectProblem(
      hostedLink.completion_redirect_uri,
      hostedLink.is_mobile_app === true,
      allowLoopbackHttp,
    );
    if (problem) add(['hosted_link', 'completion_redirect_uri'], problem);
  }
  // Plaid's API reference: "'sms' will deliver via SMS. Must pass user.phone_number. 'email' ... Must pass user.email_address."
  if (hostedLink?.delivery_method === 'sms' && !tenant.prefill.phone_number) {
    add(
      ['hosted_link', 'delivery_method'],
      '"sms" needs user.phone_number: enable prefill.phone_number for this tenant (the number comes from the verified phone_number claim)',
    );
  }
  if (hostedLink?.delivery_method === 'email' && !tenant.prefill.email_address) {
    add(
      ['hosted_link', 'delivery_method'],
      '"email" needs user.email_address: enable prefill.email_address for this tenant (the address comes from the verified email claim)',
    );
  }
  return violations;
}

/**
 * What the service accepts but the operator should hear about: Plaid-deprecated fields (naming
 * their replacement), values Plaid raises to its minimum, and products that need a Plaid user.
 */
export function tenantWarnings(file: TenantsFile): RuleViolation[] {
  const warnings: RuleViolation[] = [];
  for (const [tenantId, tenant] of Object.entries(file.tenants)) {
    for (const [profileName, profile] of Object.entries(tenant.profiles)) {
      const at = (...path: ConfigPath): ConfigPath => ['tenants', tenantId, 'profiles', profileName, ...path];
      for (const [path, replacement] of DEPRECATED_CONFIGURED_FIELDS) {
        if (valueAt(profile, path) !== undefined) {
          warnings.push({
            path: at(...path.split('.')),
            message: `is deprecated by Plaid, replaced by ${replacement}`,
          });
        }
      }
      const days = profile.transactions?.days_requested;
      if (days !== undefined && days < TRANSACTIONS_DAYS.effectiveMin) {
        warnings.push({
          path: at('transactions', 'days_requested'),
          message: `${days} is raised to ${TRANSACTIONS_DAYS.effectiveMin}, Plaid's minimum: the service sends ${TRANSACTIONS_DAYS.effectiveMin} (write ${TRANSACTIONS_DAYS.effectiveMin} to silence this)`,
        });
      }
      // The service creates Plaid users (domain/plaid-users.ts), but Plaid Check also needs the
      // user's identity data at /user/create (consumer_report_user_identity), which it does not hold.
      const craProduct = [...CRA_PRODUCTS].find((product) =>
        PRODUCT_ARRAYS.some((field) => profile[field]?.includes(product)),
      );
      if (craProduct) {
        warnings.push({
          path: at('products'),
          message: `"${craProduct}" needs a Plaid user created with the user's identity (consumer_report_user_identity at /user/create), which this service does not hold: the service creates the Plaid user without it, and Plaid may refuse the consumer report`,
        });
      }
    }
  }
  return warnings;
}

function valueAt(root: unknown, dotted: string): unknown {
  let node = root;
  for (const key of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function addYears(isoDate: string, years: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.toISOString().slice(0, 10);
}

/** Hosted Link's return: https (loopback http in sandbox), or an app's own URL scheme when opened in a mobile app. */
export function completionRedirectProblem(
  value: string,
  isMobileApp: boolean,
  allowLoopbackHttp: boolean,
): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return urlProblem(value, { allowLoopbackHttp });
  if (['javascript:', 'data:', 'file:', 'blob:', 'vbscript:', 'about:', 'ftp:', 'ws:', 'wss:'].includes(url.protocol)) {
    return 'must be https or an app URL scheme such as myapp://plaid-done';
  }
  if (!isMobileApp)
    return 'may use an app URL scheme only with hosted_link.is_mobile_app true; otherwise it must be https';
  return undefined;
}

/** Plaid's API reference: no query string; https in production; `*` may stand for a subdomain. */
export function redirectUriProblem(value: string, allowLoopbackHttp: boolean): string | undefined {
  const problem = urlProblem(value, { allowLoopbackHttp });
  if (problem) return problem;
  const url = new URL(value);
  if (url.search || value.includes('?')) return 'must not contain a query string';
  if (url.hash) return 'must not contain a fragment';
  const labels = url.hostname.split('.');
  if (labels.slice(1).some((label) => label.includes('*')) || (labels[0]?.includes('*') && labels[0] !== '*')) {
    return 'may use * only as a whole leftmost subdomain label, as in https://*.example.com/oauth.html';
  }
  if (labels[0] === '*' && labels.length < 3) return 'a * subdomain wildcard needs a registrable domain after it';
  return undefined;
}

function originProblem(value: string, allowLoopbackHttp: boolean): string | undefined {
  const problem = urlProblem(value, { allowLoopbackHttp });
  if (problem) return problem;
  const url = new URL(value);
  if (url.origin !== value) return `must be a bare origin such as ${url.origin} (no path, no trailing slash)`;
  return undefined;
}

// Tenants that share an issuer are told apart only by a verified claim: each of them must name
// the same claim with its own value, or one tenant's users could be resolved to another.
function sharedIssuerViolations(file: TenantsFile): RuleViolation[] {
  const byIssuer = new Map<string, string[]>();
  for (const [id, tenant] of Object.entries(file.tenants)) {
    byIssuer.set(tenant.auth.issuer, [...(byIssuer.get(tenant.auth.issuer) ?? []), id]);
  }
  const violations: RuleViolation[] = [];
  for (const [issuer, ids] of byIssuer) {
    if (ids.length < 2) continue;
    const claimName = ids.map((id) => file.tenants[id]!.auth.tenant_claim?.name).find(Boolean);
    const values = new Set<string>();
    for (const id of ids) {
      const claim = file.tenants[id]!.auth.tenant_claim;
      const path = ['tenants', id, 'auth', 'tenant_claim'];
      if (!claim) {
        violations.push({ path, message: `is required: tenants ${ids.join(', ')} share the issuer ${issuer}` });
      } else if (claim.name !== claimName) {
        violations.push({
          path: [...path, 'name'],
          message: `must be "${claimName}" like the other tenants of issuer ${issuer}`,
        });
      } else if (values.has(claim.value)) {
        violations.push({
          path: [...path, 'value'],
          message: `"${claim.value}" is already another tenant's value for issuer ${issuer}`,
        });
      } else {
        values.add(claim.value);
      }
    }
  }
  return violations;
}
