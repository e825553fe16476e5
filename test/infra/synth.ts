// Synthesizes the CDK app in-process as `cdk synth` does: same app factory, same context flags
// from cdk.json, cdk-nag included (a finding makes synth throw). Each test file synthesizes once
// and shares the result, because bundling the function takes a moment.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { createLinkTokenApp } from '../../infra/app.ts';
import type { LinkTokenStack } from '../../infra/link-token-stack.ts';

export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
).context;

export interface Synthesized {
  readonly stack: LinkTokenStack;
  readonly template: Template;
  /** The template as JSON, for questions assertions cannot phrase. */
  readonly json: {
    Resources: Record<string, { Type: string; Properties?: any; Metadata?: any; DeletionPolicy?: string }>;
    Outputs?: any;
  };
  readonly outdir: string;
}

export function synthesize(context: Record<string, unknown>): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'link-token-cdk-'));
  const { app, stack } = createLinkTokenApp({ context: { ...CDK_JSON_CONTEXT, ...context }, outdir });
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template;
  return { stack, template: Template.fromJSON(json), json, outdir };
}

/** Logical ids of the resources of `type` whose Properties match `predicate`. */
export function logicalIds(
  s: Synthesized,
  type: string,
  predicate: (properties: any) => boolean = () => true,
): string[] {
  return Object.entries(s.json.Resources)
    .filter(([, resource]) => resource.Type === type && predicate(resource.Properties ?? {}))
    .map(([id]) => id);
}

/** Every IAM policy statement attached to the role with this logical id. */
export function statementsOfRole(s: Synthesized, roleLogicalId: string): any[] {
  return Object.values(s.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((role: any) => role.Ref === roleLogicalId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

/** cdk-nag's findings in the validation report CDK writes next to the templates. */
export function validationViolations(s: Synthesized): unknown[] {
  const report = JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8'));
  return report.pluginReports.flatMap((plugin: { violations: unknown[] }) => plugin.violations);
}

/** Acknowledged cdk-nag rules written into the template, with the resource they are on. */
export function acknowledgements(s: Synthesized): Array<{ id: string; reason: string; resource: string }> {
  return Object.entries(s.json.Resources).flatMap(([logicalId, r]) =>
    (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((rule: { id: string; reason: string }) => ({
      ...rule,
      resource: `${r.Type} ${logicalId}`,
    })),
  );
}
