/**
 * Optimisers for the eager (tfjs) training path and the compiled engine: the four update rules (sgd, adamw, lars,
 * adan; see types.ts for the pure-update contract), plus what the eager path needs around them:
 *
 * - `paramSpecsFromModule`: a module's trainable parameters with weight decay (timm's exclusion rule) and lr scale;
 * - `createOptimizerState` / `disposeOptimizerState`: zero-initialised slot variables per parameter;
 * - `applyOptimizer`: one step over all parameters (scalars once, `update` per parameter in a tidy, assign);
 * - `optimizerStateDict` / `loadOptimizerStateDict`: the state as plain typed arrays for checkpoints, keyed
 *   `state.<param>.<slot>` in the parameter's PyTorch layout, plus `step` (int64 scalar).
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../../runtime/errors.js';
import { tfToTorch, torchShape, torchToTf } from '../../nn/layout.js';
import type { Module } from '../../nn/module.js';
import { toFloat32, type CheckpointTensor, type StateDict } from '../../checkpoint/tensor.js';
import { adamw, type AdamWOptions } from './adamw.js';
import { adan, type AdanOptions } from './adan.js';
import { lars, type LarsOptions } from './lars.js';
import { sgd, type SgdOptions } from './sgd.js';
import type { Optimizer, OptimizerState, ParamEntry, ParamSpec } from './types.js';

export type { Optimizer, OptimizerKind, OptimizerState, ParamEntry, ParamSpec, UpdateResult } from './types.js';
export { sgd, momentumDirection, type SgdOptions } from './sgd.js';
export { adamw, type AdamWOptions } from './adamw.js';
export { lars, type LarsOptions } from './lars.js';
export { adan, type AdanOptions } from './adan.js';

export type OptimizerOptions =
  | ({ kind: 'sgd' } & SgdOptions)
  | ({ kind: 'adamw' } & AdamWOptions)
  | ({ kind: 'lars' } & LarsOptions)
  | ({ kind: 'adan' } & AdanOptions);

/** Builds an optimiser from a tagged options object (e.g. from a config file). */
export function createOptimizer(options: OptimizerOptions): Optimizer {
  switch (options.kind) {
    case 'sgd':
      return sgd(options);
    case 'adamw':
      return adamw(options);
    case 'lars':
      return lars(options);
    case 'adan':
      return adan(options);
  }
}

export interface ParamSpecOptions {
  /** weight decay of the decayed group */
  weightDecay: number;
  /** extra names (exact, or as a dotted suffix) that get no decay, e.g. ['relative_position_bias_table', 'pos_embed'] */
  extraNoDecay?: readonly string[];
  /** lr multiplier: one for all, or per parameter name (layer-wise decay) */
  lrScale?: number | ((name: string) => number);
  /**
   * Which parameters are decayed:
   * - 'module' (default): Module.parameterGroups, i.e. the module's own `decay` flags (1-D params and biases off,
   *   and whatever a backbone turned off, e.g. Swin's relative_position_bias_table) plus `extraNoDecay`;
   * - 'timm': timm 0.6.12 `param_groups_weight_decay` as CMID calls it (cmid.md section 8.1): no decay iff
   *   ndim <= 1, the name ends in `.bias`, or it is in `extraNoDecay`; module flags are ignored. This is the
   *   faithful rule for CMID pretraining and fine-tuning (mask tokens and relative-position tables ARE decayed).
   * - 'all': every parameter gets `weightDecay` (torch default param groups, e.g. mmseg SGD with no paramwise rules).
   */
  rule?: 'module' | 'timm' | 'all';
}

/**
 * The module's trainable parameters in state-dict order, each with its spec: weight decay from the chosen rule,
 * lr scale, `larsExclude` for 1-D parameters (solo-learn's exclude_bias_n_norm test is `p.ndim == 1`), and the
 * PyTorch layout used by the state (de)serialisation. Frozen parameters are left out (as timm does).
 */
