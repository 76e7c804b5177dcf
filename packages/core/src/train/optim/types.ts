/**
 * The optimiser contract shared by the eager training path (applyOptimizer, below in index.ts) and the compiled
 * engine, which traces `update` into an ONNX graph. Hence the split:
 *
 * - `scalars(step, lr)` runs in JS, in float64, once per step: learning rate, bias corrections, "is this the
 *   first step" flags. The results enter `update` as float32 scalar tensors, so a compiled graph receives them
 *   as inputs and never has to know the step count.
 * - `update(p, g, state, spec, s)` is a pure function of tensors written only with tf ops: no dataSync or
 *   arraySync, no JS branch on a tensor value, no Variable.assign, inputs never mutated. It may branch on `spec`
 *   and on the optimiser's hyper-parameters (JS numbers fixed when the graph is built).
 *
 * Semantics follow PyTorch 1.13 (torch.optim.SGD / AdamW, single-tensor path), solo-learn's LARS and CMID's Adan;
 * each file states its reference and the order of floating-point operations it mirrors.
 */
import * as tf from '@tensorflow/tfjs';
import type { TorchLayout } from '../../nn/layout.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** weight decay for this parameter (0 for excluded norms/biases) */
  weightDecay: number;
  /** per-parameter lr multiplier (layer-wise decay); default 1 */
  lrScale?: number;
  /** LARS: skip trust-ratio adaptation (biases, norms) */
  larsExclude?: boolean;
  /**
   * PyTorch layout of the parameter (from Module); state (de)serialisation writes slots in this layout so that
   * they line up with the model's state dict. Absent: 'plain' (stored as is).
   */
  layout?: TorchLayout;
}

export type OptimizerKind = 'sgd' | 'adamw' | 'lars' | 'adan';

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** per-parameter state slot names; each starts as zeros of the parameter's shape */
  readonly slots: readonly string[];
  /** JS-computed per-step scalars for the update that produces step `step` (1-based), given the scheduled lr. */
  scalars(step: number, lr: number): Record<string, number>;
  /** Pure update of one parameter; only tf ops. */
  update(
    p: tf.Tensor,
    g: tf.Tensor,
    state: Record<string, tf.Tensor>,
    spec: ParamSpec,
    s: Record<string, tf.Scalar>,
  ): UpdateResult;
  /** The hyper-parameters the optimiser was built with (for logs and checkpoint metadata). */
  readonly hyper?: Readonly<Record<string, number | boolean>>;
}

/** What `update` returns: the new parameter and the new value of every slot. */
export interface UpdateResult {
  param: tf.Tensor;
  state: Record<string, tf.Tensor>;
}

/** A trainable variable with its optimiser spec: the unit the eager driver walks over. */
export interface ParamEntry {
  spec: ParamSpec;
  variable: tf.Variable;
}

/**
 * Eager optimiser state: `step` = number of completed steps (the next update produces step + 1), and for each
 * parameter name one non-trainable variable per slot, in the parameter's tfjs layout.
 */
export interface OptimizerState {
  step: number;
  slots: Map<string, Record<string, tf.Variable>>;
}

/** `s[key]` times the parameter's lr multiplier (no op when the multiplier is 1 or absent). */
export function scaledByLr(s: Record<string, tf.Scalar>, key: string, spec: ParamSpec): tf.Scalar {
  const v = scalarOf(s, key);
  const k = spec.lrScale ?? 1;
  return k === 1 ? v : tf.mul(v, k);
}

/** The named per-step scalar, or a clear error when the caller did not pass what `scalars()` returned. */
export function scalarOf(s: Record<string, tf.Scalar>, key: string): tf.Scalar {
  const v = s[key];
  if (v === undefined) throw new Error(`optimizer update: per-step scalar "${key}" is missing (pass the result of scalars() as tf scalars).`);
  return v;
}

/** The named state slot of one parameter, or a clear error. */
export function slotOf(state: Record<string, tf.Tensor>, key: string, spec: ParamSpec): tf.Tensor {
  const v = state[key];
  if (v === undefined) throw new Error(`optimizer update: state slot "${key}" of parameter "${spec.name}" is missing.`);
  return v;
}

export function checkRange(name: string, value: number, lo: number, hi: number, hiOpen = false): void {
  if (!Number.isFinite(value) || value < lo || (hiOpen ? value >= hi : value > hi)) {
    throw new RangeError(`optimizer: invalid ${name} ${value} (expected ${lo} <= ${name} ${hiOpen ? '<' : '<='} ${hi}).`);
  }
}
