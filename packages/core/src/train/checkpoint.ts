/**
 * Training checkpoints: one safetensors file holding a trainer's full state (Trainer.getState()), written
 * atomically (temp file, then rename; a crash mid-write leaves the previous checkpoint intact). Every task's
 * training loop (pretraining, classification, ...) saves and resumes through this file.
 *
 * - Module tensors under the module's own state-dict keys (PyTorch names), in PyTorch layout and dtype
 *   (num_batches_tracked int64), so the file reads like a PyTorch state dict in other tools.
 * - Optimiser state under `optimizer.<param>.<slot>` (PyTorch layout of the parameter).
 * - `__metadata__`: `format` (a tag per task, checked on read), `step`, and `meta`: the task's JSON record
 *   (config, loader position, ...). Everything the next step depends on is in the file, so resuming from it
 *   continues bit for bit when the data order is a pure function of (seed, epoch, sample).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors.js';
import type { CheckpointTensor } from '../checkpoint/tensor.js';
import type { TrainerState } from '../compile/trainer.js';
import { tfToTorch, torchToTf, type TorchLayout } from '../nn/layout.js';
import type { Module } from '../nn/module.js';
import { CmidError } from '../runtime/errors.js';

export interface TrainCheckpoint<M> {
  meta: M;
  step: number;
  /** Tensors of the file (PyTorch layout). */
  tensors: Map<string, CheckpointTensor>;
}

function layouts(model: Module): Map<string, TorchLayout> {
  const m = new Map<string, TorchLayout>();
  for (const [n, p] of model.namedParameters()) m.set(n, p.layout);
  return m;
}

/** Buffers PyTorch stores as int64 (num_batches_tracked); tfjs holds them as int32. */
function int64Buffers(model: Module): Set<string> {
  return new Set(model.namedBuffers().filter(([, b]) => b.torchDtype === 'int64').map(([n]) => n));
}

/** Trainer-state tensors are fresh copies (getState), so they are written without another copy. */
function toTorch(t: TrainerState['tensors'][string], layout: TorchLayout, int64: boolean): CheckpointTensor {
  if (t.dtype === 'int32') {
    return int64 ? { dtype: 'int64', shape: [...t.shape], data: BigInt64Array.from(t.data as Int32Array, (x) => BigInt(x)) } : { dtype: 'int32', shape: [...t.shape], data: t.data as Int32Array };
  }
  if (t.dtype === 'bool') return { dtype: 'uint8', shape: [...t.shape], data: t.data as Uint8Array };
  const h = tfToTorch({ shape: [...t.shape], data: t.data as Float32Array }, layout);
  return { dtype: 'float32', shape: h.shape, data: h.data };
}

/** Writes `state` (from Trainer.getState()) of `model` to `file` atomically, tagged `format`, with `meta` as JSON. */
export async function saveTrainCheckpoint(file: string, format: string, model: Module, state: TrainerState, meta: unknown): Promise<void> {
  const lay = layouts(model);
  const int64 = int64Buffers(model);
  const tensors = new Map<string, CheckpointTensor>();
  for (const [name, t] of Object.entries(state.tensors)) {
    if (name.startsWith('slot:')) {
      const [, param, slot] = name.split(':') as [string, string, string];
      tensors.set(`optimizer.${param}.${slot}`, toTorch(t, lay.get(param) ?? 'plain', false));
    } else {
      tensors.set(name, toTorch(t, lay.get(name) ?? 'plain', int64.has(name)));
    }
  }
  await writeSafetensors(file, tensors, { format, step: String(state.step), meta: JSON.stringify(meta) });
}

/**
 * Reads a checkpoint written by saveTrainCheckpoint with tag `format`. `what` names the kind in the error
 * (e.g. "CMID pretraining checkpoint"), `hint` says what to pass instead.
 */
