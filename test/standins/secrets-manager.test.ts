import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import type { SecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';

const PLAID_SECRET = JSON.stringify({ client_id: 'cid', secret: 'sandbox-secret' });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sm: SecretsManagerStandIn;
const clients: SecretsManagerClient[] = [];

function client(extra: SecretsManagerClientConfig = {}): SecretsManagerClient {
  const c = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: sm.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...extra,
  });
  clients.push(c);
  return c;
}

before(async () => {
  sm = await startSecretsManagerStandIn({ secrets: { 'plaid/sandbox': PLAID_SECRET } });
});
beforeEach(() => {
  sm.resetCalls();
  sm.setLatency(0);
});
after(async () => {
  for (const c of clients) c.destroy();
  await sm.close();
});

test('GetSecretValue through the real SDK returns the secret, shaped like the service', async () => {
  const out = await client().send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }));
  assert.equal(out.SecretString, PLAID_SECRET);
  assert.equal(out.Name, 'plaid/sandbox');
  assert.match(out.ARN ?? '', /^arn:aws:secretsmanager:us-east-1:000000000000:secret:plaid\/sandbox-[A-Za-z0-9]{6}$/);
  assert.match(out.VersionId ?? '', UUID);
  assert.deepEqual(out.VersionStages, ['AWSCURRENT']);
  assert.ok(out.CreatedDate instanceof Date && Math.abs(out.CreatedDate.getTime() - Date.now()) < 60_000);
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.match(out.$metadata.requestId ?? '', UUID);
  assert.equal(sm.calls.GetSecretValue, 1);
});

test('GetSecretValue accepts a full or partial ARN', async () => {
  const { ARN } = await client().send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }));
  assert.ok(ARN);
  const byArn = await client().send(new GetSecretValueCommand({ SecretId: ARN }));
  assert.equal(byArn.SecretString, PLAID_SECRET);
  const byPartialArn = await client().send(new GetSecretValueCommand({ SecretId: ARN.slice(0, -7) }));
  assert.equal(byPartialArn.SecretString, PLAID_SECRET);
});

test('an unknown secret raises ResourceNotFoundException', async () => {
  await assert.rejects(client().send(new GetSecretValueCommand({ SecretId: 'nope' })), (err: unknown) => {
    assert.ok(err instanceof ResourceNotFoundException);
    assert.equal(err.message, "Secrets Manager can't find the specified secret.");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(err.$fault, 'client');
    return true;
  });
});

test('the SDK finds the stand-in through AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
  const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.url;
  try {
    const c = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    clients.push(c);
    const out = await c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }));
    assert.equal(out.SecretString, PLAID_SECRET);
    assert.equal(sm.calls.GetSecretValue, 1);
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
  }
});

test('CreateSecret, PutSecretValue and DescribeSecret keep versions and staging labels', async () => {
  const c = client();
  const created = await c.send(
    new CreateSecretCommand({ Name: 'app/created', SecretString: 'v1', Description: 'test' }),
  );
  assert.match(created.ARN ?? '', /:secret:app\/created-[A-Za-z0-9]{6}$/);
  assert.match(created.VersionId ?? '', UUID);

  await assert.rejects(
    c.send(new CreateSecretCommand({ Name: 'app/created', SecretString: 'x' })),
    ResourceExistsException,
  );

  const put = await c.send(new PutSecretValueCommand({ SecretId: 'app/created', SecretString: 'v2' }));
  assert.deepEqual(put.VersionStages, ['AWSCURRENT']);
  assert.equal(put.ARN, created.ARN);

  const described = await c.send(new DescribeSecretCommand({ SecretId: created.ARN }));
  assert.equal(described.Name, 'app/created');
  assert.equal(described.Description, 'test');
  assert.deepEqual(described.VersionIdsToStages, {
    [created.VersionId as string]: ['AWSPREVIOUS'],
    [put.VersionId as string]: ['AWSCURRENT'],
  });
  assert.ok(described.CreatedDate instanceof Date);

  assert.equal((await c.send(new GetSecretValueCommand({ SecretId: 'app/created' }))).SecretString, 'v2');
  const previous = await c.send(new GetSecretValueCommand({ SecretId: 'app/created', VersionStage: 'AWSPREVIOUS' }));
  assert.equal(previous.SecretString, 'v1');
  const byVersion = await c.send(new GetSecretValueCommand({ SecretId: 'app/created', VersionId: created.VersionId }));
  assert.equal(byVersion.SecretString, 'v1');
  assert.deepEqual(sm.calls, { CreateSecret: 2, PutSecretValue: 1, DescribeSecret: 1, GetSecretValue: 3 });
});

test('a secret without a value has no AWSCURRENT version', async () => {
  const c = client();
  await c.send(new CreateSecretCommand({ Name: 'app/empty' }));
  await assert.rejects(c.send(new GetSecretValueCommand({ SecretId: 'app/empty' })), (err: unknown) => {
    assert.ok(err instanceof ResourceNotFoundException);
    assert.match(err.message, /staging label: AWSCURRENT/);
    return true;
  });
});

