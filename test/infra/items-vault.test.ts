// The items vault of both stages: the table's keys and index as the items code and the tenants'
// readers expect them, its protection per stage, the key, what the function may do with them
// (exactly), and one reader policy per tenant that isolates that tenant.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import { outputNamesOf } from '../../infra/items-vault.ts';
import { logicalIds, statementsOfRole, synthesize, type Synthesized } from './synth.ts';

// Bundling the function does not change the vault: skip it to keep this quick.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

interface Ids {
  table: string;
  key: string;
  role: string;
}
let dev: Synthesized;
let prod: Synthesized;
const ids = new Map<Synthesized, Ids>();

before(() => {
  dev = synthesize({ ...NO_BUNDLING, stage: 'dev' });
  prod = synthesize({ ...NO_BUNDLING, stage: 'prod' });
  for (const s of [dev, prod]) {
    const stack = Stack.of(s.stack);
    ids.set(s, {
      table: stack.getLogicalId(s.stack.vault.table.node.defaultChild as CfnTable),
      key: stack.getLogicalId(s.stack.vault.key.node.defaultChild as CfnKey),
      role: stack.getLogicalId(s.stack.linkToken.function.role!.node.defaultChild as CfnRole),
    });
  }
});

const tableArn = (s: Synthesized) => ({ 'Fn::GetAtt': [ids.get(s)!.table, 'Arn'] });
const indexArn = (s: Synthesized) => ({ 'Fn::Join': ['', [tableArn(s), '/index/by-item']] });
const keyArn = (s: Synthesized) => ({ 'Fn::GetAtt': [ids.get(s)!.key, 'Arn'] });

describe('table', () => {
  test('pk and sk strings, on demand, point-in-time recovery, encrypted with the vault key', () => {
    for (const s of [dev, prod]) {
      s.template.resourceCountIs('AWS::DynamoDB::Table', 1);
      s.template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayEquals([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'item_key', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        ProvisionedThroughput: Match.absent(),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // The function's webhook replay records expire; nothing else carries the attribute.
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn(s) },
        // Nothing to stream: no other reader of changes exists.
        StreamSpecification: Match.absent(),
      });
    }
  });

  test('one index, by-item on item_key, holding keys only (no token ciphertext copied)', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-item',
          KeySchema: [{ AttributeName: 'item_key', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      LocalSecondaryIndexes: Match.absent(),
    });
  });

  test('prod: deletion protection, and the table and key outlive the stack and any replacement', () => {
    const { table, key } = ids.get(prod)!;
    assert.equal(prod.json.Resources[table]!.Properties.DeletionProtectionEnabled, true);
    prod.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    assert.equal(prod.json.Resources[key]!.DeletionPolicy, 'Retain');
    assert.equal(prod.json.Resources[key]!.Properties.PendingWindowInDays, 30);
  });

  test('dev: no deletion protection; cdk destroy removes table and key', () => {
    const { table, key } = ids.get(dev)!;
    assert.equal(dev.json.Resources[table]!.Properties.DeletionProtectionEnabled, false);
    assert.equal(dev.json.Resources[table]!.DeletionPolicy, 'Delete');
    assert.equal(dev.json.Resources[key]!.DeletionPolicy, 'Delete');
  });
});

