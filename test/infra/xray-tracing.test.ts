// X-Ray active tracing is a stage option (xrayTracing, `-c xrayTracing=true`), off by default:
// off, the function has no TracingConfig (Lambda's PassThrough) and its role no X-Ray right; on,
// Tracing Active and exactly the two write actions X-Ray needs, acknowledged to cdk-nag for the
// "*" X-Ray requires and for nothing else. The HTTP API has no X-Ray setting to turn on.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { resolveStage, STAGES } from '../../infra/stages.ts';
import { acknowledgements, statementsOfRole, synthesize, validationViolations, type Synthesized } from './synth.ts';

const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
let off: Synthesized;
let on: Synthesized;
const roleIdOf = (s: Synthesized) =>
  Stack.of(s.stack).getLogicalId(s.stack.linkToken.function.role!.node.defaultChild as CfnRole);
const xrayStatements = (s: Synthesized) =>
  statementsOfRole(s, roleIdOf(s)).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('xray:')));

before(() => {
  off = synthesize({ stage: 'dev' });
  on = synthesize({ stage: 'prod', xrayTracing: 'true' });
});

test('is off in every stage unless asked for, and the context value is checked like the others', () => {
  for (const stage of Object.values(STAGES)) assert.equal(stage.xrayTracing, false);
  assert.equal(resolveStage((key) => ({ stage: 'dev', xrayTracing: 'true' })[key]).settings.xrayTracing, true);
  assert.equal(resolveStage((key) => ({ stage: 'prod', xrayTracing: false })[key]).settings.xrayTracing, false);
  assert.throws(
    () => resolveStage((key) => ({ stage: 'dev', xrayTracing: 'yes' })[key]),
    /Context value xrayTracing="yes" must be true or false/,
  );
});

test('off: no TracingConfig on the function and no X-Ray permission on its role', () => {
  off.template.hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'index.handler',
    TracingConfig: Match.absent(),
  });
  assert.deepEqual(xrayStatements(off), []);
});

test('on: Tracing Active, and the role may put trace segments and telemetry, nothing more of X-Ray', () => {
  on.template.hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'index.handler',
    TracingConfig: { Mode: 'Active' },
  });
  const statements = xrayStatements(on);
  assert.equal(statements.length, 1);
  assert.deepEqual([statements[0].Action].flat().sort(), XRAY_ACTIONS);
  assert.equal(statements[0].Resource, '*');
  assert.equal(statements[0].Effect, 'Allow');
});

test("on: cdk-nag's wildcard finding is acknowledged for Resource::* on the role's policy only, with the reason", () => {
  assert.deepEqual(validationViolations(on), []);
  const iam5 = acknowledgements(on).filter((ack) => ack.id.startsWith('AwsSolutions-IAM5'));
  assert.deepEqual(
    iam5.map((ack) => [ack.id, ack.resource.split(' ')[0]]),
    [['AwsSolutions-IAM5[Resource::*]', 'AWS::IAM::Policy']],
  );
  assert.match(iam5[0]!.reason, /X-Ray.*no resource-level permissions/);
  assert.deepEqual(
    acknowledgements(off).filter((ack) => ack.id.startsWith('AwsSolutions-IAM5')),
    [],
  );
});

test('the HTTP API and its stage carry no tracing setting (HTTP APIs have none; REST APIs do)', () => {
  for (const type of ['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Stage']) {
    for (const resource of Object.values(on.json.Resources).filter((r) => r.Type === type)) {
      assert.ok(
        !JSON.stringify(resource.Properties).match(/tracing/i),
        `${type}: ${JSON.stringify(resource.Properties)}`,
      );
    }
  }
});
