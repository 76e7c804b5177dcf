/**
 * Tracing without arithmetic: a recording tfjs backend ("cmid-symbolic") on which every kernel call becomes an IR
 * node whose output shape comes from graph/shapes.ts. Under it `tf.grads` / `tf.variableGrads` record the forward
 * kernels and the backward kernels that tfjs derives itself, so a whole training step (forward, gradients,
 * optimiser, EMA) becomes one graph for the compiled engine, at any size, in milliseconds, with no memory for
 * activations.
 *
 * - Graph inputs are placeholders (no data). Module variables named in `variables` are swapped for placeholders
 *   for the duration of the trace (their real data stays untouched on the original backend); a variable that the
 *   traced code assigns (batch-norm running statistics) is reported in `updates` with its new value as an output.
 * - Values written by the code (scalars, index tables, masks built in JS) become constants with their data; a
 *   kernel whose inputs are all constants is evaluated on the cpu backend and folded.
 * - Randomness enters through `feed()` (graph/feed.ts): a placeholder input plus the JS producer that fills it
 *   each step, so a compiled run draws the same numbers from the same seeded Rng as an eager one.
 * - Reading data of a traced value (dataSync, arraySync) is an error: compiled graphs are data-independent.
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import type { IrDType, IrGraph, IrNode, IrValue } from './ir.js';
import { SHAPE_RULES, type DType, type ShapeOf } from './shapes.js';

export const SYMBOLIC_BACKEND = 'cmid-symbolic';

/** Kernels that return an array of outputs even when there is one. */
const MULTI_OUTPUT = new Set(['Unpack', 'SplitV', 'TopK', 'Unique', 'MaxPoolWithArgmax']);

type Data = Float32Array | Int32Array | Uint8Array;

interface Entry {
  id: number;
  refCount: number;
  /** Constant data (kept after the trace: a module may cache a tensor it built while being traced). */
  data?: Data;
}

export interface FeedSpec {
  /** Graph input name (`feed:<k>:<label>`). */
  name: string;
  shape: number[];
  dtype: DType;
  /** Fills the input for one step; called in trace order at every step. */
  produce: () => Data;
}

/** The active trace's recorder; null when no symbolic trace runs. */
let active: Recorder | null = null;

/** The recorder of the symbolic trace that is running, if any (used by graph/feed.ts). */
export function activeSymbolicTrace(): Recorder | null {
  return active;
}

class Recorder {
  readonly values: IrValue[] = [];
  readonly nodes: IrNode[] = [];
  readonly inputs: number[] = [];
  readonly params: number[] = [];
  readonly feeds: FeedSpec[] = [];
  /** dataId -> value id; never cleared during the trace, so values of disposed tensors stay addressable. */
  readonly valueOf = new WeakMap<object, number>();

  constructor(readonly backend: SymbolicBackend) {}

  addValue(v: Omit<IrValue, 'id'>): number {
    const id = this.values.length;
    this.values.push({ ...v, id });
    return id;
  }

  /** A placeholder tensor on the symbolic backend bound to a new IR value. */
  placeholder(shape: number[], dtype: DType, kind: 'input' | 'param', name: string): tf.Tensor {
    const id = this.addValue({ shape: [...shape], dtype, kind, name });
    (kind === 'input' ? this.inputs : this.params).push(id);
    const dataId = this.backend.bind(id);
    return tf.engine().makeTensorFromDataId(dataId, shape, dtype, this.backend);
  }

  feed(shape: number[], dtype: DType, label: string, produce: () => Data): tf.Tensor {
    const name = `feed:${this.feeds.length}:${label}`;
    this.feeds.push({ name, shape: [...shape], dtype, produce });
    return this.placeholder(shape, dtype, 'input', name);
  }
}

const irDtype = (d: string): IrDType => (d === 'int32' ? 'int32' : d === 'bool' ? 'bool' : 'float32');

