export { knnClassify, type KnnOptions, type KnnResult } from './knn.js';
export { linearProbe, type LinearProbeOptions, type LinearProbeResult } from './linear-probe.js';
export { classificationScores, formatClassificationReport, type ClassificationScores } from './classification.js';
export { renderConfusion, writeConfusionPng, type ConfusionPngOptions } from './confusion-png.js';
export {
  confusionMatrix, predictionsFromScores, topKAccuracy, scoresFromConfusion, normalizeConfusion, formatConfusion,
  type ConfusionScores, type ClassificationScoresOptions, type FormatConfusionOptions,
} from './classification.js';
export { type ConfusionLayout } from './confusion-png.js';
