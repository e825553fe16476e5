// The function's credentials reads against moto's Secrets Manager (an implementation nobody on
// the team wrote) and against our stand-in, with one table of cases: the local stack runs as
// `npm start` with AWS_ENDPOINT_URL_SECRETS_MANAGER pointed at each in turn, and the secrets are
// created, rotated and mis-stored through the real SDK client, the same calls for both. Where
// the two would answer the function differently, the last test says so.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSecretsManagerStandIn } from '../../local/standins/secrets-manager.ts';
import { functionLogFor, startE2eStack, type E2eStack, type SeenResponse } from '../support/e2e-harness.ts';
import { MOTO_ABSENT, motoOnPath, startMoto } from '../support/moto.ts';

const KEY_SECRET_ID = 'interop/client-user-id-key';
const HMAC_KEY = 'interop-client-user-id-key-0123456789abcdef';
const PLAID = { clientId: 'interop-client', secret: 'interop-sandbox-secret' };
const ROTATING = { clientId: 'interop-rotating', v1: 'rotating-sandbox-secret-v1', v2: 'rotating-sandbox-secret-v2' };
const UNCHANGED = { clientId: 'interop-unchanged', secret: 'unchanged-sandbox-secret' };
const credentials = (clientId: string, secret: string) => JSON.stringify({ client_id: clientId, secret });

interface Backend {
  readonly url: string;
  close(): Promise<void>;
}

/** What the function answered for one case: the part a client and an operator rely on. */
interface Outcome {
  status: number;
  title?: string;
  cause?: unknown;
}

const BACKENDS: ReadonlyArray<{ name: string; skip: string | false; start(): Promise<Backend> }> = [
  {
    name: 'our Secrets Manager stand-in (local/standins/secrets-manager.ts)',
    skip: false,
    start: async () => {
      const standIn = await startSecretsManagerStandIn();
      return { url: standIn.url, close: () => standIn.close() };
    },
  },
  {
    name: "moto_server's Secrets Manager",
    skip: motoOnPath() ? false : MOTO_ABSENT,
    start: async () => (await startMoto())!,
  },
];

/** Outcomes by backend name, then case name: compared once every backend has run. */
const outcomes = new Map<string, Map<string, Outcome>>();

