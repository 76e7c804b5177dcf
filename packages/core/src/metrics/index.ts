export { knnClassify, type KnnOptions, type KnnResult } from './knn.js';
export { linearProbe, type LinearProbeOptions, type LinearProbeResult } from './linear-probe.js';
export { classificationScores, formatClassificationReport, type ClassificationScores } from './classification.js';
export { renderConfusion, writeConfusionPng, type ConfusionPngOptions } from './confusion-png.js';
