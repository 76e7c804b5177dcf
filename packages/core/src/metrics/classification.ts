/**
 * Scene-classification scores in plain JS (no tf): the confusion matrix (rows = true class, columns = predicted
 * class), overall accuracy (OA), per-class accuracy (recall), precision and F1 with their macro means, average
 * accuracy (AA, the mean per-class recall, the remote-sensing papers' "AA"), Cohen's kappa and top-k accuracy.
 * Accuracies are in %, kappa in [-1, 1].
 *
 * Classes absent from the test set: such a class has no recall, so its recall and F1 are NaN (not 0), and every
 * macro mean (AA, macro precision, macro F1) runs over the classes present in the test set only. This differs from
 * sklearn, which sets them to 0 (zero_division) and averages them in, pulling AA down for a class nobody tested.
 * A present class that is never predicted has precision 0, as in sklearn. Kappa is NaN when chance agreement is 1
 * (a single class, all predicted as it), also as in sklearn.
 *
 * Top-k ranks the true class like a stable descending sort: a class outranks it when it scores higher, or equal
 * with a lower index, so top-1 is exactly OA (argmax takes the first maximum).
 */
import { CmidError } from '../runtime/errors.js';

/** The scores that follow from a confusion matrix alone. */
export interface ConfusionScores {
  numClasses: number;
  /** Samples: the matrix total (a weighted matrix gives a non-integer). */
  n: number;
  /** Overall accuracy, %: trace / n. */
  oa: number;
  /** Average accuracy, %: mean of perClassAccuracy over the classes present in the test set. */
  aa: number;
  /** Cohen's kappa (po - pe) / (1 - pe); NaN when pe = 1. */
  kappa: number;
  /** Recall per class, %; NaN for a class with no test sample. */
  perClassAccuracy: number[];
  /** Precision per class, %; 0 for a present class never predicted, NaN for a class neither present nor predicted. */
  precision: number[];
  /** F1 per class, %; NaN for a class with no test sample. */
  f1: number[];
  /** Mean precision over the classes present in the test set, %. */
  macroPrecision: number;
  /** Mean F1 over the classes present in the test set, %. */
  macroF1: number;
  /** True samples per class (the row sums). */
  support: number[];
}

export interface ClassificationScores extends ConfusionScores {
  /** [C * C] counts, row-major, row = true class, column = predicted class. */
  confusion: Int32Array;
  /** Top-k accuracy in % by k. Only k = 1 (= OA) when predictions rather than scores were given. */
  topK: Record<number, number>;
}

export interface ClassificationScoresOptions {
  /** The k of top-k accuracy (scores only). Default: [1, 5], 5 only with at least 5 classes. */
  topK?: readonly number[];
}

function checkNumClasses(op: string, C: number): void {
  if (!Number.isInteger(C) || C < 1) throw new CmidError('input', `${op}: numClasses is ${C}; it must be a positive integer.`);
}

function checkClassIndex(op: string, what: string, v: number, i: number, C: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= C) {
    throw new CmidError('input', `${op}: ${what} ${v} of sample ${i} is outside 0..${C - 1} (numClasses = ${C}).`);
  }
}

/** Counts [C * C], row = true class, column = predicted class. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): Int32Array {
  const op = 'confusionMatrix';
  checkNumClasses(op, numClasses);
  if (labels.length !== predictions.length) {
    throw new CmidError('input', `${op}: ${labels.length} labels but ${predictions.length} predictions; give one prediction per label.`);
  }
  const m = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < labels.length; i++) {
    checkClassIndex(op, 'label', labels[i]!, i, numClasses);
    checkClassIndex(op, 'prediction', predictions[i]!, i, numClasses);
    m[labels[i]! * numClasses + predictions[i]!]!++;
  }
  return m;
}

function checkScores(op: string, scores: ArrayLike<number>, n: number, C: number): void {
  if (scores.length !== n * C) {
    throw new CmidError('input', `${op}: ${n} labels and ${C} classes need ${n * C} scores ([n, C] row-major) but got ${scores.length}.`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new CmidError('numeric', `${op}: score of class ${i % C} for sample ${Math.floor(i / C)} is NaN; check the model output.`);
  }
}

/** Argmax of each row of [n, C] scores (the first maximum on ties). */
export function predictionsFromScores(scores: ArrayLike<number>, numClasses: number): Int32Array {
  checkNumClasses('predictionsFromScores', numClasses);
  if (scores.length % numClasses !== 0) {
    throw new CmidError('input', `predictionsFromScores: ${scores.length} scores is not a multiple of numClasses = ${numClasses}.`);
  }
  const n = scores.length / numClasses;
  checkScores('predictionsFromScores', scores, n, numClasses);
  const pred = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (scores[i * numClasses + k]! > scores[i * numClasses + best]!) best = k;
    pred[i] = best;
  }
  return pred;
}

