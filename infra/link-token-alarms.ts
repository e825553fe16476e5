// The alarms an operator of the service needs and nothing more: clients getting 5xx, Plaid
// failing, requests throttled (by the gateway's limit or Lambda's concurrency), and requests
// getting slow. Rates, not counts, where traffic varies, each with a minimum volume so one
// failure at 3 a.m. does not page anyone. Notifications go to an optional SNS topic.
import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type IFilterPattern, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The period of every alarm and log metric: short enough to page within minutes. */
export const ALARM_PERIOD = Duration.minutes(5);
const PERIOD = ALARM_PERIOD;

export interface AlarmOptions {
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly description: string;
}

/**
 * An alarm at or above the threshold, quiet without data (no traffic is not an outage), named
 * `<prefix>-<id in kebab case>` so one stack's alarms sort together.
 */
export function serviceAlarm(
  scope: Construct,
  namePrefix: string,
  id: string,
  metric: cloudwatch.IMetric,
  opts: AlarmOptions,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmName: `${namePrefix}-${id.replace(/[A-Z]/g, (c, i: number) => `${i ? '-' : ''}${c.toLowerCase()}`)}`,
    metric,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: opts.description,
    threshold: opts.threshold,
    evaluationPeriods: opts.evaluationPeriods,
    datapointsToAlarm: opts.datapointsToAlarm,
  });
}

/** A count per period of the log lines matching the pattern (metric filter `<name>Filter`). */
export function logLineCount(
  scope: Construct,
  logGroup: ILogGroup,
  namespace: string,
  name: string,
  filterPattern: IFilterPattern,
): cloudwatch.Metric {
  return new MetricFilter(scope, `${name}Filter`, {
    logGroup,
    filterPattern,
    metricNamespace: namespace,
    metricName: name,
    metricValue: '1',
    // A zero for every batch of logs without a match, so rates have a denominator.
    defaultValue: 0,
  }).metric({ statistic: cloudwatch.Stats.SUM, period: PERIOD });
}

/** Alarm and OK notifications of these alarms to the topic, if there is one. */
export function notifyTopic(alarms: readonly cloudwatch.Alarm[], topic: ITopic | undefined): void {
  if (!topic) return;
  const action = new SnsAction(topic);
  for (const a of alarms) {
    a.addAlarmAction(action);
    a.addOkAction(action);
  }
}

/** Log events of the function (lambda/domain/create-link-token.ts, lambda/http/http-api.ts). */
export const FUNCTION_LOG_EVENTS = {
  plaidFailed: 'plaid.link_token_failed',
  plaidCreated: 'plaid.link_token_created',
  requestFailed: 'request.failed',
} as const;

export interface LinkTokenAlarmsProps {
  readonly namePrefix: string;
  readonly api: IHttpApi;
  readonly function: IFunction;
  readonly functionLogGroup: ILogGroup;
  readonly accessLogGroup: ILogGroup;
  /** Namespace of the metrics taken from the logs. */
  readonly metricNamespace: string;
  /** p99 duration above which requests count as slow. */
  readonly slowDuration: Duration;
  readonly topic?: ITopic;
}

export class LinkTokenAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: LinkTokenAlarmsProps) {
    super(scope, id);
    const countFrom = (logGroup: ILogGroup, name: string, filterPattern: IFilterPattern) =>
      logLineCount(this, logGroup, props.metricNamespace, name, filterPattern);

