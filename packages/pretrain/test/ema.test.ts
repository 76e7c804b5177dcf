/**
 * The EMA of cmid.md §7 on the whole CMID model: after a step at iteration t >= 1, every teacher parameter equals
 * tau * teacher + (1 - tau) * student, with the student BEFORE that step's update and tau = the hook's lagged value;
 * at t = 0 the teacher does not move; the tau schedule at 0, K/2 and K.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cmidEmaTau, createTrainer, initBackend, seedInit, type TrainerState } from '@cmid/core';
import { CmidModel } from '../src/model/cmid-model.js';
import { cmidTrainStep } from '../src/step.js';
import { cmidBatch, SMALL } from './helpers/batch.js';

beforeAll(async () => {
  await initBackend();
});

describe('CMID teacher EMA', () => {
  it('tau schedule: none at step 0, 0.996 at step 1, tau(t - 1) after, 1 at the end', () => {
    const K = 1000;
    expect(cmidEmaTau(0, K)).toBeNull();
    expect(cmidEmaTau(1, K)).toBe(0.996);
    expect(cmidEmaTau(K / 2 + 1, K)).toBeCloseTo(1 - 0.004 * 0.5, 12); // tau(K/2) = 0.998
    expect(cmidEmaTau(K + 1, K)).toBeCloseTo(1, 12); // tau(K) = 1
  });

  it('every teacher parameter is tau * teacher + (1 - tau) * student (student before the update)', async () => {
    seedInit(3);
    const model = new CmidModel(SMALL);
    const trainer = await createTrainer(cmidTrainStep(model, SMALL, 4), { engine: 'compiled' });
    const pairs = model.emaPairs();
    const snap = (): TrainerState => trainer.getState();
    const s0 = snap();
    await trainer.step(cmidBatch(SMALL, 4, 7), { lr: 0.05, tau: cmidEmaTau(0, 100) ?? 1 });
    const s1 = snap();
    for (const [t] of pairs) expect(Array.from(s1.tensors[t]!.data as Float32Array)).toEqual(Array.from(s0.tensors[t]!.data as Float32Array));
    const tau = cmidEmaTau(1, 100)!;
    await trainer.step(cmidBatch(SMALL, 4, 8), { lr: 0.05, tau });
    const s2 = snap();
    let checked = 0, moved = 0;
    for (const [t, s] of pairs) {
      const before = s1.tensors[t]!.data as Float32Array, student = s1.tensors[s]!.data as Float32Array, after = s2.tensors[t]!.data as Float32Array;
      for (let i = 0; i < after.length; i++) {
        const want = Math.fround(tau * before[i]!) + Math.fround((1 - tau) * student[i]!);
        expect(Math.abs(after[i]! - want), `${t}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
        if (after[i] !== before[i]) moved++;
      }
      checked++;
    }
    expect(checked).toBe(pairs.length);
    expect(moved).toBeGreaterThan(1000);
    trainer.dispose();
    model.dispose();
  });
});
