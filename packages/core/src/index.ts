/**
 * @cmid/core: the runtime, modules and data tools of the CMID toolkit.
 * Heavy optional parts live behind subpath exports (@cmid/core/testing).
 */

// --- runtime: backend choice and errors
export { initBackend, currentBackend, assertTrainingBackend, type BackendInfo, type InitBackendOptions } from './runtime/init-backend.js';
export { readConfig, BACKEND_NAMES, type BackendName, type RuntimeConfig } from './runtime/config.js';
export { probeTensorflow, probeWebgpu, probeWasmSimd, type Probe } from './runtime/capabilities.js';
export { CmidError, explainKernelError, type CmidErrorKind } from './runtime/errors.js';

// --- kernels registered on wasm
export { WASM_TRAINING_KERNELS, registerTrainingKernels } from './kernels/wasm/index.js';

// --- ops
export { fft2d, type DftNorm } from './ops/dft2d.js';

// --- randomness
export { Rng, type RngState } from './rng/rng.js';

// --- ONNX: encoder and onnxruntime-node sessions
export { encodeModel, floatTensor, int64Tensor, TensorDataType, createSession, loadOrt, exportFunction, exportModule, encodeIrGraph, LOWERINGS } from './onnx/index.js';
export type { ExportOptions, ExportResult } from './onnx/index.js';
export { OnnxRunner, normalizeNhwc, readOnnxMetadata, type Normalization } from './onnx/index.js';

// --- graph: traced IR shared by ONNX export and the compiled engine
export { trace, type TraceSpec, type TraceResult } from './graph/trace.js';
export { dumpGraph, summarize, type IrGraph, type IrNode, type IrValue } from './graph/ir.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeValue, SessionOptions, ExecutionProvider } from './onnx/index.js';

// --- nn: modules with PyTorch state_dict keys
export * from './nn/index.js';

// --- backbones
export { ResNet, resnet18, resnet50, RESNET_VARIANTS, type ResNetOptions, type ResNetVariant } from './backbones/resnet.js';
export { timmResnetInit } from './backbones/resnet-init.js';
export type { Backbone, FeatureHooks, FeatureInfo } from './backbones/feature-info.js';
export { adaptInputChannels, adaptStateDictChannels, FIRST_LAYER_KEYS } from './backbones/adapt-channels.js';
export { SwinTransformer, swin_t, swin_b, SWIN_VARIANTS, fromMicrosoftKeys, relativePositionIndex, shiftWindowMask, type SwinOptions, type SwinVariant } from './backbones/swin.js';
export { VisionTransformer, vit_b16, VIT_VARIANTS, resamplePosEmbed, bicubicMatrix, bicubicResize, sincosPosEmbed, type VitOptions, type VitVariant } from './backbones/vit.js';
export { BACKBONES, ALIASES, createBackbone, resolveBackboneName, isBackboneName, type BackboneName, type BackboneOptions } from './backbones/registry.js';

// --- checkpoint: .pth (torch zip) and safetensors IO on plain typed arrays, key remapping, CMID extraction
export { readPth, type Checkpoint, type ReadPthOptions, type OpaqueObject } from './checkpoint/pth/read-pth.js';
export { findStateDict, isStateDict, STATE_DICT_KEYS, type FoundStateDict } from './checkpoint/state-dict.js';
export { readSafetensors, decodeSafetensors, encodeSafetensors, writeSafetensors, type Safetensors } from './checkpoint/safetensors.js';
export { writeFileAtomic, openAtomic, type AtomicFile } from './checkpoint/atomic-write.js';
export { stripPrefix, remapKeys, detectPrefix, stripCommonPrefixes, COMMON_PREFIXES, type RemapRule } from './checkpoint/remap.js';
export { extractBackbone, CMID_ENCODER_PREFIXES, type ExtractOptions } from './checkpoint/extract.js';
export { readBackboneWeights, loadBackboneWeights, bestPrefix, type BackboneWeights, type BackboneWeightsSource, type LoadBackboneOptions, type LoadBackboneResult } from './checkpoint/load-backbone.js';
export {
  toFloat32,
  float32ToBfloat16,
  isCheckpointTensor,
  type CheckpointDtype,
  type CheckpointTensor,
  type StateDict,
  type TensorArray,
} from './checkpoint/tensor.js';

