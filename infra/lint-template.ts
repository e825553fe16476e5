// cfn-lint on the templates `cdk synth` wrote: `npm run synth` runs this after the
// synth. Every finding fails unless infra/cfn-lint-acknowledged.json acknowledges it, by rule id
// and template path, with a reason; cdk-nag judges the design, cfn-lint the template as
// CloudFormation will read it (property names and types, values a resource accepts, references).
// cfn-lint is a Python tool, not an npm dependency: without it on PATH this prints one line and
// passes, so synth stays runnable anywhere.
//
//   node infra/lint-template.ts [cloud-assembly-dir (cdk.out)] [--acknowledged <file>]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { PROJECT_ROOT } from './lambda-bundling.ts';

export const ACKNOWLEDGEMENTS_FILE = join(PROJECT_ROOT, 'infra', 'cfn-lint-acknowledged.json');
export const CFN_LINT_COMMAND = 'cfn-lint';

export interface Finding {
  /** cfn-lint's rule id, e.g. W3005. */
  readonly rule: string;
  readonly level: string;
  /** Where in the template, as `Resources/<logical id>/Properties/...`. */
  readonly path: string;
  readonly message: string;
  readonly template: string;
  readonly line: number;
}

const AcknowledgementsSchema = v.object({
  $comment: v.optional(v.string()),
  acknowledged: v.array(
    v.strictObject({
      rule: v.pipe(v.string(), v.regex(/^[EWI]\d{4}$/, 'must be a cfn-lint rule id such as W3005')),
      path: v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9*?]+(\/[^/]+)*$/, 'must be a template path such as Resources/MyFunction*/DependsOn/*'),
      ),
      reason: v.pipe(
        v.string(),
        v.trim(),
        v.minLength(40, 'must say why the finding is acceptable (40 characters or more)'),
      ),
    }),
  ),
});
export type Acknowledgement = v.InferOutput<typeof AcknowledgementsSchema>['acknowledged'][number];

/** The acknowledgements file, checked: a malformed entry or one without a reason fails. */
export function readAcknowledgements(file: string): Acknowledgement[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = v.safeParse(AcknowledgementsSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new Error(`${file}: ${v.getDotPath(issue) ?? '(root)'} ${issue.message}`);
  }
  return parsed.output.acknowledged;
}

/**
 * Whether a template path matches an acknowledgement's pattern: `*` is any characters within
 * one segment (a CDK hash suffix, an index), `?` one character; '/' only matches '/'.
 */
export function pathMatches(pattern: string, path: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '[^/]*')
    .replaceAll('?', '[^/]');
  return new RegExp(`^${source}$`).test(path);
}

export interface Verdict {
  readonly unacknowledged: readonly Finding[];
  readonly acknowledged: ReadonlyArray<{ readonly finding: Finding; readonly by: Acknowledgement }>;
  /** Acknowledgements no finding needed: stale, or for a rule this cfn-lint version lacks. */
  readonly unused: readonly Acknowledgement[];
}

export function judge(findings: readonly Finding[], acknowledgements: readonly Acknowledgement[]): Verdict {
  const used = new Set<Acknowledgement>();
  const unacknowledged: Finding[] = [];
  const acknowledged: Array<{ finding: Finding; by: Acknowledgement }> = [];
  for (const finding of findings) {
    const by = acknowledgements.find((ack) => ack.rule === finding.rule && pathMatches(ack.path, finding.path));
    if (by) {
      used.add(by);
      acknowledged.push({ finding, by });
    } else {
      unacknowledged.push(finding);
    }
  }
  return { unacknowledged, acknowledged, unused: acknowledgements.filter((ack) => !used.has(ack)) };
}

/** The stack templates of a cloud assembly, from its manifest (not every *.template.json lying there). */
export function templatesOf(assemblyDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const templates = Object.values(manifest.artifacts ?? {})
    .filter((artifact) => artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile)
    .map((artifact) => join(assemblyDir, artifact.properties!.templateFile!));
  if (templates.length === 0)
    throw new Error(`${assemblyDir}/manifest.json names no stack template: run cdk synth first.`);
  return templates;
}

