// The prod stage with every option a production operator is likely to turn on: secrets that
// exist already (by name and by ARN) under a customer managed KMS key, and alarm emails.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { STAGES } from '../../infra/stages.ts';
import { logicalIds, statementsOfRole, synthesize, type Synthesized } from './synth.ts';

const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NORTHWIND_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:northwind/plaid/production-Xy12Ab';

let prod: Synthesized;
let roleId: string;

before(() => {
  prod = synthesize({ stage: 'prod', secretsKmsKeyArn: KMS_KEY_ARN, alarmEmail: 'oncall@example.com' });
  roleId = Stack.of(prod.stack).getLogicalId(prod.stack.linkToken.function.role!.node.defaultChild as CfnRole);
});

/** The IAM resource for a secret referenced by name: this account and region, any 6-char suffix. */
const secretByName = (name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:${name}-??????`,
    ],
  ],
});

test("the role reads the tenants' secrets by exact ARN or name-?????? and decrypts them only through Secrets Manager", () => {
  // The vault's and the webhook bus's statements are test/infra/items-vault.test.ts's and webhooks.test.ts's subject.
  const statements = statementsOfRole(prod, roleId).filter(
    (s) => !s.Sid?.startsWith('ItemsVault') && !s.Sid?.startsWith('WebhookBus'),
  );
  const read = statements.find((s) => s.Action === 'secretsmanager:GetSecretValue');
  assert.equal(read.Resource.length, 3);
  for (const expected of [
    secretByName('link-token/prod/client-user-id-key'),
    secretByName('link-token/prod/plaid/acme-budget'),
    NORTHWIND_SECRET_ARN,
  ]) {
    assert.ok(
      read.Resource.some((r: unknown) => JSON.stringify(r) === JSON.stringify(expected)),
      `missing ${JSON.stringify(expected)}`,
    );
  }
  const decrypt = statements.find((s) => s.Action === 'kms:Decrypt');
  assert.deepEqual(decrypt, {
    Sid: 'DecryptTenantSecrets',
    Effect: 'Allow',
    Action: 'kms:Decrypt',
    Resource: KMS_KEY_ARN,
    Condition: {
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    },
  });
  const actions = statements.flatMap((s) => [s.Action].flat()).sort();
  assert.deepEqual(actions, [
    'kms:Decrypt',
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'secretsmanager:GetSecretValue',
  ]);
  assert.ok(
    statements.every((s) => s.Resource !== '*'),
    'no statement may grant on every resource',
  );
});

test('prod creates no secrets: its Plaid keys exist before the stack', () => {
  prod.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
});

test('prod throttles and keeps logs as its stage says, and keeps them if the stack is deleted', () => {
  prod.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    DefaultRouteSettings: {
      ThrottlingRateLimit: STAGES.prod.throttle.rateLimit,
      ThrottlingBurstLimit: STAGES.prod.throttle.burstLimit,
    },
  });
  prod.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  prod.template.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
});

test('alarms notify an encrypted, TLS-only topic that CloudWatch may publish to for these alarms only', () => {
  const [topicId] = logicalIds(prod, 'AWS::SNS::Topic');
  const [keyId] = logicalIds(prod, 'AWS::KMS::Key').filter((id) => id.startsWith('AlarmTopicKey'));
  assert.ok(keyId, 'expected the alarm topic key');
  prod.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  assert.equal(prod.json.Resources[keyId]!.Properties.EnableKeyRotation, true);
  prod.template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'oncall@example.com',
    TopicArn: { Ref: topicId },
  });
  prod.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Effect: 'Deny',
          Action: 'sns:Publish',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        Match.objectLike({
          Effect: 'Allow',
          Action: 'sns:Publish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: Match.objectLike({ ArnLike: Match.anyValue() }),
        }),
      ]),
    },
  });
  prod.template.allResourcesProperties('AWS::CloudWatch::Alarm', {
    AlarmActions: [{ Ref: topicId }],
    OKActions: [{ Ref: topicId }],
  });
  prod.template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
});

test('the tenants referenced by ARN and by name both appear in the outputs', () => {
  prod.template.hasOutput('PlaidSecrets', {
    Value: JSON.stringify({
      'acme-budget': 'link-token/prod/plaid/acme-budget',
      'northwind-lending': NORTHWIND_SECRET_ARN,
    }),
  });
});
