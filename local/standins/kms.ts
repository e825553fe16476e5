/**
 * Stand-in for AWS KMS (symmetric keys only) speaking the awsJson1_1 protocol that
 * @aws-sdk/client-kms uses: POST / with X-Amz-Target: TrentService.<Op>.
 *
 * Encryption is real: AES-256-GCM under a random 256-bit backing key per KMS key (one more per
 * rotation), with the encryption context as additional authenticated data, so a wrong context or
 * a changed byte fails Decrypt with InvalidCiphertextException as in KMS. The ciphertext blob
 * names its key (and backing key), so Decrypt needs no KeyId, as with real symmetric keys.
 * The blob layout is this stand-in's own, not KMS's.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { AwsError, missingMember, shown, startAwsJsonService } from './aws-json.ts';
import type { AwsFault } from './aws-json.ts';
import { isPlainObject } from './http-util.ts';

export const KMS_OPERATIONS = [
  'CreateKey',
  'DescribeKey',
  'Encrypt',
  'Decrypt',
  'GenerateDataKey',
  'CreateAlias',
  'DisableKey',
  'EnableKey',
] as const;
export type KmsOperation = (typeof KMS_OPERATIONS)[number];
export type KmsFault = AwsFault;

export const KMS_ACCOUNT_ID = '000000000000';

export interface KmsStandInOptions {
  port?: number;
  host?: string;
  /** Region used in ARNs (default us-east-1). */
  region?: string;
  /** An alias (e.g. "alias/items-vault") to create for the initial key. */
  aliasName?: string;
  /** Description of the initial key. */
  description?: string;
}

export interface KmsKeyRef {
  keyId: string;
  keyArn: string;
}

/** One request that reached an operation. Plaintext never appears here. */
export interface KmsRequestRecord {
  operation: KmsOperation;
  /** KeyId as the caller sent it (id, ARN, alias name or alias ARN), if any. */
  keyId?: string;
  encryptionContext?: Record<string, string>;
}

export interface KmsStandIn extends KmsKeyRef {
  url: string;
  region: string;
  /** The alias ARN of the initial key when options.aliasName was given. */
  aliasArn?: string;
  /** Requests per operation that passed the signature check (faulted ones included). */
  calls: Record<KmsOperation, number>;
  /** Operation requests that were answered normally or with a service error (faulted ones are not recorded). */
  requests: KmsRequestRecord[];
  /** Creates another symmetric key (and its alias, if given). Not counted in `calls`. */
  createKey(opts?: { aliasName?: string; description?: string }): KmsKeyRef;
  /** Adds a new backing key, used for every later Encrypt; older ciphertexts still decrypt, as after KMS rotation. */
  rotateKey(keyId: string): void;
  /** Disables or re-enables a key: while disabled, Encrypt and Decrypt answer DisabledException. */
  setKeyEnabled(keyId: string, enabled: boolean): void;
  /** Clears `calls` and `requests`. */
  resetCalls(): void;
  /**
   * The next n operation requests (of `operation` only, when given, e.g. 'Decrypt') fail with
   * `fault`, queued after any already scheduled; requests of other operations pass untouched.
   */
  failNext(n: number, fault: KmsFault, operation?: KmsOperation): void;
  clearFaults(): void;
  /** Delay every answer by ms (0 turns it off). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

interface Key {
  id: string;
  arn: string;
  description: string;
  created: number;
  enabled: boolean;
  /** Backing keys, newest last; a ciphertext names the one it used by index. */
  materials: Buffer[];
}

const BLOB_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_PLAINTEXT = 4096;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALIAS_PATTERN = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

const invalidCiphertext = () => new AwsError('InvalidCiphertextException', '');