/** An own copy of the first `size` values (backends may hand out longer or shared buffers). */
function copyValues(values: unknown, dtype: string, size: number): Data {
  const src = values as ArrayLike<number> & { subarray?: (a: number, b: number) => ArrayLike<number> };
  const head = src.length <= size ? src : src.subarray ? src.subarray(0, size) : Array.prototype.slice.call(src, 0, size);
  if (dtype === 'int32') return Int32Array.from(head);
  if (dtype === 'bool') return Uint8Array.from(head);
  if (dtype === 'float32') return Float32Array.from(head);
  throw new CmidError('kernel', `symbolic trace: tensors of dtype ${dtype} are not supported in compiled graphs.`);
}

export class SymbolicBackend extends tf.KernelBackend {
  private readonly entries = new Map<object, Entry>();
  recorder: Recorder | null = null;

  private rec(): Recorder {
    if (this.recorder === null) throw new CmidError('kernel', 'symbolic backend used outside traceSymbolic().');
    return this.recorder;
  }

  /** A new dataId bound to an existing IR value. */
  bind(id: number): object {
    const dataId = {};
    this.entries.set(dataId, { id, refCount: 1 });
    this.rec().valueOf.set(dataId, id);
    return dataId;
  }

  /**
   * The IR value of a dataId. Data of another backend (a tensor made before the trace and used inside it) is
   * read, not moved, and becomes a constant; the original stays where it was.
   */
  valueId(dataId: object): number {
    const e = this.entries.get(dataId);
    if (e) return e.id;
    const rec = this.rec();
    const known = rec.valueOf.get(dataId);
    if (known !== undefined) return known;
    const info = (tf.engine() as unknown as { state: { tensorInfo: Map<object, { shape: number[]; dtype: string }> } }).state.tensorInfo.get(dataId);
    if (info === undefined) throw new CmidError('kernel', 'symbolic trace: a kernel input has no data (a disposed tensor?).');
    const size = info.shape.reduce((a, b) => a * b, 1);
    const id = rec.addValue({ shape: [...info.shape], dtype: irDtype(info.dtype), kind: 'const', data: copyValues(tf.engine().readSync(dataId), info.dtype, size) });
    rec.valueOf.set(dataId, id);
    return id;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    const dataId = {};
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    const rec = this.rec();
    const size = shape.reduce((a, b) => a * b, 1);
    const data = values === null ? undefined : copyValues(values, dtype, size);
    const id = data === undefined
      ? rec.addValue({ shape: [...shape], dtype: irDtype(dtype), kind: 'op' })
      : rec.addValue({ shape: [...shape], dtype: irDtype(dtype), kind: 'const', data });
    this.entries.set(dataId, { id, refCount, ...(data ? { data } : {}) });
    rec.valueOf.set(dataId, id);
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    const e = this.entries.get(dataId);
    if (e?.data !== undefined) return e.data;
    if (this.recorder === null) {
      throw new CmidError('kernel', 'symbolic trace: a tensor computed inside a traced step was used after the trace (a module caches a tensor derived from its inputs?). Cache only constants.');
    }
    const v = this.rec().values[this.valueId(dataId)]!;
    if (v.kind === 'const') return v.data!;
    throw new CmidError('kernel', `symbolic trace: the traced code reads the data of a computed tensor [${v.shape}] (dataSync/arraySync/print). A compiled step must not depend on tensor values; compute such values outside the step or feed them as inputs.`);
  }

  override async read(dataId: object): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override refCount(dataId: object): number {
    return this.entries.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: object): void {
    const e = this.entries.get(dataId);
    if (e) e.refCount++;
  }

  override disposeData(dataId: object, force = false): boolean {
    const e = this.entries.get(dataId);
    if (!e) return false;
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    this.entries.delete(dataId);
    return true;
  }

  override numDataIds(): number {
    return this.entries.size;
  }

