/**
 * Training engines over one TrainStepSpec (compile/step-graph.ts):
 *
 * - `compiled` (default): the whole step is traced symbolically into one ONNX graph and run by onnxruntime-node
 *   (CPU provider with threads = cores; CUDA or WebGPU when asked). Parameters, optimiser slots, buffers and
 *   teacher weights live in pre-allocated typed arrays, two per variable: each step reads one and onnxruntime
 *   writes the new values straight into the other (pre-allocated fetches), then they swap, so a step allocates
 *   nothing but the small input wrappers. A new input shape (last partial batch, another crop) traces and
 *   caches another graph over the same buffers.
 * - `eager`: the same step function on the active tfjs backend, the reference the compiled engine is tested
 *   against and the fallback.
 *
 * Both take the schedule (lr, tau) per step, keep the step count, stop on a non-finite loss without touching the
 * state (the last good state stays), and export/import their whole state for checkpoints and exact resume.
 */
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { CmidError } from '../runtime/errors.js';
import { traceSymbolic, activeSymbolicTrace, type FeedSpec } from '../graph/symbolic-trace.js';
import { summarize, type IrGraph } from '../graph/ir.js';
import { encodeIrGraph } from '../onnx/export.js';
import { createSession, loadOrt, type ExecutionProvider, type SessionOptions } from '../onnx/session.js';
import { checkSpec, scalarNames, stepGraph, type TrainStepSpec } from './step-graph.js';

export type Engine = 'compiled' | 'eager';
type Data = Float32Array | Int32Array | Uint8Array;

export interface BatchTensor {
  data: Data;
  shape: number[];
}

export interface StepSchedule {
  lr: number;
  /** EMA momentum for this step (required when the spec has an EMA). */
  tau?: number;
}

export interface StepResult {
  /** 1-based index of the step just taken. */
  step: number;
  loss: number;
  /** The loss's extra terms (first element of each) and grad_norm when clipping. */
  terms: Record<string, number>;
}

/** Everything needed to resume: step count and every variable and optimiser slot, by name. */
export interface TrainerState {
  step: number;
  tensors: Record<string, { data: Data; shape: number[]; dtype: 'float32' | 'int32' | 'bool' }>;
}

export interface Trainer {
  readonly engine: Engine;
  readonly stepCount: number;
  step(batch: Record<string, BatchTensor>, schedule: StepSchedule): Promise<StepResult>;
  /** Copy the engine's current values into the tf Variables (for evaluation, export, checkpoints). */
  syncToVariables(): void;
  getState(): TrainerState;
  setState(state: TrainerState): void;
  dispose(): void;
}

export interface TrainerOptions {
  engine?: Engine;
  provider?: ExecutionProvider;
  threads?: number;
  /** Called once per compiled graph (new input shape) with its summary, e.g. for a log line. */
  onCompile?: (info: CompileInfo) => void;
  /** onnxruntime session options for diagnosis (compiled engine): per-node profile, optimised-model dump. */
  session?: Pick<SessionOptions, 'profileFilePrefix' | 'optimizedModelFilePath' | 'optimization'>;
  /** Called with each compiled graph's ONNX model bytes (before onnxruntime's optimisations). */
  onModel?: (model: Uint8Array, key: string) => void;
}

export interface CompileInfo {
  key: string;
  nodes: number;
  ops: Record<string, number>;
  parameters: number;
  activationBytes: number;
  traceMs: number;
  sessionMs: number;
  modelBytes: number;
}

export async function createTrainer(spec: TrainStepSpec, options: TrainerOptions = {}): Promise<Trainer> {
  checkSpec(spec);
  return (options.engine ?? 'compiled') === 'compiled' ? new CompiledTrainer(spec, options) : new EagerTrainer(spec);
}

const slotKey = (param: string, slot: string) => `slot:${param}:${slot}`;

function assertFinite(step: number, loss: number, terms: Record<string, number>): void {
  if (Number.isFinite(loss)) return;
  const detail = Object.entries(terms).map(([k, v]) => `${k}=${v}`).join(', ');
  throw new CmidError('numeric', `training step ${step}: the loss is ${loss}${detail ? ` (${detail})` : ''}. The state was not updated; lower the learning rate, enable gradient clipping, or check the input data for NaN/Inf, then resume from the last checkpoint.`);
}

