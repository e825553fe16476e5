/**
 * Stand-in for AWS Secrets Manager speaking the awsJson1_1 protocol that
 * @aws-sdk/client-secrets-manager uses: POST / with X-Amz-Target: secretsmanager.<Op>,
 * JSON bodies, errors as {"__type", "Message"} plus the x-amzn-ErrorType header.
 * Signatures are checked for shape only: like LocalStack, any access key is accepted.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError, checkSignature, missingMember } from './aws-json.ts';
import { BodyTooLargeError, isPlainObject, listen, parseJson, randomAlnum, readBody, sendJson } from './http-util.ts';

export const SECRETS_MANAGER_OPERATIONS = [
  'GetSecretValue',
  'CreateSecret',
  'PutSecretValue',
  'DescribeSecret',
] as const;
export type SecretsManagerOperation = (typeof SECRETS_MANAGER_OPERATIONS)[number];
/** internal: 500; throttle: ThrottlingException; decryption: DecryptionFailure (KMS unavailable); hang: no answer. */
export type SecretsManagerFault = 'internal' | 'throttle' | 'decryption' | 'hang';
/** A secret value: a SecretString, or bytes stored as SecretBinary. */
export type SecretValue = string | { binary: Uint8Array };

export interface SecretsManagerStandInOptions {
  port?: number;
  host?: string;
  /** Region used in ARNs (default us-east-1). */
  region?: string;
  /** Seed secrets: name -> SecretString. */
  secrets?: Record<string, string>;
}

export interface SecretRef {
  ARN: string;
  Name: string;
  VersionId: string;
}

