// The upstream calls to Plaid: one POST over a keep-alive connection, inside a total time budget,
// with at most one retry (network error, 429 or 5xx) when the budget allows and the call may be
// repeated. It returns a typed outcome; mapping outcomes to the service's failures is the use
// case's job. /link/token/create is the hot path; the Item endpoints share the same transport.
// It implements the domain's PlaidApi port (domain/ports.ts).
import http from 'node:http';
import https from 'node:https';
import { PLAID_API_VERSION } from '../config/plaid-vocabulary.ts';
import { isLoopbackHost } from '../config/url-rules.ts';
import type { LinkTokenCreated, PlaidApi, PlaidCredentials, PlaidRequest, PlaidResult } from '../domain/ports.ts';

export interface PlaidClientOptions {
  /** A retry starts only if at least this much of the budget is left. */
  minRetryBudgetMs?: number;
  /** Jitter before the retry: uniformly drawn from [0, maxJitterMs). */
  maxJitterMs?: number;
  now?: () => number;
  random?: () => number;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

// One agent per scheme for the life of the execution environment: warm requests reuse the TLS
// connection to Plaid instead of paying a handshake each time.
const agents = {
  'https:': new https.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 64, scheduling: 'lifo' }),
  'http:': new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 64, scheduling: 'lifo' }),
};

export function createPlaidClient(opts: PlaidClientOptions = {}): PlaidApi {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const minRetryBudgetMs = opts.minRetryBudgetMs ?? 1000;
  const maxJitterMs = opts.maxJitterMs ?? 250;

  async function call<T>(
    path: string,
    {
      baseUrl,
      credentials,
      body,
      deadline,
      repeatable,
      read,
    }: PlaidRequest & { repeatable: boolean; read: (json: Record<string, unknown>) => T | undefined },
  ): Promise<PlaidResult<T>> {
    const endpoint = endpointOf(path, baseUrl);
    const payload = JSON.stringify(body);
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const remaining = deadline - now();
      if (remaining <= 0) return { ok: false, kind: 'timeout', attempts };
      const result = await postJson(endpoint, credentials, payload, remaining);
      const outcome = toOutcome(result, attempts, read);
      if (!repeatable || attempts >= 2 || !isRetryable(outcome)) return outcome;
      const jitter = Math.floor(random() * maxJitterMs);
      if (deadline - now() - jitter < minRetryBudgetMs) return outcome;
      await new Promise((resolve) => setTimeout(resolve, jitter));
    }
  }

  return {
    createLinkToken: (request) =>
      call('/link/token/create', { ...request, repeatable: true, read: readLinkTokenCreated }),
    call,
  };
}

/** Where one Plaid endpoint is: what http.request needs of its URL, worked out once. */
interface Endpoint {
  readonly transport: typeof http | typeof https;
  readonly agent: http.Agent;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
  readonly path: string;
}

// The endpoint URLs, parsed and checked once: a warm request to a known endpoint parses nothing,
// and hands http.request plain options instead of a URL (whose conversion reads a dozen URL
// getters per request). Bounded by the tenants' environments (and the one override) times
// Plaid's few endpoints.
const endpoints = new Map<string, Endpoint>();
function endpointOf(path: string, baseUrl: string): Endpoint {
  const key = `${baseUrl} ${path}`;
  let endpoint = endpoints.get(key);
  if (endpoint === undefined) {
    const url = new URL(path, baseUrl);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new Error('Plaid base URL must be https (http only for loopback hosts)');
    }
    // The fields urlToHttpOptions takes from a URL (IPv6 hosts without their brackets).
    endpoint = {
      transport: url.protocol === 'https:' ? https : http,
      agent: agents[url.protocol],
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
    };
    endpoints.set(key, endpoint);
  }
  return endpoint;
}