  override memory() {
    return { unreliable: true, reasons: ['symbolic trace: no data'] };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override timerAvailable(): boolean {
    return false;
  }

  /** After a trace: forget traced values; constants stay readable (and movable to another backend). */
  endTrace(): void {
    for (const [dataId, e] of this.entries) if (e.data === undefined) this.entries.delete(dataId);
  }

  override dispose(): void {
    this.entries.clear();
  }

  /** Record one kernel call. */
  runKernel(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo | tf.TensorInfo[] {
    const rec = this.rec();
    const names = Object.keys(inputs).filter((n) => inputs[n] != null);
    const ids = names.map((n) => this.valueId(inputs[n]!.dataId));
    const allConst = ids.length > 0 && ids.every((id) => rec.values[id]!.kind === 'const');
    let outs: { shape: number[]; dtype: DType; data?: Data }[];
    if (allConst || (ids.length === 0 && SHAPE_RULES[kernelName] === undefined)) {
      outs = foldOnCpu(kernelName, names.map((n, k) => ({ name: n, value: rec.values[ids[k]!]! })), attrs);
    } else {
      const rule = SHAPE_RULES[kernelName];
      if (rule === undefined) {
        throw new CmidError('kernel', `compiled engine: tfjs kernel "${kernelName}" has no shape rule (inputs ${names.map((n, k) => `${n}[${rec.values[ids[k]!]!.shape}]`).join(', ')}). Add one in packages/core/src/graph/shapes.ts and an ONNX lowering in packages/core/src/onnx/.`);
      }
      const shapes: Record<string, ShapeOf> = {};
      names.forEach((n, k) => (shapes[n] = { shape: rec.values[ids[k]!]!.shape, dtype: rec.values[ids[k]!]!.dtype }));
      outs = rule(shapes, attrs as Record<string, unknown>, names);
    }
    const folded = outs.every((o) => o.data !== undefined);
    const outIds = outs.map((o) => rec.addValue(o.data !== undefined
      ? { shape: o.shape, dtype: o.dtype, kind: 'const', data: o.data }
      : { shape: o.shape, dtype: o.dtype, kind: 'op' }));
    if (ids.length > 0) {
      rec.nodes.push({ op: kernelName, inputs: ids, outputs: outIds, attrs: { ...attrs }, inputNames: names, ...(folded ? { folded: true } : {}) });
    }
    const infos = outIds.map((id, k) => {
      const dataId = {};
      const data = outs[k]!.data;
      this.entries.set(dataId, { id, refCount: 1, ...(data ? { data } : {}) });
      rec.valueOf.set(dataId, id);
      return { dataId, shape: outs[k]!.shape, dtype: outs[k]!.dtype } as tf.TensorInfo;
    });
    return MULTI_OUTPUT.has(kernelName) || infos.length !== 1 ? infos : infos[0]!;
  }
}

/** Evaluate a kernel whose inputs are all constants on the cpu backend. */
function foldOnCpu(kernelName: string, inputs: { name: string; value: IrValue }[], attrs: tf.NamedAttrMap): { shape: number[]; dtype: DType; data: Data }[] {
  const cpu = tf.findBackend('cpu') as tf.KernelBackend | null;
  const kernel = tf.getKernel(kernelName, 'cpu');
  if (cpu === null || kernel === undefined) {
    throw new CmidError('kernel', `compiled engine: cannot fold constant kernel "${kernelName}" (no cpu kernel).`);
  }
  (cpu as unknown as { firstUse: boolean }).firstUse = false; // silence the "install tfjs-node" banner
  const written: object[] = [];
  const cpuInputs: tf.NamedTensorInfoMap = {};
  for (const { name, value } of inputs) {
    const dataId = cpu.write(value.data!, value.shape, value.dtype);
    written.push(dataId);
    cpuInputs[name] = { dataId, shape: value.shape, dtype: value.dtype } as tf.TensorInfo;
  }
  const raw = kernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu });
  const outs = Array.isArray(raw) ? raw : [raw as tf.TensorInfo];
  const result = outs.map((o) => {
    const size = o.shape.reduce((a, b) => a * b, 1);
    const data = copyValues(cpu.readSync(o.dataId), o.dtype, size);
    return { shape: [...o.shape], dtype: irDtype(o.dtype), data };
  });
  for (const o of outs) if (!written.includes(o.dataId)) cpu.disposeData(o.dataId, true);
  for (const d of written) cpu.disposeData(d, true);
  return result;
}

let backendInstance: SymbolicBackend | null = null;
const registeredKernels = new Set<string>();

