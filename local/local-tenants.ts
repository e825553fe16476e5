// Any tenants file, run offline. The local stack validates the file as written (the function's
// own loader, so its messages name the user's file), then hands the function a derived copy in
// which every tenant's keys come from the local OIDC issuer, and seeds every secret the file
// names. The function's code is the deployed code: it only ever sees a tenants file.
//
// What the derived copy changes, and why (nothing else is touched):
//   auth.jwks_uri         the local issuer's JWKS, so tokens the dev sign-in signs verify. The
//                         issuer strings stay as written: tokens carry the tenant's own `iss`.
//                         Cognito issuers too: the function sends a Cognito pool's JWKS fetches
//                         to a configured jwks_uri (lambda/auth/authenticate.ts).
//   plaid.environment     "sandbox": locally Plaid is the stand-in or Plaid's sandbox, whose
//                         public tokens say "sandbox", and the tenants rules accept the loopback
//                         http JWKS only for sandbox tenants.
// A tenant whose issuer (or jwks_uri) is already on a loopback host keeps both as written: its
// keys are local already (a test's own issuer, one the user runs), and the dev sign-in refuses
// it, since only that issuer can sign its tokens. The demo tenant's issuer is the local issuer.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadTenantsFile, type ConfigProblem } from '../lambda/config/load-tenants.ts';
import type { Tenant, TenantsFile } from '../lambda/config/tenant-schema.ts';
import { isLoopbackHost } from '../lambda/config/url-rules.ts';
import { CLIENT_USER_ID_KEY_MIN_LENGTH as MIN_KEY_LENGTH } from '../lambda/config/tenant-schema.ts';
import { cognitoUserPoolId } from '../lambda/domain/resolve-tenant.ts';
import { LocalStartError } from './local-settings.ts';

export interface LocalTenants {
  /** The file as validated (defaults filled in), for the dev sign-in and the secrets. */
  readonly file: TenantsFile;
  readonly tenants: ReadonlyMap<string, Tenant>;
  /** The derived tenants file the function loads, in the deploy's format. */
  readonly derived: Record<string, unknown>;
  /** Tenants whose issuer the local issuer stands in for: the dev sign-in mints for these. */
  readonly stoodIn: ReadonlySet<string>;
  readonly warnings: readonly ConfigProblem[];
}

/** Validates the tenants file as written and derives the copy the local function runs with. */
export function localTenants(path: string, local: { issuer: string; jwksUri: string }): LocalTenants {
  const { file, warnings } = loadTenantsFile(path);
  // The file as written (not the parsed output): the derived copy keeps the user's own form.
  const derived = JSON.parse(readFileSync(path, 'utf8')) as {
    tenants: Record<string, { auth: Record<string, unknown>; plaid: Record<string, unknown> }>;
  };
  const stoodIn = new Set<string>();
  for (const [id, tenant] of Object.entries(file.tenants)) {
    const ownLocalKeys =
      tenant.auth.issuer !== local.issuer &&
      [tenant.auth.issuer, tenant.auth.jwks_uri].some(
        (url) => url !== undefined && isLoopbackHost(new URL(url).hostname),
      );
    if (ownLocalKeys) continue;
    stoodIn.add(id);
    derived.tenants[id]!.auth.jwks_uri = local.jwksUri;
    derived.tenants[id]!.plaid.environment = 'sandbox';
  }
  const tenants = new Map(Object.entries(file.tenants).map(([id, config]) => [id, { ...config, id }]));
  return { file, tenants, derived, stoodIn, warnings };
}

/** The secret ids the function will read: each tenant's Plaid secret, and the client_user_id key when a tenant uses hmac-sha256. */
export function namedSecrets(file: TenantsFile): {
  plaid: ReadonlyMap<string, readonly string[]>;
  clientUserIdKey: string | undefined;
} {
  const plaid = new Map<string, string[]>();
  for (const [id, tenant] of Object.entries(file.tenants))
    plaid.set(tenant.plaid.secret_id, [...(plaid.get(tenant.plaid.secret_id) ?? []), id]);
  const usesHmac = Object.values(file.tenants).some((t) => t.client_user_id.strategy === 'hmac-sha256');
  return { plaid, clientUserIdKey: usesHmac ? file.client_user_id_key_secret_id : undefined };
}

export interface PlaidKeys {
  readonly client_id: string;
  readonly secret: string;
}

/** Plaid-shaped sandbox keys: a 24-hex-digit client_id and a 30-hex-digit secret, as the Dashboard shows them. */
export function generatedPlaidKeys(): PlaidKeys {
  return { client_id: randomBytes(12).toString('hex'), secret: randomBytes(15).toString('hex') };
}

/** A random client_user_id HMAC key of the function's minimum length (base64url characters). */
export function generatedClientUserIdKey(): string {
  return randomBytes(Math.ceil((MIN_KEY_LENGTH * 3) / 4))
    .toString('base64url')
    .slice(0, MIN_KEY_LENGTH);
}

/**
 * LOCAL_SECRETS_FILE: a JSON object {secret_id: SecretString}. Values for the secrets the tenants
 * file names are checked for the shape the function needs, so a mistake shows here, not as a 500.
 */
