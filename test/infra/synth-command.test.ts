// `npm run synth -- -c tenantsFile=<file>` as docs/operations.md gives it, run through npm as an
// operator runs it: the file named is the file synthesized, linted and reported, and a mistake in
// it fails naming that file, the tenant and the field. The commands are read from the page, so
// the documented command is the tested one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { readTenantsFile } from '../../lambda/config/load-tenants.ts';
import { STAGES } from '../../infra/stages.ts';
import { synthArguments } from '../../infra/synth.ts';
import { minimalTenantConfig, tenantsFileOf } from '../support/tenants.ts';

const workDir = mkdtempSync(join(tmpdir(), 'link-token-synth-command-'));
const PLACEHOLDER = 'path/to/tenants.json';

/** The page's `npm run synth… -- -c tenantsFile=path/to/tenants.json` commands, as argv after `npm run`. */
function documentedCommands(): string[][] {
  const page = readFileSync(join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
  return [...page.matchAll(/^npm run (synth(?::prod)?) -- (-c tenantsFile=\S+)\s*(?:#.*)?$/gm)].map((match) => [
    match[1]!,
    '--',
    ...match[2]!.split(/\s+/),
  ]);
}

function write(name: string, value: unknown): string {
  const path = join(workDir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** npm run <script> -- <args>, with the page's placeholder replaced by `file` and the assembly in its own folder. */
function npmRun(command: readonly string[], file: string) {
  const outdir = mkdtempSync(join(workDir, 'cdk.out-'));
  const args = [...command.map((arg) => arg.replace(PLACEHOLDER, file)), '-o', outdir];
  const result = spawnSync('npm', ['run', '--silent', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1' },
    encoding: 'utf8',
  });
  return { ...result, outdir };
}

const OWN_SECRET = 'link-token/own/plaid/own-tenant-7f3a';

describe('npm run synth with a tenants file of its own, as docs/operations.md gives it', () => {
  const commands = documentedCommands();

  test('the page gives the command for both stages', () => {
    assert.deepEqual(
      commands.map((c) => c[0]),
      ['synth', 'synth:prod'],
    );
  });

  test("synthesizes, lints and reports that file: its tenant's secret is in the template, dev's tenants are not", () => {
    const file = write(
      'own.json',
      tenantsFileOf(
        { 'own-tenant': minimalTenantConfig({ plaid: { environment: 'sandbox', secret_id: OWN_SECRET } }) },
        'link-token/own/client-user-id-key',
      ),
    );
    const result = npmRun(commands[0]!, file);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const templates = readdirSync(result.outdir).filter((f) => f.endsWith('.template.json'));
    assert.deepEqual(templates, ['link-token-dev.template.json']);
    const template = readFileSync(join(result.outdir, templates[0]!), 'utf8');
    assert.ok(template.includes(OWN_SECRET), "the tenant's Plaid secret is granted and created");
    for (const tenant of Object.values(readTenantsFile(join(PROJECT_ROOT, STAGES.dev.tenantsFile)).tenants))
      assert.ok(!template.includes(tenant.plaid.secret_id), `${tenant.plaid.secret_id} of dev.json is not in it`);
    // cfn-lint ran on that template (or said it is not installed), then the line naming what was checked.
    assert.match(result.stdout, /cfn-lint: (link-token-dev\.template\.json: no findings|skipped)/);
    assert.match(
      result.stdout,
      new RegExp(
        `synth: stage dev, tenants file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(tenant own-tenant\\): .*link-token-dev\\.template\\.json checked`,
      ),
    );
  });

  test('an invalid file fails with a non-zero exit, naming the file, the tenant and the field', () => {
    const file = write(
      'invalid.json',
      tenantsFileOf({
        'own-tenant': minimalTenantConfig({
          profiles: { default: { products: ['auth'], redirect_url: 'https://app.own.example.com/oauth' } },
        }),
      }),
    );
    for (const command of commands) {
      const result = npmRun(command, file);
      assert.notEqual(result.status, 0, `${command.join(' ')} passed an invalid file`);
      assert.match(result.stderr, new RegExp(`Invalid tenants file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`));
      assert.match(
        result.stderr,
        /tenant 'own-tenant', profile 'default', field 'redirect_url': is not a known field .*did you mean 'redirect_uri'\?/,
      );
      assert.doesNotMatch(result.stdout, /^synth: /m, 'nothing is reported as checked');
      assert.deepEqual(
        readdirSync(result.outdir).filter((f) => f.endsWith('.template.json')),
        [],
        'no template is written',
      );
    }
  });
});

describe('the arguments synth forwards to cdk synth', () => {
  test('the default stage only when none is given; every argument passed on as given', () => {
    assert.deepEqual(synthArguments('dev', []).cdkArgs, ['synth', '--no-notices', '--quiet', '-c', 'stage=dev']);
    const given = synthArguments('dev', [
      '-c',
      'stage=prod',
      '--context',
      'logLevel=debug',
      '--context=xrayTracing=true',
    ]);
    assert.deepEqual(given.cdkArgs, [
      'synth',
      '--no-notices',
      '--quiet',
      '-c',
      'stage=prod',
      '--context',
      'logLevel=debug',
      '--context=xrayTracing=true',
    ]);
    assert.deepEqual(given.context, { stage: 'prod', logLevel: 'debug', xrayTracing: 'true' });
  });

  test('the output folder is where synth writes: -o, --output, --output=, else cdk.out in the project', () => {
    assert.equal(synthArguments('dev', []).outdir, join(PROJECT_ROOT, 'cdk.out'));
    assert.equal(synthArguments('dev', ['-o', '/tmp/a']).outdir, '/tmp/a');
    assert.equal(synthArguments('dev', ['--output', 'out']).outdir, join(PROJECT_ROOT, 'out'));
    assert.equal(synthArguments('dev', ['--output=/tmp/b']).outdir, '/tmp/b');
    assert.throws(() => synthArguments('dev', ['-c']), /-c needs a value/);
    assert.throws(() => synthArguments('dev', ['-c', 'tenantsFile']), /context values are key=value/);
  });
});
