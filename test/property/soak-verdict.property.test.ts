// The soak's judgement (bench/soak.ts), checked on synthetic memory series: Node's sawtooth
// alone is never called growing, a steady leak well past the allowance always is, and a knob
// that is not a number is refused by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { memoryVerdict, readConfig, sawtoothUnresolved } from '../../bench/soak.ts';
import { checkProperty } from './support.ts';

const TOLERANCE = 0.05;
const MIN_GROWTH_MB = 5;

/** Samples every `interval` s: a base level, a sawtooth (heap grows, a full GC drops it) and noise. */
const series = fc.record({
  baseMb: fc.double({ min: 40, max: 600, noNaN: true }),
  amplitude: fc.double({ min: 0, max: 0.4, noNaN: true }),
  period: fc.integer({ min: 2, max: 8 }),
  phase: fc.nat({ max: 7 }),
  count: fc.integer({ min: 12, max: 90 }),
  noise: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 90, maxLength: 90 }),
});

type Series = typeof series extends fc.Arbitrary<infer T> ? T : never;

function points(s: Series, leakMbPerSample: number) {
  return Array.from({ length: s.count }, (_, i) => ({
    t: (i + 1) * 10,
    mb: s.baseMb * (1 + s.amplitude * (((i + s.phase) % s.period) / s.period)) + s.noise[i]! + leakMbPerSample * i,
  }));
}

// Each third of the series must hold a whole period, so that its minimum is a trough: what the
// soak ensures by judging RSS only when each third saw a full GC.
const wholePeriods = (s: Series) => Math.floor(s.count / 3) >= s.period;

test('a sawtooth without a leak is never called growing', async (t) => {
  await checkProperty(
    t,
    fc.asyncProperty(series, async (s) => {
      fc.pre(wholePeriods(s));
      assert.notEqual(memoryVerdict(points(s, 0), 0, TOLERANCE).verdict, 'growing');
    }),
    { runsFactor: 4 },
  );
});

test('a steady leak of three times the allowance beyond the sawtooth is always called growing', async (t) => {
  await checkProperty(
    t,
    fc.asyncProperty(series, async (s) => {
      fc.pre(wholePeriods(s));
      const swing = s.baseMb * s.amplitude + 2;
      const allowance = Math.max(TOLERANCE * s.baseMb * (1 + s.amplitude), MIN_GROWTH_MB);
      // Thirds are a third of the span apart: spread three allowances plus the swing over that.
      const leak = (3 * (allowance + swing)) / Math.floor(s.count / 3);
      assert.equal(memoryVerdict(points(s, leak), 0, TOLERANCE).verdict, 'growing');
    }),
    { runsFactor: 4 },
  );
});

test('too few points after warm-up are inconclusive, not flat', () => {
  const few = Array.from({ length: 5 }, (_, i) => ({ t: 100 + i, mb: 100 + i * 50 }));
  assert.equal(memoryVerdict(few, 0, TOLERANCE).verdict, 'inconclusive');
});

test('without a full GC in every third, one step up of RSS is inconclusive, a steady climb is still growing', () => {
  const t = Array.from({ length: 12 }, (_, i) => (i + 1) * 10);
  const step = t.map((at) => ({ t: at, mb: at < 90 ? 165 : 217 }));
  const climb = t.map((at) => ({ t: at, mb: 180 + at * 1.5 }));
  const gcs = [{ t: 15 }];
  for (const [series, expected] of [
    [step, 'inconclusive'],
    [climb, 'growing'],
  ] as const) {
    const grew = memoryVerdict(series, 0, TOLERANCE);
    assert.equal(grew.verdict, 'growing');
    assert.equal((sawtoothUnresolved(series, gcs, 0, grew) ?? grew).verdict, expected);
  }
});

test('a soak knob that is not a whole number is refused, naming the knob', async (t) => {
  const knobs = ['SOAK_SECONDS', 'SOAK_CONCURRENCY', 'SOAK_USERS', 'SOAK_SAMPLE_SECONDS'] as const;
  const notAWholeNumber = fc
    .string({ minLength: 1, maxLength: 8 })
    .filter((s) => s.trim() !== '' && !/^\d+$/.test(s.trim()));
  await checkProperty(
    t,
    fc.asyncProperty(fc.constantFrom(...knobs), notAWholeNumber, async (knob, value) => {
      assert.throws(
        () => readConfig([], { [knob]: value }),
        (error: Error) => error.message.includes(knob) && error.message.includes(JSON.stringify(value.trim())),
      );
    }),
  );
  assert.equal(readConfig(['--seconds', '120'], { SOAK_CONCURRENCY: '8' }).seconds, 120);
  assert.throws(() => readConfig([], { SOAK_RSS_TOLERANCE: 'lots' }), /SOAK_RSS_TOLERANCE/);
  assert.throws(() => readConfig([], { SOAK_STANDINS: 'both' }), /SOAK_STANDINS/);
});
