// The dev stage's stack, synthesized once: what runs, how it is reached, what it may touch,
// what it logs and alarms on, and that it ships the very bundle the local stack runs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { readSettings } from '../../lambda/config/settings.ts';
import { ITEMS_LOG_EVENTS } from '../../infra/items-alarms.ts';
import { FUNCTION_LOG_EVENTS } from '../../infra/link-token-alarms.ts';
import { API_GATEWAY_INTEGRATION_TIMEOUT } from '../../infra/link-token-function.ts';
import { LAMBDA_BUNDLING, PROJECT_ROOT, tenantsSchemaFingerprint } from '../../infra/lambda-bundling.ts';
import { readTenantsFile } from '../../lambda/config/load-tenants.ts';
import { readCompiledTenants } from '../../lambda/config/tenant-directory.ts';
import { STAGES } from '../../infra/stages.ts';
import { buildLambdaBundle } from '../../local/build.ts';
import { logicalIds, statementsOfRole, synthesize, type Synthesized } from './synth.ts';

/** Every TypeScript source of the function. */
const lambdaSources = () =>
  readdirSync(join(PROJECT_ROOT, 'lambda'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(PROJECT_ROOT, 'lambda', f), 'utf8'));
/** The items code is written beside this infrastructure; until it reads its table, nothing logs its events. */
const itemsCodeAbsent = () =>
  lambdaSources().some((source) => source.includes('ITEMS_TABLE_NAME'))
    ? false
    : 'the items code (reading ITEMS_TABLE_NAME) is not in lambda/ yet';

let dev: Synthesized;
let functionId: string;
let roleId: string;

before(() => {
  dev = synthesize({ stage: 'dev' });
  const stack = Stack.of(dev.stack);
  functionId = stack.getLogicalId(dev.stack.linkToken.function.node.defaultChild as CfnFunction);
  roleId = stack.getLogicalId(dev.stack.linkToken.function.role!.node.defaultChild as CfnFunction);
});

describe('function', () => {
  test('runs Node.js 24 on arm64 as an ES module bundle, with 256 MB of memory', () => {
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
    });
    // No helper functions (log retention, bucket notifications...) besides the service's own.
    dev.template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('times out above the upstream budget (plus a JWKS fetch) and below the API integration timeout', () => {
    const defaults = readSettings({}, new URL('file:///unused.json'));
    const timeoutSeconds: number = dev.json.Resources[functionId]!.Properties.Timeout;
    assert.ok(
      timeoutSeconds * 1000 > defaults.REQUEST_BUDGET_MS + defaults.JWKS_TIMEOUT_MS,
      `timeout ${timeoutSeconds} s`,
    );
    assert.ok(timeoutSeconds < API_GATEWAY_INTEGRATION_TIMEOUT.toSeconds(), `timeout ${timeoutSeconds} s`);
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      TimeoutInMillis: API_GATEWAY_INTEGRATION_TIMEOUT.toMilliseconds(),
    });
  });

  test('logs JSON at the stage level, with no secret or config in its environment, only where the vault and the webhook bus are', () => {
    const { vault } = dev.stack;
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: {
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'INFO',
        LogGroup: { Ref: Match.anyValue() },
      },
      // The tenants file travels in the asset; secrets are fetched by name at run time.
      Environment: {
        Variables: Match.objectEquals({
          LOG_LEVEL: 'info',
          ITEMS_TABLE_NAME: { Ref: Stack.of(vault).getLogicalId(vault.table.node.defaultChild as CfnTable) },
          VAULT_KMS_KEY_ID: {
            'Fn::GetAtt': [Stack.of(vault).getLogicalId(vault.key.node.defaultChild as CfnKey), 'Arn'],
          },
          // No PUBLIC_BASE_URL: dev has no publicBaseUrl (test/infra/webhooks.test.ts sets one).
          WEBHOOK_BUS_NAME: 'link-token-dev-webhooks',
        }),
      },
    });
  });
});