/** 0-based rank of class y in row i (stable descending order). */
function rankOf(scores: ArrayLike<number>, i: number, y: number, C: number): number {
  const sy = scores[i * C + y]!;
  let above = 0;
  for (let k = 0; k < C; k++) {
    const s = scores[i * C + k]!;
    if (s > sy || (s === sy && k < y)) above++;
  }
  return above;
}

function checkKs(op: string, ks: readonly number[]): void {
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new CmidError('input', `${op}: top-k needs positive integers, got k = ${k}.`);
}

/**
 * Top-k accuracy in % for each k: the share of samples whose true class is among the k highest scores.
 * k >= C gives 100. `scores` is [n, C] row-major (probabilities or logits).
 */
export function topKAccuracy(labels: ArrayLike<number>, scores: ArrayLike<number>, numClasses: number, ks: readonly number[] = [1, 5]): Record<number, number> {
  const op = 'topKAccuracy';
  checkNumClasses(op, numClasses);
  checkKs(op, ks);
  const n = labels.length;
  if (n === 0) throw new CmidError('input', `${op}: no samples.`);
  checkScores(op, scores, n, numClasses);
  const hits = ks.map(() => 0);
  for (let i = 0; i < n; i++) {
    checkClassIndex(op, 'label', labels[i]!, i, numClasses);
    const r = rankOf(scores, i, labels[i]!, numClasses);
    ks.forEach((k, j) => (hits[j]! += r < k ? 1 : 0));
  }
  return Object.fromEntries(ks.map((k, j) => [k, (100 * hits[j]!) / n]));
}

/** Mean of the entries whose class is present (support > 0); NaN if none. */
function presentMean(xs: readonly number[], support: readonly number[]): number {
  let s = 0, m = 0;
  xs.forEach((x, c) => {
    if (support[c]! > 0) {
      s += x;
      m++;
    }
  });
  return m === 0 ? NaN : s / m;
}

/**
 * Scores of a confusion matrix [C * C] (row = true, column = predicted), integer counts (Int32Array) or weights
 * (Float64Array, e.g. a sum over several runs).
 */
export function scoresFromConfusion(confusion: ArrayLike<number>, numClasses: number): ConfusionScores {
  const op = 'scoresFromConfusion';
  const C = numClasses;
  checkNumClasses(op, C);
  if (confusion.length !== C * C) throw new CmidError('input', `${op}: ${confusion.length} entries but ${C} classes need ${C * C} (C x C, row-major).`);
  const rowSum = new Float64Array(C), colSum = new Float64Array(C);
  let n = 0, correct = 0;
  for (let t = 0; t < C; t++) {
    for (let p = 0; p < C; p++) {
      const v = confusion[t * C + p]!;
      if (!Number.isFinite(v) || v < 0) throw new CmidError('input', `${op}: entry [${t}, ${p}] is ${v}; counts must be finite and >= 0.`);
      rowSum[t] += v;
      colSum[p] += v;
      n += v;
      if (t === p) correct += v;
    }
  }
  if (n === 0) throw new CmidError('input', `${op}: the matrix is all zeros (no samples); nothing to score.`);
  const perClassAccuracy: number[] = [], precision: number[] = [], f1: number[] = [];
  for (let c = 0; c < C; c++) {
    const tp = confusion[c * C + c]!;
    const rec = rowSum[c]! > 0 ? tp / rowSum[c]! : NaN;
    const prec = colSum[c]! > 0 ? tp / colSum[c]! : rowSum[c]! > 0 ? 0 : NaN;
    perClassAccuracy.push(100 * rec);
    precision.push(100 * prec);
    f1.push(Number.isNaN(rec) ? NaN : rec + prec > 0 ? (200 * rec * prec) / (rec + prec) : 0);
  }
  const support = Array.from(rowSum);
  const po = correct / n;
  let pe = 0;
  for (let c = 0; c < C; c++) pe += (rowSum[c]! / n) * (colSum[c]! / n);
  return {
    numClasses: C,
    n,
    oa: 100 * po,
    aa: presentMean(perClassAccuracy, support),
    kappa: pe >= 1 ? NaN : (po - pe) / (1 - pe),
    perClassAccuracy,
    precision,
    f1,
    macroPrecision: presentMean(precision, support),
    macroF1: presentMean(f1, support),
    support,
  };
}

/** The confusion matrix with each row divided by its sum (recall per cell); a row with no sample is NaN. */
export function normalizeConfusion(confusion: ArrayLike<number>, numClasses: number): Float64Array {
  const C = numClasses;
  checkNumClasses('normalizeConfusion', C);
  if (confusion.length !== C * C) throw new CmidError('input', `normalizeConfusion: ${confusion.length} entries but ${C} classes need ${C * C}.`);
  const out = new Float64Array(C * C);
  for (let t = 0; t < C; t++) {
    let row = 0;
    for (let p = 0; p < C; p++) row += confusion[t * C + p]!;
    for (let p = 0; p < C; p++) out[t * C + p] = row > 0 ? confusion[t * C + p]! / row : NaN;
  }
  return out;
}