function scalarValues(spec: TrainStepSpec, step: number, schedule: StepSchedule): Record<string, number> {
  const values = spec.optimizer.scalars(step, schedule.lr);
  if (spec.ema !== undefined) {
    if (schedule.tau === undefined) throw new CmidError('config', 'train step: this step has an EMA teacher; pass schedule.tau.');
    values.ema_tau = schedule.tau;
    values.ema_one_minus_tau = 1 - schedule.tau;
  }
  return values;
}

// ---------------------------------------------------------------------------------------------- compiled

interface Slot {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  buffers: [Data, Data];
  tensors: [Ort.Tensor, Ort.Tensor];
  current: 0 | 1;
}

interface CompiledGraph {
  session: Ort.InferenceSession;
  graph: IrGraph;
  /** random inputs by graph input name */
  feeds: Map<string, FeedSpec>;
  /** output name -> slot name it updates (absent: a reported value) */
  updates: Map<string, string>;
}

const ortType = (d: 'float32' | 'int32' | 'bool') => (d === 'bool' ? 'bool' : d);

function allocate(dtype: 'float32' | 'int32' | 'bool', size: number): Data {
  return dtype === 'int32' ? new Int32Array(size) : dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
}

class CompiledTrainer implements Trainer {
  readonly engine = 'compiled' as const;
  stepCount = 0;
  private ort: typeof Ort | undefined;
  private readonly slots = new Map<string, Slot>();
  private readonly graphs = new Map<string, Promise<CompiledGraph>>();
  private pending: TrainerState | undefined;

  constructor(private readonly spec: TrainStepSpec, private readonly options: TrainerOptions) {}

  private async init(): Promise<typeof Ort> {
    if (this.ort !== undefined) return this.ort;
    const ort = await loadOrt();
    this.ort = ort;
    for (const [name, t] of Object.entries(this.initialTensors())) {
      const b = allocate(t.dtype, t.data.length);
      this.slots.set(name, { shape: t.shape, dtype: t.dtype, buffers: [t.data, b], tensors: [new ort.Tensor(ortType(t.dtype), t.data, t.shape), new ort.Tensor(ortType(t.dtype), b, t.shape)], current: 0 });
    }
    if (this.pending !== undefined) {
      const state = this.pending;
      this.pending = undefined;
      this.setState(state);
    }
    return ort;
  }

  /** The state before any step: fresh copies of the variables' values and zero optimiser slots. */
  private initialTensors(): TrainerState['tensors'] {
    const tensors: TrainerState['tensors'] = {};
    for (const [name, v] of Object.entries(this.spec.variables)) {
      const dtype = v.dtype as 'float32' | 'int32' | 'bool';
      const data = allocate(dtype, v.size);
      data.set(v.dataSync() as Data);
      tensors[name] = { data, shape: [...v.shape], dtype };
    }
    for (const p of this.spec.params) {
      for (const slot of this.spec.optimizer.slots) tensors[slotKey(p.name, slot)] = { data: allocate('float32', p.shape.reduce((a, b) => a * b, 1)), shape: [...p.shape], dtype: 'float32' };
    }
    return tensors;
  }

  private key(batch: Record<string, BatchTensor>): string {
    return Object.entries(batch).map(([k, b]) => `${k}[${b.shape.join('x')}]`).join(',');
  }

  private compile(batch: Record<string, BatchTensor>): Promise<CompiledGraph> {
    const key = this.key(batch);
    let g = this.graphs.get(key);
    if (g === undefined) {
      g = this.build(key, batch);
      this.graphs.set(key, g);
      g.catch(() => this.graphs.delete(key));
    }
    return g;
  }