// One watchdog for every call in flight, armed for the earliest deadline, instead of a timer
// made and cleared per call: with a steady budget each new call's deadline is later than the
// armed one, so a warm environment arms about one timer per budget period (each per-call timer
// was a measurable part of the client's cost over a bare request). Unref'd: an active socket
// keeps the process alive, the watchdog alone never does.
interface InFlight {
  readonly deadline: number;
  expire(): void;
}
const inFlight = new Set<InFlight>();
let watchdog: NodeJS.Timeout | undefined;
let watchdogAt = Infinity;
function watch(call: InFlight): void {
  inFlight.add(call);
  if (call.deadline < watchdogAt) armWatchdog(call.deadline);
}
function armWatchdog(at: number): void {
  if (watchdog !== undefined) clearTimeout(watchdog);
  watchdogAt = at;
  watchdog = setTimeout(expireOverdue, Math.max(0, at - performance.now()));
  watchdog.unref();
}
function expireOverdue(): void {
  watchdog = undefined;
  watchdogAt = Infinity;
  const t = performance.now();
  let next = Infinity;
  for (const call of inFlight) {
    if (call.deadline <= t) {
      inFlight.delete(call);
      call.expire();
    } else if (call.deadline < next) {
      next = call.deadline;
    }
  }
  if (next !== Infinity) armWatchdog(next);
}

function readLinkTokenCreated(json: Record<string, unknown>): LinkTokenCreated | undefined {
  const str = (key: string) => (typeof json[key] === 'string' ? json[key] : undefined);
  const link_token = str('link_token');
  const expiration = str('expiration');
  if (!link_token || !expiration) return undefined;
  const hosted_link_url = str('hosted_link_url');
  return { link_token, expiration, request_id: str('request_id'), ...(hosted_link_url ? { hosted_link_url } : {}) };
}

function isRetryable(outcome: PlaidResult<unknown>): boolean {
  if (outcome.ok) return false;
  if (outcome.kind === 'network') return true;
  if (outcome.kind === 'plaid_error') return outcome.error.status === 429 || outcome.error.status >= 500;
  if (outcome.kind === 'malformed') return outcome.status >= 500;
  return false;
}

type RawResult =
  { kind: 'response'; status: number; body: string } | { kind: 'network'; code: string } | { kind: 'timeout' };

function postJson(
  endpoint: Endpoint,
  credentials: PlaidCredentials,
  payload: string,
  timeoutMs: number,
): Promise<RawResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: RawResult) => {
      if (settled) return;
      settled = true;
      inFlight.delete(call);
      resolve(result);
    };
    const call: InFlight = {
      deadline: performance.now() + timeoutMs,
      expire: () => {
        finish({ kind: 'timeout' });
        req.destroy();
      },
    };
    const req = endpoint.transport.request(
      {
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port,
        path: endpoint.path,
        method: 'POST',
        agent: endpoint.agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          accept: 'application/json',
          'plaid-version': PLAID_API_VERSION,
          'plaid-client-id': credentials.client_id,
          'plaid-secret': credentials.secret,
          'user-agent': 'link-token-service/1',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            finish({ kind: 'network', code: 'RESPONSE_TOO_LARGE' });
            return;
          }
          chunks.push(chunk);
        });
        // A link token answer is one chunk: decoded as it is, without concatenating a copy first.
        res.on('end', () =>
          finish({
            kind: 'response',
            status: res.statusCode ?? 0,
            body: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'),
          }),
        );
        res.on('error', (err: NodeJS.ErrnoException) =>
          finish({ kind: 'network', code: err.code ?? 'RESPONSE_ERROR' }),
        );
      },
    );
    watch(call);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'network', code: err.code ?? 'REQUEST_ERROR' }));
    req.end(payload);
  });
}

function toOutcome<T>(
  result: RawResult,
  attempts: number,
  read: (json: Record<string, unknown>) => T | undefined,
): PlaidResult<T> {
  if (result.kind === 'network') return { ok: false, kind: 'network', code: result.code, attempts };
  if (result.kind === 'timeout') return { ok: false, kind: 'timeout', attempts };
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(result.body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  const str = (key: string) => (typeof json?.[key] === 'string' ? json[key] : undefined);
  if (result.status === 200) {
    const value = json ? read(json) : undefined;
    if (value === undefined) return { ok: false, kind: 'malformed', status: result.status, attempts };
    return { ok: true, attempts, value };
  }
  if (!json) return { ok: false, kind: 'malformed', status: result.status, attempts };
  return {
    ok: false,
    kind: 'plaid_error',
    attempts,
    error: {
      status: result.status,
      error_type: str('error_type'),
      error_code: str('error_code'),
      request_id: str('request_id'),
    },
  };
}