// --- training: optimisers (pure tf updates + eager driver), lr schedules, EMA teacher, gradient clipping
export {
  sgd, adamw, lars, adan, createOptimizer, momentumDirection,
  paramSpecsFromModule, createOptimizerState, disposeOptimizerState, optimizerScalars, applyOptimizer,
  optimizerStateDict, loadOptimizerStateDict, optimizerMetadata,
} from './train/optim/index.js';
export type {
  Optimizer, OptimizerKind, OptimizerOptions, OptimizerState, ParamEntry, ParamSpec, UpdateResult, ParamSpecOptions,
  OptimizerStateDictOptions, SgdOptions, AdamWOptions, LarsOptions, AdanOptions,
} from './train/optim/index.js';
export { cosineLr, warmupCosineLr, cmidLr, stepLr, linearWarmupCosineLr, type WarmupCosineOptions, type CmidLrOptions, type LinearWarmupCosineOptions } from './train/schedule.js';
export { emaTau, cmidEmaTau, emaUpdate, emaUpdateVariables, emaPairsByName, type EmaPair, type CmidEmaOptions } from './train/ema.js';
export { clipGradNorm, type ClipResult } from './train/clip.js';
export { saveTrainCheckpoint, readTrainCheckpoint, checkpointToTrainerState, pruneCheckpoints, prepareRunFolder, type TrainCheckpoint } from './train/checkpoint.js';

// --- train: run monitoring
export { Progress, formatDuration, formatValue, type ProgressOptions, type ProgressStream, type ProgressFields } from './train/progress.js';
export { JsonlLog, readJsonl, jsonlLine, type JsonlLogOptions } from './train/jsonl-log.js';
export { plotLines, renderPlot, niceTicks, PLOT_COLORS, type PlotSeries, type PlotOptions, type PlotLayout, type Rgb } from './train/plot-png.js';

// --- data: datasets, samplers, loader
export { DataLoader, stackHwc, type DataLoaderOptions, type Batch, type LoaderPosition } from './data/loader.js';
export { epochOrder, sampleRng, deriveRngState, type SampleMap, type SampleMapFactory, type SampleMapRef, type SampleContext } from './data/sample-map.js';
export { ImageFolder, IMAGE_EXTENSIONS, IMAGE_FOLDER_DECODE, decodeImageFolderSample, type ImageFolderOptions, type ImageFolderSample, type HwcImage, type DecodeImageOptions } from './data/image-folder.js';
export { gridWindows, gridWindowSamples, type GridWindowOptions, type RasterRef, type WindowSample, type Size2 } from './data/samplers/grid-windows.js';
export { randomWindows, randomWindowSamples, type RandomWindowOptions } from './data/samplers/random-windows.js';
export { readWindows, readWindowSample, READ_WINDOW_SAMPLE, type WindowRead, type WindowReadOptions, type ReadWindowMapOptions } from './data/samplers/read-windows.js';

// --- compiled engine: a whole training step traced into one ONNX graph, run by onnxruntime-node
export { traceSymbolic, SYMBOLIC_BACKEND, type SymbolicTrace, type SymbolicTraceSpec, type SymbolicInput, type FeedSpec } from './graph/symbolic-trace.js';
export { feed } from './graph/feed.js';
export { SHAPE_RULES } from './graph/shapes.js';
export { stepGraph, microStepGraph, applyStepGraph, splitFirstAxis, moduleVariables, scalarNames, type TrainStepSpec, type LossOutput, type StepInput } from './compile/step-graph.js';
export { createTrainer, type Trainer, type TrainerOptions, type TrainerState, type Engine, type StepResult, type StepSchedule, type BatchTensor, type CompileInfo } from './compile/trainer.js';

// --- synth: synthetic datasets in the real layouts (full API at @cmid/core/synth)
export { generate, SYNTH_KINDS, SYNTH_SIZES, type SynthKind, type SynthOptions, type SynthResult, type SynthSize } from './synth/index.js';

// --- transforms: seeded augmentations on HWC images (CMID parallelTransform, baseline views, paired geometry)
export * from './transforms/index.js';
export * from './metrics/index.js';
export { backboneOnnxRunner, embedWithRunner, type EmbedBatchesOptions } from './metrics/embed.js';
export * from './losses/index.js';
