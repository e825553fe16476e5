// The alarms of the webhook route: posts the function refused as unverified (forgeries, or a
// misconfiguration that refuses Plaid's genuine webhooks), and verified webhooks it could not
// publish on the bus. In the style of items-alarms.ts; notifications to the same optional topic.
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, type IFilterPattern, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ALARM_PERIOD, logLineCount, notifyTopic, serviceAlarm } from './link-token-alarms.ts';
import { WEBHOOK_PATH } from '../lambda/config/routes.ts';
import { WEBHOOK_METHOD } from './webhooks.ts';

/** Log events of the webhook code (one JSON line each, key `event`). */
export const WEBHOOK_LOG_EVENTS = {
  /** A post whose signature, key, age or body hash did not verify: answered 401, nothing stored or forwarded. */
  rejected: 'webhook.rejected',
  /** A verified webhook that PutEvents did not take: answered 503, Plaid retries it. */
  publishFailed: 'webhook.publish_failed',
} as const;

/**
 * The webhook code's rejections that alarm: at least this many in 5 minutes, and at least
 * REJECTED_PERCENT of the route's calls. See the alarm's description for why both.
 */
export const MIN_REJECTED = 5;
export const REJECTED_PERCENT = 50;

// The access log's routeKey is the route template: `POST /webhooks/plaid/{tenant_id}`.
const WEBHOOK_CALLS = FilterPattern.all(
  FilterPattern.stringValue(
    '$.routeKey',
    '=',
    `${WEBHOOK_METHOD} ${WEBHOOK_PATH.slice(0, WEBHOOK_PATH.indexOf('{'))}*`,
  ),
  // Refused by the route's throttling before the function saw them: they cannot be rejections.
  FilterPattern.stringValue('$.status', '!=', '429'),
);

export interface WebhookAlarmsProps {
  readonly namePrefix: string;
  readonly functionLogGroup: ILogGroup;
  readonly accessLogGroup: ILogGroup;
  /** Namespace of the metrics taken from the logs. */
  readonly metricNamespace: string;
  readonly topic?: ITopic;
}

export class WebhookAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: WebhookAlarmsProps) {
    super(scope, id);
    const countFrom = (logGroup: ILogGroup, name: string, pattern: IFilterPattern) =>
      logLineCount(this, logGroup, props.metricNamespace, name, pattern);
    const calls = countFrom(props.accessLogGroup, 'WebhookRequests', WEBHOOK_CALLS);
    const rejected = countFrom(
      props.functionLogGroup,
      'WebhooksRejected',
      FilterPattern.stringValue('$.event', '=', WEBHOOK_LOG_EVENTS.rejected),
    );
    const publishFailed = countFrom(
      props.functionLogGroup,
      'WebhookPublishFailures',
      FilterPattern.stringValue('$.event', '=', WEBHOOK_LOG_EVENTS.publishFailed),
    );

    const alarms = [
      serviceAlarm(
        this,
        props.namePrefix,
        'WebhookRejectedRate',
        new cloudwatch.MathExpression({
          label: `${WEBHOOK_LOG_EVENTS.rejected} (% of webhook calls, at least ${MIN_REJECTED} in 5 minutes)`,
          // Both a share and a floor: a share alone would page on two stray posts from a
          // scanner; a count alone would page on the few forgeries a busy stage shrugs off.
          expression: `IF(rejected >= ${MIN_REJECTED}, 100 * rejected / requests, 0)`,
          usingMetrics: { rejected, requests: calls },
          period: ALARM_PERIOD,
        }),
        {
          threshold: REJECTED_PERCENT,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          description:
            `At least ${MIN_REJECTED} posts to ${WEBHOOK_PATH} in 5 minutes, and at least ${REJECTED_PERCENT}% of them, failed verification (401). ` +
            `Search the function log for "${WEBHOOK_LOG_EVENTS.rejected}": one tenant with the same reason on every post is a misconfiguration refusing Plaid's genuine webhooks ` +
            "(wrong Plaid keys in the tenant's secret, a clock or body-altering proxy; Plaid retries for 24 hours and stops retrying an endpoint that refuses most of its webhooks); " +
            'many tenants or unknown key ids from a few sourceIp in the access log is forgery: the route throttling (webhookThrottle in infra/stages.ts) caps it.',
        },
      ),
      serviceAlarm(this, props.namePrefix, 'WebhookPublishFailures', publishFailed, {
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        description:
          'A verified webhook could not be published on the webhook bus (answered 503, nothing marked processed; Plaid retries it for up to 24 hours). ' +
          `Search the function log for "${WEBHOOK_LOG_EVENTS.publishFailed}": AccessDenied means the role's events:PutEvents grant or the bus changed, ` +
          'ResourceNotFound a deleted bus, throttling or 5xx is EventBridge (AWS Health Dashboard). Subscribers miss these events until it is fixed.',
      }),
    ];
    notifyTopic(alarms, props.topic);
    this.alarms = alarms;
  }
}
