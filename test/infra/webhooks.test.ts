// Verified Plaid webhooks, the stack's side: the route Plaid posts to (no authorizer,
// its own throttling), the bus verified webhooks are published on and the one thing the
// function may do with it, the environment that points the function at both, the alarms and
// the outputs a subscriber needs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnEventBus } from 'aws-cdk-lib/aws-events';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { resolveStage, STAGES } from '../../infra/stages.ts';
import { MIN_REJECTED, REJECTED_PERCENT, WEBHOOK_LOG_EVENTS } from '../../infra/webhook-alarms.ts';
import { WEBHOOK_EVENT_SOURCE, WEBHOOK_ROUTE_KEY } from '../../infra/webhooks.ts';
import { logicalIds, statementsOfRole, synthesize, validationViolations, type Synthesized } from './synth.ts';

// The function's code does not matter here: skip bundling to keep this quick.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const PUBLIC_BASE_URL = 'https://api.example.com';

let dev: Synthesized;
/** prod with a custom domain (given with a trailing slash, which the stage drops). */
let prod: Synthesized;

interface Ids {
  bus: string;
  role: string;
  function: string;
  table: string;
}
const ids = new Map<Synthesized, Ids>();

before(() => {
  dev = synthesize({ ...NO_BUNDLING, stage: 'dev' });
  prod = synthesize({
    ...NO_BUNDLING,
    stage: 'prod',
    publicBaseUrl: `${PUBLIC_BASE_URL}/`,
    alarmEmail: 'oncall@example.com',
  });
  for (const s of [dev, prod]) {
    const stack = Stack.of(s.stack);
    ids.set(s, {
      bus: stack.getLogicalId(s.stack.webhooks.bus.node.defaultChild as CfnEventBus),
      role: stack.getLogicalId(s.stack.linkToken.function.role!.node.defaultChild as CfnRole),
      function: stack.getLogicalId(s.stack.linkToken.function.node.defaultChild as CfnFunction),
      table: stack.getLogicalId(s.stack.vault.table.node.defaultChild as CfnTable),
    });
  }
});

const busArn = (s: Synthesized) => ({ 'Fn::GetAtt': [ids.get(s)!.bus, 'Arn'] });
const routeKeys = (s: Synthesized) =>
  logicalIds(s, 'AWS::ApiGatewayV2::Route').map((id) => s.json.Resources[id]!.Properties.RouteKey as string);

