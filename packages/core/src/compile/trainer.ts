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
 * With gradient accumulation (spec.accumulationSteps = k > 1) a step still takes the whole batch: the engine splits
 * it into k micro-batches, runs a micro graph (loss + gradients added to accumulators) k times and an apply graph
 * (mean gradient, clipping, EMA, optimiser) once. The accumulators are zero between steps, so the resumable state
 * is the same as without accumulation.
 */
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { CmidError } from '../runtime/errors.js';
import { traceSymbolic, activeSymbolicTrace, type FeedSpec } from '../graph/symbolic-trace.js';
import { summarize, type IrGraph } from '../graph/ir.js';
import { ohwiShape, storeFiltersOhwi } from '../graph/filter-layout.js';
import { encodeIrGraph } from '../onnx/export.js';
import { createSession, loadOrt, type ExecutionProvider, type SessionOptions } from '../onnx/session.js';
import { accKey, applyStepGraph, checkSpec, microStepGraph, scalarNames, splitFirstAxis, stepGraph, type BatchTensor, type TrainStepSpec } from './step-graph.js';

export type Engine = 'compiled' | 'eager';
type Data = Float32Array | Int32Array | Uint8Array;
export type { BatchTensor };

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
  /**
   * Where the compiled engine keeps 4D float state (conv filters, their optimiser slots and accumulators, EMA
   * teachers): 'ohwi' (default) saves onnxruntime a slow all-axes transpose per filter and step
   * (graph/filter-layout.ts); 'hwio' keeps tfjs's layout. The state the trainer exports is HWIO either way.
   */
  filterLayout?: 'ohwi' | 'hwio';
  /** onnxruntime's memory-pattern planning (off by default: more peak memory for up to ~8 % speed; see SessionOptions). */
  memoryPattern?: boolean;
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

/** The micro-batches of an accumulated step (spec.splitBatch or the first-axis split), checked. */
function microBatches(spec: TrainStepSpec, batch: Record<string, BatchTensor>): Record<string, BatchTensor>[] {
  const k = spec.accumulationSteps ?? 1;
  const parts = (spec.splitBatch ?? splitFirstAxis)(batch, k);
  if (parts.length !== k) throw new CmidError('config', `gradient accumulation: splitBatch returned ${parts.length} micro-batches, expected ${k}.`);
  return parts;
}

/** Mean of the micro-batches' losses and terms. */
function meanOf(results: { loss: number; terms: Record<string, number> }[]): { loss: number; terms: Record<string, number> } {
  const terms: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.terms)) terms[k] = (terms[k] ?? 0) + v / results.length;
  return { loss: results.reduce((a, r) => a + r.loss, 0) / results.length, terms };
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
  /** The logical shape (tfjs's, and the exported state's). */
  shape: number[];
  /** Stored as OHWI (graph/filter-layout.ts): the buffers hold the [3, 0, 1, 2] permutation of `shape`. */
  ohwi: boolean;
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

type GraphKind = 'step' | 'micro' | 'apply';

/** The state entry a graph output writes: `param:`, `ema:`, `assign:` name a variable; `newslot:` / `newacc:` a slot. */
function updateTarget(output: string): string | undefined {
  const m = /^(param|ema|assign):(.*)$/.exec(output);
  if (m) return m[2]!;
  if (output.startsWith('newslot:') || output.startsWith('newacc:')) return output.slice(3);
  return undefined;
}

/** HWIO [a, b, c, d] data -> its OHWI [d, a, b, c] permutation (a new array). */
function permuteToOhwi(src: Float32Array, [a, b, c, d]: readonly number[]): Float32Array {
  const out = new Float32Array(src.length);
  const abc = a! * b! * c!;
  for (let i = 0; i < abc; i++) for (let o = 0; o < d!; o++) out[o * abc + i] = src[i * d! + o]!;
  return out;
}

/** OHWI [d, a, b, c] data -> HWIO [a, b, c, d] (a new array). */
function permuteFromOhwi(src: Float32Array, [a, b, c, d]: readonly number[]): Float32Array {
  const out = new Float32Array(src.length);
  const abc = a! * b! * c!;
  for (let o = 0; o < d!; o++) for (let i = 0; i < abc; i++) out[i * d! + o] = src[o * abc + i]!;
  return out;
}

/** A slot's current values in the logical layout (a copy). */
function logicalData(s: Slot): Data {
  const cur = s.buffers[s.current];
  return s.ohwi ? permuteFromOhwi(cur as Float32Array, s.shape) : cur.slice();
}

