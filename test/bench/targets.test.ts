// The benchmark's target table: each target of bench/lib/targets.ts is met, not met, or "not measured"
// from one run's figures, never met by default, and the ratios are taken the right way round.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueTargets, targetsMarkdown, type TargetInputs } from '../../bench/lib/targets.ts';

const cell = (tenants: number, prefetch: 'on' | 'off', coldMs: number, peakRssMb: number, jwks = 1, secrets = 2) => ({
  tenants,
  prefetch,
  coldMs,
  peakRssMb,
  jwksFetchesMax: jwks,
  secretsReadsMax: secrets,
});

const run: TargetInputs = {
  sweep: {
    cells: [
      cell(1, 'on', 130, 64),
      cell(1000, 'on', 140, 70),
      cell(1, 'off', 150, 64),
      cell(1000, 'off', 160, 72, 2, 3),
    ],
  },
  serverlessCold: {
    perContender: {
      product: { coldMs: 100 },
      peerDefault: { coldMs: 250 },
      peerTuned: { coldMs: 200 },
      floor: { coldMs: 90 },
    },
  },
  serverlessWarm: {
    perContender: {
      product: { cpuUsPerInvocation: 300, secretsReads: 0, jwksFetches: 0, invocations: 2100 },
      peerDefault: { cpuUsPerInvocation: 800, secretsReads: 0, jwksFetches: 0, invocations: 2100 },
      floor: { cpuUsPerInvocation: 250, secretsReads: 0, jwksFetches: 0, invocations: 2100 },
    },
  },
  bundleBytes: 270_000,
  otherWarmProductCalls: { secrets: 0, jwks: 0, requests: 5000 },
};

const byName = (checks: ReturnType<typeof issueTargets>, start: string) => {
  const found = checks.find((c) => c.target.startsWith(start));
  assert.ok(found, `no target starting "${start}"`);
  return found;
};

test('a run that meets every limit is met everywhere, with the ratios of this run', () => {
  const checks = issueTargets(run);
  assert.equal(checks.length, 11);
  assert.ok(
    checks.every((c) => c.met === true),
    JSON.stringify(checks.filter((c) => !c.met)),
  );
  assert.equal(byName(checks, 'cold start at 1,000 tenants').value, 1.0769);
  assert.equal(byName(checks, 'peak RSS growth').value, 6);
  assert.equal(byName(checks, 'cold path, product / serverless peer').value, 0.4);
  assert.equal(byName(checks, 'cold path, product / stack floor').value, 1.1111);
  assert.equal(byName(checks, 'warm CPU per invocation, product / stack floor').value, 1.2);
  assert.equal(byName(checks, 'warm CPU per invocation, product / serverless peer').value, 0.375);
  assert.equal(byName(checks, 'JWKS fetches per cold start').detail, '2 at 1,000 tenants, prefetch off');
});

test('one JWKS fetch per issuer, growing RSS and a slow cold path are not met', () => {
  const checks = issueTargets({
    ...run,
    sweep: { cells: [cell(1, 'on', 133, 64), cell(1000, 'on', 630, 122, 1000, 21)] },
    serverlessCold: {
      perContender: {
        product: { coldMs: 130 },
        peerDefault: { coldMs: 250 },
        peerTuned: { coldMs: 228 },
        floor: { coldMs: 100 },
      },
    },
  });
  for (const name of [
    'cold start at 1,000',
    'JWKS fetches',
    'Secrets Manager reads per cold start',
    'peak RSS growth',
    'cold path, product / serverless peer',
    'cold path, product / stack floor',
  ]) {
    assert.equal(byName(checks, name).met, false, name);
  }
  assert.match(targetsMarkdown(checks), /\*\*not met\*\*/);
});

test('a warm request that reads a secret anywhere in the run fails the zero-calls target', () => {
  const checks = issueTargets({ ...run, otherWarmProductCalls: { secrets: 1, jwks: 0, requests: 5000 } });
  assert.equal(byName(checks, 'Secrets Manager reads on warm').met, false);
  assert.equal(byName(checks, 'JWKS fetches on warm').met, true);
});

test('what a run did not measure is "not measured", never met', () => {
  const checks = issueTargets({});
  assert.ok(
    checks.every((c) => c.met === null && c.value === null),
    JSON.stringify(checks),
  );
  const rows = targetsMarkdown(checks).split('\n').slice(2);
  assert.equal(rows.length, checks.length);
  for (const row of rows) assert.match(row, /\| not measured \|/);
});