describe('route', () => {
  test('POST /webhooks/plaid/{tenant_id} reaches the one integration without an authorizer, and no other method has a route there (no CORS)', () => {
    for (const s of [dev, prod]) {
      const [integrationId] = logicalIds(s, 'AWS::ApiGatewayV2::Integration');
      s.template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'POST /webhooks/plaid/{tenant_id}',
        AuthorizationType: 'NONE',
        AuthorizerId: Match.absent(),
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
      });
      assert.deepEqual(
        routeKeys(s).filter((key) => key.includes('/webhooks')),
        ['POST /webhooks/plaid/{tenant_id}'],
      );
      s.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    }
  });

  test('is the only route cdk-nag lets through without authorization for a reason about Plaid', () => {
    const [routeId] = logicalIds(dev, 'AWS::ApiGatewayV2::Route', (p) => p.RouteKey === WEBHOOK_ROUTE_KEY);
    const rules = dev.json.Resources[routeId!]!.Metadata.cdk_nag.rules_to_suppress;
    assert.deepEqual(
      rules.map((r: { id: string }) => r.id),
      ['AwsSolutions-APIG4'],
    );
    assert.match(rules[0].reason, /Plaid.*verifies each one itself.*401/);
    // And nothing else is left for cdk-nag to report, custom domain or not.
    for (const s of [dev, prod]) assert.deepEqual(validationViolations(s), []);
  });

  test('is throttled on its own, at the stage webhookThrottle, below the limit of the other routes', () => {
    for (const [s, stage] of [
      [dev, STAGES.dev],
      [prod, STAGES.prod],
    ] as const) {
      s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        DefaultRouteSettings: {
          ThrottlingRateLimit: stage.throttle.rateLimit,
          ThrottlingBurstLimit: stage.throttle.burstLimit,
        },
        RouteSettings: Match.objectEquals({
          [WEBHOOK_ROUTE_KEY]: {
            ThrottlingRateLimit: stage.webhookThrottle.rateLimit,
            ThrottlingBurstLimit: stage.webhookThrottle.burstLimit,
          },
        }),
      });
      // A forged flood is cut before it costs as much as the link-token limit allows.
      assert.ok(
        stage.webhookThrottle.rateLimit < stage.throttle.rateLimit &&
          stage.webhookThrottle.burstLimit < stage.throttle.burstLimit,
      );
      // API Gateway refuses route settings for a route key it does not know yet.
      const [stageId] = logicalIds(s, 'AWS::ApiGatewayV2::Stage');
      const [routeId] = logicalIds(s, 'AWS::ApiGatewayV2::Route', (p) => p.RouteKey === WEBHOOK_ROUTE_KEY);
      assert.ok(
        [(s.json.Resources[stageId!] as any).DependsOn].flat().includes(routeId),
        'the stage must be updated after the webhook route exists',
      );
    }
  });

  test('the webhook throttling can be overridden for one deploy and is checked like the stage throttling', () => {
    const stage = resolveStage(
      (key) => ({ stage: 'prod', webhookThrottleRateLimit: '40', webhookThrottleBurstLimit: '80' })[key],
    );
    assert.deepEqual(stage.settings.webhookThrottle, { rateLimit: 40, burstLimit: 80 });
    assert.deepEqual(stage.settings.throttle, STAGES.prod.throttle);
    assert.throws(
      () => resolveStage((key) => ({ stage: 'dev', webhookThrottleRateLimit: 'many' })[key]),
      /Context value webhookThrottleRateLimit="many" must be a whole number/,
    );
    assert.throws(
      () => resolveStage((key) => ({ stage: 'dev', webhookThrottleRateLimit: '50' })[key]),
      /Stage dev: the webhook throttling burst \(10\) must be at least the rate \(50\)/,
    );
  });
});

