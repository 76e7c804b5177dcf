/**
 * One training step as a pure function of tensors: loss and gradients (tf.variableGrads), optional global-norm
 * clipping, the EMA of a teacher, and the optimiser update of every trained parameter. Both engines run this
 * same function: the eager engine on the active backend, the compiled engine under a symbolic trace (so the
 * function becomes one ONNX graph). Outputs, by name:
 *
 * - `loss`, `term:<k>` for every extra term the loss returns, `grad_norm` when clipping;
 * - `param:<name>` new value of each trained parameter, `newslot:<name>:<slot>` its new optimiser state;
 * - `ema:<teacher>` new value of each teacher variable.
 * Variables assigned inside the loss (batch-norm running statistics, queues) are picked up by the trace
 * (`assign:<name>`) or, eagerly, assigned in place.
 *
 * Gradient accumulation (`accumulationSteps` k > 1) splits the step in two functions: microStepGraph runs the loss
 * on one micro-batch and adds its gradients to accumulators (`acc:<name>`), k times per step; applyStepGraph then
 * averages them (sum / k, the gradient of the mean loss over equal micro-batches) and runs clipping, the EMA and
 * the optimiser exactly as stepGraph does. stepGraph is the two fused for k = 1.
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import type { Optimizer, ParamSpec } from '../train/optim/types.js';
import { clipGradNorm } from '../train/clip.js';
import { emaUpdate } from '../train/ema.js';
import type { DType } from '../graph/shapes.js';

/** One batch input as plain data (row-major), as the trainers take it. */
export interface BatchTensor {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
}

export interface StepInput {
  shape: number[];
  dtype?: DType;
}

/** What a loss function returns: the scalar to minimise plus named terms to report (scalars or small tensors). */
export type LossOutput = { loss: tf.Scalar } & Record<string, tf.Tensor>;

export interface TrainStepSpec {
  /** Every variable the step reads or writes, by name: parameters and buffers of all modules, queues, centres. */
  variables: Record<string, tf.Variable>;
  /** The trained parameters (names are keys of `variables`), with their optimiser specs. */
  params: readonly ParamSpec[];
  /** Batch inputs by name (shapes of the first compiled graph; another shape compiles another graph). */
  inputs: Record<string, StepInput>;
  /** The loss on one batch. It may assign variables (BN statistics, a queue); it must not read tensor data. */
  loss: (batch: Record<string, tf.Tensor>) => LossOutput;
  optimizer: Optimizer;
  /** Clip the global gradient norm to this value (torch.nn.utils.clip_grad_norm_). */
  clipGradNorm?: number;
  /**
   * Teacher EMA: teacher <- tau * teacher + (1 - tau) * student, tau fed every step. 'before-update' (CMID's
   * hook order) averages in the student weights before this step's optimiser update; 'after-update' after it.
   * Teachers are written only by the EMA (the loss must not assign them).
   */
  ema?: { pairs: readonly (readonly [teacher: string, student: string])[]; timing?: 'before-update' | 'after-update' };
  /**
   * Gradient accumulation: every step splits its batch into this many equal micro-batches, runs the loss and its
   * gradients on each in turn (batch-norm statistics and queues advance per micro-batch, as in PyTorch), and updates
   * the parameters once with the mean gradient. Peak memory is that of one micro-batch. Default 1.
   */
  accumulationSteps?: number;
  /**
   * How a batch splits into `parts` micro-batches. Default: every input along its first axis (splitFirstAxis).
   * Inputs that hold indices into the flattened batch, or per-step values, need their own split.
   */
  splitBatch?: (batch: Record<string, BatchTensor>, parts: number) => Record<string, BatchTensor>[];
}

/**
 * The default micro-batch split: every input cut along its first axis into `parts` equal contiguous pieces
 * (views, no copy). An input whose first axis does not divide is an error naming it.
 */
export function splitFirstAxis(batch: Record<string, BatchTensor>, parts: number): Record<string, BatchTensor>[] {
  const out: Record<string, BatchTensor>[] = Array.from({ length: parts }, () => ({}));
  for (const [name, b] of Object.entries(batch)) {
    const n = b.shape[0];
    if (n === undefined || n % parts !== 0) {
      throw new CmidError('config', `gradient accumulation: batch input "${name}" [${b.shape}] does not split into ${parts} equal micro-batches along its first axis; use a batch size divisible by accumulationSteps = ${parts}.`);
    }
    const len = b.data.length / parts;
    for (let i = 0; i < parts; i++) out[i]![name] = { data: b.data.subarray(i * len, (i + 1) * len), shape: [n / parts, ...b.shape.slice(1)] };
  }
  return out;
}

/** Names of the per-step scalar inputs of a spec: the optimiser's scalars, then `ema_tau` and `ema_one_minus_tau` (1 - tau in float64, as PyTorch computes it). */
export function scalarNames(spec: TrainStepSpec): string[] {
  const names = Object.keys(spec.optimizer.scalars(1, 1));
  if (spec.ema !== undefined) names.push('ema_tau', 'ema_one_minus_tau');
  return names;
}

