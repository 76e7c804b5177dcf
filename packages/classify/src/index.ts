/**
 * @cmid/classify: scene classification with CMID (or any supported) backbones. Datasets (UC Merced with the
 * reference's split files, EuroSAT RGB/MS, AID/NWPU-style folders, the synthetic set), the reference fine-tuning
 * recipe, frozen-feature probes, evaluation with confusion matrices, ONNX export and prediction.
 */
export * from './datasets/index.js';
export { CLASSIFY_PRESETS, CLASSIFY_TINY, UCM_RESNET50, UCM_SWIN_B, loadClassifyConfig, mergeClassifyConfig, type ClassifyConfig, type ClassifyPreset } from './config.js';
export { ClassifyModel, type ClassifyModelOptions } from './model/classify-model.js';
export { trainTransform, evalTransform, evalGeometry, type ClassifyTransformOptions } from './transforms.js';
export { classifySample, collateClassify, smoothTargets, transformOptions, CLASSIFY_SAMPLE_MAP, type ClassifyItem, type ClassifyBatch, type ClassifySampleOptions } from './data.js';
export { classifyTrainStep, classifyLoss, classifyInputShapes } from './step.js';
export { finetune, metricsRecord, type FinetuneOptions, type FinetuneResult, type EpochEval } from './train.js';
export { evaluateOnnx, evaluateWith, sampleLogits, onnxLogitsFn, softmaxRows, argmaxRows, type EvalResult, type EvaluateOptions, type LogitsFn } from './evaluate.js';
export { buildClassifier, saveClassifier, loadClassifier, exportClassifier, writeClassifierOnnx, readOnnxClassifierMeta, MODEL_FORMAT, TRAIN_FORMAT, type ClassifierMeta } from './model-io.js';
export { ScenePredictor, listImages, predictionsCsv, predictionsJson, resolveModelFile, type Prediction, type PredictResult, type PredictOptions, type PredictEngine } from './predict.js';
export { probeBackbone, type ProbeOptions, type ProbeResult } from './probe.js';
export { trainCommand, evalCommand, predictCommand, probeCommand, exportCommand, classifyCommand, classifyConfigFromFlags } from './cli/commands.js';