describe('bus', () => {
  test('one EventBridge bus per stage, named after the stack, with no rule, archive or resource policy deployed', () => {
    for (const [s, name] of [
      [dev, 'link-token-dev-webhooks'],
      [prod, 'link-token-prod-webhooks'],
    ] as const) {
      s.template.resourceCountIs('AWS::Events::EventBus', 1);
      s.template.hasResourceProperties('AWS::Events::EventBus', {
        Name: name,
        Description: Match.stringLikeRegexp(WEBHOOK_EVENT_SOURCE),
      });
      for (const type of ['AWS::Events::Rule', 'AWS::Events::Archive', 'AWS::Events::EventBusPolicy'])
        s.template.resourceCountIs(type, 0);
    }
  });

  test("the function's role may PutEvents on exactly that bus, as the service's source only, and nothing else of EventBridge", () => {
    for (const s of [dev, prod]) {
      const statements = statementsOfRole(s, ids.get(s)!.role);
      const eventBridge = statements.filter(
        (st) =>
          [st.Action].flat().some((a: string) => a.startsWith('events:')) ||
          JSON.stringify(st.Resource).includes(ids.get(s)!.bus),
      );
      assert.deepEqual(eventBridge, [
        {
          Sid: 'WebhookBusPublish',
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: busArn(s),
          // events:source has one value per entry of the call: every one must be one of the service's, and there must be one.
          Condition: {
            'ForAllValues:StringEquals': {
              'events:source': ['link-token-service.plaid', 'link-token-service.items', 'link-token-service.users'],
            },
            Null: { 'events:source': 'false' },
          },
        },
      ]);
      // No other policy in the stack grants anything of EventBridge.
      const others = Object.values(s.json.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
        .flatMap((r) => r.Properties.PolicyDocument.Statement)
        .filter((st: any) => st.Sid !== 'WebhookBusPublish');
      assert.doesNotMatch(JSON.stringify(others), /"events:/);
    }
  });

  test("the vault grants already cover the webhook code's reads and writes: find the Item, read it, update its status, write the replay record", () => {
    for (const s of [dev, prod]) {
      const table = { 'Fn::GetAtt': [ids.get(s)!.table, 'Arn'] };
      const index = { 'Fn::Join': ['', [table, '/index/by-item']] };
      const statements = statementsOfRole(s, ids.get(s)!.role);
      const allows = (action: string, resource: unknown) =>
        statements.some(
          (st) =>
            st.Effect === 'Allow' &&
            !st.Condition &&
            [st.Action].flat().includes(action) &&
            [st.Resource].flat().some((r: unknown) => JSON.stringify(r) === JSON.stringify(resource)),
        );
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'])
        assert.ok(allows(action, table), `${action} on the table`);
      assert.ok(allows('dynamodb:Query', index), 'Query on the by-item index');
    }
  });
});

describe('environment', () => {
  const variables = (s: Synthesized) => s.json.Resources[ids.get(s)!.function]!.Properties.Environment.Variables;

  test('WEBHOOK_BUS_NAME names the bus; PUBLIC_BASE_URL is the stage publicBaseUrl, only when set', () => {
    // The bus's own name, as the bus declares it, and the function is created after the bus.
    for (const s of [dev, prod]) {
      assert.equal(variables(s).WEBHOOK_BUS_NAME, s.json.Resources[ids.get(s)!.bus]!.Properties.Name);
      assert.ok((s.json.Resources[ids.get(s)!.function] as any).DependsOn.includes(ids.get(s)!.bus));
    }
    assert.equal(variables(dev).WEBHOOK_BUS_NAME, 'link-token-dev-webhooks');
    assert.equal('PUBLIC_BASE_URL' in variables(dev), false);
    assert.equal(variables(prod).PUBLIC_BASE_URL, PUBLIC_BASE_URL);
    // That both stacks synthesized means the function's own settings check accepted this
    // environment (LinkTokenFunction runs it at synth, as the function does at cold start).
  });

  test('a publicBaseUrl that is not a plain https URL fails synth with a message naming it', () => {
    const resolveWith = (publicBaseUrl: string) => () => resolveStage((key) => ({ stage: 'prod', publicBaseUrl })[key]);
    assert.throws(
      resolveWith('http://api.example.com'),
      /^StageSettingsError: Stage prod: publicBaseUrl "http:\/\/api\.example\.com" must be https: Plaid posts webhooks to it from the internet \(e\.g\. https:\/\/api\.example\.com\)\.$/,
    );
    // Not even loopback: Plaid cannot reach it (npm start sets its own PUBLIC_BASE_URL).
    assert.throws(resolveWith('http://localhost:3000'), /publicBaseUrl "http:\/\/localhost:3000" must be https/);
    assert.throws(resolveWith('api.example.com'), /publicBaseUrl "api\.example\.com" must be an absolute URL/);
    assert.throws(resolveWith('https://user:pw@api.example.com'), /must not carry credentials/);
    assert.throws(resolveWith('https://api.example.com/?x=1'), /must not have a query or fragment/);
    assert.throws(resolveWith('https://api.example.com/#top'), /must not have a query or fragment/);
    assert.equal(
      resolveStage((key) => ({ stage: 'dev', publicBaseUrl: 'https://api.example.com/v1/' })[key]).settings
        .publicBaseUrl,
      'https://api.example.com/v1',
    );
  });
});

describe('alarms', () => {
  const metric = (id: string, name: string) =>
    Match.objectLike({
      Id: id,
      MetricStat: { Metric: { Namespace: 'LinkToken/dev', MetricName: name }, Stat: 'Sum', Period: 300 },
    });
  const logGroups = (s: Synthesized) => ({
    access: logicalIds(s, 'AWS::Logs::LogGroup').find((id) => id.startsWith('AccessLogs'))!,
    function: s.json.Resources[ids.get(s)!.function]!.Properties.LoggingConfig.LogGroup.Ref as string,
  });

  test('rejected webhooks: at least 5 in 5 minutes and at least half of the calls reaching the function', () => {
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-webhook-rejected-rate',
      Threshold: REJECTED_PERCENT,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: `IF(rejected >= ${MIN_REJECTED}, 100 * rejected / requests, 0)` }),
        metric('rejected', 'WebhooksRejected'),
        metric('requests', 'WebhookRequests'),
      ]),
    });
    assert.deepEqual([MIN_REJECTED, REJECTED_PERCENT], [5, 50]);
  });

  test('any verified webhook that could not be published: one in 5 minutes', () => {
    dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'link-token-dev-webhook-publish-failures',
      Namespace: 'LinkToken/dev',
      MetricName: 'WebhookPublishFailures',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('count the webhook events in the function log and the webhook calls (throttled ones excluded) in the access log', () => {
    const { access, function: functionLogs } = logGroups(dev);
    const calls = '($.routeKey = "POST /webhooks/plaid/*") && ($.status != "429")';
    for (const [logGroup, pattern, metricName] of [
      [functionLogs, `{ $.event = "${WEBHOOK_LOG_EVENTS.rejected}" }`, 'WebhooksRejected'],
      [functionLogs, `{ $.event = "${WEBHOOK_LOG_EVENTS.publishFailed}" }`, 'WebhookPublishFailures'],
      [access, `{ ${calls} }`, 'WebhookRequests'],
    ]) {
      dev.template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logGroup },
        FilterPattern: pattern,
        MetricTransformations: [Match.objectLike({ MetricName: metricName, MetricValue: '1', DefaultValue: 0 })],
      });
    }
    // The access log's routeKey is the route template: the wildcard matches the webhook route only.
    const glob = new RegExp(
      `^${'POST /webhooks/plaid/*'.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replaceAll('*', '.*')}$`,
    );
    assert.deepEqual(
      routeKeys(dev).filter((key) => glob.test(key)),
      [WEBHOOK_ROUTE_KEY],
    );
  });

  test('notify the stage topic like every other alarm', () => {
    const [topicId] = logicalIds(prod, 'AWS::SNS::Topic');
    for (const name of ['link-token-prod-webhook-rejected-rate', 'link-token-prod-webhook-publish-failures']) {
      prod.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: name,
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
    }
  });

  const lambdaSources = () =>
    readdirSync(join(PROJECT_ROOT, 'lambda'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(PROJECT_ROOT, 'lambda', f), 'utf8'))
      .join('\n');
  // The webhook code is written beside this infrastructure; until it reads its bus, nothing logs its events.
  const webhookCodeAbsent = () =>
    lambdaSources().includes('WEBHOOK_BUS_NAME')
      ? false
      : 'the webhook code (reading WEBHOOK_BUS_NAME) is not in lambda/ yet';

  test(
    'the webhook code logs the events these alarms count and publishes as the source its role allows',
    { skip: webhookCodeAbsent() },
    () => {
      const source = lambdaSources();
      for (const event of Object.values(WEBHOOK_LOG_EVENTS))
        assert.ok(source.includes(`'${event}'`), `the function no longer logs ${event}`);
      assert.ok(
        source.includes(`'${WEBHOOK_EVENT_SOURCE}'`),
        `the function no longer publishes as ${WEBHOOK_EVENT_SOURCE}: its PutEvents would be denied`,
      );
    },
  );
});

describe('outputs', () => {
  test('the webhook URL pattern (execute-api endpoint, or the custom domain when set), the bus name and ARN', () => {
    dev.template.hasOutput('WebhookUrlPattern', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '/webhooks/plaid/<tenant_id>'])] },
    });
    prod.template.hasOutput('WebhookUrlPattern', {
      Value: `${PUBLIC_BASE_URL}/webhooks/plaid/<tenant_id>`,
      Description: Match.stringLikeRegexp('publicBaseUrl'),
    });
    for (const s of [dev, prod]) {
      s.template.hasOutput('WebhookBusName', {
        Value: { Ref: ids.get(s)!.bus },
        Description: Match.stringLikeRegexp(WEBHOOK_EVENT_SOURCE),
      });
      s.template.hasOutput('WebhookBusArn', { Value: busArn(s) });
    }
  });
});