describe('API', () => {
  test('routes /link-token, the items paths, /me and the webhook path to the one function through one integration, and nothing else', () => {
    const [integrationId] = logicalIds(dev, 'AWS::ApiGatewayV2::Integration');
    dev.template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
    const routeKeys = [
      'POST /link-token',
      'OPTIONS /link-token',
      'POST /items',
      'GET /items',
      'OPTIONS /items',
      'DELETE /items/{item_id}',
      'OPTIONS /items/{item_id}',
      'DELETE /me',
      'OPTIONS /me',
      'POST /webhooks/plaid/{tenant_id}',
    ];
    assert.deepEqual(
      logicalIds(dev, 'AWS::ApiGatewayV2::Route')
        .map((id) => dev.json.Resources[id]!.Properties.RouteKey)
        .sort(),
      [...routeKeys].sort(),
    );
    for (const routeKey of routeKeys) {
      dev.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
    }
    // API Gateway may invoke the function for these routes only, from any stage or method of each.
    const sourcePaths = logicalIds(dev, 'AWS::Lambda::Permission').map((id) => {
      const permission = dev.json.Resources[id]!.Properties;
      assert.deepEqual(
        [permission.FunctionName, permission.Principal],
        [{ 'Fn::GetAtt': [functionId, 'Arn'] }, 'apigateway.amazonaws.com'],
      );
      return permission.SourceArn['Fn::Join'][1].at(-1);
    });
    assert.deepEqual([...new Set(sourcePaths)].sort(), [
      '/*/*/items',
      '/*/*/items/{item_id}',
      '/*/*/link-token',
      '/*/*/me',
      '/*/*/webhooks/plaid/{tenant_id}',
    ]);
  });

  test('is an HTTP API without CORS of its own: the function answers preflights', () => {
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.absent(),
    });
  });

  test('throttles at the stage limits and logs every request as JSON with its request id', () => {
    const [accessLogsId] = logicalIds(dev, 'AWS::Logs::LogGroup').filter((id) => id.startsWith('AccessLogs'));
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: STAGES.dev.throttle.rateLimit,
        ThrottlingBurstLimit: STAGES.dev.throttle.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [accessLogsId, 'Arn'] },
        Format: Match.serializedJson(
          Match.objectLike({
            requestId: '$context.requestId',
            status: '$context.status',
            integrationStatus: '$context.integrationStatus',
          }),
        ),
      },
    });
    const format: string = logicalIds(dev, 'AWS::ApiGatewayV2::Stage').map(
      (id) => dev.json.Resources[id]!.Properties.AccessLogSettings.Format,
    )[0];
    assert.doesNotMatch(
      format,
      /authorization|header|requestBody|querystring/i,
      'the access log must not carry credentials',
    );
  });

  test('both log groups keep logs for the stage retention', () => {
    dev.template.resourceCountIs('AWS::Logs::LogGroup', 2);
    dev.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const functionLogGroup = dev.json.Resources[functionId]!.Properties.LoggingConfig.LogGroup.Ref;
    assert.equal(dev.json.Resources[functionLogGroup]!.Type, 'AWS::Logs::LogGroup');
  });
});

