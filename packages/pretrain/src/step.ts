/**
 * One CMID training iteration as a TrainStepSpec for @cmid/core's trainer (compiled ONNX graph or eager tfjs):
 * the loss of cmid.md §2 (reconstruction + global MoCo + local self-distillation, weights 1), the queue and centre
 * updates, the EMA of the teacher before the optimiser update (§7), and Adan with timm's weight-decay groups (§8).
 *
 * Batch inputs (NHWC; see data.ts collateCmid): img, mim_img, view, view_mim_img [B, S, S, 3]; mask, view_mask
 * [B, S/4, S/4]; match_{org,view}_{student,teacher} [B * numMatches] int32 row indices; teacher_temp [1] (the
 * per-epoch teacher temperature, fed like the lr so one graph serves the whole run).
 *
 * The MoCo queue is kept newest-first, [K, D]: each step prepends its 2B keys (k_view then k_org, each `queueRepeat`
 * times) and drops the oldest rows. That holds exactly the keys of the reference's ring buffer (same set, other
 * order), and InfoNCE does not depend on the order of the negatives; unlike a ring pointer it keeps every shape
 * static, so the compiled graph needs no pointer input and no scatter.
 */
import * as tf from '@tensorflow/tfjs';
import {
  cmidMimLoss,
  createOptimizer,
  l2Normalize,
  localDistillationLoss,
  mocoInfoNce,
  moduleVariables,
  paramSpecsFromModule,
  splitFirstAxis,
  type BatchTensor,
  type LossOutput,
  type TrainStepSpec,
} from '@cmid/core';
import type { CmidConfig } from './config.js';
import type { CmidModel } from './model/cmid-model.js';

export const CMID_LOSS_TERMS = ['loss_rec', 'global_loss', 'pixel_loss'] as const;

/** The step's batch input shapes for batch size B. */
export function cmidInputShapes(c: CmidConfig, B: number): Record<string, { shape: number[]; dtype?: 'int32' }> {
  const S = c.size, t = S / 4, m = B * c.numMatches, ch = c.encoderInChannels;
  return {
    img: { shape: [B, S, S, ch] },
    mim_img: { shape: [B, S, S, ch] },
    view: { shape: [B, S, S, ch] },
    view_mim_img: { shape: [B, S, S, ch] },
    mask: { shape: [B, t, t] },
    view_mask: { shape: [B, t, t] },
    match_org_student: { shape: [m], dtype: 'int32' },
    match_org_teacher: { shape: [m], dtype: 'int32' },
    match_view_student: { shape: [m], dtype: 'int32' },
    match_view_teacher: { shape: [m], dtype: 'int32' },
    teacher_temp: { shape: [1] },
  };
}

const rows = (f: tf.Tensor4D): tf.Tensor2D => tf.reshape(f, [-1, f.shape[3]]) as tf.Tensor2D;
const pool = (f: tf.Tensor4D): tf.Tensor2D => tf.mean(f, [1, 2]) as tf.Tensor2D;

