/** Learning-rate schedules against values worked out by hand (float64) from cmid.md 8.3 and the baselines' rules. */
import { describe, expect, it } from 'vitest';
import { cmidLr, cosineLr, linearWarmupCosineLr, stepLr, warmupCosineLr } from '../../src/train/schedule.js';

/** |a - b| <= 1e-12 relative to |b| (the schedules are float64 arithmetic). */
function near(a: number, b: number): void {
  expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(1e-12 * Math.max(Math.abs(b), 1e-300));
}

describe('CMID lr schedule (cmid.md 8.3): linear warm-up from 1% times the whole-run cosine, to min_lr', () => {
  // README setting: lr 0.001 x 4 GPUs, min 1e-6, 400 epochs, 10 warm-up epochs; 100 iterations per epoch here
  const o = { baseLr: 0.004, minLr: 1e-6, totalIters: 40_000, warmupIters: 1000, warmupRatio: 0.01 };
  const lr = cmidLr({ baseLr: 0.004, minLr: 1e-6, epochs: 400, itersPerEpoch: 100, warmupEpochs: 10 });

  it('t = 0: 1% of the base lr (cosine(0) = base)', () => {
    near(warmupCosineLr(0, o), 4e-5);
    near(lr(0), 4e-5);
  });
  it('t = W/2 and t = W - 1: cosine(t) x (0.01 + 0.99 t / W)', () => {
    near(warmupCosineLr(500, o), 0.00201922152127148);
    near(warmupCosineLr(999, o), 0.003989894613857625);
  });
  it('end of warm-up t = W: the plain cosine, which has already decayed a little (warm-up does not shift it)', () => {
    near(warmupCosineLr(1000, o), 0.00399383620879939);
    expect(warmupCosineLr(1000, o)).toBeLessThan(0.004);
  });
  it('midpoint t = T/2: min + (base - min) / 2; end t = T: min_lr', () => {
    near(warmupCosineLr(20_000, o), 0.0020005);
    near(warmupCosineLr(40_000, o), 1e-6);
    near(lr(40_000), 1e-6);
  });
  it('rises through the warm-up, falls afterwards; cmidLr equals warmupCosineLr everywhere', () => {
    for (let t = 1; t < 1000; t += 37) expect(warmupCosineLr(t, o)).toBeGreaterThan(warmupCosineLr(t - 1, o));
    for (let t = 1001; t <= 40_000; t += 997) expect(warmupCosineLr(t, o)).toBeLessThan(warmupCosineLr(t - 1, o));
    for (const t of [0, 1, 999, 1000, 1001, 12_345, 39_999]) expect(lr(t)).toBe(warmupCosineLr(t, o));
  });
  it('fine-tuning (1.3): base 0.003125, 5 warm-up epochs', () => {
    const ft = cmidLr({ baseLr: 0.003125, epochs: 200, itersPerEpoch: 105, warmupEpochs: 5 });
    near(ft(0), 0.003125 * 0.01);
    near(ft(200 * 105), 1e-6);
  });
  it('no warm-up: the plain cosine', () => {
    near(warmupCosineLr(0, { ...o, warmupIters: 0 }), 0.004);
  });
});

describe('baseline schedules', () => {
  it('cosineLr: base at 0, (base + min) / 2 at T/2, min at T (clamped beyond)', () => {
    near(cosineLr(0, 200, 0.03), 0.03);
    near(cosineLr(100, 200, 0.03), 0.015);
    expect(cosineLr(200, 200, 0.6, 0.0006)).toBeCloseTo(0.0006, 15);
    expect(cosineLr(250, 200, 0.6, 0.0006)).toBeCloseTo(0.0006, 15);
    near(cosineLr(50, 200, 1), 0.5 * (1 + Math.SQRT1_2));
  });
  it('stepLr: SeCo x0.1 at epochs 120 and 160', () => {
    expect(stepLr(0, 0.03, [120, 160])).toBe(0.03);
    expect(stepLr(119, 0.03, [120, 160])).toBe(0.03);
    near(stepLr(120, 0.03, [120, 160]), 0.003);
    near(stepLr(160, 0.03, [120, 160]), 0.0003);
  });
  it('linearWarmupCosineLr (Lightning Bolts closed form): base reached at W - 1, cosine over T - W', () => {
    const o = { baseLr: 1, warmupSteps: 10, totalSteps: 110 };
    expect(linearWarmupCosineLr(0, o)).toBe(0);
    near(linearWarmupCosineLr(3, o), 1 / 3);
    expect(linearWarmupCosineLr(9, o)).toBe(1);
    expect(linearWarmupCosineLr(10, o)).toBe(1);
    near(linearWarmupCosineLr(60, o), 0.5);
    expect(linearWarmupCosineLr(110, { ...o, etaMin: 1e-3 })).toBeCloseTo(1e-3, 15);
    near(linearWarmupCosineLr(0, { ...o, warmupStartLr: 0.1 }), 0.1);
  });
});
