// The tenants as the function holds them: an index built once from a validated tenants file, and
// each tenant parsed and frozen the first time a request needs it. A cold start therefore costs
// the same whether the file names one tenant or a thousand: no schema runs, and the other 999
// tenants stay unparsed strings.
//
// The deploy's asset carries the index precompiled (`tenants.compiled.json`, written by
// infra/lambda-bundling.ts from the file the schema accepted at build). No valibot here: this
// module is on every cold start's path, the schema (load-tenants.ts) only where a raw tenants
// file is given (the local stack, tests), and then loaded on demand.
import { createHash } from 'node:crypto';
import type { ConfigProblem } from './load-tenants.ts';
import type { Tenant, TenantsFile } from './tenant-schema.ts';

/** The first bytes of a compiled tenants form; a tenants file as written starts otherwise. */
export const COMPILED_TENANTS_FORMAT = 'link-token-tenants/1';
export const COMPILED_TENANTS_FILE_NAME = 'tenants.compiled.json';

/** What the function knows of its tenants before a request names one. */
export interface TenantDirectory {
  /** The tenant with this id (parsed and frozen on first use), or undefined. */
  get(id: string): Tenant | undefined;
  /** Ids of the tenants whose tokens carry this `iss`, in file order; undefined for any other issuer. */
  idsOfIssuer(issuer: string): readonly string[] | undefined;
  readonly issuers: readonly string[];
  readonly ids: readonly string[];
  readonly size: number;
  /** Every tenant's allowed origins together: CORS answers before the token names the tenant. */
  readonly anyOrigins: ReadonlySet<string>;
  readonly clientUserIdKeySecretId: string;
  /** Whether some tenant derives client_user_id with the shared HMAC key (then every cold start may need that secret). */
  readonly usesSharedKey: boolean;
  /** Accepted but worth the operator's attention (computed when the file was validated). */
  readonly warnings: readonly ConfigProblem[];
}

/** The compiled form's content: plain JSON, each tenant's config kept as a JSON string until used. */
interface DirectoryPayload {
  readonly client_user_id_key_secret_id: string;
  readonly uses_shared_key: boolean;
  readonly any_origins: readonly string[];
  readonly issuers: Readonly<Record<string, readonly string[]>>;
  readonly tenants: Readonly<Record<string, string>>;
  readonly warnings: readonly ConfigProblem[];
}

interface CompiledHeader {
  readonly format: typeof COMPILED_TENANTS_FORMAT;
  /** The fingerprint of the schema that accepted the file (infra/lambda-bundling.ts). */
  readonly schema: string;
  /** sha-256 of the payload line, so an edit after the build is refused rather than served. */
  readonly sha256: string;
}

/** Builds the index of a file that the schema and the tenant rules have accepted. */
function payloadOf(file: TenantsFile, warnings: readonly ConfigProblem[]): DirectoryPayload {
  const issuers: Record<string, string[]> = {};
  const origins = new Set<string>();
  const tenants: Record<string, string> = {};
  let usesSharedKey = false;
  for (const [id, config] of Object.entries(file.tenants)) {
    (issuers[config.auth.issuer] ??= []).push(id);
    for (const origin of config.allowed_origins) origins.add(origin);
    if (config.client_user_id.strategy === 'hmac-sha256') usesSharedKey = true;
    tenants[id] = JSON.stringify(config);
  }
  return {
    client_user_id_key_secret_id: file.client_user_id_key_secret_id,
    uses_shared_key: usesSharedKey,
    any_origins: [...origins],
    issuers,
    tenants,
    warnings,
  };
}

/** The directory of a file validated in this process (a raw TENANTS_FILE). */
export function directoryOf(file: TenantsFile, warnings: readonly ConfigProblem[]): TenantDirectory {
  return directoryFromPayload(payloadOf(file, warnings));
}

/** The compiled form of a validated file: a header line, then the payload line it fingerprints. */
export function compileTenants(
  file: TenantsFile,
  warnings: readonly ConfigProblem[],
  schemaFingerprint: string,
): string {
  const payload = JSON.stringify(payloadOf(file, warnings));
  const header: CompiledHeader = {
    format: COMPILED_TENANTS_FORMAT,
    schema: schemaFingerprint,
    sha256: sha256(payload),
  };
  return `${JSON.stringify(header)}\n${payload}\n`;
}

export function isCompiledTenants(text: string): boolean {
  return text.startsWith(`{"format":"${COMPILED_TENANTS_FORMAT}"`);
}

export class CompiledTenantsError extends Error {
  constructor(source: string, reason: string) {
    super(
      `Refusing the compiled tenants form ${source}: ${reason}. Rebuild the bundle from the tenants file (cdk synth / npm start) instead of editing the built form.`,
    );
    this.name = 'CompiledTenantsError';
  }
}

/**
 * Reads a compiled form without validating it again: the schema that accepted it at build must
 * be the one this bundle was built with, and its payload unchanged since (its sha-256). That
 * guards against a hand edit or a form from another build, not against someone who can also
 * rewrite index.mjs: both live in the same asset, under the same control.
 */
export function readCompiledTenants(text: string, source: string, expectedSchema: string | undefined): TenantDirectory {
  const newline = text.indexOf('\n');
  let header: CompiledHeader;
  try {
    header = JSON.parse(text.slice(0, newline)) as CompiledHeader;
  } catch {
    throw new CompiledTenantsError(source, 'its header is not valid JSON');
  }
  if (expectedSchema === undefined)
    throw new CompiledTenantsError(
      source,
      'this code was not built with a tenants schema fingerprint (run the bundle, not the sources)',
    );
  if (header.schema !== expectedSchema)
    throw new CompiledTenantsError(source, 'it was validated by another version of the tenants schema');
  const payload = text.slice(newline + 1).trimEnd();
  if (header.sha256 !== sha256(payload))
    throw new CompiledTenantsError(source, 'its content changed after the build (sha-256 mismatch)');
  return directoryFromPayload(JSON.parse(payload) as DirectoryPayload);
}

function directoryFromPayload(payload: DirectoryPayload): TenantDirectory {
  const parsed = new Map<string, Tenant>();
  const ids = Object.keys(payload.tenants);
  return {
    get(id) {
      let tenant = parsed.get(id);
      if (tenant === undefined && Object.hasOwn(payload.tenants, id)) {
        tenant = deepFreeze({ ...(JSON.parse(payload.tenants[id]!) as Omit<Tenant, 'id'>), id });
        parsed.set(id, tenant);
      }
      return tenant;
    },
    idsOfIssuer: (issuer) => (Object.hasOwn(payload.issuers, issuer) ? payload.issuers[issuer] : undefined),
    issuers: Object.keys(payload.issuers),
    ids,
    size: ids.length,
    anyOrigins: new Set(payload.any_origins),
    clientUserIdKeySecretId: payload.client_user_id_key_secret_id,
    usesSharedKey: payload.uses_shared_key,
    warnings: payload.warnings,
  };
}

/**
 * A request builds its Plaid body from a tenant's objects without copying them
 * (link-token-request.ts), so none of them may ever change: frozen all the way down.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
