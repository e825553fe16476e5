// One deployment of the service for one stage: the HTTP API in front of the function, the
// function with its tenants file and secret grants, the items vault, the webhook route and bus,
// the logs, the alarms and
// the outputs an operator needs. The tenants file is validated here, at synth, with the
// function's own schema.
import {
  Annotations,
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnStage,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type HttpRoute,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { describeProblem, loadTenantsFile } from '../lambda/config/load-tenants.ts';
import {
  ITEM_PATH,
  ME_PATH,
  ITEMS_PATH,
  LINK_TOKEN_PATH,
  ROUTES,
  routeMethods,
  WEBHOOK_PATH,
} from '../lambda/config/routes.ts';
import { ItemsAlarms } from './items-alarms.ts';
import { ItemsVault, outputNamesOf } from './items-vault.ts';
import { LinkTokenAlarms } from './link-token-alarms.ts';
import { API_GATEWAY_INTEGRATION_TIMEOUT, LinkTokenFunction } from './link-token-function.ts';
import type { ResolvedStage } from './stages.ts';
import { TenantSecrets } from './tenant-secrets.ts';
import { WebhookAlarms } from './webhook-alarms.ts';
import { WEBHOOK_EVENT_SOURCE, WEBHOOK_ROUTE_KEY, WebhookBus } from './webhooks.ts';

export interface LinkTokenStackProps extends StackProps {
  readonly stage: ResolvedStage;
}

/**
 * The access log: one JSON line per request. requestId is the correlation id the function
 * logs and returns (X-Correlation-Id), so one id leads from a client's report to both logs.
 * No headers, query strings or bodies: the Authorization header must never be logged.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  errorType: '$context.error.responseType',
  errorMessage: '$context.error.message',
} as const;

const ITEMS_ROUTES_REASON =
  "The function authorizes every POST, GET and DELETE on /items itself, as on /link-token: it verifies the JWT against the issuer of one of several tenants, which one HTTP API JWT authorizer (a single issuer) cannot do, and serves only the caller's own Items. " +
  'OPTIONS is the CORS preflight, which browsers send without credentials.';

/**
 * Why each route has no API Gateway authorizer (cdk-nag AwsSolutions-APIG4), by path: the
 * function authorizes every call itself. Listed word for word in the deploy guide.
 */
const UNAUTHORIZED_ROUTE_REASONS: Readonly<Record<string, string>> = {
  [LINK_TOKEN_PATH]:
    'The function authorizes every POST itself: it verifies the JWT against the issuer of one of several tenants, which one HTTP API JWT authorizer (a single issuer) cannot do. ' +
    'OPTIONS is the CORS preflight, which browsers send without credentials.',
  [ITEMS_PATH]: ITEMS_ROUTES_REASON,
  [ITEM_PATH]: ITEMS_ROUTES_REASON,
  [ME_PATH]:
    'The function authorizes every DELETE on /me itself, as on /link-token: it verifies the JWT against the issuer of one of several tenants, which one HTTP API JWT authorizer (a single issuer) cannot do, and erases only the caller. ' +
    'OPTIONS is the CORS preflight, which browsers send without credentials.',
  // Plaid calls this one: no bearer token, no CORS. The function verifies Plaid's signature
  // (a JWT over the body's SHA-256, keyed per tenant) before anything is stored or published.
  [WEBHOOK_PATH]:
    "Plaid posts webhooks without credentials an API Gateway authorizer could check: the function verifies each one itself, per Plaid's webhook verification " +
    "(ES256 JWT in the Plaid-Verification header, key fetched from Plaid with the tenant's keys, iat at most 5 minutes old, SHA-256 of the body), and answers 401 to anything unverified. Route throttling caps forged floods.",
};

export class LinkTokenStack extends Stack {
  readonly api: HttpApi;
  readonly linkToken: LinkTokenFunction;
  readonly secrets: TenantSecrets;
  readonly vault: ItemsVault;
  readonly webhooks: WebhookBus;
  readonly alarms: LinkTokenAlarms;
  readonly itemsAlarms: ItemsAlarms;
  readonly webhookAlarms: WebhookAlarms;

  constructor(scope: Construct, id: string, props: LinkTokenStackProps) {
    super(scope, id, props);
    const { settings, tenantsFilePath, name: stageName } = props.stage;
    // Throws TenantConfigError naming tenant, profile and field: an invalid file fails synth.
    const { file: tenantsFile, warnings } = loadTenantsFile(tenantsFilePath);
    // Accepted but worth hearing about (Plaid-deprecated fields, values Plaid adjusts): shown by synth.
    for (const warning of warnings)
      Annotations.of(this).addWarningV2('link-token:tenants-file', `${tenantsFilePath}: ${describeProblem(warning)}`);
    const logRemovalPolicy = settings.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.secrets = new TenantSecrets(this, 'Secrets', {
      tenantsFile,
      source: tenantsFilePath,
      createMissingSecrets: settings.createMissingSecrets,
      kmsKeyArn: settings.secretsKmsKeyArn,
    });

    const tenantIds = Object.keys(tenantsFile.tenants);
    this.vault = new ItemsVault(this, 'ItemsVault', { tenantIds, protect: settings.protectItemsVault });
    this.webhooks = new WebhookBus(this, 'Webhooks');

    this.linkToken = new LinkTokenFunction(this, 'LinkToken', {
      tenantsFilePath,
      secrets: this.secrets,
      vault: this.vault,
      webhooks: this.webhooks,
      publicBaseUrl: settings.publicBaseUrl,
      logLevel: settings.logLevel,
      xrayTracing: settings.xrayTracing,
      logRetention: settings.logRetention,
      logRemovalPolicy,
    });

    // CORS is answered by the function (OPTIONS is routed to it), not by the HTTP API's
    // corsPreflight: only the function knows the tenants' origins, and one place answering
    // preflights means one place to get them right.
    this.api = new HttpApi(this, 'Api', {
      apiName: `link-token-${stageName}`,
      description: `Plaid Link token service (${stageName}): POST ${LINK_TOKEN_PATH}, POST|GET ${ITEMS_PATH}, DELETE ${ITEM_PATH}, ${WEBHOOK_ROUTE_KEY}`,
      createDefaultStage: false,
    });
    const accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: settings.logRetention,
      removalPolicy: logRemovalPolicy,
    });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    const integration = new HttpLambdaIntegration('LinkTokenIntegration', this.linkToken.function, {
      timeout: API_GATEWAY_INTEGRATION_TIMEOUT,
    });
    // One route per path and method of the service's route table, all to the same function
    // through the same integration: the function routes by path and method itself.
    const routesByKey = new Map<string, HttpRoute>();
    for (const route of ROUTES) {
      const { path } = route;
      for (const method of routeMethods(route)) {
        const [route] = this.api.addRoutes({ path, methods: [HttpMethod[method]], integration });
        Validations.of(route!.node.defaultChild!).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: UNAUTHORIZED_ROUTE_REASONS[path]!,
        });
        routesByKey.set(`${method} ${path}`, route!);
      }
    }
    const webhookRoute = routesByKey.get(WEBHOOK_ROUTE_KEY);
    // Route-level throttling in place of the stage default on this route. API Gateway resolves
    // route settings by route key when the stage is updated: the route must exist first.
    const cfnStage = stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = {
      [WEBHOOK_ROUTE_KEY]: {
        ThrottlingRateLimit: settings.webhookThrottle.rateLimit,
        ThrottlingBurstLimit: settings.webhookThrottle.burstLimit,
      },
    };
    cfnStage.node.addDependency(webhookRoute!);

    const alarmTopic = this.alarmTopic(settings.alarmTopicArn, settings.alarmEmail);
    this.alarms = new LinkTokenAlarms(this, 'Alarms', {
      namePrefix: this.stackName,
      api: this.api,
      function: this.linkToken.function,
      functionLogGroup: this.linkToken.logGroup,
      accessLogGroup,
      metricNamespace: `LinkToken/${stageName}`,
      slowDuration: Duration.millis(this.linkToken.settings.REQUEST_BUDGET_MS / 2),
      topic: alarmTopic,
    });
    this.itemsAlarms = new ItemsAlarms(this, 'ItemsAlarms', {
      namePrefix: this.stackName,
      functionLogGroup: this.linkToken.logGroup,
      accessLogGroup,
      metricNamespace: `LinkToken/${stageName}`,
      topic: alarmTopic,
    });
    this.webhookAlarms = new WebhookAlarms(this, 'WebhookAlarms', {
      namePrefix: this.stackName,
      functionLogGroup: this.linkToken.logGroup,
      accessLogGroup,
      metricNamespace: `LinkToken/${stageName}`,
      topic: alarmTopic,
    });

    new CfnOutput(this, 'LinkTokenUrl', {
      description: `POST here with the user's bearer token (the API's execute-api endpoint + ${LINK_TOKEN_PATH})`,
      value: `${stage.url.replace(/\/$/, '')}${LINK_TOKEN_PATH}`,
    });
    new CfnOutput(this, 'ItemsUrl', {
      description: `POST (public token), GET here, DELETE ${ITEM_PATH}, each with the user's bearer token`,
      value: `${stage.url.replace(/\/$/, '')}${ITEMS_PATH}`,
    });
    new CfnOutput(this, 'WebhookUrlPattern', {
      description:
        settings.publicBaseUrl === undefined
          ? 'Where Plaid posts each tenant\'s webhooks (the execute-api endpoint; replace <tenant_id>): link tokens of profiles with "webhook": "service" carry it'
          : 'Where Plaid posts each tenant\'s webhooks (the stage\'s publicBaseUrl; replace <tenant_id>): link tokens of profiles with "webhook": "service" carry it',
      value: `${settings.publicBaseUrl ?? stage.url.replace(/\/$/, '')}${WEBHOOK_PATH.replace('{tenant_id}', '<tenant_id>')}`,
    });
    new CfnOutput(this, 'WebhookBusName', {
      description: `EventBridge bus of the verified webhooks (source ${WEBHOOK_EVENT_SOURCE}, detail-type <webhook_type>.<webhook_code>, detail.tenant_id): add your rules to it`,
      value: this.webhooks.bus.eventBusName,
    });
    new CfnOutput(this, 'WebhookBusArn', { value: this.webhooks.bus.eventBusArn });
    new CfnOutput(this, 'ClientUserIdKeySecret', {
      description: 'Secret (name or ARN) holding the client_user_id HMAC key, at least 32 characters',
      value: tenantsFile.client_user_id_key_secret_id,
    });
    new CfnOutput(this, 'PlaidSecrets', {
      description: 'Secret (name or ARN) of each tenant\'s Plaid keys, as JSON {"client_id","secret"}',
      value: JSON.stringify(
        Object.fromEntries(Object.entries(tenantsFile.tenants).map(([tenant, t]) => [tenant, t.plaid.secret_id])),
      ),
    });
    new CfnOutput(this, 'ItemsTableName', {
      description:
        'DynamoDB table of the items vault (pk <tenant_id>#<client_user_id>, sk item#<item_id> or plaid_user)',
      value: this.vault.table.tableName,
    });
    new CfnOutput(this, 'VaultKeyArn', {
      description:
        'KMS key of the items vault: Decrypt tokens with encryption context tenant_id, client_user_id, item_id',
      value: this.vault.key.keyArn,
    });
    for (const [tenantId, name] of outputNamesOf(tenantIds, tenantsFilePath)) {
      new CfnOutput(this, `ItemsReaderPolicy${name}`, {
        description: `Managed policy to attach to tenant ${tenantId}'s back-end role: read its own items vault records and decrypt their tokens`,
        value: this.vault.readerPolicies.get(tenantId)!.managedPolicyArn,
      });
    }
    new CfnOutput(this, 'FunctionLogGroup', { value: this.linkToken.logGroup.logGroupName });
    new CfnOutput(this, 'AccessLogGroup', { value: accessLogGroup.logGroupName });
  }

  /** The topic alarms notify: an existing one, a new one with an email subscription, or none. */
  private alarmTopic(topicArn: string | undefined, email: string | undefined): sns.ITopic | undefined {
    if (topicArn) return sns.Topic.fromTopicArn(this, 'AlarmTopic', topicArn);
    if (!email) return undefined;
    // Encrypted at rest with a key CloudWatch may use: the AWS managed SNS key cannot be used
    // by CloudWatch alarms, so a topic encrypted with it would never receive a notification.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic of ${this.stackName}`,
      enableKeyRotation: true,
      // It protects notifications in flight only; nothing needs decrypting once the topic is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes as a service: allowed for this stack's alarms only (confused deputy).
    const fromThisStacksAlarms = {
      StringEquals: { 'aws:SourceAccount': this.account },
      ArnLike: {
        'aws:SourceArn': this.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${this.stackName}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisStacksAlarms,
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${this.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The enforceSSL policy replaces the topic's default policy; say explicitly who may publish.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchPrincipal],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisStacksAlarms,
      }),
    );
    topic.addSubscription(new EmailSubscription(email));
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
    return topic;
  }
}