  private async build(key: string, batch: Record<string, BatchTensor>): Promise<CompiledGraph> {
    const spec = this.spec;
    const inputs = Object.fromEntries(Object.entries(spec.inputs).map(([k, s]) => {
      const b = batch[k];
      if (b === undefined) throw new CmidError('input', `train step: batch input "${k}" is missing (expected ${Object.keys(spec.inputs).join(', ')}).`);
      return [k, { shape: b.shape, dtype: s.dtype ?? 'float32' }];
    }));
    const t0 = performance.now();
    const trace = await traceSymbolic((batchTensors) => {
      const rec = activeSymbolicTrace()!;
      const scalars = Object.fromEntries(scalarNames(spec).map((n) => [n, rec.placeholder([], 'float32', 'input', `scalar:${n}`) as tf.Scalar]));
      const slots = Object.fromEntries(spec.params.map((p) => [p.name, Object.fromEntries(spec.optimizer.slots.map((s) => [s, rec.placeholder(p.shape, 'float32', 'input', slotKey(p.name, s))]))]));
      return stepGraph(spec, batchTensors, scalars, slots);
    }, { inputs, variables: spec.variables });
    const traceMs = performance.now() - t0;
    const model = encodeIrGraph(trace.graph, { params: 'inputs', metadata: { producer: 'cmid compiled train step', key } });
    this.options.onModel?.(model, key);
    const t1 = performance.now();
    const session = await createSession(model, { ...this.options.session, ...(this.options.threads !== undefined ? { threads: this.options.threads } : {}), ...(this.options.provider ? { provider: this.options.provider } : {}) });
    const sessionMs = performance.now() - t1;
    const updates = new Map<string, string>();
    for (const name of trace.graph.outputNames) {
      const m = /^(param|ema|assign):(.*)$/.exec(name);
      if (m) updates.set(name, m[2]!);
      else if (name.startsWith('newslot:')) updates.set(name, name.slice(3));
    }
    for (const name of updates.keys()) {
      if (!session.outputNames.includes(name)) throw new CmidError('kernel', `compiled step: output "${name}" lost its name in the ONNX graph (name clash).`);
    }
    const s = summarize(trace.graph);
    this.options.onCompile?.({ key, nodes: s.nodes, ops: s.ops, parameters: s.parameters, activationBytes: s.activationBytes, traceMs, sessionMs, modelBytes: model.byteLength });
    return { session, graph: trace.graph, feeds: new Map(trace.feeds.map((f) => [f.name, f])), updates };
  }

  async step(batch: Record<string, BatchTensor>, schedule: StepSchedule): Promise<StepResult> {
    const ort = await this.init();
    const g = await this.compile(batch);
    const step = this.stepCount + 1;
    const scalars = scalarValues(this.spec, step, schedule);
    const feeds: Record<string, Ort.Tensor> = {};
    for (const name of g.session.inputNames) {
      const b = batch[name];
      if (b !== undefined) {
        const dtype = this.spec.inputs[name]?.dtype ?? 'float32';
        feeds[name] = new ort.Tensor(ortType(dtype), b.data, b.shape);
        continue;
      }
      if (name.startsWith('scalar:')) {
        feeds[name] = new ort.Tensor('float32', Float32Array.of(scalars[name.slice(7)]!), []);
        continue;
      }
      const f = g.feeds.get(name);
      if (f !== undefined) {
        feeds[name] = new ort.Tensor(ortType(f.dtype), f.produce(), f.shape);
        continue;
      }
      const slot = this.slots.get(name);
      if (slot === undefined) throw new CmidError('kernel', `compiled step: graph input "${name}" has no value.`);
      feeds[name] = slot.tensors[slot.current];
    }
    const fetches: Record<string, Ort.Tensor | null> = {};
    for (const name of g.session.outputNames) {
      const target = g.updates.get(name);
      const slot = target === undefined ? undefined : this.slots.get(target);
      fetches[name] = slot === undefined ? null : slot.tensors[1 - slot.current]!;
    }
    const out = await g.session.run(feeds, fetches);
    const terms: Record<string, number> = {};
    for (const name of g.session.outputNames) {
      if (name.startsWith('term:')) terms[name.slice(5)] = Number((out[name]!.data as Float32Array)[0]);
      if (name === 'grad_norm') terms.grad_norm = Number((out[name]!.data as Float32Array)[0]);
    }
    const loss = Number((out.loss!.data as Float32Array)[0]);
    assertFinite(step, loss, terms);
    for (const target of g.updates.values()) {
      const slot = this.slots.get(target)!;
      slot.current = (1 - slot.current) as 0 | 1;
    }
    this.stepCount = step;
    return { step, loss, terms };
  }

  syncToVariables(): void {
    for (const [name, v] of Object.entries(this.spec.variables)) {
      const slot = this.slots.get(name);
      if (slot === undefined) continue;
      tf.tidy(() => v.assign(tf.tensor(slot.buffers[slot.current], slot.shape, slot.dtype)));
    }
  }

