// Structured JSON logs, one line per event. Callers log projections (ids, codes, durations),
// never raw events, headers or errors; `redact` is a safety net behind that rule, not a
// replacement for it: anything shaped like a JWT, a bearer credential or a link token is cut.
// It implements the domain's Logger port (domain/ports.ts).
import type { LogFields, Logger } from '../domain/ports.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const JWT_SHAPE = /\beyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const LINK_TOKEN_SHAPE = /\b(link-(?:sandbox|development|production)-)[0-9a-f-]{8,}/gi;
const BEARER_SHAPE = /\b(Bearer\s+)\S+/gi;

export function redact(text: string): string {
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

export function createLogger(opts: {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
  base?: LogFields;
} = {}): Logger {
  const threshold = LEVELS[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel) => (event: string, fields?: LogFields) => {
      if (LEVELS[level] < threshold) return;
      const entry = redactValue({ time: now().toISOString(), level, event, ...base, ...fields });
      write(JSON.stringify(entry));
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(opts.base ?? {});
}

export function parseLogLevel(value: string | undefined): LogLevel {
  const level = value?.toLowerCase();
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}
