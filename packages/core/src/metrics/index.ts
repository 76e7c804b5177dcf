export { knnClassify, type KnnOptions, type KnnResult } from './knn.js';
export { linearProbe, type LinearProbeOptions, type LinearProbeResult } from './linear-probe.js';