    const plaidFailures = countFrom(
      props.functionLogGroup,
      'PlaidLinkTokenFailures',
      FilterPattern.stringValue('$.event', '=', FUNCTION_LOG_EVENTS.plaidFailed),
    );
    const plaidSuccesses = countFrom(
      props.functionLogGroup,
      'PlaidLinkTokenSuccesses',
      FilterPattern.stringValue('$.event', '=', FUNCTION_LOG_EVENTS.plaidCreated),
    );
    // Requests the gateway refused at the stage limit never reached the integration.
    const gatewayThrottles = countFrom(
      props.accessLogGroup,
      'GatewayThrottledRequests',
      FilterPattern.all(
        FilterPattern.stringValue('$.status', '=', '429'),
        FilterPattern.any(
          FilterPattern.stringValue('$.integrationStatus', '=', '-'),
          FilterPattern.stringValue('$.errorType', '=', 'THROTTLED'),
        ),
      ),
    );
    // Not alarmed on (the 5xx rate covers it): the function's own 5xx by failure kind, which
    // tells a Plaid outage, a Secrets Manager problem and a misconfiguration apart.
    new MetricFilter(this, 'FunctionServerErrorsFilter', {
      logGroup: props.functionLogGroup,
      filterPattern: FilterPattern.all(
        FilterPattern.stringValue('$.event', '=', FUNCTION_LOG_EVENTS.requestFailed),
        FilterPattern.numberValue('$.status', '>=', 500),
      ),
      metricNamespace: props.metricNamespace,
      metricName: 'FunctionServerErrors',
      metricValue: '1',
      dimensions: { Kind: '$.kind' },
    });

    const sum = { statistic: cloudwatch.Stats.SUM, period: PERIOD };
    const alarm = (name: string, metric: cloudwatch.IMetric, opts: AlarmOptions) =>
      serviceAlarm(this, props.namePrefix, name, metric, opts);

    const alarms = [
      alarm(
        'ServerErrorRate',
        new cloudwatch.MathExpression({
          label: '5xx responses (% of requests)',
          expression: 'IF(requests >= 10, 100 * errors / requests, 0)',
          usingMetrics: { errors: props.api.metricServerError(sum), requests: props.api.metricCount(sum) },
          period: PERIOD,
        }),
        {
          threshold: 5,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          description:
            'At least 5% of requests (and 10 or more in 5 minutes) got a 5xx in 2 of the last 3 periods of 5 minutes. ' +
            'Metric FunctionServerErrors by Kind says which: upstream_* is Plaid, secrets_unavailable is Secrets Manager or a missing secret value, misconfigured is a tenant setting.',
        },
      ),
      alarm(
        'UpstreamErrorRate',
        new cloudwatch.MathExpression({
          label: 'Plaid /link/token/create failures (% of calls)',
          expression: 'IF(failed + created >= 5, 100 * failed / (failed + created), 0)',
          usingMetrics: { failed: plaidFailures, created: plaidSuccesses },
          period: PERIOD,
        }),
        {
          threshold: 10,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          description:
            'At least 10% of calls to Plaid failed in 2 of the last 3 periods of 5 minutes. Search the function log for ' +
            `"${FUNCTION_LOG_EVENTS.plaidFailed}": plaid_error_code names Plaid's reason (INVALID_API_KEYS: rotate the secret; RATE_LIMIT_EXCEEDED: ask Plaid), failure=timeout|network is reachability.`,
        },
      ),
      alarm('FunctionThrottles', props.function.metricThrottles(sum), {
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        description:
          'Lambda refused invocations for lack of concurrency: the account (or region) limit is exhausted by this or other functions. Clients got 5xx. Raise the account concurrency quota or find the function that took it.',
      }),
      alarm('GatewayThrottles', gatewayThrottles, {
        threshold: 10,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        description:
          "API Gateway answered 429 at the stage throttling limit (or the webhook route's own limit) at least 10 times in 5 minutes. Either abuse (check sourceIp and routeKey in the access log) or real traffic above the limit: " +
          'raise throttle (or, for POST /webhooks/plaid/{tenant_id}, webhookThrottle) rate/burst in infra/stages.ts. Plaid retries the webhooks refused here.',
      }),
      alarm('SlowRequests', props.function.metricDuration({ statistic: cloudwatch.Stats.p(99), period: PERIOD }), {
        threshold: props.slowDuration.toMilliseconds(),
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        description:
          `The function's p99 duration stayed at or above ${props.slowDuration.toMilliseconds()} ms for 15 minutes, halfway to the upstream budget at which requests fail with 504. ` +
          'Usually Plaid is slow (plaid.link_token_created duration_ms in the function log); check status.plaid.com.',
      }),
    ];
    notifyTopic(alarms, props.topic);
    this.alarms = alarms;
  }
}