export function paramSpecsFromModule(module: Module, options: ParamSpecOptions): ParamEntry[] {
  const { weightDecay, extraNoDecay = [], lrScale, rule = 'module' } = options;
  const named = (name: string, k: string) => name === k || name.endsWith(`.${k}`);
  const moduleNoDecay = new Set(module.parameterGroups(extraNoDecay).noDecay.map(([n]) => n));
  const out: ParamEntry[] = [];
  for (const [name, p] of module.namedParameters()) {
    const v = p.variable;
    if (!v.trainable) continue;
    let decayed: boolean;
    if (rule === 'module') decayed = !moduleNoDecay.has(name);
    else if (rule === 'timm') decayed = !(v.rank <= 1 || name.endsWith('.bias') || name === 'bias' || extraNoDecay.some((k) => named(name, k)));
    else decayed = true;
    const scale = typeof lrScale === 'function' ? lrScale(name) : lrScale ?? 1;
    const spec: ParamSpec = { name, shape: [...v.shape], weightDecay: decayed ? weightDecay : 0, larsExclude: v.rank === 1, layout: p.layout };
    if (scale !== 1) spec.lrScale = scale;
    out.push({ spec, variable: v });
  }
  return out;
}

const specsOf = (xs: readonly (ParamSpec | ParamEntry)[]): ParamSpec[] => xs.map((x) => ('spec' in x ? x.spec : x));

/** Zero slots for every parameter (none for SGD/LARS without momentum), step 0. */
export function createOptimizerState(opt: Optimizer, specs: readonly (ParamSpec | ParamEntry)[]): OptimizerState {
  const slots = new Map<string, Record<string, tf.Variable>>();
  for (const spec of specsOf(specs)) {
    if (slots.has(spec.name)) throw new Error(`createOptimizerState: parameter "${spec.name}" appears twice.`);
    const rec: Record<string, tf.Variable> = {};
    for (const slot of opt.slots) {
      const zeros = tf.zeros(spec.shape);
      rec[slot] = tf.variable(zeros, false);
      zeros.dispose(); // the variable holds its own reference to the data
    }
    slots.set(spec.name, rec);
  }
  return { step: 0, slots };
}

export function disposeOptimizerState(state: OptimizerState): void {
  for (const rec of state.slots.values()) for (const v of Object.values(rec)) v.dispose();
  state.slots.clear();
}

/** `opt.scalars(step, lr)` as float32 scalar tensors (the caller disposes them). */
export function optimizerScalars(opt: Optimizer, step: number, lr: number): Record<string, tf.Scalar> {
  return Object.fromEntries(Object.entries(opt.scalars(step, lr)).map(([k, v]) => [k, tf.scalar(v, 'float32')]));
}

/**
 * One eager optimiser step producing step `step` (1-based) at learning rate `lr` (the scheduled value, before
 * lrScale). For each entry with a gradient in `grads` (by spec name), runs `opt.update` inside a tidy and assigns
 * the new parameter and slots; entries without a gradient are left alone (torch skips params whose grad is None).
 * Sets state.step = step. The gradients are not disposed.
 */
export function applyOptimizer(
  opt: Optimizer,
  entries: readonly ParamEntry[],
  grads: Readonly<Record<string, tf.Tensor>>,
  state: OptimizerState,
  step: number,
  lr: number,
): void {
  const s = optimizerScalars(opt, step, lr);
  try {
    for (const { spec, variable } of entries) {
      const g = grads[spec.name];
      if (g === undefined) continue;
      const slots = state.slots.get(spec.name);
      if (slots === undefined) throw new Error(`applyOptimizer: no optimizer state for parameter "${spec.name}" (create it with createOptimizerState).`);
      if (!sameShape(variable.shape, spec.shape) || !sameShape(g.shape, spec.shape)) {
        throw new Error(`applyOptimizer: "${spec.name}" has spec shape [${spec.shape}], variable [${variable.shape}], gradient [${g.shape}].`);
      }
      tf.tidy(() => {
        const r = opt.update(variable, g, slots, spec, s);
        assignIfNew(variable, r.param);
        for (const slot of opt.slots) {
          const next = r.state[slot];
          if (next === undefined) throw new Error(`applyOptimizer: ${opt.kind}.update returned no "${slot}" for "${spec.name}".`);
          assignIfNew(slots[slot]!, next);
        }
      });
    }
    state.step = step;
  } finally {
    tf.dispose(Object.values(s));
  }
}