/**
 * All scores from labels and either predicted class indices (length n) or class scores [n, C] row-major
 * (probabilities or logits; higher is more likely).
 *
 * @example
 * const s = classificationScores([0, 0, 1, 2], [0, 1, 1, 2], 3);
 * // s.oa = 75, s.perClassAccuracy = [50, 100, 100], s.aa = 83.33, s.confusion = [1, 1, 0, 0, 1, 0, 0, 0, 1]
 */
export function classificationScores(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  numClasses: number,
  options: ClassificationScoresOptions = {},
): ClassificationScores {
  const op = 'classificationScores';
  const n = labels.length;
  const C = numClasses;
  checkNumClasses(op, C);
  const isScores = scores.length === n * C && C > 1;
  if (!isScores && scores.length !== n) {
    throw new CmidError('input', `${op}: ${n} labels but ${scores.length} scores (expected ${n} predictions or ${n} x ${C} = ${n * C} scores).`);
  }
  if (n === 0) throw new CmidError('input', `${op}: no samples.`);
  for (let i = 0; i < n; i++) {
    checkClassIndex(op, 'label', labels[i]!, i, C);
    if (!isScores) checkClassIndex(op, 'prediction', scores[i]!, i, C);
  }
  const ks = options.topK ?? [1, ...(C >= 5 ? [5] : [])];
  checkKs(op, ks);
  const pred = isScores ? predictionsFromScores(scores, C) : scores;
  const confusion = confusionMatrix(labels, pred, C);
  const base = scoresFromConfusion(confusion, C);
  const topK = isScores ? topKAccuracy(labels, scores, C, ks) : { 1: base.oa };
  return { ...base, confusion, topK };
}

const pct = (x: number, w = 6): string => (Number.isNaN(x) ? '-' : x.toFixed(1)).padStart(w);

function checkNames(op: string, classes: readonly string[], C: number): void {
  if (classes.length !== C) throw new CmidError('input', `${op}: ${classes.length} class names for ${C} classes; pass one name per class.`);
}

/**
 * A plain-text report: OA, AA, kappa, the top-k, then recall / precision / F1 / support per class and the macro
 * means. "-" marks a value that is NaN (class absent from the test set).
 */
export function formatClassificationReport(s: ConfusionScores & { topK?: Record<number, number> }, classes: readonly string[]): string {
  checkNames('formatClassificationReport', classes, s.numClasses);
  const w = Math.max(9, ...classes.map((c) => c.length));
  const tops = Object.entries(s.topK ?? {}).filter(([k]) => k !== '1').map(([k, v]) => `   top-${k} ${v.toFixed(2)} %`).join('');
  const lines = [
    `OA ${s.oa.toFixed(2)} %   AA ${s.aa.toFixed(2)} %   kappa ${s.kappa.toFixed(4)}${tops}   (${s.n} images)`,
    `${'class'.padEnd(w)}  recall  precision      F1  support`,
  ];
  classes.forEach((name, c) => {
    lines.push(`${name.padEnd(w)}  ${pct(s.perClassAccuracy[c]!)}  ${pct(s.precision[c]!, 9)}  ${pct(s.f1[c]!)}  ${String(s.support[c]!).padStart(7)}`);
  });
  lines.push(`${'macro avg'.padEnd(w)}  ${pct(s.aa)}  ${pct(s.macroPrecision, 9)}  ${pct(s.macroF1)}  ${String(s.n).padStart(7)}`);
  return lines.join('\n');
}

export interface FormatConfusionOptions {
  /** Print row percentages (one decimal) instead of counts. Default: false. */
  normalize?: boolean;
}

/**
 * The confusion matrix as a text table: one row per true class ("index name"), one column per predicted class
 * (headed by its index, so long names do not widen every column).
 *
 * @example
 * formatConfusion([2, 1, 0, 3], ['forest', 'river'])
 * // true \ pred  0 1
 * // 0 forest     2 1
 * // 1 river      0 3
 */
export function formatConfusion(confusion: ArrayLike<number>, classes: readonly string[], o: FormatConfusionOptions = {}): string {
  const C = classes.length;
  checkNumClasses('formatConfusion', C);
  if (confusion.length !== C * C) throw new CmidError('input', `formatConfusion: ${confusion.length} entries for ${C} class names; need ${C * C}.`);
  const cells = o.normalize
    ? Array.from(normalizeConfusion(confusion, C), (v) => (Number.isNaN(v) ? '-' : (100 * v).toFixed(1)))
    : Array.from(confusion, (v) => String(v));
  const cw = Math.max(String(C - 1).length, ...cells.map((s) => s.length)) + 1;
  const rowNames = classes.map((name, c) => `${c} ${name}`);
  const lw = Math.max('true \\ pred'.length, ...rowNames.map((s) => s.length));
  const lines = [`${'true \\ pred'.padEnd(lw)} ${classes.map((_, c) => String(c).padStart(cw)).join('')}`];
  rowNames.forEach((name, t) => lines.push(`${name.padEnd(lw)} ${cells.slice(t * C, t * C + C).map((s) => s.padStart(cw)).join('')}`));
  return lines.join('\n');
}