test('putSecret rotates the value seen by the SDK without counting as a call', async () => {
  sm.putSecret('app/rotating', 'old');
  const rotated = sm.putSecret('app/rotating', 'new');
  const out = await client().send(new GetSecretValueCommand({ SecretId: 'app/rotating' }));
  assert.equal(out.SecretString, 'new');
  assert.equal(out.VersionId, rotated.VersionId);
  assert.equal(sm.calls.GetSecretValue, 1);
  assert.equal(sm.calls.PutSecretValue, 0);
});

async function rawCall(headers: Record<string, string>) {
  const res = await fetch(sm.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
      ...headers,
    },
    body: JSON.stringify({ SecretId: 'plaid/sandbox' }),
  });
  return {
    status: res.status,
    errorType: res.headers.get('x-amzn-errortype'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

test('requests without a SigV4 Authorization header are refused like AWS does', async () => {
  const missing = await rawCall({});
  assert.equal(missing.status, 400);
  assert.equal(missing.errorType, 'MissingAuthenticationTokenException');
  assert.equal(missing.body.__type, 'MissingAuthenticationTokenException');

  const malformed = await rawCall({ authorization: 'Bearer abc', 'x-amz-date': '20250101T000000Z' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.__type, 'IncompleteSignatureException');

  const wrongService = await rawCall({
    authorization: `AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20250101T000000Z',
  });
  assert.equal(wrongService.body.__type, 'InvalidSignatureException');
  assert.equal(sm.calls.GetSecretValue, 0);
});

test('an unknown X-Amz-Target is an UnknownOperationException', async () => {
  const res = await rawCall({
    'x-amz-target': 'secretsmanager.ListSecrets',
    authorization: `AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20250101T000000Z',
  });
  assert.equal(res.status, 400);
  assert.equal(res.body.__type, 'UnknownOperationException');
});

test("failNext('internal') answers 500 InternalServiceError, which the SDK retries", async () => {
  sm.failNext(1, 'internal');
  await assert.rejects(
    client({ maxAttempts: 1 }).send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' })),
    (err: unknown) => {
      assert.ok(err instanceof SecretsManagerServiceException);
      assert.equal(err.name, 'InternalServiceError');
      assert.equal(err.$metadata.httpStatusCode, 500);
      return true;
    },
  );

  sm.resetCalls();
  sm.failNext(1, 'internal');
  const out = await client().send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }));
  assert.equal(out.SecretString, PLAID_SECRET);
  assert.equal(out.$metadata.attempts, 2);
  assert.equal(sm.calls.GetSecretValue, 2);
});

test("failNext('throttle') answers 400 ThrottlingException for the next n requests only", async () => {
  sm.failNext(2, 'throttle');
  const c = client({ maxAttempts: 1 });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' })), (err: unknown) => {
      assert.ok(err instanceof SecretsManagerServiceException);
      assert.equal(err.name, 'ThrottlingException');
      assert.equal(err.$metadata.httpStatusCode, 400);
      return true;
    });
  }
  assert.equal((await c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }))).SecretString, PLAID_SECRET);
});

// Note: with this SDK version requestTimeout alone only logs a warning; the request is
// abandoned only with throwOnRequestTimeout (or an abortSignal).
test("failNext('hang') never answers, so the client's timeout fires", async () => {
  sm.failNext(1, 'hang');
  const c = client({ maxAttempts: 1, requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } });
  const started = Date.now();
  await assert.rejects(c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' })), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'TimeoutError');
    return true;
  });
  assert.ok(Date.now() - started >= 190);
  assert.equal((await c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }))).SecretString, PLAID_SECRET);
});

test("failNext('hang') also trips an abortSignal timeout", async () => {
  sm.failNext(1, 'hang');
  const c = client({ maxAttempts: 1 });
  await assert.rejects(
    c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }), { abortSignal: AbortSignal.timeout(200) }),
    (err: unknown) => err instanceof Error && /abort|timeout/i.test(err.name),
  );
  assert.equal((await c.send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }))).SecretString, PLAID_SECRET);
});

test('setLatency delays answers', async () => {
  sm.setLatency(150);
  const started = Date.now();
  await client().send(new GetSecretValueCommand({ SecretId: 'plaid/sandbox' }));
  assert.ok(Date.now() - started >= 140);
});

test('close() returns promptly even with a hung request', async () => {
  const other = await startSecretsManagerStandIn({ secrets: { s: 'v' } });
  other.failNext(1, 'hang');
  const c = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: other.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const pending = c.send(new GetSecretValueCommand({ SecretId: 's' }));
  while (other.calls.GetSecretValue === 0) await new Promise((r) => setTimeout(r, 5));
  await other.close();
  await assert.rejects(pending);
  c.destroy();
});