function assignIfNew(v: tf.Variable, t: tf.Tensor): void {
  // assigning a variable its own data would release it first (tfjs decrements, then re-references)
  if (t.dataId !== v.dataId) v.assign(t);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export interface OptimizerStateDictOptions {
  /** Write (read) slots in the parameters' PyTorch layout (spec.layout); default true. */
  torchLayout?: boolean;
}

/**
 * The state as a checkpoint state dict: `state.<param>.<slot>` float32 (PyTorch layout unless torchLayout is
 * false) and `step` (int64 scalar, completed steps). Reads tensor data synchronously.
 */
export function optimizerStateDict(opt: Optimizer, state: OptimizerState, specs: readonly (ParamSpec | ParamEntry)[], options: OptimizerStateDictOptions = {}): StateDict {
  const torchLayout = options.torchLayout ?? true;
  const out: StateDict = new Map();
  for (const spec of specsOf(specs)) {
    const rec = state.slots.get(spec.name);
    if (rec === undefined) throw new Error(`optimizerStateDict: no state for parameter "${spec.name}".`);
    for (const slot of opt.slots) {
      const v = rec[slot];
      if (v === undefined) throw new Error(`optimizerStateDict: parameter "${spec.name}" has no slot "${slot}".`);
      const host = { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) };
      const t = torchLayout && spec.layout !== undefined ? tfToTorch(host, spec.layout) : host;
      out.set(`state.${spec.name}.${slot}`, { dtype: 'float32', shape: t.shape, data: t.data });
    }
  }
  out.set('step', { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(state.step)) });
  return out;
}

/** safetensors metadata describing the optimiser (kind, hyper-parameters, step). */
export function optimizerMetadata(opt: Optimizer, state: OptimizerState): Record<string, string> {
  return { optimizer: opt.kind, hyper: JSON.stringify(opt.hyper ?? {}), step: String(state.step) };
}

/**
 * Rebuilds an OptimizerState from `optimizerStateDict` output (or a checkpoint read back). Strict: every
 * `state.<param>.<slot>` of `specs` must be present with the expected shape, no other `state.*` key may appear,
 * and `step` must be present. Throws a CmidError('checkpoint') listing the problems; nothing is allocated then.
 */
export function loadOptimizerStateDict(
  opt: Optimizer,
  dict: StateDict,
  specs: readonly (ParamSpec | ParamEntry)[],
  options: OptimizerStateDictOptions & { source?: string } = {},
): OptimizerState {
  const torchLayout = options.torchLayout ?? true;
  const source = options.source ?? 'optimizer state';
  const list = specsOf(specs);
  const problems: string[] = [];
  const expectedKeys = new Set<string>();
  for (const spec of list) {
    for (const slot of opt.slots) {
      const key = `state.${spec.name}.${slot}`;
      expectedKeys.add(key);
      const t = dict.get(key);
      const want = torchLayout && spec.layout !== undefined ? torchShape(spec.shape, spec.layout) : spec.shape;
      if (t === undefined) problems.push(`missing ${key}`);
      else if (!sameShape(t.shape, want)) problems.push(`${key} is [${t.shape}], expected [${want}]`);
    }
  }
  for (const key of dict.keys()) if (key.startsWith('state.') && !expectedKeys.has(key)) problems.push(`unexpected ${key}`);
  const stepT = dict.get('step');
  if (stepT === undefined || stepT.data.length !== 1) problems.push('missing step');
  if (problems.length > 0) {
    const shown = problems.length <= 8 ? problems.join('; ') : `${problems.slice(0, 8).join('; ')} … (${problems.length} in all)`;
    throw new CmidError('checkpoint', `${source}: does not fit the ${opt.kind} optimizer over ${list.length} parameters: ${shown}.`);
  }
  const state = createOptimizerState(opt, list);
  state.step = Number(scalarValue(stepT!));
  for (const spec of list) {
    const rec = state.slots.get(spec.name)!;
    for (const slot of opt.slots) {
      const t = dict.get(`state.${spec.name}.${slot}`)!;
      const host = { shape: [...t.shape], data: toFloat32(t) };
      const v = torchLayout && spec.layout !== undefined ? torchToTf(host, spec.layout) : host;
      const tensor = tf.tensor(v.data, spec.shape, 'float32');
      rec[slot]!.assign(tensor);
      tensor.dispose();
    }
  }
  return state;
}

function scalarValue(t: CheckpointTensor): number | bigint {
  const x = t.data[0];
  if (x === undefined) return 0;
  return x;
}