describe('secrets and permissions', () => {
  test("the function's role may read exactly the tenants' secrets, write its own log group, use the vault and publish on the webhook bus", () => {
    const statements = statementsOfRole(dev, roleId);
    const secretIds = logicalIds(dev, 'AWS::SecretsManager::Secret');
    assert.deepEqual(
      statements
        .filter((s) => !s.Sid?.startsWith('ItemsVault') && !s.Sid?.startsWith('WebhookBus'))
        .map((s) => ({ Action: s.Action, Resource: s.Resource })),
      [
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [dev.json.Resources[functionId]!.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
        },
        { Action: 'secretsmanager:GetSecretValue', Resource: secretIds.map((id) => ({ Ref: id })) },
      ],
    );
    // The vault's statements, exactly: test/infra/items-vault.test.ts.
    assert.deepEqual(
      statements.filter((s) => s.Sid?.startsWith('ItemsVault')).map((s) => s.Sid),
      ['ItemsVaultRecords', 'ItemsVaultFindItemOwner', 'ItemsVaultTokens'],
    );
    // The webhook bus's statement, exactly: test/infra/webhooks.test.ts.
    assert.deepEqual(
      statements.filter((s) => s.Sid?.startsWith('WebhookBus')).map((s) => s.Sid),
      ['WebhookBusPublish'],
    );
    dev.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
    });
  });

  test('the stage that opts in creates each named secret once: Plaid keys empty, the HMAC key generated, all retained', () => {
    const names = logicalIds(dev, 'AWS::SecretsManager::Secret')
      .map((id) => dev.json.Resources[id]!.Properties.Name)
      .sort();
    assert.deepEqual(names, ['link-token/dev/client-user-id-key', 'link-token/dev/plaid/acme-budget']);
    dev.template.hasResource('AWS::SecretsManager::Secret', {
      Properties: {
        Name: 'link-token/dev/plaid/acme-budget',
        SecretString: Match.absent(),
        GenerateSecretString: Match.absent(),
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    dev.template.hasResource('AWS::SecretsManager::Secret', {
      Properties: {
        Name: 'link-token/dev/client-user-id-key',
        SecretString: Match.absent(),
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('no secret value appears anywhere in the template', () => {
    assert.doesNotMatch(JSON.stringify(dev.json), /"SecretString"|"client_id"\s*:|"secret"\s*:/);
  });
});

describe('operations', () => {
  test('alarms on the 5xx rate, the upstream error rate, throttles and p99 duration', () => {
    const alarmNames = logicalIds(dev, 'AWS::CloudWatch::Alarm')
      .map((id) => dev.json.Resources[id]!.Properties.AlarmName)
      .sort();
    assert.deepEqual(alarmNames, [
      'link-token-dev-function-throttles',
      'link-token-dev-gateway-throttles',
      'link-token-dev-items-server-error-rate',
      'link-token-dev-orphaned-plaid-items',
      'link-token-dev-server-error-rate',
      'link-token-dev-slow-requests',
      'link-token-dev-upstream-error-rate',
      'link-token-dev-vault-unavailable-rate',
      'link-token-dev-webhook-publish-failures',
      'link-token-dev-webhook-rejected-rate',
    ]);
    const metric = (namespace: unknown, name: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: namespace, MetricName: name }) }),
      });
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-server-error-rate',
      Threshold: 5,
      Metrics: Match.arrayWith([metric('AWS/ApiGateway', '5xx'), metric('AWS/ApiGateway', 'Count')]),
    });
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-upstream-error-rate',
      Metrics: Match.arrayWith([
        metric('LinkToken/dev', 'PlaidLinkTokenFailures'),
        metric('LinkToken/dev', 'PlaidLinkTokenSuccesses'),
      ]),
    });
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-function-throttles',
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Threshold: 1,
    });
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-gateway-throttles',
      Namespace: 'LinkToken/dev',
      MetricName: 'GatewayThrottledRequests',
    });
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-slow-requests',
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Threshold: readSettings({}, new URL('file:///unused.json')).REQUEST_BUDGET_MS / 2,
    });
    // Dev has no topic: the alarms show in the console and notify nobody.
    dev.template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
  });

  test('the upstream metrics count the events the function logs, from its own log group', () => {
    const functionLogGroup = dev.json.Resources[functionId]!.Properties.LoggingConfig.LogGroup.Ref;
    for (const [event, metricName] of [
      [FUNCTION_LOG_EVENTS.plaidFailed, 'PlaidLinkTokenFailures'],
      [FUNCTION_LOG_EVENTS.plaidCreated, 'PlaidLinkTokenSuccesses'],
    ] as const) {
      dev.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: functionLogGroup },
        FilterPattern: `{ $.event = "${event}" }`,
        MetricTransformations: [Match.objectLike({ MetricName: metricName, MetricValue: '1', DefaultValue: 0 })],
      });
    }
    dev.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: `{ ($.event = "${FUNCTION_LOG_EVENTS.requestFailed}") && ($.status >= 500) }`,
      MetricTransformations: [
        Match.objectLike({ MetricName: 'FunctionServerErrors', Dimensions: [{ Key: 'Kind', Value: '$.kind' }] }),
      ],
    });
    // If the function renames an event, this fails instead of the alarm going quiet.
    const source = ['lambda/domain/create-link-token.ts', 'lambda/http/http-api.ts']
      .map((f) => readFileSync(join(PROJECT_ROOT, f), 'utf8'))
      .join('\n');
    for (const event of Object.values(FUNCTION_LOG_EVENTS))
      assert.ok(source.includes(`'${event}'`), `the function no longer logs ${event}`);
  });

  test('alarms on the 5xx rate of /items, the vault failure rate and any Item orphaned at Plaid', () => {
    const metric = (name: string) =>
      Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'LinkToken/dev', MetricName: name } }) });
    const rate = Match.objectLike({ Expression: 'IF(requests >= 10, 100 * failures / requests, 0)' });
    for (const [alarmName, failures] of [
      ['link-token-dev-items-server-error-rate', 'ItemsServerErrors'],
      ['link-token-dev-vault-unavailable-rate', 'VaultUnavailable'],
    ]) {
      dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: alarmName,
        Threshold: 5,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([rate, metric(failures!), metric('ItemsRequests')]),
      });
    }
    // One orphan is one Item billed until a person removes it: no rate, no volume floor.
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-orphaned-plaid-items',
      Namespace: 'LinkToken/dev',
      MetricName: 'OrphanedPlaidItems',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('the items metrics count /items calls (not preflights) in the access log and the vault events in the function log', () => {
    const [accessLogs] = logicalIds(dev, 'AWS::Logs::LogGroup').filter((id) => id.startsWith('AccessLogs'));
    const functionLogGroup = dev.json.Resources[functionId]!.Properties.LoggingConfig.LogGroup.Ref;
    const itemsCalls = '(($.routeKey = "* /items") || ($.routeKey = "* /items/*")) && ($.method != "OPTIONS")';
    for (const [logGroup, pattern, metricName] of [
      [accessLogs, `{ ${itemsCalls} }`, 'ItemsRequests'],
      [accessLogs, `{ ${itemsCalls} && ($.status = "5*") }`, 'ItemsServerErrors'],
      [functionLogGroup, `{ $.event = "${ITEMS_LOG_EVENTS.vaultUnavailable}" }`, 'VaultUnavailable'],
      [functionLogGroup, `{ $.event = "${ITEMS_LOG_EVENTS.orphanRemovalFailed}" }`, 'OrphanedPlaidItems'],
    ]) {
      dev.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logGroup },
        FilterPattern: pattern,
        MetricTransformations: [Match.objectLike({ MetricName: metricName, MetricValue: '1', DefaultValue: 0 })],
      });
    }
    // The access log's routeKey is the route template: the wildcards (`*`: any characters) match
    // every items route and no other.
    const wildcards = [...itemsCalls.matchAll(/\$\.routeKey = "([^"]+)"/g)].map(
      ([, glob]) => new RegExp(`^${glob!.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replaceAll('*', '.*')}$`),
    );
    const routeKeys = logicalIds(dev, 'AWS::ApiGatewayV2::Route').map(
      (id) => dev.json.Resources[id]!.Properties.RouteKey as string,
    );
    assert.deepEqual(routeKeys.filter((routeKey) => wildcards.some((glob) => glob.test(routeKey))).sort(), [
      'DELETE /items/{item_id}',
      'GET /items',
      'OPTIONS /items',
      'OPTIONS /items/{item_id}',
      'POST /items',
    ]);
  });

  test('the items code logs the events the vault alarms count', { skip: itemsCodeAbsent() }, () => {
    const source = lambdaSources().join('\n');
    for (const event of Object.values(ITEMS_LOG_EVENTS))
      assert.ok(source.includes(`'${event}'`), `the function no longer logs ${event}`);
  });

  test('outputs the endpoints and the secrets an operator has to fill', () => {
    dev.template.hasOutput('LinkTokenUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '/link-token'])] },
    });
    dev.template.hasOutput('ItemsUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '/items'])] } });
    dev.template.hasOutput('ClientUserIdKeySecret', { Value: 'link-token/dev/client-user-id-key' });
    dev.template.hasOutput('PlaidSecrets', {
      Value: JSON.stringify({ 'acme-budget': 'link-token/dev/plaid/acme-budget' }),
    });
  });
});

