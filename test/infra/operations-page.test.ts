// docs/operations.md against the synthesized stack: every alarm the stack has is a row of the
// page's alarm table (what it means, the first thing to do) and the page names none it lacks; the
// monthly alarm and metric counts of the cost section are the stack's; and the function's memory
// is one number, the one the stack sets, the local stack reports and the page states.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { FUNCTION_MEMORY_MB } from '../../infra/function-sizing.ts';
import { PROJECT_ROOT } from '../../infra/lambda-bundling.ts';
import { lambdaContext } from '../../local/server.ts';
import { synthesize, type Synthesized } from './synth.ts';

const page = readFileSync(join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
/** The text of the page's section whose heading starts with `heading`, up to the next of its level. */
function section(heading: string): string {
  const start = page.indexOf(`\n${heading}`);
  assert.ok(start >= 0, `docs/operations.md has a section "${heading}"`);
  const level = /^#+/.exec(heading)![0];
  const next = page.indexOf(`\n${level} `, start + heading.length + 1);
  return page.slice(start, next < 0 ? undefined : next);
}

let s: Synthesized;
before(() => {
  s = synthesize({ stage: 'dev' });
});
const resources = (type: string) => Object.values(s.json.Resources).filter((r) => r.Type === type);

describe('docs/operations.md and the stack', () => {
  test('every alarm of the stack has its row, with what it means and the first thing to do, and no row names another', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map((a) =>
      String(a.Properties.AlarmName).replace(`${s.stack.stackName}-`, '<stack>-'),
    );
    assert.ok(alarms.length >= 10, `the stack has ${alarms.length} alarms`);
    const rows = [...section('## 7. Operations').matchAll(/^\| `(<stack>-[a-z0-9-]+)` \|(.*)\|\s*$/gm)];
    for (const [, name, rest] of rows) {
      const cells = rest!.split(/(?<!\\)\|/).map((cell) => cell.trim());
      assert.equal(cells.length, 3, `${name}: fires when, what it means, first thing to do`);
      for (const cell of cells) assert.ok(cell.length > 10, `${name} has an empty cell`);
    }
    assert.deepEqual(rows.map((row) => row[1]).sort(), [...alarms].sort());
  });

  test('the cost section counts the alarms, their metrics and the log-filter metrics the stack has', () => {
    const alarms = resources('AWS::CloudWatch::Alarm');
    const metrics = alarms.reduce(
      (sum, a) => sum + (a.Properties.Metrics ? a.Properties.Metrics.filter((m: any) => m.MetricStat).length : 1),
      0,
    );
    const filters = resources('AWS::Logs::MetricFilter');
    const alwaysPublished = filters.filter((f) => f.Properties.MetricTransformations[0].DefaultValue !== undefined);
    const cost = section('## 8. Sizing and cost');
    assert.ok(
      cost.includes(`${alarms.length} alarms over ${metrics} metrics, $${(metrics * 0.1).toFixed(2)}`),
      `the page says "${alarms.length} alarms over ${metrics} metrics, $${(metrics * 0.1).toFixed(2)}"`,
    );
    assert.ok(
      cost.includes(`${alwaysPublished.length} custom metrics from the log filters, always published`),
      `the page says "${alwaysPublished.length} custom metrics from the log filters, always published"`,
    );
    assert.equal(filters.length - alwaysPublished.length, 1, 'FunctionServerErrors, by failure kind, is the other');
  });

  test('one memory size: what the stack sets is what the local stack reports and what the page states', () => {
    const [fn] = resources('AWS::Lambda::Function');
    assert.equal(fn!.Properties.MemorySize, FUNCTION_MEMORY_MB);
    assert.equal(lambdaContext(1000).memoryLimitInMB, String(FUNCTION_MEMORY_MB));
    assert.match(page, new RegExp(`Lambda \\(nodejs24\\.x, arm64, ${FUNCTION_MEMORY_MB} MB, `), 'the diagram');
    const sizing = section('## 8. Sizing and cost');
    assert.match(sizing, new RegExp(`^- \\*\\*${FUNCTION_MEMORY_MB} MB\\*\\*, \`FUNCTION_MEMORY_MB\``, 'm'));
    assert.ok(sizing.includes(`1,769 / ${FUNCTION_MEMORY_MB}`), 'the CPU share the costs assume');
    const gigabytes = [...sizing.matchAll(/× (\d+(?:\.\d+)?) GB/g)].map((m) => Number(m[1]));
    assert.ok(gigabytes.length > 0);
    for (const gb of gigabytes) assert.equal(gb, FUNCTION_MEMORY_MB / 1024, 'every GB-second figure at that memory');
  });
});