test('the key is a customer managed symmetric key with rotation on and a description', () => {
  for (const s of [dev, prod]) {
    const key = s.json.Resources[ids.get(s)!.key]!.Properties;
    assert.equal(key.EnableKeyRotation, true);
    assert.equal(key.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(key.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.match(key.Description, /items vault of link-token-(dev|prod)/);
  }
});

describe("the function's role", () => {
  test('has exactly the vault operations the items code performs, on exactly the table, its index and the key', () => {
    for (const s of [dev, prod]) {
      const touchesVault = (st: any) =>
        [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')) ||
        JSON.stringify(st.Resource).includes(ids.get(s)!.key);
      const vault = statementsOfRole(s, ids.get(s)!.role).filter(touchesVault);
      assert.deepEqual(
        vault.map(({ Action, Resource, Condition }) => ({ Action, Resource, Condition })),
        [
          {
            Action: [
              'dynamodb:DeleteItem',
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:Query',
              'dynamodb:UpdateItem',
            ],
            Resource: tableArn(s),
            Condition: undefined,
          },
          { Action: 'dynamodb:Query', Resource: indexArn(s), Condition: undefined },
          { Action: ['kms:Decrypt', 'kms:Encrypt'], Resource: keyArn(s), Condition: undefined },
        ],
      );
    }
  });

  test('nothing in the stack may Scan, batch, or touch every table', () => {
    for (const s of [dev, prod]) {
      const text = JSON.stringify(s.json);
      assert.doesNotMatch(text, /dynamodb:(Scan|Batch\w+|PartiQL\w+|\*)|"dynamodb:\w*\*"/);
      assert.doesNotMatch(text, /:table\/\*/);
    }
  });
});

describe('reader policies', () => {
  const readerPolicyOf = (s: Synthesized, tenantId: string) => {
    const found = logicalIds(s, 'AWS::IAM::ManagedPolicy', (p) =>
      p.Description?.startsWith(`Read tenant ${tenantId}'s `),
    );
    assert.equal(found.length, 1, `one reader policy for ${tenantId}`);
    return found[0]!;
  };

  test('one per tenant of the tenants file, each output under a valid name', () => {
    dev.template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    prod.template.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
    for (const [s, tenants] of [
      [dev, { 'acme-budget': 'AcmeBudget' }],
      [prod, { 'acme-budget': 'AcmeBudget', 'northwind-lending': 'NorthwindLending' }],
    ] as const) {
      for (const [tenantId, outputName] of Object.entries(tenants)) {
        s.template.hasOutput(`ItemsReaderPolicy${outputName}`, {
          Value: { Ref: readerPolicyOf(s, tenantId) },
          Description: Match.stringLikeRegexp(tenantId),
        });
      }
      s.template.hasOutput('ItemsTableName', { Value: { Ref: ids.get(s)!.table } });
      s.template.hasOutput('VaultKeyArn', { Value: keyArn(s) });
      for (const name of Object.keys(s.json.Outputs)) assert.match(name, /^[A-Za-z0-9]{1,255}$/);
    }
  });

  test("reads only keys under the tenant's prefix and decrypts only the tenant's tokens", () => {
    for (const tenantId of ['acme-budget', 'northwind-lending']) {
      const policy = prod.json.Resources[readerPolicyOf(prod, tenantId)]!.Properties.PolicyDocument;
      const ownPartitions = {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${tenantId}#*`] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      };
      assert.deepEqual(
        policy.Statement.map(({ Sid, ...rest }: any) => rest),
        [
          // Every partition key named (a set: ForAllValues) under the tenant's prefix, and at least one named.
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query'],
            Resource: tableArn(prod),
            Condition: ownPartitions,
          },
          { Effect: 'Allow', Action: 'dynamodb:Query', Resource: indexArn(prod), Condition: ownPartitions },
          {
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: keyArn(prod),
            Condition: { StringEquals: { 'kms:EncryptionContext:tenant_id': tenantId } },
          },
          // DynamoDB opening its table key for the reader: only through DynamoDB, only this table.
          {
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: keyArn(prod),
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
                'kms:EncryptionContext:aws:dynamodb:tableName': { Ref: ids.get(prod)!.table },
              },
            },
          },
        ],
      );
    }
  });

  test('tenant ids that would share an output name fail synth, naming the tenants file and both tenants', () => {
    assert.deepEqual(
      [...outputNamesOf(['acme-budget', 'a1'], 'tenants.json')],
      [
        ['acme-budget', 'AcmeBudget'],
        ['a1', 'A1'],
      ],
    );
    assert.throws(
      () => outputNamesOf(['a1', 'a-1'], 'tenants.json'),
      (error: Error) =>
        error.name === 'TenantConfigError' &&
        /Invalid tenants file tenants\.json:\n {2}- tenant 'a-1': would share the reader policy output name A1 with tenant 'a1'/.test(
          error.message,
        ),
    );
  });
});
