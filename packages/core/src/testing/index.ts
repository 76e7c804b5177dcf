/** @cmid/core/testing: helpers for tests in this repository and in users' own code. */
export { compareClose, expectClose, type CloseReport, type NumArray } from './expect-close.js';
export { checkGradFiniteDiff, type FiniteDiffOptions } from './finite-diff.js';
export { onBackend } from './backends.js';
export { randomArray } from './random.js';
export { timeIt, machineTag, machineInfo, repoRoot, writeBenchResult, formatTable, markdownTable, renderReadmeSection, type Timing } from './bench.js';
export { torchAvailable, torchRequired, runTorch, PYTHON, type OracleArray } from './torch-oracle.js';