/** The part of cfn-lint's `--format json` report read here: a change of its shape fails loudly. */
const CfnLintReportSchema = v.array(
  v.object({
    Rule: v.object({ Id: v.string() }),
    Level: v.string(),
    Location: v.object({
      Path: v.optional(v.array(v.union([v.string(), v.number()]))),
      Start: v.optional(v.object({ LineNumber: v.optional(v.number()) })),
    }),
    Message: v.string(),
    Filename: v.string(),
  }),
);

/** cfn-lint's findings on the templates, or undefined when cfn-lint is not installed. */
export function runCfnLint(templates: readonly string[], command = CFN_LINT_COMMAND): Finding[] | undefined {
  const result = spawnSync(command, ['--format', 'json', '--', ...templates], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error && 'code' in result.error && result.error.code === 'ENOENT') return undefined;
  if (result.error) throw result.error;
  // Exit status is a bit mask of the levels found (2 error, 4 warning, 8 informational); 1 is
  // cfn-lint itself failing, and then stdout holds no report.
  let report: unknown;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(`${command} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
  }
  return v.parse(CfnLintReportSchema, report).map((item) => ({
    rule: item.Rule.Id,
    level: item.Level,
    path: (item.Location.Path ?? []).join('/'),
    message: item.Message,
    template: item.Filename,
    line: item.Location.Start?.LineNumber ?? 0,
  }));
}

const describe = (f: Finding) => `${f.rule} ${f.path} (${basename(f.template)}:${f.line}): ${f.message}`;

export interface LintOptions {
  readonly acknowledgementsFile: string;
  readonly command?: string;
  readonly out?: { write(text: string): unknown };
  readonly err?: { write(text: string): unknown };
}

/** Lints the templates and prints the verdict; returns the process exit code. */
export function lintTemplates(templates: readonly string[], options: LintOptions): number {
  const { acknowledgementsFile, command = CFN_LINT_COMMAND, out = process.stdout, err = process.stderr } = options;
  const acknowledgements = readAcknowledgements(acknowledgementsFile);
  const findings = runCfnLint(templates, command);
  if (findings === undefined) {
    out.write(`cfn-lint: skipped, ${command} is not on PATH (pip install cfn-lint to lint the templates)\n`);
    return 0;
  }
  const { unacknowledged, acknowledged, unused } = judge(findings, acknowledgements);
  const ackFile = relative(process.cwd(), acknowledgementsFile) || acknowledgementsFile;
  for (const ack of unused)
    out.write(`cfn-lint: note: the acknowledgement ${ack.rule} ${ack.path} in ${ackFile} matched no finding\n`);
  const names = templates.map((t) => basename(t)).join(', ');
  if (unacknowledged.length > 0) {
    err.write(`cfn-lint: ${unacknowledged.length} finding(s) in ${names}:\n`);
    for (const finding of unacknowledged) err.write(`  ${describe(finding)}\n`);
    err.write(
      `Fix the template, or acknowledge a finding in ${ackFile} with its rule, path and the reason it is acceptable.\n`,
    );
    return 1;
  }
  out.write(
    `cfn-lint: ${names}: no findings${acknowledged.length ? ` beyond ${acknowledged.length} acknowledged (${[...new Set(acknowledged.map((a) => a.finding.rule))].join(', ')})` : ''}\n`,
  );
  return 0;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { acknowledged: { type: 'string' } }, allowPositionals: true });
  try {
    process.exitCode = lintTemplates(templatesOf(resolve(positionals[0] ?? 'cdk.out')), {
      acknowledgementsFile: resolve(values.acknowledged ?? ACKNOWLEDGEMENTS_FILE),
    });
  } catch (error) {
    process.stderr.write(`cfn-lint: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
