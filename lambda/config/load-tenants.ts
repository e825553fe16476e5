// Validates a tenants file once (cold start, local stack start, cdk synth) and fails fast with
// one message that names tenant, profile and field for every problem found.
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { fieldEntry } from './field-classes.ts';
import { deepFreeze, directoryOf, type TenantDirectory } from './tenant-directory.ts';
import { TenantsFileSchema, type Tenant, type TenantsFile } from './tenant-schema.ts';
import { tenantRuleViolations, tenantWarnings, type ConfigPath } from './tenant-rules.ts';

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

export interface ValidatedTenantsFile {
  readonly file: TenantsFile;
  /** Accepted, but worth the operator's attention (Plaid-deprecated fields, values Plaid adjusts): print or log them. */
  readonly warnings: readonly ConfigProblem[];
}

/** Validates a parsed tenants file: throws TenantConfigError listing every problem, or returns the file and its warnings. */
export function validateTenantsFile(input: unknown, source = '(inline)'): ValidatedTenantsFile {
  const result = v.safeParse(TenantsFileSchema, input);
  if (!result.success) {
    throw new TenantConfigError(
      source,
      result.issues.map((issue) => {
        const problem = problemAt(issuePath(issue), issueMessage(issue));
        if (!isUnknownKey(issue)) return problem;
        const message = unknownFieldMessage(problem);
        return {
          ...problem,
          message: message === problem.message ? withSuggestion(issuePath(issue), message) : message,
        };
      }),
    );
  }
  const violations = tenantRuleViolations(result.output);
  if (violations.length > 0) {
    throw new TenantConfigError(
      source,
      violations.map((violation) => problemAt(violation.path, violation.message)),
    );
  }
  return { file: result.output, warnings: tenantWarnings(result.output).map((w) => problemAt(w.path, w.message)) };
}

/** validateTenantsFile without the warnings. */
export function parseTenantsFile(input: unknown, source = '(inline)'): TenantsFile {
  return validateTenantsFile(input, source).file;
}

/** Reads, parses and validates a tenants file; the warnings are for the caller to print or log. */
export function loadTenantsFile(path: string): ValidatedTenantsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TenantConfigError(path, [
      { message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
  return validateTenantsText(text, path);
}

/** Parses and validates a tenants file's text. */
export function validateTenantsText(text: string, source: string): ValidatedTenantsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TenantConfigError(source, [{ message: `is not valid JSON (${(err as Error).message})` }]);
  }
  return validateTenantsFile(json, source);
}

/** The function's view of a raw tenants file (TENANTS_FILE: the local stack, tests), validated here. */
export function tenantDirectoryFromText(text: string, source: string): TenantDirectory {
  const { file, warnings } = validateTenantsText(text, source);
  return directoryOf(file, warnings);
}

/** loadTenantsFile without the warnings. */
export function readTenantsFile(path: string): TenantsFile {
  return loadTenantsFile(path).file;
}

/** Warnings as printable lines, for `cdk synth` and the local stack. */
export function describeWarnings(source: string, warnings: readonly ConfigProblem[]): string {
  return warnings.length === 0
    ? ''
    : `Warnings for tenants file ${source}:\n${warnings.map((w) => `  - ${describeProblem(w)}`).join('\n')}`;
}

/**
 * The tenants the function serves, frozen all the way down: a request builds its Plaid body from
 * these objects without copying them (link-token-request.ts), so none of them may ever change.
 */
export function tenantsById(file: TenantsFile): ReadonlyMap<string, Tenant> {
  return new Map(Object.entries(file.tenants).map(([id, config]) => [id, deepFreeze({ ...config, id })]));
}

function issuePath(issue: v.BaseIssue<unknown>): ConfigPath {
  return (issue.path ?? []).map((item) => item.key as string | number);
}

function isUnknownKey(issue: v.BaseIssue<unknown>): boolean {
  // valibot reports an unknown key of a strict object at the key itself, with the key as input.
  return issue.kind === 'schema' && issue.type === 'strict_object' && issue.expected === 'never';
}

