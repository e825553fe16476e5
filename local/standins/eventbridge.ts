/**
 * Stand-in for Amazon EventBridge's PutEvents, speaking the awsJson1_1 protocol that
 * @aws-sdk/client-eventbridge uses (X-Amz-Target: AWSEvents.PutEvents). It records every event
 * it accepts. As in EventBridge, a bad entry fails on its own (FailedEntryCount > 0 in a 200
 * answer) while the others are accepted; failNextEntries() makes healthy entries fail that way too,
 * which is how a partial EventBridge outage looks to a caller.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, missingMember, shown, startAwsJsonService } from './aws-json.ts';
import type { AwsFault } from './aws-json.ts';
import { isPlainObject } from './http-util.ts';

export const EVENTBRIDGE_OPERATIONS = ['PutEvents'] as const;
export type EventBridgeOperation = (typeof EVENTBRIDGE_OPERATIONS)[number];

export const EVENTBRIDGE_ACCOUNT_ID = '000000000000';

export interface EventBridgeStandInOptions {
  port?: number;
  host?: string;
  region?: string;
  /** Event buses that exist besides "default". */
  eventBuses?: string[];
}

export interface RecordedEvent {
  EventId: string;
  EventBusName: string;
  Source: string;
  DetailType: string;
  /** Detail, parsed. */
  Detail: unknown;
  Resources: string[];
  /** Epoch seconds, as sent, or the time the event was accepted. */
  Time: number;
}

export interface EventBridgeStandIn {
  url: string;
  region: string;
  /** Requests per operation that passed the signature check (faulted ones included). */
  calls: Record<EventBridgeOperation, number>;
  /** Every event accepted, in order. */
  events: RecordedEvent[];
  /** Clears calls and events. */
  reset(): void;
  /** The next n requests fail as a whole with `fault`. */
  failNext(n: number, fault: AwsFault): void;
  /** The next n otherwise valid entries are refused one by one with `errorCode` (default InternalFailure). */
  failNextEntries(n: number, errorCode?: 'InternalFailure' | 'ThrottlingException'): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

const MAX_ENTRIES = 10;

export async function startEventBridgeStandIn(opts: EventBridgeStandInOptions = {}): Promise<EventBridgeStandIn> {
  const region = opts.region ?? 'us-east-1';
  const buses = new Set(['default', ...(opts.eventBuses ?? [])]);
  const busArnPrefix = `arn:aws:events:${region}:${EVENTBRIDGE_ACCOUNT_ID}:event-bus/`;
  const events: RecordedEvent[] = [];
  let entryFaults: string[] = [];

  function busName(v: unknown): string {
    if (v === undefined || v === null || v === '') return 'default';
    const name = typeof v === 'string' && v.startsWith(busArnPrefix) ? v.slice(busArnPrefix.length) : shown(v);
    if (!buses.has(name)) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  function entryError(entry: Record<string, unknown>): { ErrorCode: string; ErrorMessage: string } | undefined {
    for (const member of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[member] !== 'string' || entry[member] === '') {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `Parameter ${member} is not valid. Reason: ${member} is a required argument.`,
        };
      }
    }
    try {
      JSON.parse(entry.Detail as string);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    return undefined;
  }

  const service = await startAwsJsonService<EventBridgeOperation>({
    port: opts.port,
    host: opts.host,
    signingName: 'events',
    targetPrefix: 'AWSEvents',
    internalError: { type: 'InternalException', status: 500, message: 'An internal error occurred.' },
    throttleMessage: 'Rate exceeded',
    operations: {
      PutEvents(input) {
        const entries = input.Entries;
        if (!Array.isArray(entries)) throw missingMember('entries');
        if (entries.length < 1 || entries.length > MAX_ENTRIES) {
          throw new AwsError(
            'ValidationException',
            `1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`}`,
          );
        }
        // Every bus is checked before any entry is accepted, so an unknown bus accepts nothing.
        const named = entries.map((e) => busName(isPlainObject(e) ? e.EventBusName : undefined));
        const results = entries.map((raw, i) => {
          const entry = isPlainObject(raw) ? raw : {};
          const error = entryError(entry);
          if (error) return error;
          const injected = entryFaults.shift();
          if (injected)
            return {
              ErrorCode: injected,
              ErrorMessage: injected === 'ThrottlingException' ? 'Rate exceeded' : 'An internal error occurred.',
            };
          const event: RecordedEvent = {
            EventId: randomUUID(),
            EventBusName: named[i] as string,
            Source: entry.Source as string,
            DetailType: entry.DetailType as string,
            Detail: JSON.parse(entry.Detail as string),
            Resources: Array.isArray(entry.Resources)
              ? entry.Resources.filter((r): r is string => typeof r === 'string')
              : [],
            Time: typeof entry.Time === 'number' ? entry.Time : Date.now() / 1000,
          };
          events.push(event);
          return { EventId: event.EventId };
        });
        return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
      },
    },
  });

  return {
    url: service.url,
    region,
    calls: service.calls,
    events,
    reset() {
      service.resetCalls();
      events.length = 0;
    },
    failNext: (n, fault) => service.failNext(n, fault),
    failNextEntries(n, errorCode = 'InternalFailure') {
      for (let i = 0; i < n; i++) entryFaults.push(errorCode);
    },
    clearFaults() {
      service.clearFaults();
      entryFaults = [];
    },
    setLatency: (ms) => service.setLatency(ms),
    close: () => service.close(),
  };
}