function ensureBackend(): SymbolicBackend {
  if (backendInstance === null) {
    const instance = new SymbolicBackend();
    tf.registerBackend(SYMBOLIC_BACKEND, () => instance, -1);
    backendInstance = instance;
  }
  // every kernel name any backend knows gets a recorder (a kernel registered later is picked up on the next trace)
  const names = new Set<string>([...Object.keys(SHAPE_RULES), ...tf.getKernelsForBackend('cpu').map((k) => k.kernelName)]);
  for (const name of names) {
    if (registeredKernels.has(name)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: SYMBOLIC_BACKEND,
      kernelFunc: ({ inputs, attrs, backend }) => (backend as SymbolicBackend).runKernel(name, inputs, attrs ?? {}),
    });
    registeredKernels.add(name);
  }
  return backendInstance;
}

export interface SymbolicInput {
  shape: number[];
  dtype?: DType;
}

export interface SymbolicTraceSpec {
  /** Graph inputs (the batch), by name. */
  inputs: Record<string, SymbolicInput>;
  /** Variables replaced by graph inputs during the trace (module parameters and buffers), by name. */
  variables?: Record<string, tf.Variable>;
}

export interface SymbolicTrace {
  graph: IrGraph;
  /** Names of `variables` that the traced code assigned; their new values are the outputs `assign:<name>`. */
  assigned: string[];
  /** Random inputs requested with feed(), in trace order. */
  feeds: FeedSpec[];
}

type TracedFn = (inputs: Record<string, tf.Tensor>) => Record<string, tf.Tensor>;

/**
 * Trace `f` on the symbolic backend. Variables listed in `spec.variables` become IR values of kind 'param' named
 * by their key; batch inputs and feeds are kind 'input'. The outputs are f's result plus `assign:<name>` for
 * every variable f assigned.
 */
export async function traceSymbolic(f: TracedFn, spec: SymbolicTraceSpec): Promise<SymbolicTrace> {
  if (active !== null) throw new CmidError('kernel', 'traceSymbolic: already tracing (nested traces are not supported).');
  const backend = ensureBackend();
  const previous = tf.getBackend();
  const rec = new Recorder(backend);
  backend.recorder = rec;
  const swapped: { v: tf.Variable; name: string; original: object; placeholder: object }[] = [];
  await tf.setBackend(SYMBOLIC_BACKEND);
  active = rec;
  let result: Record<string, tf.Tensor>;
  let resultIds: [string, object][];
  let assigned: { name: string; dataId: object }[];
  try {
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, s] of Object.entries(spec.inputs)) inputs[name] = rec.placeholder(s.shape, s.dtype ?? 'float32', 'input', name);
    for (const [name, v] of Object.entries(spec.variables ?? {})) {
      const ph = rec.placeholder([...v.shape], irDtype(v.dtype), 'param', name);
      const original = v.dataId;
      (v as unknown as { dataId: object }).dataId = ph.dataId;
      swapped.push({ v, name, original, placeholder: ph.dataId });
    }
    result = tf.tidy(() => f(inputs));
    assigned = swapped.filter((s) => s.v.dataId !== s.placeholder).map((s) => ({ name: s.name, dataId: s.v.dataId }));
    resultIds = Object.entries(result).map(([name, t]) => [name, t.dataId] as [string, object]);
    tf.dispose([...Object.values(result), ...Object.values(inputs)]);
  } finally {
    for (const s of swapped) (s.v as unknown as { dataId: object }).dataId = s.original;
    active = null;
    await tf.setBackend(previous);
    backend.recorder = null;
    backend.endTrace();
  }
  const outputs: number[] = [];
  const outputNames: string[] = [];
  const idOf = (name: string, dataId: object) => {
    const id = rec.valueOf.get(dataId);
    if (id === undefined) throw new CmidError('kernel', `traceSymbolic: output "${name}" was not produced inside the traced function.`);
    return id;
  };
  for (const [name, dataId] of resultIds) {
    outputs.push(idOf(name, dataId));
    outputNames.push(name);
  }
  for (const a of assigned) {
    outputs.push(idOf(a.name, a.dataId));
    outputNames.push(`assign:${a.name}`);
  }
  return {
    graph: { values: rec.values, nodes: rec.nodes, inputs: rec.inputs, params: rec.params, outputs, outputNames },
    assigned: assigned.map((a) => a.name),
    feeds: rec.feeds,
  };
}
