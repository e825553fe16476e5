// Hands events (verified webhooks, the service's own Item and user changes) to the tenant's
// backend through the stack's EventBridge bus. Loaded on first use (a dynamic import in
// handler.ts). A partial failure (FailedEntryCount) is a failure: the caller decides what a lost
// event means (a webhook is answered so that Plaid retries).
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ServiceFailure } from '../domain/failure.ts';
import { EVENT_SOURCES } from '../config/events.ts';
import type { EventPublisher } from '../domain/ports.ts';

export function createEventBridgePublisher(opts: {
  busName: string;
  requestTimeoutMs: number;
  maxAttempts: number;
}): EventPublisher {
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
                Source: EVENT_SOURCES[event.origin],
                DetailType: event.detailType,
                Time: event.time,
                Detail: JSON.stringify(event.detail),
              },
            ],
          }),
        );
      } catch (error) {
        const name = (error as { name?: unknown })?.name;
        throw new ServiceFailure('events_unavailable', 'The event bus could not take the event.', {
          cause: { name: typeof name === 'string' ? name : 'Error' },
        });
      }
      if ((out.FailedEntryCount ?? 0) > 0) {
        throw new ServiceFailure('events_unavailable', 'The event bus could not take the event.', {
          cause: { name: out.Entries?.[0]?.ErrorCode ?? 'FailedEntry' },
        });
      }
    },
  };
}
