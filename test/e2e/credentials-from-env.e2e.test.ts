// The bundle takes its AWS credentials from the environment only, as Lambda provides them
// (lambda/runtime/aws-credentials-from-env.ts). The bundled handler runs in this process behind
// the local API Gateway emulator, against the stand-ins, first without credentials, then with.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startBundledFunction, type BundledFunction } from '../support/bundled-function.ts';

let fn: BundledFunction;
const logLines: string[] = [];

before(async () => {
  fn = await startBundledFunction({
    env: (dir) => {
      // A shared credentials file the SDK's full default chain would use: the bundle must not.
      writeFileSync(
        join(dir, 'credentials'),
        '[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = fromfile\n',
      );
      return {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      };
    },
    // The function's log lines go to stdout: keep them for the assertions (and pass them on).
    beforeImport: () => {
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (chunk: string | Uint8Array, ...rest: never[]) => {
        logLines.push(String(chunk));
        return write(chunk, ...rest);
      };
    },
  });
});

after(async () => {
  await fn?.close();
});

test('the bundle carries the environment credential provider, not the default chain', () => {
  const inputs = Object.keys(fn.bundle.metafile.inputs);
  assert.ok(
    inputs.some((path) => path.includes('@aws-sdk/credential-provider-env/')),
    'the environment provider is bundled',
  );
  for (const chainPart of [
    'credential-provider-node',
    'credential-provider-ini',
    'credential-provider-sso',
    'nested-clients',
    'credential-provider-imds',
  ]) {
    assert.ok(!inputs.some((path) => path.includes(chainPart)), `${chainPart} is bundled`);
  }
});

test('without credentials in the environment: a mapped 503, nothing sent unsigned, the reason logged by name', async () => {
  const res = await fn.linkTokenRequest('user-1');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { title: string }).title, 'Credentials unavailable');
  assert.equal(fn.secrets.calls.GetSecretValue, 0, 'no request reached Secrets Manager');
  const failures = logLines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"init.prefetch_failed"'))
    .map((line) => JSON.parse(line) as { error_name?: string });
  assert.ok(
    failures.length > 0 && failures.every((f) => f.error_name === 'CredentialsProviderError'),
    JSON.stringify(failures),
  );
});

test('with credentials in the environment, the next request reads the secrets and succeeds', async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'ASIAENVIRONMENT',
    AWS_SECRET_ACCESS_KEY: 'from-environment',
    AWS_SESSION_TOKEN: 'session',
  });
  const res = await fn.linkTokenRequest('user-1');
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(fn.secrets.calls.GetSecretValue, 2);
});
