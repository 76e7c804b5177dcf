/**
 * Weighted k-nearest-neighbour classification of frozen features: the monitor of self-supervised pretraining
 * (Wu et al. 2018, as solo-learn and CMID's unused `KnnEvaluate` hook define it, cmid.md §9).
 *
 * For each query, the k most similar training features vote for their class:
 * - 'cosine': features are L2-normalised, similarity s = a . b, vote weight exp(s / T);
 * - 'euclidean': similarity s = 1 / (||a - b|| + 1e-5), used directly as the weight (T unused), as the reference.
 * Class score = sum of the weights of the neighbours of that class; top-1 / top-5 accuracy in %.
 * Plain JS on Float32Arrays: a few thousand features of a few thousand dimensions take about a second.
 */
import { CmidError } from '../runtime/errors.js';

export interface KnnOptions {
  /** Neighbours (clipped to the number of training features). Default 20. */
  k?: number;
  /** Temperature of the cosine vote. Default 0.07. */
  temperature?: number;
  /** Default 'cosine'. */
  distance?: 'cosine' | 'euclidean';
}

export interface KnnResult {
  /** Top-1 accuracy in %. */
  top1: number;
  /** Top-5 accuracy in % (100 when there are 5 classes or fewer). */
  top5: number;
  /** Predicted class per query. */
  predictions: Int32Array;
  k: number;
}

function normalizeRows(x: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j]! * inv;
  }
  return out;
}

/**
 * @example
 * const r = knnClassify(trainFeats, trainLabels, testFeats, testLabels, 21); // features [n, d] row-major
 * r.top1 // e.g. 87.5
 */
export function knnClassify(
  trainFeatures: Float32Array,
  trainLabels: ArrayLike<number>,
  testFeatures: Float32Array,
  testLabels: ArrayLike<number>,
  numClasses: number,
  options: KnnOptions = {},
): KnnResult {
  const nTrain = trainLabels.length;
  const nTest = testLabels.length;
  if (nTrain === 0 || nTest === 0) throw new CmidError('config', `knnClassify: needs at least one training and one test feature (got ${nTrain} and ${nTest}).`);
  const d = trainFeatures.length / nTrain;
  if (!Number.isInteger(d) || testFeatures.length !== nTest * d) {
    throw new CmidError('config', `knnClassify: feature arrays do not match the label counts (train ${trainFeatures.length} values for ${nTrain} labels, test ${testFeatures.length} for ${nTest}).`);
  }
  const k = Math.min(options.k ?? 20, nTrain);
  const temperature = options.temperature ?? 0.07;
  const distance = options.distance ?? 'cosine';
  const train = distance === 'cosine' ? normalizeRows(trainFeatures, nTrain, d) : trainFeatures;
  const test = distance === 'cosine' ? normalizeRows(testFeatures, nTest, d) : testFeatures;
  const sims = new Float64Array(nTrain);
  const scores = new Float64Array(numClasses);
  const predictions = new Int32Array(nTest);
  let correct1 = 0;
  let correct5 = 0;
  for (let q = 0; q < nTest; q++) {
    const qo = q * d;
    for (let i = 0; i < nTrain; i++) {
      const io = i * d;
      let s = 0;
      if (distance === 'cosine') {
        for (let j = 0; j < d; j++) s += test[qo + j]! * train[io + j]!;
      } else {
        for (let j = 0; j < d; j++) s += (test[qo + j]! - train[io + j]!) ** 2;
        s = 1 / (Math.sqrt(s) + 1e-5);
      }
      sims[i] = s;
    }
    // the k most similar (ties: lower index first)
    const top = Array.from({ length: nTrain }, (_, i) => i).sort((a, b) => sims[b]! - sims[a]! || a - b).slice(0, k);
    scores.fill(0);
    for (const i of top) {
      const label = trainLabels[i]!;
      if (label < 0 || label >= numClasses) throw new CmidError('config', `knnClassify: training label ${label} is outside 0..${numClasses - 1}.`);
      scores[label]! += distance === 'cosine' ? Math.exp(sims[i]! / temperature) : sims[i]!;
    }
    const ranked = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
    predictions[q] = ranked[0]!;
    const truth = testLabels[q]!;
    if (ranked[0] === truth) correct1++;
    if (ranked.slice(0, 5).includes(truth)) correct5++;
  }
  return { top1: (100 * correct1) / nTest, top5: (100 * correct5) / nTest, predictions, k };
}
