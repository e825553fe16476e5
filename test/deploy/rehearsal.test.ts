// The deploy rehearsal: the project's own AWS CDK CLI bootstraps an account and deploys both
// stages, exactly as `npm run deploy` does, into moto_server (moto 5) standing in for AWS: the
// bootstrap stack (staging bucket, deploy roles, version parameter), the function's zip and the
// template published into the bucket, a change set created and executed by CloudFormation with
// the bootstrap's execution role. Then what moto modelled is read back through the AWS SDK and
// compared with what the synthesized template declares.
//
// moto does not model everything. Resource types its CloudFormation skips are listed, not
// judged. Properties it ignores are in MOTO_GAPS, each with what moto does instead: the test
// still reads them, and fails the day moto models one (move it to the checks then).
//
// Skips, saying why in one line, where moto_server is not on PATH.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type Stack as DeployedStack,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DescribeEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssetManifestArtifact, CloudAssembly, type CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { MOTO_ABSENT, startMoto, type Moto } from '../support/moto.ts';
import { TEST_TARGET, TemplateResolver } from '../support/resolve-template.ts';

const STAGES = ['dev', 'prod'] as const;
type StageName = (typeof STAGES)[number];
const { account: ACCOUNT, region: REGION } = TEST_TARGET;
const CDK_CLI = join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const CLI_TIMEOUT_MS = 180_000;

const moto = await startMoto();
const workdir = mkdtempSync(join(tmpdir(), 'link-token-rehearsal-'));
after(async () => {
  for (const client of clients) client.destroy();
  await moto?.close();
  rmSync(workdir, { recursive: true, force: true });
});

/** Runs the project's CDK CLI against moto; resolves its output, rejects with it on failure. */
function cdk(m: Moto, args: string[], cwd: string): Promise<string> {
  // Only what a deployer's shell would hold: credentials, region, and the endpoint. No profile,
  // no pinned account: the CLI finds the account from the credentials (sts:GetCallerIdentity).
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('CDK_')),
  );
  Object.assign(env, {
    // moto's CloudFormation takes the bucket of a TemplateURL from its host name, except for
    // localhost URLs, which it reads path-style: the CLI builds that URL from this endpoint.
    AWS_ENDPOINT_URL: m.url.replace('127.0.0.1', 'localhost'),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: REGION,
    // Nothing leaves the machine: no telemetry, no notices, no version check.
    CDK_DISABLE_CLI_TELEMETRY: '1',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_HOME: join(workdir, 'cdk-home'),
    // cdk.json runs the app with `node`: the project's Node 24, as under npm.
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CDK_CLI, ...args, '--no-notices', '--ci'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`cdk ${args.join(' ')} ended with ${code ?? signal}:\n${output}`));
    });
  });
}

interface Rehearsed {
  readonly stage: StageName;
  readonly stackName: string;
  readonly outdir: string;
  readonly artifact: CloudFormationStackArtifact;
  readonly template: any;
  readonly deployed: DeployedStack;
  readonly resources: StackResourceSummary[];
  /** The template resolved with the physical ids moto gave its resources. */
  readonly resolver: TemplateResolver;
  physicalId(type: string): string;
}

const placeholders = (text: string) =>
  text
    .replaceAll('${AWS::AccountId}', ACCOUNT)
    .replaceAll('${AWS::Region}', REGION)
    .replaceAll('${AWS::Partition}', 'aws');

/** Every SDK client of the file, destroyed at the end (their keep-alive sockets would hold it open). */
const clients: { destroy(): void }[] = [];
const sdk = <C extends { destroy(): void }>(client: C): C => {
  clients.push(client);
  return client;
};

const clientConfig = (m: Moto) => ({
  endpoint: m.url,
  region: REGION,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
});