export function checkSpec(spec: TrainStepSpec): void {
  const k = spec.accumulationSteps ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new CmidError('config', `train step: accumulationSteps is ${k}; it must be a positive integer.`);
  for (const p of spec.params) {
    if (spec.variables[p.name] === undefined) throw new CmidError('config', `train step: parameter "${p.name}" is not among the step's variables.`);
  }
  for (const [t, s] of spec.ema?.pairs ?? []) {
    const tv = spec.variables[t], sv = spec.variables[s];
    if (tv === undefined || sv === undefined) throw new CmidError('config', `train step: EMA pair ${t} <- ${s} names a variable the step does not hold.`);
    if (tv.shape.join(',') !== sv.shape.join(',')) throw new CmidError('config', `train step: EMA pair ${t} [${tv.shape}] <- ${s} [${sv.shape}] differ in shape.`);
  }
}

/** The loss on one batch and the gradient of every trained parameter (zeros where it does not reach). */
function lossAndGrads(spec: TrainStepSpec, batch: Record<string, tf.Tensor>): { outputs: Record<string, tf.Tensor>; grads: tf.Tensor[] } {
  const vars = spec.params.map((p) => spec.variables[p.name]!);
  let terms: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = spec.loss(batch);
    terms = Object.fromEntries(Object.entries(out).filter(([k]) => k !== 'loss').map(([k, t]) => [k, tf.keep(t)]));
    return out.loss;
  }, vars);
  const outputs: Record<string, tf.Tensor> = { loss: value };
  for (const [k, t] of Object.entries(terms)) outputs[`term:${k}`] = t;
  return { outputs, grads: vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/** Clipping, EMA and optimiser update from the gradients; adds grad_norm, param:, newslot:, ema: to `outputs`. */
function applyGrads(
  spec: TrainStepSpec,
  grads: tf.Tensor[],
  scalars: Record<string, tf.Scalar>,
  slots: Record<string, Record<string, tf.Tensor>>,
  outputs: Record<string, tf.Tensor>,
): Record<string, tf.Tensor> {
  const vars = spec.params.map((p) => spec.variables[p.name]!);
  let gradList = grads;
  if (spec.clipGradNorm !== undefined) {
    const clipped = clipGradNorm(gradList, spec.clipGradNorm);
    gradList = clipped.grads;
    outputs.grad_norm = clipped.totalNorm;
  }
  const ema = (source: (student: string) => tf.Tensor) => {
    for (const [t, s] of spec.ema!.pairs) outputs[`ema:${t}`] = emaUpdate(spec.variables[t]!, source(s), scalars.ema_tau!, scalars.ema_one_minus_tau!);
  };
  const timing = spec.ema?.timing ?? 'before-update';
  if (spec.ema !== undefined && timing === 'before-update') ema((s) => spec.variables[s]!);
  const trained = new Map<string, tf.Tensor>();
  spec.params.forEach((p, i) => {
    const r = spec.optimizer.update(vars[i]!, gradList[i]!, slots[p.name] ?? {}, p, scalars);
    outputs[`param:${p.name}`] = r.param;
    trained.set(p.name, r.param);
    for (const [slot, t] of Object.entries(r.state)) outputs[`newslot:${p.name}:${slot}`] = t;
  });
  if (spec.ema !== undefined && timing === 'after-update') ema((s) => trained.get(s) ?? spec.variables[s]!);
  return outputs;
}

/**
 * The step itself. `scalars` holds one scalar per name of scalarNames(); `slots[name][slot]` the optimiser state.
 */
export function stepGraph(
  spec: TrainStepSpec,
  batch: Record<string, tf.Tensor>,
  scalars: Record<string, tf.Scalar>,
  slots: Record<string, Record<string, tf.Tensor>>,
): Record<string, tf.Tensor> {
  const { outputs, grads } = lossAndGrads(spec, batch);
  return applyGrads(spec, grads, scalars, slots, outputs);
}

/** Name of the gradient accumulator of a trained parameter (a graph input of the micro and apply graphs). */
export const accKey = (param: string): string => `acc:${param}`;

/**
 * One micro-batch of an accumulated step: `loss`, `term:<k>`, and `newacc:<name>` = acc[name] + gradient for every
 * trained parameter (loss-side assigns as in stepGraph).
 */
export function microStepGraph(spec: TrainStepSpec, batch: Record<string, tf.Tensor>, acc: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const { outputs, grads } = lossAndGrads(spec, batch);
  spec.params.forEach((p, i) => (outputs[`new${accKey(p.name)}`] = tf.add(acc[p.name]!, grads[i]!)));
  return outputs;
}

/** The update of an accumulated step from the summed gradients of `parts` micro-batches (mean = sum / parts). */
export function applyStepGraph(
  spec: TrainStepSpec,
  acc: Record<string, tf.Tensor>,
  parts: number,
  scalars: Record<string, tf.Scalar>,
  slots: Record<string, Record<string, tf.Tensor>>,
): Record<string, tf.Tensor> {
  const grads = spec.params.map((p) => tf.mul(acc[p.name]!, 1 / parts));
  return applyGrads(spec, grads, scalars, slots, {});
}

/** A module's parameters and buffers (persistent or not) as step variables, names prefixed (`prefix.` + key). */
export function moduleVariables(module: { namedParameters(): [string, { variable: tf.Variable }][]; namedBuffers(): [string, { variable: tf.Variable }][] }, prefix = ''): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  const full = (n: string) => (prefix === '' ? n : `${prefix}.${n}`);
  for (const [n, p] of module.namedParameters()) out[full(n)] = p.variable;
  for (const [n, b] of module.namedBuffers()) out[full(n)] = b.variable;
  return out;
}
