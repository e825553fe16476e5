// Structured JSON logs, one line per event. Callers log projections (ids, codes, durations),
// never raw events, headers or errors; `redact` is a safety net behind that rule, not a
// replacement for it: anything shaped like a JWT, a bearer credential or a link token is cut.
//
// Each line carries the keys Powertools for AWS Lambda's Logger writes (level in upper case,
// message, timestamp, service, cold_start, function_name, function_memory_size, function_arn,
// function_request_id, xray_trace_id when traced), so the Logs Insights queries AWS users know
// work unchanged, and `event` (= message), which the stack's metric filters match on.
//
// Hot path: a warm request writes one line. The per-invocation keys and a child's fields are
// serialised once (startInvocation, child) and the line is concatenated from those fragments;
// a string is run through the redaction regexes only when it could hold what they cut.
//
// It implements the domain's Logger port (domain/ports.ts).
import type { LogFields, Logger } from '../domain/ports.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What of the Lambda context the lines carry (aws-lambda's Context has all of it). */
export interface InvocationContext {
  readonly awsRequestId: string;
  readonly functionName?: string;
  readonly memoryLimitInMB?: string;
  readonly invokedFunctionArn?: string;
}

export interface FunctionLogger extends Logger {
  /**
   * Called by the handler at the start of every invocation: the lines of this invocation (from
   * this logger and every child) carry its request id, trace id and whether it is the cold start.
   */
  startInvocation(context: InvocationContext): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const LEVEL_PREFIX: Record<LogLevel, string> = {
  debug: '{"level":"DEBUG","message":',
  info: '{"level":"INFO","message":',
  warn: '{"level":"WARN","message":',
  error: '{"level":"ERROR","message":',
};
/** Powertools' own keys: a caller's field of the same name would make a line with two of them. */
const RESERVED = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_name',
  'function_memory_size',
  'function_arn',
  'function_request_id',
  'xray_trace_id',
  'event',
]);

const JWT_SHAPE = /\beyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const LINK_TOKEN_SHAPE = /\b(link-(?:sandbox|development|production)-)[0-9a-f-]{8,}/gi;
const BEARER_SHAPE = /\b(Bearer\s+)\S+/gi;
/**
 * Every match of the three shapes above contains one of these (the link token's prefix in full:
 * a bare "link-" is in every line's path, /link-token): a string without any is left as it is.
 */
const MAY_HOLD_A_CREDENTIAL = /eyJ|link-(?:sandbox|development|production)-|bearer/i;

export function redact(text: string): string {
  if (!MAY_HOLD_A_CREDENTIAL.test(text)) return text;
  return text
    .replace(JWT_SHAPE, '[redacted-jwt]')
    .replace(LINK_TOKEN_SHAPE, '$1[redacted]')
    .replace(BEARER_SHAPE, '$1[redacted]');
}

function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, redactValue(item, depth + 1)]));
}

/** Whether redactValue would change anything: the common line (ids, codes, numbers) needs no copy. */
function needsRedaction(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return MAY_HOLD_A_CREDENTIAL.test(value);
  if (value === null || typeof value !== 'object' || depth > 4) return false;
  for (const item of Array.isArray(value) ? value : Object.values(value))
    if (needsRedaction(item, depth + 1)) return true;
  return false;
}

/** `{"a":1,"b":2}` → `,"a":1,"b":2` (or '' for no fields), redacted, undefined values left out as JSON.stringify does. */
function fragment(fields: LogFields): string {
  const json = JSON.stringify(needsRedaction(fields) ? redactValue(fields) : fields);
  return json.length > 2 ? `,${json.slice(1, -1)}` : '';
}

/** The Root of an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`), as Powertools logs it. */
export function xrayTraceId(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const root = /(?:^|;)\s*Root=([^;]+)/.exec(header)?.[1];
  return root?.trim() || undefined;
}

export function createLogger(
  opts: {
    level?: LogLevel;
    write?: (line: string) => void;
    now?: () => Date;
    /** Powertools' `service` key (default POWERTOOLS_SERVICE_NAME, else 'link-token'). */
    service?: string;
    /** Fields on every line. */
    base?: LogFields;
    /** Where the trace header and the function's name and memory are read (default process.env). */
    env?: Readonly<Record<string, string | undefined>>;
  } = {},
): FunctionLogger {
  const threshold = LEVELS[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const env = opts.env ?? process.env;
  const service = opts.service ?? env.POWERTOOLS_SERVICE_NAME ?? 'link-token';
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  // Lines written during init (before the first invocation) belong to the cold start too.
  const initKeys = {
    service,
    cold_start: true,
    ...(env.AWS_LAMBDA_FUNCTION_NAME ? { function_name: env.AWS_LAMBDA_FUNCTION_NAME } : {}),
    ...(Number.isFinite(memory) && memory > 0 ? { function_memory_size: memory } : {}),
  };
  // Shared by the root logger and every child: the keys of the invocation under way, serialised
  // by its first line (trace id read then: the runtime sets it before the invocation starts).
  let invocations = 0;
  let context: InvocationContext | undefined;
  let invocationKeys: string | undefined = fragment(initKeys);
  const invocationFragment = (): string => {
    if (invocationKeys !== undefined || context === undefined) return invocationKeys ?? '';
    const memoryMb = Number(context.memoryLimitInMB);
    return (invocationKeys = fragment({
      service,
      cold_start: invocations === 1,
      function_name: context.functionName ?? initKeys.function_name,
      function_memory_size: Number.isFinite(memoryMb) && memoryMb > 0 ? memoryMb : initKeys.function_memory_size,
      function_arn: context.invokedFunctionArn,
      function_request_id: context.awsRequestId,
      xray_trace_id: xrayTraceId(env._X_AMZN_TRACE_ID),
    }));
  };

  // A child's fields are serialised when it first writes a line (a request makes two children
  // and, on success, writes one line through the second).
  const make = (base: LogFields): Logger => {
    let serialised: string | undefined;
    const log = (level: LogLevel) => (event: string, fields?: LogFields) => {
      if (LEVELS[level] < threshold) return;
      let own = (serialised ??= fragment(base));
      if (fields !== undefined) {
        let collides = false;
        for (const key in fields) {
          if (Object.hasOwn(base, key) || RESERVED.has(key)) {
            collides = true;
            break;
          }
        }
        // A field given again overrides the child's (as an object spread would); a Powertools key is renamed.
        own = collides ? fragment(withoutReserved({ ...base, ...fields })) : own + fragment(fields);
      }
      const name = JSON.stringify(redact(event));
      write(
        `${LEVEL_PREFIX[level]}${name},"timestamp":"${now().toISOString()}"${invocationFragment()},"event":${name}${own}}`,
      );
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make(withoutReserved({ ...base, ...fields })),
    };
  };

  const root = make(withoutReserved(opts.base ?? {}));
  return Object.assign(root, {
    startInvocation(invocation: InvocationContext) {
      invocations += 1;
      context = invocation;
      invocationKeys = undefined;
    },
  });
}

/** A caller's field named like a Powertools key is kept, as data_<key>: a line never has a key twice. */
function withoutReserved(fields: LogFields): LogFields {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (!RESERVED.has(key)) continue;
    copy ??= { ...fields };
    copy[`data_${key}`] = copy[key];
    delete copy[key];
  }
  return copy ?? fields;
}

export function parseLogLevel(value: string | undefined): LogLevel {
  const level = value?.toLowerCase();
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}