describe('deploy rehearsal against moto', { skip: moto ? false : MOTO_ABSENT }, () => {
  const m = moto!;
  let cfn: CloudFormationClient;
  let bootstrapOutput: string;
  const stages = new Map<StageName, Rehearsed>();

  before(
    async () => {
      cfn = sdk(new CloudFormationClient(clientConfig(m)));
      // Bootstrap from an empty folder: `cdk bootstrap aws://…` needs no app.
      const empty = mkdtempSync(join(workdir, 'bootstrap-'));
      bootstrapOutput = await cdk(m, ['bootstrap', `aws://${ACCOUNT}/${REGION}`], empty);
      // Both stages at once: each CLI synthesizes its own stage (the slow part), then deploys.
      // Each with its own change set name: moto finds a change set by name alone, across stacks.
      await Promise.all(
        STAGES.map((stage) =>
          cdk(
            m,
            [
              'deploy',
              '-c',
              `stage=${stage}`,
              '--require-approval',
              'never',
              '--change-set-name',
              `link-token-${stage}-deploy`,
              '-o',
              join(workdir, `cdk.out.${stage}`),
            ],
            PROJECT_ROOT,
          ),
        ),
      );
      for (const stage of STAGES) {
        const stackName = `link-token-${stage}`;
        const outdir = join(workdir, `cdk.out.${stage}`);
        const artifact = new CloudAssembly(outdir).getStackByName(stackName);
        const deployed = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0]!;
        const resources = await listResources(stackName);
        const physicalIds = Object.fromEntries(
          resources
            .filter((r) => r.LogicalResourceId && r.PhysicalResourceId)
            .map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]),
        );
        const resolver = new TemplateResolver(artifact.template, { ...TEST_TARGET, stackName }, physicalIds);
        stages.set(stage, {
          stage,
          stackName,
          outdir,
          artifact,
          template: artifact.template,
          deployed,
          resources,
          resolver,
          physicalId(type) {
            const found = resources.filter((r) => r.ResourceType === type);
            assert.equal(found.length, 1, `one ${type} in ${stackName}`);
            return found[0]!.PhysicalResourceId!;
          },
        });
      }
    },
    { timeout: 2 * CLI_TIMEOUT_MS },
  );

  async function listResources(StackName: string): Promise<StackResourceSummary[]> {
    const all: StackResourceSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await cfn.send(new ListStackResourcesCommand({ StackName, NextToken }));
      all.push(...(page.StackResourceSummaries ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return all;
  }

  const logicalIdOf = (r: Rehearsed, type: string) => {
    const ids = Object.entries<any>(r.template.Resources)
      .filter(([, res]) => res.Type === type)
      .map(([id]) => id);
    assert.equal(ids.length, 1, `one ${type} in the ${r.stage} template`);
    return ids[0]!;
  };
  const propertiesOf = (r: Rehearsed, type: string) => r.template.Resources[logicalIdOf(r, type)].Properties;

  test('cdk bootstrap creates the staging bucket, the deploy roles and a version parameter the stages accept', async () => {
    assert.match(bootstrapOutput, /Environment aws:\/\/123456789012\/us-east-1 bootstrapped/);
    const toolkit = await listResources('CDKToolkit');
    const named = new Map(
      toolkit.filter((r) => r.LogicalResourceId).map((r) => [r.LogicalResourceId!, r.PhysicalResourceId]),
    );
    for (const r of stages.values()) {
      const { artifact } = r;
      // The roles the CLI assumes and hands to CloudFormation exist under the names the assembly expects.
      for (const [role, arn] of [
        ['DeploymentActionRole', artifact.assumeRoleArn],
        ['CloudFormationExecutionRole', artifact.cloudFormationExecutionRoleArn],
      ] as const) {
        assert.equal(`arn:aws:iam::${ACCOUNT}:role/${named.get(role)}`, placeholders(arn!), role);
      }
      assert.equal(named.get('StagingBucket'), `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`);
      assert.equal(named.get('CdkBootstrapVersion'), artifact.bootstrapStackVersionSsmParameter);
      // CloudFormation resolved the template's BootstrapVersion parameter from that SSM parameter;
      // the template's CheckBootstrapVersion rule refuses versions 1 to 5, the CLI anything below
      // requiresBootstrapStackVersion.
      const version = r.deployed.Parameters!.find((p) => p.ParameterKey === 'BootstrapVersion')!.ParameterValue!;
      assert.ok(Number(version) >= artifact.requiresBootstrapStackVersion!, `bootstrap version ${version}`);
      const refused = r.template.Rules.CheckBootstrapVersion.Assertions[0].Assert['Fn::Not'][0]['Fn::Contains'][0];
      assert.ok(!refused.includes(version), `the template's rule accepts version ${version}`);
    }
  });

  test("publishes the function's zip and the template into the bootstrap bucket, as the assembly's asset manifest says", async () => {
    for (const r of stages.values()) {
      const manifest = new CloudAssembly(r.outdir).artifacts.find(
        (a): a is AssetManifestArtifact => a instanceof AssetManifestArtifact && a.id === `${r.stackName}.assets`,
      )!;
      const files = Object.values<any>(manifest.contents.files ?? {});
      assert.deepEqual(files.map((f) => f.source.packaging).sort(), ['file', 'zip']);
      for (const file of files) {
        const { bucketName, objectKey } = Object.values<any>(file.destinations)[0];
        const object = await sdk(new S3Client({ ...clientConfig(m), forcePathStyle: true })).send(
          new GetObjectCommand({ Bucket: placeholders(bucketName), Key: objectKey }),
        );
        const body = Buffer.from(await object.Body!.transformToByteArray());
        const source = join(r.outdir, file.source.path);
        if (file.source.packaging === 'file') {
          assert.ok(body.equals(readFileSync(source)), 'the template in the bucket is the synthesized one');
          assert.equal(
            `s3://${placeholders(bucketName)}/${objectKey}`,
            placeholders(r.artifact.stackTemplateAssetObjectUrl!),
          );
        } else {
          // The zip holds exactly the asset folder, and is the code the function was created with.
          assert.deepEqual(zipEntryNames(body).sort(), filesUnder(source).sort());
          const fn = await sdk(new LambdaClient(clientConfig(m))).send(
            new GetFunctionCommand({ FunctionName: r.physicalId('AWS::Lambda::Function') }),
          );
          assert.equal(fn.Configuration!.CodeSha256, createHash('sha256').update(body).digest('base64'));
        }
      }
    }
  });

  test('creates each stack through a change set, with the bootstrap execution role and the stage tags', () => {
    for (const r of stages.values()) {
      assert.equal(r.deployed.StackStatus, 'CREATE_COMPLETE');
      assert.equal(r.deployed.RoleARN, placeholders(r.artifact.cloudFormationExecutionRoleArn!));
      assert.deepEqual(Object.fromEntries(r.deployed.Tags!.map((t) => [t.Key, t.Value])), {
        service: 'link-token',
        stage: r.stage,
      });
    }
  });

  test('lists the resource types moto skips instead of judging them, and models every type the checks read', (t) => {
    const judged = [
      'AWS::DynamoDB::Table',
      'AWS::KMS::Key',
      'AWS::Events::EventBus',
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::IAM::ManagedPolicy',
      'AWS::Lambda::Function',
    ];
    for (const r of stages.values()) {
      const modelled = new Set(r.resources.map((x) => x.LogicalResourceId).filter(Boolean));
      const skipped = new Map<string, number>();
      for (const [id, res] of Object.entries<any>(r.template.Resources)) {
        if (!modelled.has(id)) skipped.set(res.Type, (skipped.get(res.Type) ?? 0) + 1);
      }
      const types = [...skipped].sort().map(([type, n]) => `${type} ×${n}`);
      t.diagnostic(`${r.stage}: moto's CloudFormation skips ${types.join(', ')}`);
      for (const type of judged) assert.ok(!skipped.has(type), `${r.stage}: moto models ${type}`);
      // Everything it does model it created.
      for (const res of r.resources.filter((x) => x.LogicalResourceId))
        assert.equal(res.ResourceStatus, 'CREATE_COMPLETE');
    }
  });

  interface Check {
    readonly what: string;
    readonly declared: unknown;
    readonly modelled: () => Promise<unknown>;
  }

  /** What moto does instead, for each property its CloudFormation does not apply (by check name). */
  const MOTO_GAPS: Readonly<Record<string, string>> = {
    'table TTL': 'its CloudFormation does not read TimeToLiveSpecification (TTL DISABLED)',
    'table point-in-time recovery': 'its CloudFormation does not read PointInTimeRecoverySpecification (PITR DISABLED)',
    'table encryption': "it looks for SSESpecification.Enabled, CloudFormation's key is SSEEnabled (no SSEDescription)",
    'key spec and usage': 'the CloudFormation key policy is stored as an object, so DescribeKey fails with a 500',
    'function architecture': 'its CloudFormation does not read Architectures (x86_64)',
    'function logging': 'its CloudFormation does not read LoggingConfig',
    "role policy's log group resource": 'Fn::GetAtt Arn of a log group drops the trailing :*',
    "role policy's secrets created by the stack": 'the secrets are skipped, so a Ref to one resolves to null',
  };

  function checksOf(r: Rehearsed): Check[] {
    const clients = {
      ddb: sdk(new DynamoDBClient(clientConfig(m))),
      kms: sdk(new KMSClient(clientConfig(m))),
      events: sdk(new EventBridgeClient(clientConfig(m))),
      iam: sdk(new IAMClient(clientConfig(m))),
      lambda: sdk(new LambdaClient(clientConfig(m))),
    };
    const TableName = r.physicalId('AWS::DynamoDB::Table');
    const KeyId = r.physicalId('AWS::KMS::Key');
    const table = propertiesOf(r, 'AWS::DynamoDB::Table');
    const key = propertiesOf(r, 'AWS::KMS::Key');
    const bus = propertiesOf(r, 'AWS::Events::EventBus');
    const fn = propertiesOf(r, 'AWS::Lambda::Function');
    const describeTable = async () => (await clients.ddb.send(new DescribeTableCommand({ TableName }))).Table!;
    const getFunction = async () =>
      (await clients.lambda.send(new GetFunctionCommand({ FunctionName: r.physicalId('AWS::Lambda::Function') })))
        .Configuration!;
    const roleName = r.physicalId('AWS::IAM::Role');
    const rolePolicy = async () => {
      const names = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames!;
      assert.equal(names.length, 1, 'one inline policy');
      const { PolicyDocument } = await clients.iam.send(
        new GetRolePolicyCommand({ RoleName: roleName, PolicyName: names[0] }),
      );
      return JSON.parse(decodeURIComponent(PolicyDocument!)).Statement;
    };
    const declaredRolePolicy = r.resolver.resolve(propertiesOf(r, 'AWS::IAM::Policy').PolicyDocument).Statement;
    const bySid = (statements: any[], sid: string | undefined) => statements.find((s) => s.Sid === sid);
    const createsSecrets = Object.values<any>(r.template.Resources).some(
      (res) => res.Type === 'AWS::SecretsManager::Secret',
    );
    const logsStatement = (statements: any[]) =>
      statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
    const readerPolicies = Object.entries<any>(r.template.Resources).filter(
      ([, res]) => res.Type === 'AWS::IAM::ManagedPolicy',
    );

    return [
      {
        what: 'table keys',
        declared: { keys: table.KeySchema, attributes: table.AttributeDefinitions },
        modelled: async () => {
          const t = await describeTable();
          return { keys: t.KeySchema, attributes: t.AttributeDefinitions };
        },
      },
      {
        what: 'table by-item index',
        declared: table.GlobalSecondaryIndexes.map((i: any) => ({
          IndexName: i.IndexName,
          KeySchema: i.KeySchema,
          Projection: i.Projection,
        })),
        modelled: async () =>
          (await describeTable()).GlobalSecondaryIndexes!.map(({ IndexName, KeySchema, Projection }) => ({
            IndexName,
            KeySchema,
            Projection,
          })),
      },
      {
        what: 'table on-demand billing',
        declared: table.BillingMode,
        modelled: async () => (await describeTable()).BillingModeSummary?.BillingMode,
      },
      {
        what: 'table deletion protection',
        declared: table.DeletionProtectionEnabled,
        modelled: async () => (await describeTable()).DeletionProtectionEnabled,
      },
      {
        what: 'table TTL',
        declared: { AttributeName: table.TimeToLiveSpecification.AttributeName, TimeToLiveStatus: 'ENABLED' },
        modelled: async () => {
          const { TimeToLiveDescription: d } = await clients.ddb.send(new DescribeTimeToLiveCommand({ TableName }));
          return { AttributeName: d?.AttributeName, TimeToLiveStatus: d?.TimeToLiveStatus };
        },
      },
      {
        what: 'table point-in-time recovery',
        declared: table.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled ? 'ENABLED' : 'DISABLED',
        modelled: async () =>
          (await clients.ddb.send(new DescribeContinuousBackupsCommand({ TableName }))).ContinuousBackupsDescription
            ?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
      },
      {
        what: 'table encryption',
        declared: { SSEType: 'KMS', KMSMasterKeyArn: r.resolver.resolve(table.SSESpecification.KMSMasterKeyId) },
        modelled: async () => {
          const sse = (await describeTable()).SSEDescription;
          return { SSEType: sse?.SSEType, KMSMasterKeyArn: sse?.KMSMasterKeyArn };
        },
      },
      {
        what: 'key rotation',
        declared: key.EnableKeyRotation,
        modelled: async () => (await clients.kms.send(new GetKeyRotationStatusCommand({ KeyId }))).KeyRotationEnabled,
      },
      {
        what: 'key spec and usage',
        declared: { KeySpec: key.KeySpec, KeyUsage: key.KeyUsage },
        modelled: async () => {
          try {
            const { KeyMetadata } = await clients.kms.send(new DescribeKeyCommand({ KeyId }));
            return { KeySpec: KeyMetadata?.KeySpec, KeyUsage: KeyMetadata?.KeyUsage };
          } catch (error) {
            return `DescribeKey failed: ${(error as Error).name}`;
          }
        },
      },
      {
        what: 'bus',
        declared: { Name: bus.Name, Arn: r.resolver.getAtt(logicalIdOf(r, 'AWS::Events::EventBus'), 'Arn') },
        modelled: async () => {
          const d = await clients.events.send(new DescribeEventBusCommand({ Name: bus.Name }));
          return { Name: d.Name, Arn: d.Arn };
        },
      },
      {
        what: "role's trust policy",
        declared: propertiesOf(r, 'AWS::IAM::Role').AssumeRolePolicyDocument.Statement,
        modelled: async () => {
          const { Role } = await clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
          return JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!)).Statement;
        },
      },
      // The role's policy statement by statement, resolved with moto's physical ids: this also
      // checks test/support/resolve-template.ts, which the policy simulator test relies on.
      // Where the stack creates the secrets (dev), the statement names them by Ref.
      ...declaredRolePolicy
        .filter((s: any) => s.Sid !== undefined)
        .map((s: any) => ({
          what:
            s.Sid === 'ReadTenantSecrets' && createsSecrets
              ? "role policy's secrets created by the stack"
              : `role policy statement ${s.Sid}`,
          declared: s,
          modelled: async () => bySid(await rolePolicy(), s.Sid),
        })),
      {
        what: "role policy's log group resource",
        declared: logsStatement(declaredRolePolicy),
        modelled: async () => logsStatement(await rolePolicy()),
      },
      ...readerPolicies.map(([id, res]) => ({
        what: `reader policy ${res.Properties.Description.match(/tenant (\S+)'s/)[1]}`,
        declared: r.resolver.resolve(res.Properties.PolicyDocument),
        modelled: async () => {
          const PolicyArn = r.resources.find((x) => x.LogicalResourceId === id)!.PhysicalResourceId!;
          const { Policy } = await clients.iam.send(new GetPolicyCommand({ PolicyArn }));
          const { PolicyVersion } = await clients.iam.send(
            new GetPolicyVersionCommand({ PolicyArn, VersionId: Policy!.DefaultVersionId }),
          );
          return JSON.parse(decodeURIComponent(PolicyVersion!.Document!));
        },
      })),
      {
        what: "function's runtime, handler, memory, timeout and role",
        declared: {
          Runtime: fn.Runtime,
          Handler: fn.Handler,
          MemorySize: fn.MemorySize,
          Timeout: fn.Timeout,
          Role: r.resolver.resolve(fn.Role),
        },
        modelled: async () => {
          const c = await getFunction();
          return { Runtime: c.Runtime, Handler: c.Handler, MemorySize: c.MemorySize, Timeout: c.Timeout, Role: c.Role };
        },
      },
      {
        what: "function's environment",
        declared: r.resolver.resolve(fn.Environment.Variables),
        modelled: async () => (await getFunction()).Environment?.Variables,
      },
      {
        what: 'function architecture',
        declared: fn.Architectures,
        modelled: async () => (await getFunction()).Architectures,
      },
      {
        what: 'function logging',
        declared: { LogFormat: fn.LoggingConfig.LogFormat, LogGroup: r.resolver.resolve(fn.LoggingConfig.LogGroup) },
        modelled: async () => {
          const c = (await getFunction()).LoggingConfig;
          return { LogFormat: c?.LogFormat, LogGroup: c?.LogGroup };
        },
      },
    ];
  }

  const checkNames = new Set<string>();
  for (const stage of STAGES) {
    test(`${stage}: what moto models is what the template declares (its gaps read, reported, not judged)`, async (t) => {
      const r = stages.get(stage)!;
      const problems: string[] = [];
      const notJudged: string[] = [];
      const checks = checksOf(r);
      for (const check of checks) {
        checkNames.add(check.what);
        const modelled = await check.modelled();
        const same = JSON.stringify(modelled) === JSON.stringify(check.declared);
        const gap = MOTO_GAPS[check.what];
        if (gap === undefined && !same) {
          problems.push(
            `${check.what}: declared ${JSON.stringify(check.declared)}, moto has ${JSON.stringify(modelled)}`,
          );
        } else if (gap !== undefined && same) {
          problems.push(`${check.what}: moto models it now; remove it from MOTO_GAPS so it is judged`);
        } else if (gap !== undefined) {
          notJudged.push(`${check.what} (${gap})`);
        }
      }
      t.diagnostic(`${stage}: ${checks.length - notJudged.length} checks judged; not judged: ${notJudged.join('; ')}`);
      assert.deepEqual(problems, []);
    });
  }

  test('every entry of MOTO_GAPS is one a check runs into, so the list stays the list of what moto lacks', () => {
    assert.ok(checkNames.size > 0);
    assert.deepEqual(
      Object.keys(MOTO_GAPS).filter((what) => !checkNames.has(what)),
      [],
    );
  });
});

/** The file names in a zip's central directory. */
function zipEntryNames(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'a zip archive');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), 0x02014b50, 'a central directory entry');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (!name.endsWith('/')) names.push(name);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** Every file under a folder, as paths relative to it with forward slashes. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split('\\').join('/'));
}