describe('bundle', () => {
  test('the asset holds the bundle the local stack runs, byte for byte, and the stage tenants file', async () => {
    // The folder CDK staged for the function's code, found through the asset manifest.
    const assetHash = String(dev.json.Resources[functionId]!.Properties.Code.S3Key).replace(/\.zip$/, '');
    const manifest = JSON.parse(readFileSync(join(dev.outdir, `${dev.stack.artifactId}.assets.json`), 'utf8'));
    const assetDir = join(dev.outdir, manifest.files[assetHash].source.path);
    const local = await buildLambdaBundle({ outdir: mkdtempSync(join(tmpdir(), 'link-token-local-bundle-')) });
    const files = (dir: string) =>
      (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.mjs')).sort();
    assert.deepEqual(files(assetDir), files(local.dir), 'the same index.mjs and chunks');
    assert.ok(
      files(assetDir).some((f) => f.startsWith(`${LAMBDA_BUNDLING.lazyDir}/`)),
      'the lazily loaded modules beside index.mjs',
    );
    for (const file of files(assetDir))
      assert.ok(readFileSync(join(assetDir, file)).equals(readFileSync(join(local.dir, file))), `${file} differs`);
    assert.ok(!existsSync(join(assetDir, 'metafile.json')), 'no build metafile in the asset');

    // The source maps differ in one way only: `sources` are relative to the folder each bundle
    // was built in (a temporary folder at synth vs the local outdir). Within the project they are the same.
    const mapOf = (dir: string) => {
      const map = JSON.parse(readFileSync(join(dir, `${LAMBDA_BUNDLING.outfileName}.map`), 'utf8'));
      return {
        ...map,
        sources: map.sources.map((source: string) =>
          source.replace(/^(\.\.\/)+/, '').replace(/^.*?(node_modules|lambda)\//, '$1/'),
        ),
      };
    };
    assert.deepEqual(mapOf(assetDir), mapOf(local.dir));

    // Beside it, the stage's tenants file as the build validated it, in the form the function reads.
    const compiledPath = join(assetDir, LAMBDA_BUNDLING.tenantsFileName);
    const served = readCompiledTenants(readFileSync(compiledPath, 'utf8'), compiledPath, tenantsSchemaFingerprint());
    const stageFile = readTenantsFile(join(PROJECT_ROOT, STAGES.dev.tenantsFile));
    assert.deepEqual(served.ids, Object.keys(stageFile.tenants));
    for (const id of served.ids) assert.deepEqual(served.get(id), { ...stageFile.tenants[id], id });
  });
});