class CompiledTrainer implements Trainer {
  readonly engine = 'compiled' as const;
  stepCount = 0;
  private ort: typeof Ort | undefined;
  private readonly slots = new Map<string, Slot>();
  private readonly graphs = new Map<string, Promise<CompiledGraph>>();
  private pending: TrainerState | undefined;
  private readonly parts: number;

  constructor(private readonly spec: TrainStepSpec, private readonly options: TrainerOptions) {
    this.parts = spec.accumulationSteps ?? 1;
  }

  private async init(): Promise<typeof Ort> {
    if (this.ort !== undefined) return this.ort;
    const ort = await loadOrt();
    this.ort = ort;
    const add = (name: string, t: TrainerState['tensors'][string]) => {
      const ohwi = this.options.filterLayout !== 'hwio' && t.dtype === 'float32' && t.shape.length === 4;
      const a = ohwi ? permuteToOhwi(t.data as Float32Array, t.shape) : t.data;
      const b = allocate(t.dtype, t.data.length);
      const shape = ohwi ? ohwiShape(t.shape) : t.shape;
      this.slots.set(name, { shape: t.shape, ohwi, dtype: t.dtype, buffers: [a, b], tensors: [new ort.Tensor(ortType(t.dtype), a, shape), new ort.Tensor(ortType(t.dtype), b, shape)], current: 0 });
    };
    for (const [name, t] of Object.entries(this.initialTensors())) add(name, t);
    if (this.parts > 1) {
      // gradient accumulators: zero at every step boundary, so not part of the state
      for (const p of this.spec.params) add(accKey(p.name), { data: new Float32Array(p.shape.reduce((x, y) => x * y, 1)), shape: [...p.shape], dtype: 'float32' });
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

  private key(kind: GraphKind, batch: Record<string, BatchTensor>): string {
    return `${kind === 'step' ? '' : `${kind}|`}${Object.entries(batch).map(([k, b]) => `${k}[${b.shape.join('x')}]`).join(',')}`;
  }

  private compile(kind: GraphKind, batch: Record<string, BatchTensor>): Promise<CompiledGraph> {
    const key = this.key(kind, batch);
    let g = this.graphs.get(key);
    if (g === undefined) {
      g = this.build(kind, key, batch);
      this.graphs.set(key, g);
      g.catch(() => this.graphs.delete(key));
    }
    return g;
  }

  private async build(kind: GraphKind, key: string, batch: Record<string, BatchTensor>): Promise<CompiledGraph> {
    const spec = this.spec;
    const inputs = Object.fromEntries(Object.entries(kind === 'apply' ? {} : spec.inputs).map(([k, s]) => {
      const b = batch[k];
      if (b === undefined) throw new CmidError('input', `train step: batch input "${k}" is missing (expected ${Object.keys(spec.inputs).join(', ')}).`);
      return [k, { shape: b.shape, dtype: s.dtype ?? 'float32' }];
    }));
    const t0 = performance.now();
    const trace = await traceSymbolic((batchTensors) => {
      const rec = activeSymbolicTrace()!;
      const scalars = Object.fromEntries(scalarNames(spec).map((n) => [n, rec.placeholder([], 'float32', 'input', `scalar:${n}`) as tf.Scalar]));
      const slots = Object.fromEntries(spec.params.map((p) => [p.name, Object.fromEntries(spec.optimizer.slots.map((s) => [s, rec.placeholder(p.shape, 'float32', 'input', slotKey(p.name, s))]))]));
      const acc = () => Object.fromEntries(spec.params.map((p) => [p.name, rec.placeholder(p.shape, 'float32', 'input', accKey(p.name))]));
      if (kind === 'micro') return microStepGraph(spec, batchTensors, acc());
      if (kind === 'apply') return applyStepGraph(spec, acc(), this.parts, scalars, slots);
      return stepGraph(spec, batchTensors, scalars, slots);
    }, { inputs, variables: spec.variables });
    const traceMs = performance.now() - t0;
    const stored = new Set([...this.slots].filter(([, slot]) => slot.ohwi).map(([name]) => name));
    const graph = storeFiltersOhwi(trace.graph, stored, (output) => {
      const target = updateTarget(output);
      return target !== undefined && stored.has(target);
    });
    const model = encodeIrGraph(graph, { params: 'inputs', metadata: { producer: 'cmid compiled train step', key } });
    this.options.onModel?.(model, key);
    const t1 = performance.now();
    const session = await createSession(model, { ...this.options.session, ...(this.options.memoryPattern === true ? { memoryPattern: true } : {}), ...(this.options.threads !== undefined ? { threads: this.options.threads } : {}), ...(this.options.provider ? { provider: this.options.provider } : {}) });
    const sessionMs = performance.now() - t1;
    const updates = new Map<string, string>();
    for (const name of trace.graph.outputNames) {
      const target = updateTarget(name);
      if (target !== undefined) updates.set(name, target);
    }
    for (const name of updates.keys()) {
      if (!session.outputNames.includes(name)) throw new CmidError('kernel', `compiled step: output "${name}" lost its name in the ONNX graph (name clash).`);
    }
    const s = summarize(trace.graph);
    this.options.onCompile?.({ key, nodes: s.nodes, ops: s.ops, parameters: s.parameters, activationBytes: s.activationBytes, traceMs, sessionMs, modelBytes: model.byteLength });
    return { session, graph, feeds: new Map(trace.feeds.map((f) => [f.name, f])), updates };
  }

  /** Runs one graph with its outputs written into the spare buffers of the slots they update (not yet swapped). */
  private async run(ort: typeof Ort, g: CompiledGraph, batch: Record<string, BatchTensor>, scalars: Record<string, number>): Promise<{ loss: number; terms: Record<string, number> }> {
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
    const loss = out.loss === undefined ? NaN : Number((out.loss.data as Float32Array)[0]);
    return { loss, terms };
  }

  /** Makes a graph's outputs the current values. */
  private swap(g: CompiledGraph): void {
    for (const target of g.updates.values()) {
      const slot = this.slots.get(target)!;
      slot.current = (1 - slot.current) as 0 | 1;
    }
  }

  async step(batch: Record<string, BatchTensor>, schedule: StepSchedule): Promise<StepResult> {
    const ort = await this.init();
    const step = this.stepCount + 1;
    const scalars = scalarValues(this.spec, step, schedule);
    if (this.parts === 1) {
      const g = await this.compile('step', batch);
      const r = await this.run(ort, g, batch, scalars);
      assertFinite(step, r.loss, r.terms);
      this.swap(g);
      this.stepCount = step;
      return { step, ...r };
    }
    const micro = microBatches(this.spec, batch);
    for (const p of this.spec.params) {
      const a = this.slots.get(accKey(p.name))!;
      a.buffers[a.current].fill(0);
    }
    // what the micro-batches assign (BN statistics, queues) is restored if the step fails
    const saved = new Map<string, { current: 0 | 1; data: Data }>();
    const results: { loss: number; terms: Record<string, number> }[] = [];
    try {
      for (const m of micro) {
        const g = await this.compile('micro', m);
        for (const target of g.updates.values()) {
          const slot = this.slots.get(target)!;
          if (!target.startsWith('acc:') && !saved.has(target)) saved.set(target, { current: slot.current, data: slot.buffers[slot.current].slice() });
        }
        const r = await this.run(ort, g, m, scalars);
        this.swap(g);
        results.push(r);
        assertFinite(step, r.loss, r.terms);
      }
      const mean = meanOf(results);
      const apply = await this.compile('apply', {});
      const r = await this.run(ort, apply, {}, scalars);
      if (r.terms.grad_norm !== undefined) mean.terms.grad_norm = r.terms.grad_norm;
      this.swap(apply);
      this.stepCount = step;
      return { step, ...mean };
    } catch (e) {
      for (const [target, v] of saved) {
        const slot = this.slots.get(target)!;
        slot.current = v.current;
        slot.buffers[v.current].set(v.data);
      }
      throw e;
    }
  }

  syncToVariables(): void {
    for (const [name, v] of Object.entries(this.spec.variables)) {
      const slot = this.slots.get(name);
      if (slot === undefined) continue;
      tf.tidy(() => v.assign(tf.tensor(logicalData(slot), slot.shape, slot.dtype)));
    }
  }

  getState(): TrainerState {
    if (this.pending !== undefined) return this.pending;
    if (this.ort === undefined) return { step: this.stepCount, tensors: this.initialTensors() }; // before the first step
    const tensors: TrainerState['tensors'] = {};
    for (const [name, s] of this.slots) if (!name.startsWith('acc:')) tensors[name] = { data: logicalData(s), shape: [...s.shape], dtype: s.dtype };
    return { step: this.stepCount, tensors };
  }

  setState(state: TrainerState): void {
    if (this.ort === undefined) {
      this.pending = state; // applied when the buffers are allocated
      this.stepCount = state.step;
      return;
    }
    for (const [name, t] of Object.entries(state.tensors)) {
      const s = name.startsWith('acc:') ? undefined : this.slots.get(name);
      if (s === undefined) throw new CmidError('checkpoint', `trainer state: "${name}" is not part of this training step.`);
      if (t.data.length !== s.buffers[0].length) throw new CmidError('checkpoint', `trainer state: "${name}" has ${t.data.length} values, the step expects ${s.buffers[0].length} ([${s.shape}]).`);
      s.buffers[s.current].set(s.ohwi ? permuteToOhwi(t.data as Float32Array, s.shape) : t.data);
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
    const toTensors = (b: Record<string, BatchTensor>) => Object.fromEntries(Object.entries(b).map(([k, t]) => [k, tf.tensor(t.data, t.shape, spec.inputs[k]?.dtype ?? 'float32')]));
    const readTerms = (out: Record<string, tf.Tensor>) => {
      const terms: Record<string, number> = {};
      for (const [k, t] of Object.entries(out)) {
        if (k.startsWith('term:')) terms[k.slice(5)] = t.dataSync()[0]!;
        if (k === 'grad_norm') terms.grad_norm = t.dataSync()[0]!;
      }
      return terms;
    };
    const assignOutputs = (out: Record<string, tf.Tensor>) => {
      for (const [k, t] of Object.entries(out)) {
        const m = /^(param|ema):(.*)$/.exec(k);
        if (m) spec.variables[m[2]!]!.assign(t);
        else if (k.startsWith('newslot:')) this.slotVars.get(k.slice(3))!.assign(t);
      }
    };
    const scalarsAndSlots = () => ({
      scalars: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.scalar(v)])),
      slots: Object.fromEntries(spec.params.map((p) => [p.name, Object.fromEntries(spec.optimizer.slots.map((s) => [s, this.slotVars.get(slotKey(p.name, s))! as tf.Tensor]))])),
    });
    const parts = spec.accumulationSteps ?? 1;
    if (parts === 1) {
      const result = tf.tidy(() => {
        const { scalars, slots } = scalarsAndSlots();
        const out = stepGraph(spec, toTensors(batch), scalars, slots);
        const terms = readTerms(out);
        const loss = out.loss!.dataSync()[0]!;
        assertFinite(step, loss, terms);
        assignOutputs(out);
        return { loss, terms };
      });
      this.stepCount = step;
      return { step, ...result };
    }
    // accumulated: the loss assigns variables in place (BN statistics, queues); keep them to restore on failure.
    // Trained parameters and EMA teachers change only in the apply step, after every micro-batch succeeded.
    const updatedLater = new Set([...spec.params.map((p) => p.name), ...(spec.ema?.pairs ?? []).map(([t]) => t)]);
    const saved = Object.entries(spec.variables).filter(([n]) => !updatedLater.has(n)).map(([n, v]) => [n, tf.clone(v)] as const);
    let acc: Record<string, tf.Tensor> = Object.fromEntries(spec.params.map((p) => [p.name, tf.zeros(p.shape)]));
    const results: { loss: number; terms: Record<string, number> }[] = [];
    try {
      for (const m of microBatches(spec, batch)) {
        const r = tf.tidy(() => {
          const out = microStepGraph(spec, toTensors(m), acc);
          const next = Object.fromEntries(spec.params.map((p) => [p.name, tf.keep(out[`new${accKey(p.name)}`]!)]));
          return { loss: out.loss!.dataSync()[0]!, terms: readTerms(out), next };
        });
        tf.dispose(Object.values(acc));
        acc = r.next;
        results.push({ loss: r.loss, terms: r.terms });
        assertFinite(step, r.loss, r.terms);
      }
      const mean = meanOf(results);
      tf.tidy(() => {
        const { scalars, slots } = scalarsAndSlots();
        const out = applyStepGraph(spec, acc, parts, scalars, slots);
        if (out.grad_norm !== undefined) mean.terms.grad_norm = out.grad_norm.dataSync()[0]!;
        assignOutputs(out);
      });
      this.stepCount = step;
      return { step, ...mean };
    } catch (e) {
      for (const [n, t] of saved) spec.variables[n]!.assign(t);
      throw e;
    } finally {
      tf.dispose(Object.values(acc));
      tf.dispose(saved.map(([, t]) => t));
    }
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
