/**
 * The awsJson1_1 protocol shared by the KMS and EventBridge stand-ins: POST / with
 * X-Amz-Target: <prefix>.<Operation>, JSON bodies, errors as {"__type", "message"} plus the
 * x-amzn-ErrorType header; SigV4 checked for shape only (any access key is accepted, as LocalStack does).
 * Fault injection and per-operation call counts are the same for every service built on it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, isPlainObject, listen, parseJson, readBody, sendJson } from './http-util.ts';

/**
 * internal: a 5xx with the service's internal-error type; throttle: 400 ThrottlingException;
 * hang: the request is never answered (the client's timeout must fire); network: the socket is destroyed.
 */
export type AwsFault = 'internal' | 'throttle' | 'hang' | 'network';

export class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export interface AwsJsonServiceOptions<Op extends string> {
  port?: number;
  host?: string;
  /** The SigV4 credential scope's service, e.g. "kms", "events". */
  signingName: string;
  /** The X-Amz-Target prefix, e.g. "TrentService", "AWSEvents". */
  targetPrefix: string;
  operations: Record<Op, (input: Record<string, unknown>) => unknown>;
  /** What an 'internal' fault answers, e.g. { type: 'KMSInternalException', status: 500 }. */
  internalError: { type: string; status: number; message: string };
  throttleMessage: string;
  maxBody?: number;
}

export interface AwsJsonService<Op extends string> {
  url: string;
  /** Requests per operation that passed the signature check (faulted ones included). */
  calls: Record<Op, number>;
  resetCalls(): void;
  /**
   * The next n operation requests (of `operation` only, when given) get `fault`, queued after
   * any already scheduled; requests of other operations pass untouched.
   */
  failNext(n: number, fault: AwsFault, operation?: Op): void;
  /** Forgets faults not yet used. */
  clearFaults(): void;
  /** Delay every answer by ms (0 turns it off). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export async function startAwsJsonService<Op extends string>(
  opts: AwsJsonServiceOptions<Op>,
): Promise<AwsJsonService<Op>> {
  const names = Object.keys(opts.operations) as Op[];
  const calls = Object.fromEntries(names.map((op) => [op, 0])) as Record<Op, number>;
  let faults: Array<{ fault: AwsFault; operation: Op | undefined }> = [];
  let latencyMs = 0;

  function respond(res: ServerResponse, status: number, body: unknown, errorType?: string) {
    const headers: Record<string, string> = { 'x-amzn-requestid': randomUUID() };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    sendJson(res, status, body, headers, 'application/x-amz-json-1.1');
  }

  function respondError(res: ServerResponse, err: AwsError) {
    respond(res, err.status, { __type: err.type, message: err.message }, err.type);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let raw: Buffer;
    try {
      raw = await readBody(req, opts.maxBody ?? 1024 * 1024);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      res.setHeader('connection', 'close');
      return respondError(res, new AwsError('SerializationException', 'Request body too large', 413));
    }
    const authError = checkSignature(req, opts.signingName);
    if (authError) return respondError(res, authError);

    const target = req.headers['x-amz-target'];
    const prefix = `${opts.targetPrefix}.`;
    const op = typeof target === 'string' && target.startsWith(prefix) ? target.slice(prefix.length) : '';
    if (req.method !== 'POST' || !Object.hasOwn(opts.operations, op)) {
      return respondError(res, new AwsError('UnknownOperationException', ''));
    }
    const input = raw.length === 0 ? {} : parseJson(raw);
    if (!isPlainObject(input)) {
      return respondError(
        res,
        new AwsError('SerializationException', 'Start of structure or map found where not expected.'),
      );
    }

    calls[op as Op]++;
    const i = faults.findIndex((f) => f.operation === undefined || f.operation === op);
    const fault = i < 0 ? undefined : faults.splice(i, 1)[0]?.fault;
    if (fault === 'hang') return; // leave the socket open and unanswered until the client gives up
    if (fault === 'network') {
      req.socket.destroy();
      return;
    }
    if (latencyMs > 0) await server.sleep(latencyMs);
    if (fault === 'internal') {
      const { type, status, message } = opts.internalError;
      return respondError(res, new AwsError(type, message, status));
    }
    if (fault === 'throttle') return respondError(res, new AwsError('ThrottlingException', opts.throttleMessage));

    try {
      respond(res, 200, opts.operations[op as Op](input) ?? {});
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      respondError(res, err);
    }
  }

  const server = await listen(handle, opts);
  return {
    url: server.url,
    calls,
    resetCalls() {
      for (const op of names) calls[op] = 0;
    },
    failNext(n, fault, operation) {
      for (let i = 0; i < n; i++) faults.push({ fault, operation });
    },
    clearFaults() {
      faults = [];
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => server.close(),
  };
}

/** A request value as an error message quotes it: a string as it is, anything else as its JSON. */
export function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** AWS's validation error for a missing member. */
export function missingMember(member: string): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );
}

/** Mirrors the errors AWS gives for missing or malformed SigV4 (the signature itself is not verified). */
export function checkSignature(req: IncomingMessage, service: string): AwsError | undefined {
  const auth = req.headers.authorization;
  if (auth === undefined) return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m || m[1] === undefined || m[2] === undefined) {
    return new AwsError(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth.split(' ')[0]}`,
    );
  }
  const scope = m[1].split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return new AwsError('IncompleteSignatureException', `Credential should be scoped to a valid region.`);
  }
  if (scope[3] !== service) {
    return new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
  }
  if (req.headers['x-amz-date'] === undefined && req.headers.date === undefined) {
    return new AwsError(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  return undefined;
}