export function readLocalSecretsFile(path: string, named: ReturnType<typeof namedSecrets>): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LocalStartError(
      `LOCAL_SECRETS_FILE ${path} ${code ? `cannot be read (${code})` : `is not valid JSON (${(error as Error).message})`}.`,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new LocalStartError(`LOCAL_SECRETS_FILE ${path} must be a JSON object of {"<secret id>": "<SecretString>"}.`);
  }
  const secrets = new Map<string, string>();
  for (const [id, value] of Object.entries(json)) {
    // Never the value in a message: it may be a real sandbox secret.
    if (typeof value !== 'string')
      throw new LocalStartError(
        `LOCAL_SECRETS_FILE ${path}, secret '${id}': must be a string (the SecretString; Plaid keys as JSON text).`,
      );
    if (named.plaid.has(id) && plaidKeysIn(value) === undefined) {
      throw new LocalStartError(
        `LOCAL_SECRETS_FILE ${path}, secret '${id}' (Plaid keys of tenant ${named.plaid.get(id)!.join(', ')}): must be the JSON text {"client_id":"...","secret":"..."}.`,
      );
    }
    if (id === named.clientUserIdKey && value.length < MIN_KEY_LENGTH) {
      throw new LocalStartError(
        `LOCAL_SECRETS_FILE ${path}, secret '${id}' (the client_user_id key): must be at least ${MIN_KEY_LENGTH} characters.`,
      );
    }
    secrets.set(id, value);
  }
  return secrets;
}

/** Plaid keys from a SecretString, or undefined when it is not {"client_id","secret"} JSON. */
export function plaidKeysIn(secretString: string): PlaidKeys | undefined {
  try {
    const keys = JSON.parse(secretString) as Partial<PlaidKeys>;
    return typeof keys.client_id === 'string' && keys.client_id && typeof keys.secret === 'string' && keys.secret
      ? { client_id: keys.client_id, secret: keys.secret }
      : undefined;
  } catch {
    return undefined;
  }
}

export interface DevTokenRequest {
  readonly tenant: Tenant;
  readonly sub: string;
  readonly email: string;
}

export type DevTokenInputProblem = { readonly field: string; readonly message: string };

const DEV_TOKEN_FIELDS = new Set(['tenant', 'sub', 'email']);

/**
 * The dev sign-in's body: {"tenant"?, "sub"?, "email"?}. The tenant may be left out only when the
 * file has one. What the token says about the tenant (issuer, audience, claims) is the tenant's,
 * never the caller's: any other field is refused.
 */
export function parseDevTokenRequest(
  body: unknown,
  tenants: ReadonlyMap<string, Tenant>,
  stoodIn: ReadonlySet<string>,
): DevTokenRequest | DevTokenInputProblem {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { field: '', message: 'the body must be a JSON object such as {"tenant":"<id>","sub":"<subject>"}' };
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((key) => !DEV_TOKEN_FIELDS.has(key));
  if (unknown !== undefined)
    return {
      field: unknown,
      message:
        "is not a field of the dev sign-in: issuer, audience and claims are the tenant's (tenant, sub and email may be given)",
    };
  const ids = [...tenants.keys()];
  let tenant: Tenant | undefined;
  if (input.tenant === undefined) {
    if (ids.length !== 1)
      return {
        field: 'tenant',
        message: `is required when the tenants file has several tenants: one of ${ids.join(', ')}`,
      };
    tenant = tenants.get(ids[0]!);
  } else {
    tenant = typeof input.tenant === 'string' ? tenants.get(input.tenant) : undefined;
    if (!tenant) return { field: 'tenant', message: `must be a tenant of the tenants file: one of ${ids.join(', ')}` };
  }
  if (!stoodIn.has(tenant!.id)) {
    return {
      field: 'tenant',
      message: `has its own issuer on this machine (${tenant!.auth.issuer}): only that issuer can sign its tokens`,
    };
  }
  if (input.sub !== undefined && (typeof input.sub !== 'string' || input.sub.trim() === '' || input.sub.length > 255)) {
    return { field: 'sub', message: 'must be a non-empty string of at most 255 characters (the signed-in user)' };
  }
  if (input.email !== undefined && (typeof input.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(input.email))) {
    return { field: 'email', message: 'must be an email address' };
  }
  return {
    tenant: tenant!,
    sub: input.sub ?? 'dev-user-1',
    email: input.email ?? 'dev.user@example.com',
  };
}

/** Dev tokens live an hour, or less where the tenant allows less. */
export function devTokenLifetimeSeconds(tenant: Tenant): number {
  return Math.min(3600, tenant.auth.max_token_lifetime_seconds);
}

/**
 * The claims a token of this tenant's identity provider carries: its issuer; its first audience
 * as `aud`, or for a Cognito access token as `client_id` with token_use (Cognito access tokens
 * have no aud); the tenant claim where tenants share the issuer; a verified email for prefill.
 */
export function devTokenClaims(request: DevTokenRequest): Record<string, unknown> {
  const { tenant, sub, email } = request;
  const audience = tenant.auth.audience[0]!;
  const claims: Record<string, unknown> = { iss: tenant.auth.issuer, sub, email, email_verified: true };
  if (cognitoUserPoolId(tenant.auth.issuer) !== undefined) {
    claims.token_use = tenant.auth.token_use;
    if (tenant.auth.token_use === 'access')
      Object.assign(claims, { client_id: audience, username: sub, scope: 'aws.cognito.signin.user.admin' });
    else Object.assign(claims, { aud: audience, 'cognito:username': sub });
  } else {
    claims.aud = audience;
  }
  if (tenant.auth.tenant_claim) claims[tenant.auth.tenant_claim.name] = tenant.auth.tenant_claim.value;
  return claims;
}
