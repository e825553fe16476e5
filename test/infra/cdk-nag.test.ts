// cdk-nag's AwsSolutions rules run on every synth. Here: every stage configuration synthesizes
// with no finding left, each acknowledgement carries a reason that docs/operations.md lists word
// for word, and a finding nobody acknowledged does fail synth.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as sns from 'aws-cdk-lib/aws-sns';
import { createLinkTokenApp } from '../../infra/app.ts';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { acknowledgements, CDK_JSON_CONTEXT, synthesize, validationViolations } from './synth.ts';

// The function's code does not matter to these rules: skip bundling to keep this quick.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const CONFIGURATIONS = {
  'dev (creates its secrets)': { stage: 'dev' },
  'prod (existing secrets, KMS key, alarm email)': {
    stage: 'prod',
    secretsKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    alarmEmail: 'oncall@example.com',
  },
  'prod (creates its secrets, existing alarm topic)': {
    stage: 'prod',
    createMissingSecrets: 'true',
    alarmTopicArn: 'arn:aws:sns:us-east-1:111122223333:oncall',
  },
  'prod (X-Ray active tracing)': { stage: 'prod', xrayTracing: 'true' },
};

const deployGuide = readFileSync(join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
const seen = new Map<string, { id: string; reason: string; resource: string }>();

describe('every stage configuration passes AwsSolutions', () => {
  for (const [name, context] of Object.entries(CONFIGURATIONS)) {
    test(name, () => {
      const synthesized = synthesize({ ...NO_BUNDLING, ...context });
      assert.deepEqual(validationViolations(synthesized), []);
      for (const ack of acknowledgements(synthesized)) seen.set(`${ack.id}\n${ack.reason}`, ack);
    });
  }
});

test('every acknowledgement has a written reason, listed in docs/operations.md as it is in the code', () => {
  assert.ok(seen.size > 0, 'expected the acknowledgements of the configurations above');
  const ruleIds = new Set([...seen.values()].map((ack) => ack.id));
  for (const { id, reason, resource } of seen.values()) {
    assert.match(id, /^AwsSolutions-[A-Z]+\d+/);
    assert.ok(reason.length >= 60, `${id} on ${resource}: the reason should say why, not just that`);
    const listed = deployGuide.includes(reason);
    assert.ok(
      listed,
      `${id} on ${resource}: docs/operations.md ("cdk-nag acknowledgements") does not list the reason\n  ${reason}`,
    );
  }
  assert.deepEqual([...ruleIds].sort(), ['AwsSolutions-APIG4', 'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-SMG4']);
});

test('a finding nobody acknowledged fails synth', () => {
  const { app, stack } = createLinkTokenApp({
    context: { ...CDK_JSON_CONTEXT, ...NO_BUNDLING, stage: 'dev' },
    outdir: mkdtempSync(join(tmpdir(), 'link-token-nag-')),
  });
  // A topic that accepts publishing over plain HTTP breaks AwsSolutions-SNS3.
  new sns.Topic(stack, 'UnacknowledgedTopic');
  assert.throws(() => app.synth(), /Validation failed/);
});
