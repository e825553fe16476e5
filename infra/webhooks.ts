// Verified Plaid webhooks, the infrastructure side: the route Plaid posts to (on the
// one function, whose webhook code verifies Plaid's signature and is loaded on first use) and
// the EventBridge bus every verified webhook is published on. Subscribers (a tenant's queue, a
// Step Functions workflow...) attach their own rules to the bus; this stack deploys none.
import { Stack } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EVENT_SOURCES } from '../lambda/config/events.ts';
import { WEBHOOK_PATH } from '../lambda/config/routes.ts';

/** Plaid POSTs each tenant's webhooks to WEBHOOK_PATH (lambda/config/routes.ts). */
export const WEBHOOK_METHOD = HttpMethod.POST;
/** The route key, as API Gateway names the route in stage route settings and the access log. */
export const WEBHOOK_ROUTE_KEY = `${WEBHOOK_METHOD} ${WEBHOOK_PATH}`;
/** The Source of every event the function publishes (the webhooks design); the only one its role may use. */
export const WEBHOOK_EVENT_SOURCE = EVENT_SOURCES.plaid_webhook;

/** The function's environment entries that point it at the bus (read by the webhook code). */
export interface WebhookBusEnvironment {
  readonly WEBHOOK_BUS_NAME: string;
}

export class WebhookBus extends Construct {
  readonly bus: events.EventBus;
  readonly environment: WebhookBusEnvironment;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    // Named after the stack (link-token-<stage>-webhooks) so rules written by hand or in
    // another stack can find it; one bus per stage, so dev events never reach prod subscribers.
    const eventBusName = `${stackName}-webhooks`;
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName,
      description: `Verified Plaid webhooks of ${stackName}: source ${WEBHOOK_EVENT_SOURCE}, detail-type <webhook_type>.<webhook_code>`,
    });
    // The name itself rather than a Ref: it is fixed at synth, so the template states it, and
    // the deploy rehearsal can read it back (moto's CloudFormation resolves a Ref to an event
    // bus to no name at all). The function depends on the bus explicitly instead.
    this.environment = { WEBHOOK_BUS_NAME: eventBusName };
  }

  /**
   * PutEvents on this bus only, and only as the service's own sources (verified webhooks, Item
   * and user lifecycle): subscribers that match `source` can trust that the function sent the
   * event (a webhook only after verifying Plaid's signature).
   */
  grantPublish(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WebhookBusPublish',
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        // events:source is multivalued (one value per entry of the PutEvents call): a plain
        // StringEquals never matches it, so it would allow nothing. ForAllValues requires every
        // entry to carry one of the service's sources; it also holds for a request with no source at
        // all, which the Null check refuses.
        conditions: {
          'ForAllValues:StringEquals': { 'events:source': Object.values(EVENT_SOURCES) },
          Null: { 'events:source': 'false' },
        },
      }),
    );
  }
}
