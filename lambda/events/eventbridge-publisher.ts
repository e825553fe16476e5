// Hands verified webhooks to the tenant's backend through the stack's EventBridge bus. Loaded on
// the first webhook only (a dynamic import in handler.ts). A partial failure (FailedEntryCount)
// is a failure: the webhook is answered so that Plaid retries.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ServiceFailure } from '../domain/failure.ts';
import type { WebhookPublisher } from '../domain/receive-webhook.ts';

export const EVENT_SOURCE = 'link-token-service.plaid';

export function createEventBridgePublisher(opts: {
  busName: string;
  requestTimeoutMs: number;
  maxAttempts: number;
}): WebhookPublisher {
  const client = new EventBridgeClient({
    maxAttempts: opts.maxAttempts,
    requestHandler: {
      requestTimeout: opts.requestTimeoutMs,
      connectionTimeout: opts.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return {
    async publish(event) {
      let out;
      try {
        out = await client.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: opts.busName,
                Source: EVENT_SOURCE,
                DetailType: event.detailType,
                Time: event.time,
                Detail: JSON.stringify(event.detail),
              },
            ],
          }),
        );
      } catch (error) {
        const name = (error as { name?: unknown })?.name;
        throw new ServiceFailure('events_unavailable', 'The webhook could not be handed on; Plaid will retry.', {
          cause: { name: typeof name === 'string' ? name : 'Error' },
        });
      }
      if ((out.FailedEntryCount ?? 0) > 0) {
        throw new ServiceFailure('events_unavailable', 'The webhook could not be handed on; Plaid will retry.', {
          cause: { name: out.Entries?.[0]?.ErrorCode ?? 'FailedEntry' },
        });
      }
    },
  };
}
