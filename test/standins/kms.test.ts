// The KMS stand-in through the real @aws-sdk/client-kms. The first block runs the same
// behavioural assertions against the stand-in and against moto_server (the reference
// implementation on this machine); the rest covers what only the stand-in offers.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  KMSServiceException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import type { KMSClientConfig } from '@aws-sdk/client-kms';
import { startKmsStandIn } from '../../local/standins/kms.ts';
import { MOTO_ABSENT, startMoto } from '../support/moto.ts';

const ITEM_CONTEXT = { tenant_id: 'acme', client_user_id: 'user-1', item_id: 'item-1' };
const ACCESS_TOKEN = 'access-sandbox-00000000-0000-4000-8000-000000000005';
const KEY_ARN = /^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/;

const clients: KMSClient[] = [];
function kmsClient(endpoint: string, extra: KMSClientConfig = {}): KMSClient {
  const c = new KMSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...extra,
  });
  clients.push(c);
  return c;
}

const standIn = await startKmsStandIn();
const moto = await startMoto();
after(async () => {
  for (const c of clients) c.destroy();
  await standIn.close();
  await moto?.close();
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function rejectsWith(type: abstract new (...args: never[]) => KMSServiceException, status = 400) {
  return (err: unknown) => {
    assert.ok(
      err instanceof type,
      `expected ${type.name}, got ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`,
    );
    assert.equal(err.$metadata.httpStatusCode, status);
    return true;
  };
}

for (const target of [
  { name: 'stand-in', url: standIn.url, skip: false as const },
  { name: 'moto_server', url: moto?.url, skip: moto ? (false as const) : MOTO_ABSENT },
]) {
  describe(`KMS behaviour the vault relies on (${target.name})`, { skip: target.skip }, () => {
    let kms: KMSClient;
    let keyArn: string;
    let keyId: string;

    before(async () => {
      kms = kmsClient(target.url as string);
      // KeyUsage and KeySpec are KMS's defaults; moto leaves KeyUsage unset unless they are sent.
      const { KeyMetadata } = await kms.send(
        new CreateKeyCommand({ Description: 'items vault', KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' }),
      );
      assert.ok(KeyMetadata?.Arn && KeyMetadata.KeyId);
      keyArn = KeyMetadata.Arn;
      keyId = KeyMetadata.KeyId;
    });

    const encryptToken = (context: Record<string, string> = ITEM_CONTEXT, id = keyArn) =>
      kms.send(new EncryptCommand({ KeyId: id, Plaintext: encoder.encode(ACCESS_TOKEN), EncryptionContext: context }));

    test('CreateKey answers a symmetric, enabled key that DescribeKey finds by id and by ARN', async () => {
      assert.match(keyArn, KEY_ARN);
      assert.ok(keyArn.endsWith(`:key/${keyId}`));
      for (const id of [keyId, keyArn]) {
        const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: id }));
        assert.equal(KeyMetadata?.Arn, keyArn);
        assert.equal(KeyMetadata?.KeyState, 'Enabled');
        assert.equal(KeyMetadata?.KeySpec, 'SYMMETRIC_DEFAULT');
        assert.equal(KeyMetadata?.KeyUsage, 'ENCRYPT_DECRYPT');
        assert.deepEqual(KeyMetadata?.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
        assert.ok(KeyMetadata?.CreationDate instanceof Date);
      }
    });

    test('Encrypt then Decrypt with the same context gives back the plaintext and names the key', async () => {
      const encrypted = await encryptToken();
      assert.equal(encrypted.KeyId, keyArn);
      assert.ok(encrypted.CiphertextBlob && encrypted.CiphertextBlob.length > ACCESS_TOKEN.length);
      assert.ok(!Buffer.from(encrypted.CiphertextBlob).includes(ACCESS_TOKEN), 'the blob must not carry the plaintext');

      const decrypted = await kms.send(
        new DecryptCommand({
          KeyId: keyArn,
          CiphertextBlob: encrypted.CiphertextBlob,
          EncryptionContext: ITEM_CONTEXT,
        }),
      );
      assert.equal(decoder.decode(decrypted.Plaintext), ACCESS_TOKEN);
      assert.equal(decrypted.KeyId, keyArn);
    });

    test('Decrypt without KeyId finds the key from the ciphertext blob', async () => {
      const other = await kms.send(new CreateKeyCommand({}));
      for (const arn of [keyArn, other.KeyMetadata?.Arn as string]) {
        const { CiphertextBlob } = await encryptToken(ITEM_CONTEXT, arn);
        const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ITEM_CONTEXT }));
        assert.equal(decoder.decode(decrypted.Plaintext), ACCESS_TOKEN);
        assert.equal(decrypted.KeyId, arn);
      }
    });

    test('the encryption context is order-independent', async () => {
      const { CiphertextBlob } = await encryptToken();
      const reordered = { item_id: 'item-1', client_user_id: 'user-1', tenant_id: 'acme' };
      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: reordered }));
      assert.equal(decoder.decode(decrypted.Plaintext), ACCESS_TOKEN);
    });

    test('a record copied to another user, Item or tenant fails Decrypt with InvalidCiphertextException', async () => {
      const { CiphertextBlob } = await encryptToken();
      const mismatches: Array<Record<string, string>> = [
        { ...ITEM_CONTEXT, client_user_id: 'user-2' },
        { ...ITEM_CONTEXT, item_id: 'item-2' },
        { ...ITEM_CONTEXT, tenant_id: 'globex' },
        { ...ITEM_CONTEXT, item_id: 'plaid_user' },
        { tenant_id: 'acme', client_user_id: 'user-1' },
        { ...ITEM_CONTEXT, extra: 'x' },
        {},
      ];
      for (const context of mismatches) {
        await assert.rejects(
          kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context })),
          rejectsWith(InvalidCiphertextException),
          JSON.stringify(context),
        );
      }
    });

    test('a tampered ciphertext blob fails Decrypt with InvalidCiphertextException', async () => {
      const { CiphertextBlob } = await encryptToken();
      assert.ok(CiphertextBlob);
      const original = Buffer.from(CiphertextBlob);
      // The last byte (ciphertext), one well inside the blob, and a truncation.
      for (const tamper of [
        (b: Buffer) => {
          b[b.length - 1] = (b[b.length - 1] as number) ^ 0x01;
          return b;
        },
        (b: Buffer) => {
          b[b.length - 20] = (b[b.length - 20] as number) ^ 0x80;
          return b;
        },
        (b: Buffer) => b.subarray(0, b.length - 1),
      ]) {
        const blob = tamper(Buffer.from(original));
        await assert.rejects(
          kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ITEM_CONTEXT })),
          rejectsWith(InvalidCiphertextException),
        );
      }
      await assert.rejects(
        kms.send(
          new DecryptCommand({ CiphertextBlob: encoder.encode('not a ciphertext'), EncryptionContext: ITEM_CONTEXT }),
        ),
        rejectsWith(InvalidCiphertextException),
      );
    });

    test('the same plaintext encrypts to a different blob each time', async () => {
      const [a, b] = await Promise.all([encryptToken(), encryptToken()]);
      assert.notDeepEqual(Buffer.from(a.CiphertextBlob ?? []), Buffer.from(b.CiphertextBlob ?? []));
    });

    test('an unknown key is a NotFoundException', async () => {
      const unknownArn = keyArn.replace(/key\/.*$/, 'key/00000000-0000-4000-8000-000000000000');
      await assert.rejects(encryptToken(ITEM_CONTEXT, unknownArn), rejectsWith(NotFoundException));
      await assert.rejects(
        encryptToken(ITEM_CONTEXT, '00000000-0000-4000-8000-000000000000'),
        rejectsWith(NotFoundException),
      );
      await assert.rejects(
        kms.send(new DescribeKeyCommand({ KeyId: 'alias/does-not-exist' })),
        rejectsWith(NotFoundException),
      );
    });

    test('an alias names its key for Encrypt and DescribeKey', async () => {
      const aliasName = `alias/vault-${target.name.replace(/[^a-z]/g, '')}`;
      await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }));
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: aliasName }));
      assert.equal(KeyMetadata?.Arn, keyArn);
      const encrypted = await encryptToken(ITEM_CONTEXT, aliasName);
      assert.equal(encrypted.KeyId, keyArn);
      const decrypted = await kms.send(
        new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: ITEM_CONTEXT }),
      );
      assert.equal(decoder.decode(decrypted.Plaintext), ACCESS_TOKEN);
      const aliasArn = keyArn.replace(/key\/.*$/, aliasName);
      assert.equal((await encryptToken(ITEM_CONTEXT, aliasArn)).KeyId, keyArn);
    });

    test('GenerateDataKey answers a 256-bit key and its ciphertext under the context', async () => {
      const out = await kms.send(
        new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: ITEM_CONTEXT }),
      );
      assert.equal(out.Plaintext?.length, 32);
      assert.equal(out.KeyId, keyArn);
      const decrypted = await kms.send(
        new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: ITEM_CONTEXT }),
      );
      assert.deepEqual(Buffer.from(decrypted.Plaintext ?? []), Buffer.from(out.Plaintext ?? []));
    });

    test('plaintext over 4096 bytes is a ValidationException', async () => {
      await assert.rejects(
        kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: new Uint8Array(4097) })),
        (err: unknown) =>
          err instanceof KMSServiceException &&
          err.name === 'ValidationException' &&
          err.$metadata.httpStatusCode === 400,
      );
    });
  });
}

