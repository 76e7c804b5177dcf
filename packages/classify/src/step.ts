/**
 * One fine-tuning iteration as a TrainStepSpec for @cmid/core's trainer (compiled ONNX graph or eager tfjs):
 * logits of the classifier on the (mixed) batch, SoftTargetCrossEntropy against the (mixed, smoothed) soft
 * targets — the reference's criterion whenever mixup/cutmix is on (cmid.md §12) — and the optimiser (Adan by
 * default) with timm's two weight-decay groups (no decay on biases and 1-D parameters). Mixing happens on the
 * host in the collate step, so the graph sees plain images and soft targets.
 *
 * Batch inputs: image [B, S, S, C] normalised NHWC; target [B, classes] (rows sum to 1).
 * With `freezeBackbone`, only the head is trained and the backbone runs in eval mode (its BN statistics stay).
 */
import * as tf from '@tensorflow/tfjs';
import { createOptimizer, moduleVariables, paramSpecsFromModule, softTargetCrossEntropy, type LossOutput, type TrainStepSpec } from '@cmid/core';
import type { ClassifyConfig } from './config.js';
import type { ClassifyModel } from './model/classify-model.js';

export function classifyInputShapes(c: ClassifyConfig, B: number, numClasses: number, channels: number): TrainStepSpec['inputs'] {
  return { image: { shape: [B, c.size, c.size, channels] }, target: { shape: [B, numClasses] } };
}

export function classifyLoss(model: ClassifyModel): (batch: Record<string, tf.Tensor>) => LossOutput {
  return (batch) => {
    const logits = model.forward(batch.image as tf.Tensor4D);
    const loss = softTargetCrossEntropy(logits, batch.target as tf.Tensor2D);
    return { loss };
  };
}

export function classifyTrainStep(model: ClassifyModel, c: ClassifyConfig, batchSize: number, channels: number): TrainStepSpec {
  model.train();
  if (c.freezeBackbone) {
    model.backbone.eval();
    model.backbone.freeze();
  }
  const params = paramSpecsFromModule(model, { weightDecay: c.wd, rule: 'timm' }).map((e) => e.spec);
  const optimizer =
    c.optimizer === 'adan' ? createOptimizer({ kind: 'adan' }) : c.optimizer === 'adamw' ? createOptimizer({ kind: 'adamw' }) : createOptimizer({ kind: 'sgd', momentum: 0.9 });
  const spec: TrainStepSpec = {
    variables: moduleVariables(model),
    params,
    inputs: classifyInputShapes(c, batchSize, model.numClasses, channels),
    loss: classifyLoss(model),
    optimizer,
  };
  if (c.maxGradNorm !== null) spec.clipGradNorm = c.maxGradNorm;
  if (c.accumulationSteps > 1) spec.accumulationSteps = c.accumulationSteps;
  return spec;
}
