// `npm run synth` ends with cfn-lint on the synthesized template (infra/lint-template.ts): a
// finding fails synth unless infra/cfn-lint-acknowledged.json acknowledges it with a reason.
// The real cfn-lint runs where it is installed (it is a Python tool, not an npm dependency).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ACKNOWLEDGEMENTS_FILE,
  CFN_LINT_COMMAND,
  judge,
  lintTemplates,
  pathMatches,
  readAcknowledgements,
  type Finding,
} from '../../infra/lint-template.ts';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { synthesize } from './synth.ts';

const cfnLintAbsent = spawnSync(CFN_LINT_COMMAND, ['--version']).error ? `${CFN_LINT_COMMAND} is not on PATH` : false;
const workDir = mkdtempSync(join(tmpdir(), 'link-token-cfn-lint-'));
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function writeJson(name: string, value: unknown): string {
  const path = join(workDir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** Captures what the lint prints. */
const sink = () => {
  let text = '';
  return {
    write: (chunk: string) => (text += chunk),
    get text() {
      return text;
    },
  };
};

const REASON = 'Acknowledged in this test only: the queue property is misspelt on purpose.';

describe('with the real cfn-lint', { skip: cfnLintAbsent }, () => {
  test('through the CLI: an unacknowledged finding fails with its rule and path; the acknowledged one is not reported', () => {
    // Two misspelt properties: cfn-lint reports both (E3002); only the queue's is acknowledged.
    const assembly = mkdtempSync(join(workDir, 'assembly-'));
    writeFileSync(
      join(assembly, 'bad.template.json'),
      JSON.stringify({
        Resources: {
          Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayNam: 'alarms' } },
          Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeot: 30 } },
        },
      }),
    );
    writeFileSync(
      join(assembly, 'manifest.json'),
      JSON.stringify({
        artifacts: { bad: { type: 'aws:cloudformation:stack', properties: { templateFile: 'bad.template.json' } } },
      }),
    );
    const acknowledged = writeJson('queue-only.json', {
      acknowledged: [{ rule: 'E3002', path: 'Resources/Queue/Properties/*', reason: REASON }],
    });

    const result = spawnSync(
      process.execPath,
      [join(PROJECT_ROOT, 'infra', 'lint-template.ts'), assembly, '--acknowledged', acknowledged],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /cfn-lint: 1 finding\(s\) in bad\.template\.json:\n {2}E3002 Resources\/Topic\/Properties\/DisplayNam \(bad\.template\.json:1\): .*DisplayName/,
    );
    assert.doesNotMatch(result.stderr + result.stdout, /Resources\/Queue/);
    assert.match(result.stderr, /acknowledge a finding in .*queue-only\.json with its rule, path and the reason/);
  });

  test("both stages' templates pass with the committed acknowledgements, each of which is needed", () => {
    const templates = [synthesize({ ...NO_BUNDLING, stage: 'dev' }), synthesize({ ...NO_BUNDLING, stage: 'prod' })].map(
      (s) => join(s.outdir, s.stack.templateFile),
    );
    const out = sink();
    const err = sink();
    assert.equal(lintTemplates(templates, { acknowledgementsFile: ACKNOWLEDGEMENTS_FILE, out, err }), 0, err.text);
    assert.match(
      out.text,
      /link-token-dev\.template\.json, link-token-prod\.template\.json: no findings beyond \d+ acknowledged/,
    );
    assert.doesNotMatch(out.text, /matched no finding/, 'a stale acknowledgement should be removed');
  });
});

describe('the acknowledgement rules', () => {
  const finding = (rule: string, path: string): Finding => ({
    rule,
    path,
    level: 'Warning',
    message: 'm',
    template: 't.json',
    line: 1,
  });
  const ack = (rule: string, path: string) => ({ rule, path, reason: REASON });

  test('a finding passes only when an acknowledgement names its rule and matches its path', () => {
    const dependsOn = finding('W3005', 'Resources/LinkTokenFunctionECC7E28B/DependsOn/1');
    assert.deepEqual(judge([dependsOn], []).unacknowledged, [dependsOn]);
    assert.deepEqual(judge([dependsOn], [ack('W3005', 'Resources/LinkTokenFunction*/DependsOn/*')]).unacknowledged, []);
    // Another rule on the same path, or the same rule elsewhere, is not covered.
    assert.deepEqual(judge([dependsOn], [ack('E3002', 'Resources/LinkTokenFunction*/DependsOn/*')]).unacknowledged, [
      dependsOn,
    ]);
    assert.deepEqual(judge([dependsOn], [ack('W3005', 'Resources/ItemsVault*/DependsOn/*')]).unacknowledged, [
      dependsOn,
    ]);
    const { unused } = judge([], [ack('W3005', 'Resources/X')]);
    assert.equal(unused.length, 1);
  });

  test('* stays within one path segment', () => {
    assert.ok(
      pathMatches('Resources/LinkTokenFunction*/DependsOn/*', 'Resources/LinkTokenFunctionECC7E28B/DependsOn/1'),
    );
    assert.ok(
      !pathMatches(
        'Resources/LinkTokenFunction*/DependsOn/*',
        'Resources/LinkTokenFunctionECC7E28B/Properties/DependsOn/1',
      ),
    );
    assert.ok(!pathMatches('Resources/*', 'Resources/Topic/Properties'));
    assert.ok(pathMatches('Resources/Topic?', 'Resources/Topic1'));
    assert.ok(!pathMatches('Resources/Topic.', 'Resources/TopicX'), 'regular expression characters are literal');
  });

  test('every acknowledgement needs a rule id, a path and a reason that says why', () => {
    assert.ok(readAcknowledgements(ACKNOWLEDGEMENTS_FILE).length > 0);
    assert.throws(
      () =>
        readAcknowledgements(writeJson('no-reason.json', { acknowledged: [{ rule: 'W3005', path: 'Resources/X' }] })),
      /no-reason\.json: acknowledged\.0\.reason/,
    );
    assert.throws(
      () =>
        readAcknowledgements(
          writeJson('short.json', { acknowledged: [{ ...ack('W3005', 'Resources/X'), reason: 'fine' }] }),
        ),
      /acknowledged\.0\.reason must say why/,
    );
    assert.throws(
      () => readAcknowledgements(writeJson('rule.json', { acknowledged: [ack('3005', 'Resources/X')] })),
      /acknowledged\.0\.rule must be a cfn-lint rule id/,
    );
    assert.throws(
      () =>
        readAcknowledgements(
          writeJson('extra.json', { acknowledged: [{ ...ack('W3005', 'Resources/X'), ignore: true }] }),
        ),
      /acknowledged\.0/,
    );
  });

  test('without cfn-lint the lint passes with a one-line skip', () => {
    const assembly = mkdtempSync(join(workDir, 'assembly-'));
    writeFileSync(join(assembly, 't.template.json'), '{"Resources":{}}');
    writeFileSync(
      join(assembly, 'manifest.json'),
      JSON.stringify({
        artifacts: { t: { type: 'aws:cloudformation:stack', properties: { templateFile: 't.template.json' } } },
      }),
    );
    const out = sink();
    const code = lintTemplates([join(assembly, 't.template.json')], {
      acknowledgementsFile: ACKNOWLEDGEMENTS_FILE,
      command: 'cfn-lint-not-installed-here',
      out,
    });
    assert.equal(code, 0);
    assert.equal(
      out.text,
      'cfn-lint: skipped, cfn-lint-not-installed-here is not on PATH (pip install cfn-lint to lint the templates)\n',
    );
  });
});