export interface SecretsManagerStandIn {
  url: string;
  region: string;
  /** Requests per operation that passed the signature check (faulted ones included). */
  calls: Record<SecretsManagerOperation, number>;
  /**
   * Creates the secret, or stores a new AWSCURRENT version of it (rotation). Not counted in `calls`.
   * An ARN as id seeds the secret under that ARN (a tenants file may name another account's
   * secret); a partial ARN, without the 6-character suffix, gets one as the real service adds it.
   */
  putSecret(id: string, value: SecretValue): SecretRef;
  resetCalls(): void;
  /** The next n operation requests fail with `mode` (queued after any already scheduled faults). */
  failNext(n: number, mode: SecretsManagerFault): void;
  /** Delay every answer by ms (0 turns it off). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

const ACCOUNT_ID = '000000000000';
const SERVICE = 'secretsmanager';
const MAX_BODY = 256 * 1024;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

interface Version {
  id: string;
  value: SecretValue;
  stages: string[];
  created: number;
}

interface Secret {
  name: string;
  arn: string;
  description?: string;
  created: number;
  lastChanged: number;
  lastAccessed?: number;
  versions: Version[];
}

const notFound = (message = "Secrets Manager can't find the specified secret.") =>
  new AwsError('ResourceNotFoundException', message);

const nowSeconds = () => Date.now() / 1000;

export async function startSecretsManagerStandIn(
  opts: SecretsManagerStandInOptions = {},
): Promise<SecretsManagerStandIn> {
  const region = opts.region ?? 'us-east-1';
  const secrets = new Map<string, Secret>();
  const faults: SecretsManagerFault[] = [];
  let latencyMs = 0;
  const calls = Object.fromEntries(SECRETS_MANAGER_OPERATIONS.map((op) => [op, 0])) as Record<
    SecretsManagerOperation,
    number
  >;

  function lookup(id: unknown): Secret {
    if (typeof id !== 'string' || id === '') throw missingMember('secretId');
    const byName = secrets.get(id);
    if (byName) return byName;
    for (const s of secrets.values()) {
      // Partial ARNs (without the random suffix) are accepted by the real service too.
      if (s.arn === id || s.arn.slice(0, -7) === id) return s;
    }
    throw notFound();
  }

  function create(name: string, description?: string, arn?: string): Secret {
    if (!NAME_PATTERN.test(name)) {
      throw new AwsError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    if (secrets.has(name)) {
      throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const t = nowSeconds();
    const secret: Secret = {
      name,
      arn: arn ?? `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-${randomAlnum(6)}`,
      created: t,
      lastChanged: t,
      versions: [],
    };
    if (description !== undefined) secret.description = description;
    secrets.set(name, secret);
    return secret;
  }

  function addVersion(
    secret: Secret,
    value: SecretValue,
    versionId: string = randomUUID(),
    stages = ['AWSCURRENT'],
  ): Version {
    const existing = secret.versions.find((v) => v.id === versionId);
    if (existing) {
      // A retried request with the same ClientRequestToken is idempotent; a different value is not.
      if (sameValue(existing.value, value)) return existing;
      throw new AwsError(
        'ResourceExistsException',
        `You can't modify an existing version, you can only create a new version.`,
      );
    }
    for (const stage of stages) {
      for (const v of secret.versions) {
        if (!v.stages.includes(stage)) continue;
        v.stages = v.stages.filter((s) => s !== stage);
        if (stage === 'AWSCURRENT') {
          for (const other of secret.versions) other.stages = other.stages.filter((s) => s !== 'AWSPREVIOUS');
          v.stages.push('AWSPREVIOUS');
        }
      }
    }
    const version: Version = { id: versionId, value, stages: [...stages], created: nowSeconds() };
    secret.versions.push(version);
    secret.lastChanged = version.created;
    return version;
  }

  const operations: Record<SecretsManagerOperation, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue(input) {
      const secret = lookup(input.SecretId);
      const { VersionId, VersionStage } = input;
      let version: Version | undefined;
      if (typeof VersionId === 'string') {
        version = secret.versions.find((v) => v.id === VersionId);
        if (!version)
          throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${VersionId}`);
      }
      const stage = typeof VersionStage === 'string' ? VersionStage : version ? undefined : 'AWSCURRENT';
      if (stage !== undefined) {
        version = (version ? [version] : secret.versions).find((v) => v.stages.includes(stage));
        if (!version)
          throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
      }
      if (!version) throw notFound();
      secret.lastAccessed = Math.floor(nowSeconds() / 86400) * 86400;
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.id,
        ...(typeof version.value === 'string'
          ? { SecretString: version.value }
          : { SecretBinary: Buffer.from(version.value.binary).toString('base64') }),
        VersionStages: [...version.stages],
        CreatedDate: version.created,
      };
    },

    CreateSecret(input) {
      if (typeof input.Name !== 'string') throw missingMember('name');
      const description = typeof input.Description === 'string' ? input.Description : undefined;
      const value = valueOf(input);
      const secret = create(input.Name, description);
      if (value === undefined) return { ARN: secret.arn, Name: secret.name };
      const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
      const version = addVersion(secret, value, token);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id };
    },

    PutSecretValue(input) {
      const secret = lookup(input.SecretId);
      const value = valueOf(input);
      if (value === undefined) {
        throw new AwsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
      }
      const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
      const stages =
        Array.isArray(input.VersionStages) && input.VersionStages.length > 0
          ? input.VersionStages.filter((s): s is string => typeof s === 'string')
          : undefined;
      const version = addVersion(secret, value, token, stages);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
    },

    DescribeSecret(input) {
      const secret = lookup(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description !== undefined && { Description: secret.description }),
        LastChangedDate: secret.lastChanged,
        ...(secret.lastAccessed !== undefined && { LastAccessedDate: secret.lastAccessed }),
        VersionIdsToStages: Object.fromEntries(
          secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, [...v.stages]]),
        ),
        CreatedDate: secret.created,
      };
    },
  };

  function respond(res: ServerResponse, status: number, body: unknown, errorType?: string) {
    const headers: Record<string, string> = { 'x-amzn-requestid': randomUUID() };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    sendJson(res, status, body, headers, 'application/x-amz-json-1.1');
  }

  function respondError(res: ServerResponse, err: AwsError) {
    respond(res, err.status, { __type: err.type, Message: err.message }, err.type);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      res.setHeader('connection', 'close');
      return respondError(res, new AwsError('SerializationException', 'Request body too large', 413));
    }
    const authError = checkSignature(req, SERVICE);
    if (authError) return respondError(res, authError);

    const target = req.headers['x-amz-target'];
    const op = typeof target === 'string' && target.startsWith(`${SERVICE}.`) ? target.slice(SERVICE.length + 1) : '';
    if (req.method !== 'POST' || !isOperation(op)) {
      return respondError(res, new AwsError('UnknownOperationException', ''));
    }
    const input = raw.length === 0 ? {} : parseJson(raw);
    if (!isPlainObject(input)) {
      return respondError(
        res,
        new AwsError('SerializationException', 'Start of structure or map found where not expected.'),
      );
    }

    calls[op]++;
    const fault = faults.shift();
    if (fault === 'hang') return; // leave the socket open and unanswered until the client gives up
    if (latencyMs > 0) await server.sleep(latencyMs);
    if (fault === 'internal') {
      return respondError(res, new AwsError('InternalServiceError', 'An error occurred on the server side.', 500));
    }
    if (fault === 'throttle') return respondError(res, new AwsError('ThrottlingException', 'Rate exceeded'));
    if (fault === 'decryption') {
      return respondError(
        res,
        new AwsError(
          'DecryptionFailure',
          "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        ),
      );
    }

    try {
      respond(res, 200, operations[op](input));
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      respondError(res, err);
    }
  }

  const server = await listen(handle, opts);

  const standIn: SecretsManagerStandIn = {
    url: server.url,
    region,
    calls,
    putSecret(id, value) {
      let secret: Secret;
      try {
        secret = lookup(id);
      } catch {
        const named = secretArn(id);
        secret = named ? create(named.name, undefined, named.arn) : create(id);
      }
      const version = addVersion(secret, value);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id };
    },
    resetCalls() {
      for (const op of SECRETS_MANAGER_OPERATIONS) calls[op] = 0;
    },
    failNext(n, mode) {
      for (let i = 0; i < n; i++) faults.push(mode);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () => server.close(),
  };
  for (const [name, value] of Object.entries(opts.secrets ?? {})) standIn.putSecret(name, value);
  return standIn;
}

// arn:aws:secretsmanager:<region>:<account>:secret:<name>[-<6 characters>]
const SECRET_ARN = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)([A-Za-z0-9/_+=.@-]+)$/;

/** The name and full ARN of a secret named by ARN, or undefined for a plain name. */
function secretArn(id: string): { name: string; arn: string } | undefined {
  const match = SECRET_ARN.exec(id);
  if (!match) return undefined;
  const [, prefix, rest] = match as unknown as [string, string, string];
  // The suffix Secrets Manager appends is '-' and six characters; a name may itself end that way,
  // which the real service also reads as a full ARN.
  const full = /^(.+)-[A-Za-z0-9]{6}$/.exec(rest);
  return full ? { name: full[1]!, arn: id } : { name: rest, arn: `${prefix}${rest}-${randomAlnum(6)}` };
}

/** SecretString, or SecretBinary (base64 on the wire); both at once is refused as by the real service. */
function valueOf(input: Record<string, unknown>): SecretValue | undefined {
  const { SecretString, SecretBinary } = input;
  if (typeof SecretString === 'string' && typeof SecretBinary === 'string') {
    throw new AwsError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (typeof SecretString === 'string') return SecretString;
  if (typeof SecretBinary === 'string') return { binary: Buffer.from(SecretBinary, 'base64') };
  return undefined;
}

function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a.binary).equals(Buffer.from(b.binary));
}

function isOperation(op: string): op is SecretsManagerOperation {
  return (SECRETS_MANAGER_OPERATIONS as readonly string[]).includes(op);
}