  getState(): TrainerState {
    if (this.pending !== undefined) return this.pending;
    if (this.ort === undefined) return { step: this.stepCount, tensors: this.initialTensors() }; // before the first step
    const tensors: TrainerState['tensors'] = {};
    for (const [name, s] of this.slots) tensors[name] = { data: s.buffers[s.current].slice(), shape: [...s.shape], dtype: s.dtype };
    return { step: this.stepCount, tensors };
  }

  setState(state: TrainerState): void {
    if (this.ort === undefined) {
      this.pending = state; // applied when the buffers are allocated
      this.stepCount = state.step;
      return;
    }
    for (const [name, t] of Object.entries(state.tensors)) {
      const s = this.slots.get(name);
      if (s === undefined) throw new CmidError('checkpoint', `trainer state: "${name}" is not part of this training step.`);
      if (t.data.length !== s.buffers[0].length) throw new CmidError('checkpoint', `trainer state: "${name}" has ${t.data.length} values, the step expects ${s.buffers[0].length} ([${s.shape}]).`);
      s.buffers[s.current].set(t.data);
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const g of this.graphs.values()) void g.then((c) => c.session.release()).catch(() => undefined);
    this.graphs.clear();
  }
}

// ---------------------------------------------------------------------------------------------- eager

class EagerTrainer implements Trainer {
  readonly engine = 'eager' as const;
  stepCount = 0;
  private readonly slotVars = new Map<string, tf.Variable>();

  constructor(private readonly spec: TrainStepSpec) {
    for (const p of spec.params) for (const s of spec.optimizer.slots) this.slotVars.set(slotKey(p.name, s), tf.variable(tf.zeros(p.shape), false));
  }

  async step(batch: Record<string, BatchTensor>, schedule: StepSchedule): Promise<StepResult> {
    const spec = this.spec;
    const step = this.stepCount + 1;
    const values = scalarValues(spec, step, schedule);
    const result = tf.tidy(() => {
      const batchTensors = Object.fromEntries(Object.entries(batch).map(([k, b]) => [k, tf.tensor(b.data, b.shape, spec.inputs[k]?.dtype ?? 'float32')]));
      const scalars = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.scalar(v)]));
      const slots = Object.fromEntries(spec.params.map((p) => [p.name, Object.fromEntries(spec.optimizer.slots.map((s) => [s, this.slotVars.get(slotKey(p.name, s))! as tf.Tensor]))]));
      const out = stepGraph(spec, batchTensors, scalars, slots);
      const terms: Record<string, number> = {};
      for (const [k, t] of Object.entries(out)) {
        if (k.startsWith('term:')) terms[k.slice(5)] = t.dataSync()[0]!;
        if (k === 'grad_norm') terms.grad_norm = t.dataSync()[0]!;
      }
      const loss = out.loss!.dataSync()[0]!;
      assertFinite(step, loss, terms);
      for (const [k, t] of Object.entries(out)) {
        const m = /^(param|ema):(.*)$/.exec(k);
        if (m) spec.variables[m[2]!]!.assign(t);
        else if (k.startsWith('newslot:')) this.slotVars.get(k.slice(3))!.assign(t);
      }
      return { loss, terms };
    });
    this.stepCount = step;
    return { step, ...result };
  }

  syncToVariables(): void {
    // the variables are the state
  }

  getState(): TrainerState {
    const tensors: TrainerState['tensors'] = {};
    for (const [name, v] of [...Object.entries(this.spec.variables), ...this.slotVars]) {
      tensors[name] = { data: (v.dataSync() as Data).slice(), shape: [...v.shape], dtype: v.dtype as 'float32' | 'int32' | 'bool' };
    }
    return { step: this.stepCount, tensors };
  }

  setState(state: TrainerState): void {
    for (const [name, t] of Object.entries(state.tensors)) {
      const v = this.spec.variables[name] ?? this.slotVars.get(name);
      if (v === undefined) throw new CmidError('checkpoint', `trainer state: "${name}" is not part of this training step.`);
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, t.dtype)));
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const v of this.slotVars.values()) v.dispose();
    this.slotVars.clear();
  }
}