export async function startKmsStandIn(opts: KmsStandInOptions = {}): Promise<KmsStandIn> {
  const region = opts.region ?? 'us-east-1';
  const keys = new Map<string, Key>();
  const aliases = new Map<string, string>();
  const requests: KmsRequestRecord[] = [];
  const arnPrefix = `arn:aws:kms:${region}:${KMS_ACCOUNT_ID}:`;

  function create(description = ''): Key {
    const id = randomUUID();
    const key: Key = {
      id,
      arn: `${arnPrefix}key/${id}`,
      description,
      created: Date.now() / 1000,
      enabled: true,
      materials: [randomBytes(32)],
    };
    keys.set(id, key);
    return key;
  }

  function createAlias(aliasName: unknown, targetKeyId: unknown): void {
    if (typeof aliasName !== 'string') throw missingMember('aliasName');
    if (typeof targetKeyId !== 'string') throw missingMember('targetKeyId');
    if (!ALIAS_PATTERN.test(aliasName)) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${aliasName}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`,
      );
    }
    if (aliasName.startsWith('alias/aws/')) {
      throw new AwsError('NotAuthorizedException', "Cannot create alias with prefix 'alias/aws/'");
    }
    if (/^alias\/|:alias\//.test(targetKeyId)) {
      throw new AwsError('ValidationException', 'Aliases must refer to keys. Not aliases');
    }
    const target = resolve(targetKeyId);
    if (aliases.has(aliasName)) {
      throw new AwsError('AlreadyExistsException', `An alias with the name ${arnPrefix}${aliasName} already exists`);
    }
    aliases.set(aliasName, target.id);
  }

  /** Accepts a key id, key ARN, alias name or alias ARN, as KMS does. */
  function resolve(id: unknown): Key {
    if (typeof id !== 'string' || id === '') throw missingMember('keyId');
    let aliasName: string | undefined;
    if (id.startsWith('alias/')) aliasName = id;
    else if (id.startsWith(`${arnPrefix}alias/`)) aliasName = id.slice(arnPrefix.length);
    if (aliasName !== undefined) {
      const target = aliases.get(aliasName);
      const key = target === undefined ? undefined : keys.get(target);
      if (!key) throw new AwsError('NotFoundException', `Alias ${arnPrefix}${aliasName} is not found.`);
      return key;
    }
    let keyId: string;
    if (UUID_PATTERN.test(id)) keyId = id.toLowerCase();
    else if (id.startsWith(`${arnPrefix}key/`)) keyId = id.slice(arnPrefix.length + 4);
    else if (id.startsWith('arn:')) throw new AwsError('NotFoundException', `Key '${id}' does not exist`);
    else throw new AwsError('NotFoundException', `Invalid keyId ${id}`);
    const key = keys.get(keyId);
    if (!key) throw new AwsError('NotFoundException', `Key '${arnPrefix}key/${keyId}' does not exist`);
    return key;
  }

  function usable(key: Key): Key {
    if (!key.enabled) throw new AwsError('DisabledException', `${key.arn} is disabled.`);
    return key;
  }

  function encrypt(key: Key, plaintext: Buffer, context: Record<string, string>): Buffer {
    const material = key.materials.length - 1;
    const keyIdBytes = Buffer.from(key.id, 'ascii');
    const header = Buffer.concat([Buffer.from([BLOB_VERSION, keyIdBytes.length]), keyIdBytes, uint16(material)]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.materials[material] as Buffer, iv);
    // The header is authenticated too: changing which key or backing key a blob names fails Decrypt.
    cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  function decrypt(
    blob: Buffer,
    context: Record<string, string>,
    requestedKeyId: unknown,
  ): { key: Key; plaintext: Buffer } {
    const requested = requestedKeyId === undefined ? undefined : resolve(requestedKeyId);
    const parsed = parseBlob(blob);
    const key = parsed && keys.get(parsed.keyId);
    const material = parsed && key?.materials[parsed.material];
    if (!parsed || !key || !material) throw invalidCiphertext();
    if (requested && requested.id !== key.id) {
      throw new AwsError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a CMK that can perform this operation.',
      );
    }
    usable(key);
    try {
      const decipher = createDecipheriv('aes-256-gcm', material, parsed.iv);
      decipher.setAAD(Buffer.concat([parsed.header, canonicalContext(context)]));
      decipher.setAuthTag(parsed.tag);
      return { key, plaintext: Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]) };
    } catch {
      throw invalidCiphertext();
    }
  }

  const operations: Record<KmsOperation, (input: Record<string, unknown>) => unknown> = {
    CreateKey(input) {
      const usage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
      const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
      if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT') {
        throw new AwsError(
          'UnsupportedOperationException',
          `this KMS stand-in creates only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys, not ${shown(spec)} ${shown(usage)}`,
        );
      }
      const description = typeof input.Description === 'string' ? input.Description : '';
      return { KeyMetadata: metadata(create(description)) };
    },

    DescribeKey(input) {
      return { KeyMetadata: metadata(resolve(input.KeyId)) };
    },

    Encrypt(input) {
      const key = usable(resolve(input.KeyId));
      checkAlgorithm(input.EncryptionAlgorithm);
      const plaintext = blobMember(input.Plaintext, 'plaintext');
      if (plaintext.length > MAX_PLAINTEXT) {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PLAINTEXT}`,
        );
      }
      const blob = encrypt(key, plaintext, contextMember(input.EncryptionContext));
      return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },

    Decrypt(input) {
      checkAlgorithm(input.EncryptionAlgorithm);
      const blob = blobMember(input.CiphertextBlob, 'ciphertextBlob');
      const { key, plaintext } = decrypt(blob, contextMember(input.EncryptionContext), input.KeyId);
      return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },

    GenerateDataKey(input) {
      const key = usable(resolve(input.KeyId));
      const { KeySpec: spec, NumberOfBytes: count } = input;
      if ((spec === undefined) === (count === undefined)) {
        throw new AwsError('ValidationException', 'Please specify either number of bytes or key spec.');
      }
      let length: number;
      if (spec === 'AES_256') length = 32;
      else if (spec === 'AES_128') length = 16;
      else if (spec !== undefined) {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value '${shown(spec)}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`,
        );
      } else if (Number.isInteger(count) && (count as number) >= 1 && (count as number) <= 1024)
        length = count as number;
      else {
        throw new AwsError(
          'ValidationException',
          `1 validation error detected: Value '${String(count)}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024`,
        );
      }
      const plaintext = randomBytes(length);
      const blob = encrypt(key, plaintext, contextMember(input.EncryptionContext));
      return { CiphertextBlob: blob.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: key.arn };
    },

    CreateAlias(input) {
      createAlias(input.AliasName, input.TargetKeyId);
      return {};
    },

    DisableKey(input) {
      keyOnly(input.KeyId).enabled = false;
      return {};
    },

    EnableKey(input) {
      keyOnly(input.KeyId).enabled = true;
      return {};
    },
  };

  /** DisableKey and EnableKey take a key id or key ARN, not an alias. */
  function keyOnly(id: unknown): Key {
    if (typeof id === 'string' && /^alias\/|:alias\//.test(id))
      throw new AwsError('NotFoundException', `Invalid keyId ${id}`);
    return resolve(id);
  }

  function metadata(key: Key) {
    return {
      AWSAccountId: KMS_ACCOUNT_ID,
      KeyId: key.id,
      Arn: key.arn,
      CreationDate: key.created,
      Enabled: key.enabled,
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    };
  }

  // Record what a test may assert on (which key, which context), never the plaintext.
  const recorded = Object.fromEntries(
    KMS_OPERATIONS.map((op) => [
      op,
      (input: Record<string, unknown>) => {
        const record: KmsRequestRecord = { operation: op };
        const keyId = input.KeyId ?? input.TargetKeyId;
        if (typeof keyId === 'string') record.keyId = keyId;
        if (isPlainObject(input.EncryptionContext))
          record.encryptionContext = { ...(input.EncryptionContext as Record<string, string>) };
        requests.push(record);
        return operations[op](input);
      },
    ]),
  ) as Record<KmsOperation, (input: Record<string, unknown>) => unknown>;

  const service = await startAwsJsonService({
    port: opts.port,
    host: opts.host,
    signingName: 'kms',
    targetPrefix: 'TrentService',
    operations: recorded,
    internalError: { type: 'KMSInternalException', status: 500, message: 'An internal error occurred.' },
    throttleMessage: 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.',
  });

  const initial = create(opts.description ?? 'items vault (stand-in)');
  if (opts.aliasName !== undefined) createAlias(opts.aliasName, initial.id);

  return {
    url: service.url,
    region,
    keyId: initial.id,
    keyArn: initial.arn,
    ...(opts.aliasName !== undefined && { aliasArn: `${arnPrefix}${opts.aliasName}` }),
    calls: service.calls,
    requests,
    createKey(o = {}) {
      const key = create(o.description);
      if (o.aliasName !== undefined) createAlias(o.aliasName, key.id);
      return { keyId: key.id, keyArn: key.arn };
    },
    rotateKey(keyId) {
      resolve(keyId).materials.push(randomBytes(32));
    },
    setKeyEnabled(keyId, enabled) {
      resolve(keyId).enabled = enabled;
    },
    resetCalls() {
      service.resetCalls();
      requests.length = 0;
    },
    failNext: (n, fault, operation) => service.failNext(n, fault, operation),
    clearFaults: () => service.clearFaults(),
    setLatency: (ms) => service.setLatency(ms),
    close: () => service.close(),
  };
}