export async function readTrainCheckpoint<M>(file: string, format: string, what: string, hint: string): Promise<TrainCheckpoint<M>> {
  const st = await readSafetensors(file);
  if (st.metadata.format !== format || st.metadata.meta === undefined) {
    throw new CmidError('input', `${file}: not a ${what} of this toolkit (format "${st.metadata.format ?? 'none'}", expected "${format}"). ${hint}`, { file });
  }
  return { meta: JSON.parse(st.metadata.meta) as M, step: Number(st.metadata.step ?? 0), tensors: st.tensors as Map<string, CheckpointTensor> };
}

/**
 * Converts checkpoint tensors back to a trainer state for `model`, whose variable names and shapes they must
 * match (`current` = trainer.getState() gives the expected names, shapes and dtypes). `describe` names what the
 * file was written for, for the error message.
 */
export function checkpointToTrainerState(
  file: string,
  tensors: Map<string, CheckpointTensor>,
  step: number,
  model: Module,
  current: TrainerState,
  describe: string,
): TrainerState {
  const lay = layouts(model);
  const out: TrainerState['tensors'] = {};
  for (const [name, t] of Object.entries(current.tensors)) {
    let key = name;
    let layout: TorchLayout = lay.get(name) ?? 'plain';
    if (name.startsWith('slot:')) {
      const [, param, slot] = name.split(':') as [string, string, string];
      key = `optimizer.${param}.${slot}`;
      layout = lay.get(param) ?? 'plain';
    }
    const c = tensors.get(key);
    if (c === undefined) throw new CmidError('input', `${file}: has no tensor "${key}"; it was written for another model or config (${describe}).`, { file });
    const h = t.dtype === 'float32' ? torchToTf({ shape: [...c.shape], data: c.data as Float32Array }, layout) : { shape: [...c.shape], data: c.data };
    if (h.shape.join() !== t.shape.join()) {
      throw new CmidError('input', `${file}: tensor "${key}" is [${c.shape}] but this model's is [${t.shape}] (tfjs layout); the checkpoint is for another architecture or config (${describe}).`, { file });
    }
    const data = t.dtype === 'int32'
      ? (h.data instanceof BigInt64Array ? Int32Array.from(h.data, (x) => Number(x)) : Int32Array.from(h.data as Int32Array))
      : t.dtype === 'bool' ? Uint8Array.from(h.data as Uint8Array) : Float32Array.from(h.data as Float32Array);
    out[name] = { data, shape: t.shape, dtype: t.dtype };
  }
  return { step, tensors: out };
}

/** Keeps the newest `keep` files named `step_<n>.safetensors` in `dir`. */
export async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  const files = (await readdir(dir)).filter((f) => /^step_\d+\.safetensors$/.test(f));
  files.sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  for (const f of files.slice(0, Math.max(files.length - keep, 0))) await rm(join(dir, f), { force: true });
}

/**
 * Checks a run folder before a fresh (not resumed) run. A folder that already holds a run (a last checkpoint or
 * a log) is an error naming it and the ways out, so a new run never mixes its checkpoints, log and plots with an
 * old one's; with `overwrite` the old run's checkpoints and log are deleted first. Creates `<out>/checkpoints`.
 */
export async function prepareRunFolder(out: string, o: { resume: boolean; overwrite?: boolean; command?: string }): Promise<void> {
  const ckptDir = join(out, 'checkpoints');
  if (!o.resume) {
    const last = join(ckptDir, 'last.safetensors');
    const log = join(out, 'log.jsonl');
    const held = [last, log].filter((f) => existsSync(f));
    if (held.length > 0) {
      if (o.overwrite !== true) {
        throw new CmidError('input', `${out} already holds a run (${held.map((f) => f.slice(out.length + 1)).join(', ')}). Continue it with --resume, start this one in another folder (--out), or replace it with --overwrite${o.command ? ` (${o.command})` : ''}.`, { file: out });
      }
      await rm(ckptDir, { recursive: true, force: true });
      await rm(log, { force: true });
    }
  }
  await mkdir(ckptDir, { recursive: true });
}