const EXPECTED: Readonly<Record<string, string>> = {
  Object: 'must be an object',
  Array: 'must be a list',
  string: 'must be a string',
  number: 'must be a number',
  boolean: 'must be true or false',
};

function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (isUnknownKey(issue)) return 'is not a known field (unknown fields are refused, never passed to Plaid)';
  if (issue.input === undefined && issue.kind === 'schema') return 'is required';
  if (
    (issue.type === 'object' || issue.type === 'strict_object' || issue.type === 'array' || issue.type === 'record') &&
    issue.expected
  ) {
    return EXPECTED[issue.expected] ?? issue.message;
  }
  return issue.message;
}

const TENANT_ONLY = new Set(['client_name']);

/** An unknown key that is a Plaid field gets the reason from the classification table. */
function unknownFieldMessage(problem: ConfigProblem): string {
  const entry = problem.field === undefined ? undefined : fieldEntry(problem.field);
  if (!entry || problem.tenant === undefined) return problem.message;
  const inProfile = problem.profile !== undefined;
  // Outside profiles only a tenant's own top-level keys can be Plaid fields (its `auth` is the JWT set-up).
  if (!inProfile && problem.field!.includes('.')) return problem.message;
  switch (entry.class) {
    case 'refused':
      return `is not configurable: ${entry.reason}`;
    case 'derived':
      return `is not configurable, it is derived by the service: ${entry.reason}`;
    case 'client':
      return "is chosen by the client for each request: set the tenant's languages.default and languages.allowed instead";
    case 'configured':
      if (inProfile && TENANT_ONLY.has(problem.field!))
        return 'is set for the tenant, not per profile: move it up to the tenant';
      if (!inProfile && entry.where === 'profile')
        return `is set per profile: move it into profiles.<name>.${problem.field}`;
      return problem.message;
  }
}

/** The parts of a valibot schema walked to find the keys an object knows. */
interface SchemaNode {
  readonly type: string;
  readonly entries?: Readonly<Record<string, SchemaNode>>;
  readonly wrapped?: SchemaNode;
  readonly value?: SchemaNode;
  readonly item?: SchemaNode;
  readonly options?: readonly SchemaNode[];
}

/** The alternatives a schema stands for, optional and nullable wrappers and unions opened. */
function alternatives(schema: SchemaNode): SchemaNode[] {
  if (schema.wrapped) return alternatives(schema.wrapped);
  if (schema.options) return schema.options.flatMap(alternatives);
  return [schema];
}

/** The field names the schema knows for the object at `path` of a tenants file. */
function knownKeysAt(path: ConfigPath): string[] {
  let nodes = [TenantsFileSchema as unknown as SchemaNode];
  for (const key of path) {
    nodes = nodes.flatMap(alternatives).flatMap((node) => {
      if (node.entries) return typeof key === 'string' && Object.hasOwn(node.entries, key) ? [node.entries[key]!] : [];
      if (node.type === 'record' && node.value) return [node.value];
      if (node.type === 'array' && node.item) return [node.item];
      return [];
    });
  }
  return [...new Set(nodes.flatMap(alternatives).flatMap((node) => Object.keys(node.entries ?? {})))];
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known field an unknown one was most likely meant to be: the same name in another case or
 * separator style (clientName, client-name), else the nearest within a few edits. Only reached
 * when a file is refused, so never on a request's path.
 */
export function nearestKnownField(unknown: string, known: readonly string[]): string | undefined {
  const plain = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
  const same = known.find((name) => plain(name) === plain(unknown));
  if (same) return same;
  const allowed = Math.max(1, Math.min(3, Math.floor(unknown.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(unknown, name);
    if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function withSuggestion(path: ConfigPath, message: string): string {
  const unknown = path.at(-1);
  if (typeof unknown !== 'string') return message;
  const suggestion = nearestKnownField(unknown, knownKeysAt(path.slice(0, -1)));
  return suggestion ? `${message}; did you mean '${suggestion}'?` : message;
}
