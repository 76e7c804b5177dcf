/**
 * @cmid/pretrain: CMID self-supervised pretraining (Muhtar et al., IEEE TGRS 2023) on @cmid/core.
 *
 * @example
 * import { pretrain, CMID_TINY } from '@cmid/pretrain';
 * const r = await pretrain({ config: CMID_TINY, out: 'runs/cmid-tiny', monitor: { data: 'synthetic' } });
 */
export * from './config.js';
export { CmidModel, backboneKind } from './model/cmid-model.js';
export { ProjectorMlp, LocalHead, MimHead, WeightNormPointwise, type LocalHeadOptions } from './model/heads.js';
export { MaskEncoder } from './model/mask-encoder.js';
export { positionMatch, type Matches } from './position-match.js';
export { cmidSample, CMID_SAMPLE_MAP, collateCmid, listPretrainImages, readUint8, type CmidItem, type CmidSampleOptions, type PretrainSample, type PretrainDatasetKind, type BatchArray } from './data.js';
export { cmidLoss, cmidTrainStep, cmidInputShapes, CMID_LOSS_TERMS } from './step.js';
export { saveCheckpoint, readCheckpoint, checkpointToState, CHECKPOINT_FORMAT, type CheckpointMeta, type LoadedCheckpoint } from './checkpoint.js';
export { pretrain, type PretrainOptions, type PretrainResult } from './train.js';
export { evaluateFeatures, embedImages, labelledSplit, type LabelledSplit, type MonitorResult } from './monitor.js';
export { writePreview } from './preview.js';
export { extractFromCheckpoint, extractToFile, type ExtractResult } from './extract.js';
export { trainCommand, extractCommand, evalCommand, configFromFlags } from './cli/commands.js';
export { runCmidDemo, type DemoOptions, type DemoResult } from './demo.js';
export { loadReferenceCheckpoint } from './reference.js';
