// Rules of the Plaid contract that relate one field of a tenant to another, checked after the
// schema has accepted the file's structure. Each violation carries the path of the field it is
// about, so load-tenants.ts can name tenant, profile and field in one message.
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
// The seed: Balance needs no initialisation, so Plaid rejects it where products are initialised or consented.
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

  for (const field of NO_BALANCE_IN) {
    const index = profile[field]?.indexOf('balance') ?? -1;
    if (index >= 0) add([field, index], '"balance" is not valid here: Plaid initialises Balance with any other product');
  }
  const seenIn = new Map<string, string>();
  for (const field of PRODUCT_ARRAYS) {
    (profile[field] ?? []).forEach((product, i) => {
      const earlier = seenIn.get(product);
      if (earlier) add([field, i], `"${product}" is already listed in ${earlier}: the product arrays must not overlap`);
      else seenIn.set(product, field);
    });
  }

  if (profile.redirect_uri !== undefined) {
    const problem = redirectUriProblem(profile.redirect_uri, allowLoopbackHttp);
    if (problem) add(['redirect_uri'], problem);
  }
  if (profile.webhook !== undefined) {
    const problem = urlProblem(profile.webhook, { allowLoopbackHttp });
    if (problem) add(['webhook'], problem);
  }
  return violations;
}

/** The seed: no query string; https in production; `*` may stand for a subdomain. */
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
        violations.push({ path: [...path, 'name'], message: `must be "${claimName}" like the other tenants of issuer ${issuer}` });
      } else if (values.has(claim.value)) {
        violations.push({ path: [...path, 'value'], message: `"${claim.value}" is already another tenant's value for issuer ${issuer}` });
      } else {
        values.add(claim.value);
      }
    }
  }
  return violations;
}
