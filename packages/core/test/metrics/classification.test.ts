/**
 * Classification scores (src/metrics/classification.ts): a 3-class example worked out by hand, kappa / F1 /
 * precision / AA on a seeded 6-class example against sklearn's formulas re-written in numpy (sklearn is not
 * installed; skipped without numpy), classes absent from the test set, top-k with ties, weighted (Float64)
 * matrices, the text tables and the messages for bad input.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  classificationScores, CmidError, confusionMatrix, formatClassificationReport, formatConfusion, normalizeConfusion,
  predictionsFromScores, Rng, scoresFromConfusion, topKAccuracy,
} from '../../src/index.js';
import { PYTHON } from '../../src/testing/index.js';

const close = (a: number, b: number, tol = 1e-10) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tol);

describe('classificationScores, 3 classes by hand (true 0 0 0 1 1 2, predicted 0 0 1 1 2 2)', () => {
  const labels = [0, 0, 0, 1, 1, 2];
  const preds = [0, 0, 1, 1, 2, 2];
  const s = classificationScores(labels, preds, 3);
  it('confusion matrix rows = true, columns = predicted', () => {
    expect(Array.from(s.confusion)).toEqual([2, 1, 0, 0, 1, 1, 0, 0, 1]);
    expect(s.confusion).toBeInstanceOf(Int32Array);
    expect(Array.from(confusionMatrix(labels, preds, 3))).toEqual(Array.from(s.confusion));
    expect(s.support).toEqual([3, 2, 1]);
    expect(s.n).toBe(6);
  });
  it('OA, recall, precision, F1, AA, macro means and kappa', () => {
    close(s.oa, (4 / 6) * 100);
    [200 / 3, 50, 100].forEach((v, c) => close(s.perClassAccuracy[c]!, v));
    [100, 50, 50].forEach((v, c) => close(s.precision[c]!, v));
    // F1 = 2PR / (P + R): class 0: 2 * 1 * 2/3 / (5/3) = 0.8; class 1: 0.5; class 2: 2 * 0.5 / 1.5
    [80, 50, 200 / 3].forEach((v, c) => close(s.f1[c]!, v));
    close(s.aa, (200 / 3 + 50 + 100) / 3);
    close(s.macroPrecision, 200 / 3);
    close(s.macroF1, (80 + 50 + 200 / 3) / 3);
    // po = 4/6; pe = (3 * 2 + 2 * 2 + 1 * 2) / 36 = 1/3
    close(s.kappa, (4 / 6 - 1 / 3) / (1 - 1 / 3));
    expect(s.topK).toEqual({ 1: s.oa });
  });
  it('row-normalised matrix (NaN for an empty row) and the text tables', () => {
    const r = normalizeConfusion(s.confusion, 3);
    [2 / 3, 1 / 3, 0, 0, 0.5, 0.5, 0, 0, 1].forEach((v, i) => close(r[i]!, v));
    expect(Array.from(normalizeConfusion([1, 1, 0, 0], 2)).slice(2).every(Number.isNaN)).toBe(true);
    const report = formatClassificationReport(s, ['forest', 'harbor', 'river']);
    expect(report).toMatch(/^OA 66\.67 % {3}AA 72\.22 % {3}kappa 0\.5000 {3}\(6 images\)/);
    expect(report).toMatch(/forest\s+66\.7\s+100\.0\s+80\.0\s+3/);
    expect(report).toMatch(/macro avg\s+72\.2\s+66\.7\s+65\.6\s+6/);
    expect(formatConfusion(s.confusion, ['forest', 'harbor', 'river'])).toBe(
      ['true \\ pred  0 1 2', '0 forest     2 1 0', '1 harbor     0 1 1', '2 river      0 0 1'].join('\n'),
    );
    expect(formatConfusion(s.confusion, ['forest', 'harbor', 'river'], { normalize: true }).split('\n')[1]).toBe('0 forest      66.7  33.3   0.0');
  });
});

describe('classificationScores from [n, C] scores', () => {
  it('argmax predictions, top-k by rank, top-1 = OA even with tied scores', () => {
    const scores = [
      0.5, 0.3, 0.1, 0.05, 0.05, // true 0: rank 0
      0.1, 0.2, 0.3, 0.4, 0.0, // true 4: rank 4
      0.2, 0.2, 0.2, 0.2, 0.2, // true 2, all tied: ranks after 0 and 1 (stable order), predicted 0
      0.1, 0.6, 0.1, 0.1, 0.1, // true 3: tied with 0 and 2, after them: rank 3
    ];
    const labels = [0, 4, 2, 3];
    expect(Array.from(predictionsFromScores(scores, 5))).toEqual([0, 3, 0, 1]);
    const s = classificationScores(labels, scores, 5, { topK: [1, 2, 3, 4, 5, 7] });
    expect(s.topK).toEqual({ 1: 25, 2: 25, 3: 50, 4: 75, 5: 100, 7: 100 });
    expect(s.topK[1]).toBe(s.oa);
    expect(topKAccuracy(labels, scores, 5, [3])).toEqual({ 3: 50 });
    // default k: 1 and 5 from 5 classes on, 1 only below
    expect(Object.keys(classificationScores(labels, scores, 5).topK)).toEqual(['1', '5']);
    expect(Object.keys(classificationScores([0, 1], [0.9, 0.1, 0.4, 0.6], 2).topK)).toEqual(['1']);
  });
  it('logits give the same scores as their softmax probabilities', () => {
    const rng = new Rng(3);
    const n = 40, C = 6;
    const logits = Float32Array.from({ length: n * C }, () => rng.normal(0, 3));
    const probs = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * C, i * C + C);
      const m = Math.max(...row);
      const z = row.reduce((a, v) => a + Math.exp(v - m), 0);
      row.forEach((v, k) => (probs[i * C + k] = Math.exp(v - m) / z));
    }
    const labels = Int32Array.from({ length: n }, () => rng.int(0, C));
    const a = classificationScores(labels, logits, C, { topK: [1, 3] });
    const b = classificationScores(labels, probs, C, { topK: [1, 3] });
    expect(Array.from(a.confusion)).toEqual(Array.from(b.confusion));
    expect(a.topK).toEqual(b.topK);
  });
});

describe('classes absent from the test set', () => {
  // 5 classes; class 2 neither in the labels nor predicted, class 3 predicted once but never true
  const labels = [0, 0, 1, 4, 4];
  const preds = [0, 3, 1, 4, 0];
  const s = classificationScores(labels, preds, 5);
  it('have NaN recall and F1, and stay out of AA, macro precision and macro F1', () => {
    expect(Number.isNaN(s.perClassAccuracy[2]!) && Number.isNaN(s.perClassAccuracy[3]!)).toBe(true);
    expect(Number.isNaN(s.f1[2]!) && Number.isNaN(s.f1[3]!)).toBe(true);
    expect(Number.isNaN(s.precision[2]!)).toBe(true); // neither true nor predicted
    expect(s.precision[3]).toBe(0); // predicted, always wrongly
    close(s.aa, (50 + 100 + 50) / 3);
    close(s.macroPrecision, (50 + 100 + 100) / 3);
    close(s.macroF1, ((2 * 0.5 * 0.5) / 1 * 100 + 100 + ((2 * 0.5) / 1.5) * 100) / 3);
    close(s.oa, 60);
    expect(formatClassificationReport(s, ['a', 'b', 'c', 'd', 'e'])).toMatch(/\nc\s+-\s+-\s+-\s+0\n/);
  });
  it('kappa is NaN when chance agreement is 1 (one class, all right), as in sklearn', () => {
    expect(Number.isNaN(classificationScores([1, 1], [1, 1], 3).kappa)).toBe(true);
  });
});

describe('scoresFromConfusion on weighted (Float64) matrices', () => {
  it('scaling the matrix changes nothing but n; fractional weights are allowed', () => {
    const m = [5, 1, 0, 2, 7, 1, 0, 3, 9];
    const a = scoresFromConfusion(Int32Array.from(m), 3);
    const b = scoresFromConfusion(Float64Array.from(m, (v) => v * 0.25), 3);
    for (const k of ['oa', 'aa', 'kappa', 'macroF1', 'macroPrecision'] as const) close(b[k], a[k], 1e-12);
    a.f1.forEach((v, c) => close(b.f1[c]!, v, 1e-12));
    expect(b.n).toBe(7);
  });
});

const numpyOk = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 60_000 }).status === 0;

describe('against sklearn formulas re-written in numpy', () => {
  // sklearn.metrics.cohen_kappa_score (weights=None) and precision_recall_fscore_support (zero_division=0) of 1.3
  const SCRIPT = `
import json, sys, numpy as np
d = json.loads(sys.stdin.read()); y = np.array(d['y']); p = np.array(d['p']); C = d['C']
cm = np.zeros((C, C)); np.add.at(cm, (y, p), 1)
sum0 = cm.sum(axis=0); sum1 = cm.sum(axis=1)
expected = np.outer(sum0, sum1) / np.sum(sum0)
w = np.ones((C, C), dtype=int); w.flat[:: C + 1] = 0
kappa = 1 - np.sum(w * cm) / np.sum(w * expected)
tp = np.diag(cm)
prec = np.divide(tp, sum0, out=np.zeros(C), where=sum0 > 0)
rec = np.divide(tp, sum1, out=np.zeros(C), where=sum1 > 0)
f1 = np.divide(2 * tp, sum0 + sum1, out=np.zeros(C), where=(sum0 + sum1) > 0)
print(json.dumps({'kappa': kappa, 'f1': f1.tolist(), 'prec': prec.tolist(), 'rec': rec.tolist(), 'acc': np.trace(cm) / cm.sum(),
                  'macro_f1': f1.mean(), 'balanced_acc': rec.mean()}))
`;
  it.skipIf(!numpyOk)(`kappa, F1, precision, recall, balanced accuracy: 200 samples, 6 classes, one class never predicted${numpyOk ? '' : ' (SKIPPED: no numpy)'}`, () => {
    const rng = new Rng(7);
    const C = 6, n = 200;
    const y = Array.from({ length: n }, () => rng.int(0, C));
    // 70 % right, else a random class other than 5 (so class 5 is never predicted: precision 0, F1 0)
    const p = y.map((t) => (rng.uniform(0, 1) < 0.7 && t !== 5 ? t : rng.int(0, C - 1)));
    const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify({ y, p, C }), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout) as { kappa: number; f1: number[]; prec: number[]; rec: number[]; acc: number; macro_f1: number; balanced_acc: number };
    const s = classificationScores(y, p, C);
    expect(s.support.every((v) => v > 0)).toBe(true); // all present: our macro means are sklearn's
    close(s.kappa, ref.kappa, 1e-12);
    close(s.oa, 100 * ref.acc, 1e-10);
    close(s.aa, 100 * ref.balanced_acc, 1e-10);
    close(s.macroF1, 100 * ref.macro_f1, 1e-10);
    for (let c = 0; c < C; c++) {
      close(s.f1[c]!, 100 * ref.f1[c]!, 1e-10);
      close(s.precision[c]!, 100 * ref.prec[c]!, 1e-10);
      close(s.perClassAccuracy[c]!, 100 * ref.rec[c]!, 1e-10);
    }
    expect(s.precision[5]).toBe(0);
  });
});

describe('bad input is a CmidError that names the problem', () => {
  const err = (f: () => unknown, re: RegExp) => {
    expect(f).toThrow(CmidError);
    expect(f).toThrow(re);
  };
  it('lengths, label and prediction ranges, NaN scores, k, class count, names, empty matrices', () => {
    err(() => classificationScores([0, 1], [0], 2), /2 labels but 1 scores \(expected 2 predictions or 2 x 2 = 4 scores\)/);
    err(() => classificationScores([0, 3], [0, 1], 3), /label 3 of sample 1 is outside 0\.\.2/);
    err(() => classificationScores([0, 0.5], [0, 1], 3), /label 0\.5 of sample 1/);
    err(() => classificationScores([0, 1], [0, -1], 3), /prediction -1 of sample 1 is outside 0\.\.2/);
    err(() => classificationScores([], [], 3), /no samples/);
    err(() => classificationScores([0], [0], 0), /numClasses is 0/);
    err(() => classificationScores([0, 1], [0.1, NaN, 0.3, 0.7], 2), /score of class 1 for sample 0 is NaN/);
    err(() => classificationScores([0, 1], [0.1, 0.9, 0.3, 0.7], 2, { topK: [0] }), /positive integers, got k = 0/);
    err(() => topKAccuracy([0, 1], [0.1, 0.9, 0.3], 2), /need 4 scores .* got 3/);
    err(() => confusionMatrix([0, 1], [0], 2), /2 labels but 1 predictions/);
    err(() => scoresFromConfusion([1, 2, 3], 2), /3 entries but 2 classes need 4/);
    err(() => scoresFromConfusion([0, 0, 0, 0], 2), /all zeros/);
    err(() => scoresFromConfusion([1, -1, 0, 2], 2), /entry \[0, 1\] is -1/);
    err(() => formatClassificationReport(classificationScores([0, 1], [0, 1], 2), ['a']), /1 class names for 2 classes/);
    expect(() => classificationScores([0, 1], [0.1, NaN, 0.3, 0.7], 2)).toThrow(expect.objectContaining({ kind: 'numeric' }));
  });
});
