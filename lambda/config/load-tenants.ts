// Validates a tenants file once (cold start, local stack start, cdk synth) and fails fast with
// one message that names tenant, profile and field for every problem found.
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { TenantsFileSchema, type Tenant, type TenantsFile } from './tenant-schema.ts';
import { tenantRuleViolations, type ConfigPath } from './tenant-rules.ts';

export interface ConfigProblem {
  readonly tenant?: string;
  readonly profile?: string;
  readonly field?: string;
  readonly message: string;
}

export class TenantConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(`Invalid tenants file ${source}:\n${problems.map((p) => `  - ${describeProblem(p)}`).join('\n')}`);
    this.name = 'TenantConfigError';
    this.problems = problems;
  }
}

export function describeProblem(p: ConfigProblem): string {
  const where = [
    p.tenant !== undefined && `tenant '${p.tenant}'`,
    p.profile !== undefined && `profile '${p.profile}'`,
    p.field !== undefined && `field '${p.field}'`,
  ].filter(Boolean);
  return `${where.length ? `${where.join(', ')}: ` : ''}${p.message}`;
}

/** Splits a path into the tenant, the profile and the rest, written as a field path. */
export function problemAt(path: ConfigPath, message: string): ConfigProblem {
  let rest = [...path];
  let tenant: string | undefined;
  let profile: string | undefined;
  if (rest[0] === 'tenants' && rest.length > 1) {
    tenant = String(rest[1]);
    rest = rest.slice(2);
    if (rest[0] === 'profiles' && rest.length > 1) {
      profile = String(rest[1]);
      rest = rest.slice(2);
    }
  }
  const field = rest.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${key}` : key),
    '',
  );
  return { tenant, profile, field: field || undefined, message };
}

export function parseTenantsFile(input: unknown, source = '(inline)'): TenantsFile {
  const result = v.safeParse(TenantsFileSchema, input);
  if (!result.success) {
    throw new TenantConfigError(
      source,
      result.issues.map((issue) => problemAt(issuePath(issue), issueMessage(issue))),
    );
  }
  const violations = tenantRuleViolations(result.output);
  if (violations.length > 0) {
    throw new TenantConfigError(source, violations.map((violation) => problemAt(violation.path, violation.message)));
  }
  return result.output;
}

export function readTenantsFile(path: string): TenantsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TenantConfigError(path, [{ message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TenantConfigError(path, [{ message: `is not valid JSON (${(err as Error).message})` }]);
  }
  return parseTenantsFile(json, path);
}

export function tenantsById(file: TenantsFile): ReadonlyMap<string, Tenant> {
  return new Map(Object.entries(file.tenants).map(([id, config]) => [id, { ...config, id }]));
}

function issuePath(issue: v.BaseIssue<unknown>): ConfigPath {
  return (issue.path ?? []).map((item) => item.key as string | number);
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  // valibot reports an unknown key of a strict object at the key itself, with the value as input.
  if (issue.kind === 'schema' && issue.type === 'strict_object' && issue.expected === 'never') {
    return 'is not a known field (unknown fields are refused, never passed to Plaid)';
  }
  if (issue.type === 'object' || issue.type === 'strict_object') {
    if (issue.input === undefined) return 'is required';
  }
  if (issue.input === undefined && issue.kind === 'schema') return 'is required';
  return issue.message;
}