describe('stand-in only', () => {
  let kms: KMSClient;
  before(() => {
    kms = kmsClient(standIn.url);
  });
  beforeEach(() => {
    standIn.resetCalls();
    standIn.clearFaults();
    standIn.setLatency(0);
  });

  const encrypt = (client = kms, context = ITEM_CONTEXT) =>
    client.send(
      new EncryptCommand({
        KeyId: standIn.keyArn,
        Plaintext: encoder.encode(ACCESS_TOKEN),
        EncryptionContext: context,
      }),
    );

  test('the initial key is ready to use and the SDK finds the stand-in through AWS_ENDPOINT_URL_KMS', async () => {
    assert.match(standIn.keyArn, KEY_ARN);
    assert.ok(standIn.keyArn.endsWith(standIn.keyId));
    const saved = process.env.AWS_ENDPOINT_URL_KMS;
    process.env.AWS_ENDPOINT_URL_KMS = standIn.url;
    try {
      const c = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      clients.push(c);
      const { CiphertextBlob } = await encrypt(c);
      const out = await c.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ITEM_CONTEXT }));
      assert.equal(decoder.decode(out.Plaintext), ACCESS_TOKEN);
      assert.equal(standIn.calls.Encrypt, 1);
      assert.equal(standIn.calls.Decrypt, 1);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
      else process.env.AWS_ENDPOINT_URL_KMS = saved;
    }
  });

  test('an aliasName option creates the alias for the initial key', async () => {
    const other = await startKmsStandIn({ aliasName: 'alias/items-vault', region: 'eu-west-1' });
    try {
      const c = kmsClient(other.url, { region: 'eu-west-1' });
      assert.equal(other.aliasArn, `arn:aws:kms:eu-west-1:000000000000:alias/items-vault`);
      for (const id of ['alias/items-vault', other.aliasArn as string]) {
        const { KeyMetadata } = await c.send(new DescribeKeyCommand({ KeyId: id }));
        assert.equal(KeyMetadata?.Arn, other.keyArn);
      }
      assert.match(other.keyArn, /^arn:aws:kms:eu-west-1:/);
    } finally {
      await other.close();
    }
  });

  test('requests record the key and encryption context but never the plaintext', async () => {
    const { CiphertextBlob } = await encrypt();
    await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ITEM_CONTEXT }));
    assert.deepEqual(standIn.requests, [
      { operation: 'Encrypt', keyId: standIn.keyArn, encryptionContext: ITEM_CONTEXT },
      { operation: 'Decrypt', encryptionContext: ITEM_CONTEXT },
    ]);
    assert.ok(!JSON.stringify(standIn.requests).includes(ACCESS_TOKEN));
  });

  test('Decrypt with the KeyId of another key is an IncorrectKeyException (moto answers AccessDenied here)', async () => {
    const { CiphertextBlob } = await encrypt();
    const other = standIn.createKey();
    await assert.rejects(
      kms.send(new DecryptCommand({ KeyId: other.keyArn, CiphertextBlob, EncryptionContext: ITEM_CONTEXT })),
      rejectsWith(IncorrectKeyException),
    );
  });

  test('after rotation new ciphertexts use the new backing key and old ones still decrypt', async () => {
    const key = standIn.createKey();
    const before = await kms.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: encoder.encode('old'), EncryptionContext: ITEM_CONTEXT }),
    );
    standIn.rotateKey(key.keyId);
    const afterRotation = await kms.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: encoder.encode('new'), EncryptionContext: ITEM_CONTEXT }),
    );
    for (const [blob, text] of [
      [before.CiphertextBlob, 'old'],
      [afterRotation.CiphertextBlob, 'new'],
    ] as const) {
      const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ITEM_CONTEXT }));
      assert.equal(decoder.decode(out.Plaintext), text);
      assert.equal(out.KeyId, key.keyArn);
    }
  });

  test('a disabled key refuses Encrypt and Decrypt with DisabledException until enabled again', async () => {
    const key = standIn.createKey();
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: encoder.encode('x') }));
    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    const disabled = (err: unknown) => err instanceof KMSServiceException && err.name === 'DisabledException';
    await assert.rejects(kms.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: encoder.encode('x') })), disabled);
    await assert.rejects(kms.send(new DecryptCommand({ CiphertextBlob })), disabled);
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: key.keyArn }))).KeyMetadata?.KeyState, 'Disabled');
    await kms.send(new EnableKeyCommand({ KeyId: key.keyArn }));
    assert.equal(decoder.decode((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext), 'x');

    standIn.setKeyEnabled(key.keyId, false);
    await assert.rejects(kms.send(new DecryptCommand({ CiphertextBlob })), disabled);
    standIn.setKeyEnabled(key.keyId, true);
  });

  test("a ciphertext from another stand-in (another account's key) is an InvalidCiphertextException", async () => {
    const other = await startKmsStandIn();
    try {
      const { CiphertextBlob } = await kmsClient(other.url).send(
        new EncryptCommand({
          KeyId: other.keyArn,
          Plaintext: encoder.encode(ACCESS_TOKEN),
          EncryptionContext: ITEM_CONTEXT,
        }),
      );
      await assert.rejects(
        kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ITEM_CONTEXT })),
        rejectsWith(InvalidCiphertextException),
      );
    } finally {
      await other.close();
    }
  });

  async function rawCall(headers: Record<string, string>) {
    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey', ...headers },
      body: JSON.stringify({ KeyId: standIn.keyId }),
    });
    return {
      status: res.status,
      errorType: res.headers.get('x-amzn-errortype'),
      body: (await res.json()) as Record<string, unknown>,
    };
  }
  const signed = (service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20250101T000000Z',
  });

  test('requests without a SigV4 Authorization header, or signed for another service, are refused', async () => {
    const missing = await rawCall({});
    assert.equal(missing.status, 400);
    assert.equal(missing.errorType, 'MissingAuthenticationTokenException');
    assert.equal(
      (await rawCall({ authorization: 'Bearer x', 'x-amz-date': '20250101T000000Z' })).body.__type,
      'IncompleteSignatureException',
    );
    assert.equal((await rawCall(signed('secretsmanager'))).body.__type, 'InvalidSignatureException');
    assert.equal(standIn.calls.DescribeKey, 0);
    const ok = await rawCall(signed('kms'));
    assert.equal(ok.status, 200);
    assert.equal((ok.body.KeyMetadata as Record<string, unknown>).Arn, standIn.keyArn);
  });

  test('an unknown X-Amz-Target is an UnknownOperationException', async () => {
    const res = await rawCall({ ...signed('kms'), 'x-amz-target': 'TrentService.ScheduleKeyDeletion' });
    assert.equal(res.status, 400);
    assert.equal(res.body.__type, 'UnknownOperationException');
  });

  test("failNext('internal') answers 500 KMSInternalException, which the SDK retries", async () => {
    standIn.failNext(1, 'internal');
    await assert.rejects(encrypt(kmsClient(standIn.url, { maxAttempts: 1 })), (err: unknown) => {
      assert.ok(err instanceof KMSServiceException);
      assert.equal(err.name, 'KMSInternalException');
      assert.equal(err.$metadata.httpStatusCode, 500);
      assert.equal(err.$fault, 'server');
      return true;
    });
    standIn.resetCalls();
    standIn.failNext(1, 'internal');
    const out = await encrypt();
    assert.equal(out.$metadata.attempts, 2);
    assert.equal(standIn.calls.Encrypt, 2);
  });

  test("failNext('throttle') answers 400 ThrottlingException for the next n requests only", async () => {
    standIn.failNext(2, 'throttle');
    const c = kmsClient(standIn.url, { maxAttempts: 1 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        encrypt(c),
        (err: unknown) =>
          err instanceof KMSServiceException &&
          err.name === 'ThrottlingException' &&
          err.$metadata.httpStatusCode === 400,
      );
    }
    assert.ok((await encrypt(c)).CiphertextBlob);
  });

  test("failNext('hang') never answers, so the client's timeout fires", async () => {
    standIn.failNext(1, 'hang');
    const c = kmsClient(standIn.url, {
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    const started = Date.now();
    await assert.rejects(encrypt(c), (err: unknown) => err instanceof Error && err.name === 'TimeoutError');
    assert.ok(Date.now() - started >= 190);
    assert.ok((await encrypt(c)).CiphertextBlob);
  });

  test("failNext('network') drops the connection", async () => {
    standIn.failNext(1, 'network');
    await assert.rejects(
      encrypt(kmsClient(standIn.url, { maxAttempts: 1 })),
      (err: unknown) => err instanceof Error && !(err instanceof KMSServiceException),
    );
    assert.equal(standIn.calls.Encrypt, 1);
    assert.ok((await encrypt()).CiphertextBlob);
  });

  test('a fault for one operation leaves the others alone', async () => {
    standIn.failNext(1, 'internal', 'Decrypt');
    const c = kmsClient(standIn.url, { maxAttempts: 1 });
    const { CiphertextBlob } = await encrypt(c);
    await assert.rejects(
      c.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ITEM_CONTEXT })),
      (err: unknown) => err instanceof KMSServiceException && err.name === 'KMSInternalException',
    );
    const out = await c.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: ITEM_CONTEXT }));
    assert.equal(decoder.decode(out.Plaintext), ACCESS_TOKEN);
    assert.equal(standIn.calls.Encrypt, 1);
    assert.equal(standIn.calls.Decrypt, 2);
  });

  test('setLatency delays answers', async () => {
    standIn.setLatency(150);
    const started = Date.now();
    await encrypt();
    assert.ok(Date.now() - started >= 140);
  });
});
