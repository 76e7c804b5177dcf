/**
 * Classification scores from labels and class scores (probabilities or logits, [n, C] row-major) or predicted
 * indices: confusion matrix (rows = true class, columns = predicted), overall accuracy (OA), per-class accuracy
 * (recall), precision and F1, average accuracy (AA, the mean per-class recall), Cohen's kappa and top-k accuracy.
 * Percentages are in %. A class with no test sample has NaN recall and is left out of AA and macro F1.
 */
import { CmidError } from '../runtime/errors.js';

export interface ClassificationScores {
  /** [C * C] counts, row = true class, column = predicted class. */
  confusion: Int32Array;
  oa: number;
  aa: number;
  kappa: number;
  perClassAccuracy: number[];
  precision: number[];
  f1: number[];
  macroF1: number;
  /** Top-k accuracy for k = 1 and 5 (when there are at least 5 classes and scores were given). */
  topK: Record<number, number>;
  n: number;
}

/**
 * @param labels true class per sample
 * @param scores [n, C] class scores (higher is more likely), or predicted class indices (length n)
 */
export function classificationScores(labels: ArrayLike<number>, scores: ArrayLike<number>, numClasses: number): ClassificationScores {
  const n = labels.length;
  const C = numClasses;
  const isScores = scores.length === n * C && C > 1;
  if (!isScores && scores.length !== n) {
    throw new CmidError('input', `classificationScores: ${n} labels but ${scores.length} scores (expected ${n} predictions or ${n} x ${C} scores).`);
  }
  if (n === 0) throw new CmidError('input', 'classificationScores: no samples.');
  const pred = new Int32Array(n);
  const topK: Record<number, number> = {};
  const ks = isScores ? [1, ...(C >= 5 ? [5] : [])] : [1];
  const hits = new Map<number, number>(ks.map((k) => [k, 0]));
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new CmidError('input', `classificationScores: label ${y} of sample ${i} is outside 0..${C - 1}.`);
    if (!isScores) {
      const p = scores[i]!;
      if (!Number.isInteger(p) || p < 0 || p >= C) throw new CmidError('input', `classificationScores: prediction ${p} of sample ${i} is outside 0..${C - 1}.`);
      pred[i] = p;
      continue;
    }
    let best = 0;
    for (let k = 1; k < C; k++) if (scores[i * C + k]! > scores[i * C + best]!) best = k;
    pred[i] = best;
    // rank of the true class: how many classes score strictly higher (ties count in its favour)
    const sy = scores[i * C + y]!;
    let above = 0;
    for (let k = 0; k < C; k++) if (scores[i * C + k]! > sy) above++;
    for (const k of ks) if (above < k) hits.set(k, hits.get(k)! + 1);
  }
  for (const k of ks) topK[k] = (100 * hits.get(k)!) / n;
  const confusion = new Int32Array(C * C);
  for (let i = 0; i < n; i++) confusion[labels[i]! * C + pred[i]!]!++;
  let correct = 0;
  const rowSum = new Float64Array(C), colSum = new Float64Array(C);
  for (let t = 0; t < C; t++) {
    for (let p = 0; p < C; p++) {
      const v = confusion[t * C + p]!;
      rowSum[t] += v;
      colSum[p] += v;
      if (t === p) correct += v;
    }
  }
  const perClassAccuracy: number[] = [], precision: number[] = [], f1: number[] = [];
  for (let c = 0; c < C; c++) {
    const tp = confusion[c * C + c]!;
    const rec = rowSum[c]! > 0 ? tp / rowSum[c]! : NaN;
    const prec = colSum[c]! > 0 ? tp / colSum[c]! : rowSum[c]! > 0 ? 0 : NaN;
    perClassAccuracy.push(100 * rec);
    precision.push(100 * prec);
    f1.push(Number.isNaN(rec) ? NaN : rec + prec > 0 ? (200 * rec * prec) / (rec + prec) : 0);
  }
  const mean = (xs: number[]) => {
    const v = xs.filter((x) => !Number.isNaN(x));
    return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const po = correct / n;
  let pe = 0;
  for (let c = 0; c < C; c++) pe += (rowSum[c]! * colSum[c]!) / (n * n);
  const kappa = pe === 1 ? 1 : (po - pe) / (1 - pe);
  return { confusion, oa: 100 * po, aa: mean(perClassAccuracy), kappa, perClassAccuracy, precision, f1, macroF1: mean(f1), topK, n };
}

/** A plain-text report: OA, AA, kappa, top-5, then per class recall / precision / F1 / support. */
export function formatClassificationReport(s: ClassificationScores, classes: readonly string[]): string {
  const C = classes.length;
  const w = Math.max(5, ...classes.map((c) => c.length));
  const f = (x: number) => (Number.isNaN(x) ? '    -' : x.toFixed(1).padStart(5));
  const lines = [
    `OA ${s.oa.toFixed(2)} %   AA ${s.aa.toFixed(2)} %   kappa ${s.kappa.toFixed(4)}${s.topK[5] !== undefined ? `   top-5 ${s.topK[5].toFixed(2)} %` : ''}   (${s.n} images)`,
    `${'class'.padEnd(w)}  recall  precision     F1  support`,
  ];
  for (let c = 0; c < C; c++) {
    let support = 0;
    for (let p = 0; p < C; p++) support += s.confusion[c * C + p]!;
    lines.push(`${classes[c]!.padEnd(w)}  ${f(s.perClassAccuracy[c]!)}    ${f(s.precision[c]!)}  ${f(s.f1[c]!)}  ${String(support).padStart(7)}`);
  }
  return lines.join('\n');
}
