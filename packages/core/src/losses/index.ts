/** The CMID losses (cmid.md section 4) as pure tf functions, traceable by the compiled engine. */
export { noGrad, stopGradient } from './stop-gradient.js';
export { l2Normalize } from './normalize.js';
export { mocoInfoNce, mocoQueueInit, mocoQueueInitValues, type QueueInitOptions } from './info-nce.js';
export { localDistillationLoss, type LocalDistillationOptions } from './self-distillation.js';
export { focalFrequencyLoss, focalFrequencyWeight, type FocalFrequencyOptions } from './focal-frequency.js';
export { focalL1, cmidMimLoss, type FocalL1Options, type FocalActivation, type CmidMimOptions, type FftUnmaskReplace } from './mim-reconstruction.js';
export { softTargetCrossEntropy, labelSmoothingCrossEntropy, logSoftmaxRows } from './soft-target-ce.js';
export { smoothOneHot } from './soft-target-ce.js';