/** The CMID loss on one batch; assigns the queue, the centre and (through train-mode BN) running statistics. */
export function cmidLoss(model: CmidModel, c: CmidConfig): (batch: Record<string, tf.Tensor>) => LossOutput {
  const fixes = new Set(c.fixes);
  return (batch) => {
    const img = batch.img as tf.Tensor4D, view = batch.view as tf.Tensor4D;
    const mask = batch.mask as tf.Tensor3D, viewMask = batch.view_mask as tf.Tensor3D;
    // student on the masked views, teacher (train mode) on the clean ones. No gradient reaches the teacher: its
    // outputs depend on no trained variable, so tf.variableGrads prunes them from the backward pass (the reference's
    // no_grad), and tfjs has no stopGradient op to say so explicitly.
    const sOrg = model.onlineEncoder.forward(batch.mim_img as tf.Tensor4D, mask);
    const sView = model.onlineEncoder.forward(batch.view_mim_img as tf.Tensor4D, viewMask);
    const last = (maps: tf.Tensor4D[]) => maps[maps.length - 1]!;
    const tView = last(model.branchEncoder.features(view));
    const tOrg = last(model.branchEncoder.features(img));

    // reconstruction (§2.4, §4.4)
    const mimOpts = {
      alpha: c.alpha,
      gamma: c.focalGamma,
      fftWeight: c.fftWeight,
      fftUnmaskWeight: c.fftUnmaskWeight,
      encoderInChannels: c.encoderInChannels,
      unmaskWeight: c.unmaskWeight,
    };
    const recOrg = cmidMimLoss(img, model.mim2org.forward(sOrg), mask, mimOpts);
    const recView = cmidMimLoss(view, model.mim2org.forward(sView), viewMask, mimOpts);
    const lossRec = tf.div(tf.add(recOrg.loss, recView.loss), 2) as tf.Scalar;

    // global MoCo branch (§2.6, §4.1); the queue snapshot is taken before this step's enqueue
    const qOrg = l2Normalize(model.onlineProjector.forward(pool(sOrg))) as tf.Tensor2D;
    const qView = l2Normalize(model.onlineProjector.forward(pool(sView))) as tf.Tensor2D;
    const kOrg = l2Normalize(model.branchProjector.forward(pool(tOrg))) as tf.Tensor2D;
    const kView = l2Normalize(model.branchProjector.forward(pool(tView))) as tf.Tensor2D;
    const queue = tf.clone(model.queue) as tf.Tensor2D;
    const globalLoss = tf.div(tf.add(mocoInfoNce(qOrg, kView, queue, c.temperature), mocoInfoNce(qView, kOrg, queue, c.temperature)), 2) as tf.Scalar;
    const rep = (k: tf.Tensor2D) => (c.queueRepeat === 1 ? k : tf.tile(k, [c.queueRepeat, 1]));
    const fresh = tf.concat([rep(kView), rep(kOrg)], 0);
    const K = queue.shape[0];
    model.queue.assign(tf.concat([fresh, tf.slice(queue, [0, 0], [K - fresh.shape[0], -1])], 0));

    // local self-distillation branch (§2.7, §4.3, §5)
    const gather = (f: tf.Tensor4D, key: string) => tf.gather(rows(f), batch[key]!) as tf.Tensor2D;
    const p1 = model.classProjector.forward(gather(sOrg, 'match_org_student'));
    const p2 = model.classProjector.forward(gather(sView, 'match_view_student'));
    const t1 = model.branchClassProjector.forward(gather(tView, 'match_org_teacher'));
    const t2 = model.branchClassProjector.forward(gather(tOrg, 'match_view_teacher'));
    const P = c.classFeatSize;
    const center0 = tf.reshape(tf.clone(model.classLoss.center), [P]);
    const teacherTemp = tf.reshape(batch.teacher_temp!, []) as tf.Scalar;
    const lopts = { studentTemp: c.onlineTemp, teacherTemp, centerMomentum: c.centerMomentum };
    const a = localDistillationLoss(p1, t1, center0, lopts);
    let newCenter: tf.Tensor;
    let second: tf.Scalar;
    if (fixes.has('center-once')) {
      const b = localDistillationLoss(p2, t2, center0, lopts);
      second = b.loss;
      newCenter = tf.div(tf.add(a.center, b.center), 2);
    } else {
      // quirk 7: the second term already sees the centre updated by the first
      const b = localDistillationLoss(p2, t2, a.center, lopts);
      second = b.loss;
      newCenter = b.center;
    }
    model.classLoss.center.assign(tf.reshape(newCenter, [1, P, 1]));
    const pixelLoss = tf.div(tf.add(a.loss, second), 2) as tf.Scalar;

    const loss = tf.add(tf.add(lossRec, globalLoss), pixelLoss) as tf.Scalar;
    return { loss, loss_rec: lossRec, global_loss: globalLoss, pixel_loss: pixelLoss };
  };
}

/** The whole training step: loss, Adan (or AdamW/SGD) with timm's decay groups, EMA before the update. */
export function cmidTrainStep(model: CmidModel, c: CmidConfig, batchSize: number): TrainStepSpec {
  const params = paramSpecsFromModule(model, { weightDecay: c.wd, rule: 'timm' }).map((e) => e.spec);
  const optimizer =
    c.optimizer === 'adan' ? createOptimizer({ kind: 'adan' }) : c.optimizer === 'adamw' ? createOptimizer({ kind: 'adamw' }) : createOptimizer({ kind: 'sgd', momentum: 0.9 });
  const spec: TrainStepSpec = {
    variables: moduleVariables(model),
    params,
    inputs: cmidInputShapes(c, batchSize),
    loss: cmidLoss(model, c),
    optimizer,
    ema: { pairs: model.emaPairs(), timing: 'before-update' },
  };
  if (c.maxGradNorm !== null) spec.clipGradNorm = c.maxGradNorm;
  if (c.accumulationSteps > 1) {
    spec.accumulationSteps = c.accumulationSteps;
    spec.splitBatch = cmidSplitBatch(model.cells);
  }
  return spec;
}

/**
 * Splits a CMID batch into micro-batches: images and masks along the first axis; the match indices, which point
 * into the [B * cells, C] feature rows, per sample and rebased to their micro-batch; teacher_temp copied.
 */
export function cmidSplitBatch(cells: number): (batch: Record<string, BatchTensor>, parts: number) => Record<string, BatchTensor>[] {
  return (batch, parts) => {
    const B = batch.img!.shape[0]!;
    const per = B / parts;
    const out = splitFirstAxis(Object.fromEntries(Object.entries(batch).filter(([k]) => k !== 'teacher_temp' && !k.startsWith('match_'))), parts);
    for (const [k, b] of Object.entries(batch)) {
      if (k === 'teacher_temp') out.forEach((o) => (o[k] = b));
      else if (k.startsWith('match_')) {
        const len = b.data.length / parts;
        out.forEach((o, i) => {
          const data = Int32Array.from(b.data.subarray(i * len, (i + 1) * len), (v) => v - i * per * cells);
          o[k] = { data, shape: [len] };
        });
      }
    }
    return out;
  };
}