for (const backend of BACKENDS) {
  describe(backend.name, { skip: backend.skip }, () => {
    let sm: Backend;
    let client: SecretsManagerClient;
    let stack: E2eStack;
    const seen = new Map<string, Outcome>();
    outcomes.set(backend.name, seen);

    const post = (tenant: string) =>
      stack.call({
        token: stack.issuers[0]!.mint({ sub: 'interop-user', aud: 'interop-app', tenant }),
        body: { platform: 'web' },
      });
    const createSecret = async (name: string, value?: string | Uint8Array) => {
      const out = await client.send(
        new CreateSecretCommand({
          Name: name,
          ...(typeof value === 'string' ? { SecretString: value } : value ? { SecretBinary: value } : {}),
        }),
      );
      return out.ARN!;
    };
    /** Records what the function answered, for the comparison of backends. */
    const record = async (name: string, res: SeenResponse) => {
      const body = res.headers.get('content-type') === 'application/problem+json' ? res.json() : undefined;
      // Only a 5xx logs request.failed: wait for its line, never for a success's.
      const failed = res.status >= 500 ? await functionLogFor(stack, res, 'request.failed') : undefined;
      seen.set(name, {
        status: res.status,
        ...(body ? { title: body.title } : {}),
        ...(failed ? { cause: failed.cause } : {}),
      });
      return res;
    };

    before(async () => {
      sm = await backend.start();
      client = new SecretsManagerClient({
        endpoint: sm.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      await createSecret(KEY_SECRET_ID, HMAC_KEY);
      await createSecret('interop/plaid/by-name', credentials(PLAID.clientId, PLAID.secret));
      const fullArn = await createSecret('interop/plaid/by-arn', credentials(PLAID.clientId, PLAID.secret));
      const partialArn = (
        await createSecret('interop/plaid/by-partial-arn', credentials(PLAID.clientId, PLAID.secret))
      ).slice(0, -7);
      await createSecret('interop/plaid/rotating', credentials(ROTATING.clientId, ROTATING.v1));
      await createSecret('interop/plaid/unchanged', credentials(UNCHANGED.clientId, UNCHANGED.secret));
      await createSecret('interop/plaid/binary', Buffer.from(credentials(PLAID.clientId, PLAID.secret)));
      await createSecret('interop/plaid/without-value');
      // The real service's ARNs end in "-" and six random characters; the function must take them as they are.
      assert.match(fullArn, /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:interop\/plaid\/by-arn-[A-Za-z0-9]{6}$/);

      const secretIds: Record<string, string> = {
        'by-name': 'interop/plaid/by-name',
        'by-arn': fullArn,
        'by-partial-arn': partialArn,
        rotating: 'interop/plaid/rotating',
        unchanged: 'interop/plaid/unchanged',
        binary: 'interop/plaid/binary',
        'without-value': 'interop/plaid/without-value',
        'never-created': 'interop/plaid/never-created',
      };
      stack = await startE2eStack({
        issuerCount: 1,
        plaidCredentials: {
          [PLAID.clientId]: PLAID.secret,
          [ROTATING.clientId]: ROTATING.v1,
          [UNCHANGED.clientId]: UNCHANGED.secret,
        },
        // The harness's own stand-in stays idle: this variable sends the function to `sm` instead.
        secrets: {},
        env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url, INIT_PREFETCH: 'off' },
        tenants: ([issuer]) => ({
          client_user_id_key_secret_id: KEY_SECRET_ID,
          tenants: Object.fromEntries(
            Object.entries(secretIds).map(([tenant, secretId]) => [
              tenant,
              {
                client_name: 'Interop',
                plaid: { environment: 'sandbox', secret_id: secretId },
                auth: {
                  issuer: issuer!.issuer,
                  audience: ['interop-app'],
                  tenant_claim: { name: 'tenant', value: tenant },
                },
                languages: { default: 'en', allowed: ['en'] },
                country_codes: ['US'],
                profiles: { default: { products: ['auth'] } },
              },
            ]),
          ),
        }),
      });
    });
    after(async () => {
      await stack?.close();
      client?.destroy();
      await sm?.close();
    });

    async function expectLinkToken(tenant: string, plaidSecret: string) {
      const before = stack.plaid.calls;
      const res = await record(tenant, await post(tenant));
      assert.equal(res.status, 200, res.text);
      assert.match(res.json().link_token, /^link-sandbox-/);
      assert.equal(stack.plaid.calls - before, 1);
      assert.equal(stack.plaid.requests.at(-1)!.headers['plaid-secret'], plaidSecret);
    }

    async function expectMisconfigured(tenant: string, cause: string) {
      const before = stack.plaid.calls;
      const res = await record(tenant, await post(tenant));
      assert.equal(res.status, 500, res.text);
      assert.equal(res.json().title, 'Service misconfigured');
      assert.equal(res.headers.get('retry-after'), null, 'a misconfiguration is not worth retrying');
      assert.equal(stack.plaid.calls, before, 'Plaid was called without credentials');
      assert.equal(seen.get(tenant)!.cause, cause);
    }

    test('a secret named by its name is read', () => expectLinkToken('by-name', PLAID.secret));
    test("a secret named by its full ARN (with the service's random suffix) is read", () =>
      expectLinkToken('by-arn', PLAID.secret));
    test('a secret named by its partial ARN (without the suffix) is read', () =>
      expectLinkToken('by-partial-arn', PLAID.secret));

    test('rotation with PutSecretValue: INVALID_API_KEYS makes the function read the new version and succeed', async () => {
      await expectLinkToken('rotating', ROTATING.v1);
      await client.send(
        new PutSecretValueCommand({
          SecretId: 'interop/plaid/rotating',
          SecretString: credentials(ROTATING.clientId, ROTATING.v2),
        }),
      );
      stack.plaid.setCredentials(ROTATING.clientId, ROTATING.v2);
      const before = stack.plaid.calls;
      const res = await record('rotated', await post('rotating'));
      assert.equal(res.status, 200, res.text);
      // The old secret, refused; then the new one, which exists only in the backend's new version.
      assert.deepEqual(
        stack.plaid.requests.slice(-2).map((r) => r.headers['plaid-secret']),
        [ROTATING.v1, ROTATING.v2],
      );
      assert.equal(stack.plaid.calls - before, 2);
    });

    test('keys Plaid refuses while the secret has not changed: one refetch, then 502', async () => {
      await expectLinkToken('unchanged', UNCHANGED.secret);
      stack.plaid.setCredentials(UNCHANGED.clientId, 'rotated-at-plaid-only');
      const before = stack.plaid.calls;
      const res = await record('unchanged-refused', await post('unchanged'));
      assert.equal(res.status, 502, res.text);
      assert.equal(stack.plaid.calls - before, 1, 'no retry with the same keys');
    });

    test('a secret stored as SecretBinary is 500 misconfigured', () => expectMisconfigured('binary', 'SecretIsBinary'));
    test('a secret created without a value is 500 misconfigured', () =>
      expectMisconfigured('without-value', 'ResourceNotFoundException'));
    test('a secret that does not exist is 500 misconfigured', () =>
      expectMisconfigured('never-created', 'ResourceNotFoundException'));

    test('no Plaid secret reaches a response or a log line', () => {
      const everything = [...stack.logLines, ...stack.transcripts].join('\n');
      for (const secret of [PLAID.secret, ROTATING.v1, ROTATING.v2, UNCHANGED.secret, HMAC_KEY]) {
        assert.ok(!everything.includes(secret), 'a secret left the function');
      }
    });
  });
}

test(
  'moto and our stand-in lead the function to the same answers',
  { skip: motoOnPath() ? false : MOTO_ABSENT },
  () => {
    const [standIn, moto] = BACKENDS.map((b) => Object.fromEntries(outcomes.get(b.name) ?? []));
    assert.ok(Object.keys(standIn!).length >= 9, 'every case ran against the stand-in');
    assert.deepEqual(moto, standIn);
  },
);
