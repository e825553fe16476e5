// The alarms of the items routes and the vault behind them: clients of /items getting 5xx, the
// vault (DynamoDB or KMS) failing, and the one failure that costs money until a person acts:
// an Item Plaid bills that the service could neither store nor remove. Rates with a minimum
// volume, as in link-token-alarms.ts; notifications to the same optional SNS topic.
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, type IFilterPattern, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ITEM_PATH, ITEMS_PATH } from '../lambda/config/routes.ts';
import { ALARM_PERIOD, logLineCount, notifyTopic, serviceAlarm } from './link-token-alarms.ts';

/** Log events of the items code (one JSON line each, key `event`). */
export const ITEMS_LOG_EVENTS = {
  /** An Item was exchanged at Plaid, could not be stored, and its removal at Plaid failed too. */
  orphanRemovalFailed: 'items.orphan_removal_failed',
  /** A request failed because DynamoDB or KMS did (one line per failed request). */
  vaultUnavailable: 'vault.unavailable',
} as const;

// The access log's routeKey is the route template (`DELETE /items/{item_id}`), never an item id.
const ITEMS_ROUTE_KEYS = FilterPattern.any(
  FilterPattern.stringValue('$.routeKey', '=', `* ${ITEMS_PATH}`),
  FilterPattern.stringValue('$.routeKey', '=', `* ${ITEM_PATH.slice(0, ITEM_PATH.indexOf('{'))}*`),
);
// Preflights never reach the vault and are answered from the tenants file: counting them would
// only dilute the rates.
const NOT_PREFLIGHT = FilterPattern.stringValue('$.method', '!=', 'OPTIONS');

export interface ItemsAlarmsProps {
  readonly namePrefix: string;
  readonly functionLogGroup: ILogGroup;
  readonly accessLogGroup: ILogGroup;
  /** Namespace of the metrics taken from the logs. */
  readonly metricNamespace: string;
  readonly topic?: ITopic;
}

export class ItemsAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ItemsAlarmsProps) {
    super(scope, id);
    const countFrom = (logGroup: ILogGroup, name: string, pattern: IFilterPattern) =>
      logLineCount(this, logGroup, props.metricNamespace, name, pattern);

    // From the access log, so a 5xx the function never logged (a crash, a timeout, Lambda
    // throttling) counts too.
    const requests = countFrom(
      props.accessLogGroup,
      'ItemsRequests',
      FilterPattern.all(ITEMS_ROUTE_KEYS, NOT_PREFLIGHT),
    );
    const serverErrors = countFrom(
      props.accessLogGroup,
      'ItemsServerErrors',
      FilterPattern.all(ITEMS_ROUTE_KEYS, NOT_PREFLIGHT, FilterPattern.stringValue('$.status', '=', '5*')),
    );
    const vaultUnavailable = countFrom(
      props.functionLogGroup,
      'VaultUnavailable',
      FilterPattern.stringValue('$.event', '=', ITEMS_LOG_EVENTS.vaultUnavailable),
    );
    const orphans = countFrom(
      props.functionLogGroup,
      'OrphanedPlaidItems',
      FilterPattern.stringValue('$.event', '=', ITEMS_LOG_EVENTS.orphanRemovalFailed),
    );

    const rateOf = (label: string, failures: cloudwatch.IMetric) =>
      new cloudwatch.MathExpression({
        label,
        // Below 10 calls in 5 minutes one failure is not a rate worth waking anyone for.
        expression: 'IF(requests >= 10, 100 * failures / requests, 0)',
        usingMetrics: { failures, requests },
        period: ALARM_PERIOD,
      });

    const alarms = [
      serviceAlarm(
        this,
        props.namePrefix,
        'ItemsServerErrorRate',
        rateOf('/items 5xx responses (% of calls, preflights excluded)', serverErrors),
        {
          threshold: 5,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          description:
            `At least 5% of calls to ${ITEMS_PATH} and ${ITEM_PATH} (and 10 or more in 5 minutes) got a 5xx in 2 of the last 3 periods of 5 minutes. ` +
            `The function log's "request.failed" lines with a path under ${ITEMS_PATH} say which kind; the vault-unavailable-rate alarm tells DynamoDB or KMS apart from Plaid. ` +
            'A 502 or 504 in the access log without a function line is a crash or a timeout.',
        },
      ),
      serviceAlarm(
        this,
        props.namePrefix,
        'VaultUnavailableRate',
        rateOf('vault.unavailable (% of /items calls)', vaultUnavailable),
        {
          threshold: 5,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          description:
            `Requests failed because the items vault did (DynamoDB or KMS): at least 5% of calls to ${ITEMS_PATH} (10 or more in 5 minutes) in 2 of the last 3 periods of 5 minutes; ` +
            `update-mode link tokens read the vault too and count here. Search the function log for "${ITEMS_LOG_EVENTS.vaultUnavailable}": an AccessDenied means a changed key policy or IAM grant, ` +
            'a disabled or pending-deletion key makes every token unreadable, throttling or 5xx is the service (AWS Health Dashboard).',
        },
      ),
      serviceAlarm(this, props.namePrefix, 'OrphanedPlaidItems', orphans, {
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        description:
          'An Item was exchanged at Plaid but could neither be stored in the vault nor removed at Plaid: Plaid keeps billing it and no user can see or remove it. ' +
          `Search the function log for "${ITEMS_LOG_EVENTS.orphanRemovalFailed}" to find the Item and remove it at Plaid by hand; then find out why the vault failed (vault.unavailable).`,
      }),
    ];
    notifyTopic(alarms, props.topic);
    this.alarms = alarms;
  }
}