interface ParsedBlob {
  header: Buffer;
  keyId: string;
  material: number;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function parseBlob(blob: Buffer): ParsedBlob | undefined {
  if (blob.length < 2 || blob[0] !== BLOB_VERSION) return undefined;
  const idLength = blob[1] as number;
  const headerLength = 2 + idLength + 2;
  if (blob.length < headerLength + IV_BYTES + TAG_BYTES) return undefined;
  const header = blob.subarray(0, headerLength);
  return {
    header,
    keyId: blob.subarray(2, 2 + idLength).toString('ascii'),
    material: blob.readUInt16BE(2 + idLength),
    iv: blob.subarray(headerLength, headerLength + IV_BYTES),
    tag: blob.subarray(headerLength + IV_BYTES, headerLength + IV_BYTES + TAG_BYTES),
    ciphertext: blob.subarray(headerLength + IV_BYTES + TAG_BYTES),
  };
}

function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** An unambiguous, order-independent encoding: {a: "bc"} and {ab: "c"} must not authenticate alike. */
function canonicalContext(context: Record<string, string>): Buffer {
  const entries = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function contextMember(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v))
    throw new AwsError('SerializationException', 'Start of structure or map found where not expected.');
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') {
      throw new AwsError(
        'SerializationException',
        `Unexpected value for encryptionContext key ${k}: expected a string`,
      );
    }
  }
  return v as Record<string, string>;
}

function blobMember(v: unknown, member: string): Buffer {
  if (typeof v !== 'string') throw missingMember(member);
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length === 0) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    );
  }
  return bytes;
}

function checkAlgorithm(v: unknown): void {
  if (v !== undefined && v !== 'SYMMETRIC_DEFAULT') {
    throw new AwsError(
      'InvalidKeyUsageException',
      `The encryption algorithm ${shown(v)} is not supported for a SYMMETRIC_DEFAULT key.`,
    );
  }
}
