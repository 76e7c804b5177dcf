/**
 * Pretraining checkpoints: one safetensors file holding the full training state, written atomically (temp file,
 * then rename; a crash mid-write leaves the previous checkpoint intact).
 *
 * - Model tensors under the reference checkpoint's keys (`online_encoder.model.conv1.weight`, `branch_encoder.*`,
 *   `queue`, `class_loss.center`, ...), in PyTorch layout and dtype (num_batches_tracked int64), so `cmid extract`
 *   and other tools read them as they read the reference `model` entry.
 * - Optimiser state under `optimizer.<param>.<slot>` (PyTorch layout of the parameter).
 * - `__metadata__`: format tag, step, loader position (epoch, batch), the config (JSON), engine, time.
 * Everything the next step depends on is in the file: resuming from it continues bit for bit (the data loader's
 * randomness is a pure function of (seed, epoch, sample), so it needs no saved state).
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CmidError,
  readSafetensors,
  tfToTorch,
  torchToTf,
  writeSafetensors,
  type CheckpointTensor,
  type LoaderPosition,
  type TorchLayout,
  type TrainerState,
} from '@cmid/core';
import type { CmidConfig } from './config.js';
import type { CmidModel } from './model/cmid-model.js';

export const CHECKPOINT_FORMAT = 'cmid-pretrain/1';

export interface CheckpointMeta {
  step: number;
  position: LoaderPosition;
  config: CmidConfig;
  engine: string;
  savedAt: string;
  /** Steps per epoch when saved (a change of dataset size is reported on resume). */
  itersPerEpoch: number;
}

function layouts(model: CmidModel): Map<string, TorchLayout> {
  const m = new Map<string, TorchLayout>();
  for (const [n, p] of model.namedParameters()) m.set(n, p.layout);
  return m;
}

/** Buffers PyTorch stores as int64 (num_batches_tracked); tfjs holds them as int32. */
function int64Buffers(model: CmidModel): Set<string> {
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

/** Writes `state` (from Trainer.getState()) to `file` atomically. */
export async function saveCheckpoint(file: string, model: CmidModel, state: TrainerState, meta: CheckpointMeta): Promise<void> {
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
  await writeSafetensors(file, tensors, {
    format: CHECKPOINT_FORMAT,
    step: String(state.step),
    meta: JSON.stringify(meta),
  });
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** Tensors of the file (PyTorch layout). */
  tensors: Map<string, CheckpointTensor>;
}

export async function readCheckpoint(file: string): Promise<LoadedCheckpoint> {
  const st = await readSafetensors(file);
  if (st.metadata.format !== CHECKPOINT_FORMAT || st.metadata.meta === undefined) {
    throw new CmidError(
      'input',
      `${file}: not a CMID pretraining checkpoint of this toolkit (format "${st.metadata.format ?? 'none'}"). To start from backbone weights, ` +
        'use them with the task packages; to resume, pass a checkpoints/*.safetensors file written by `cmid pretrain`.',
      { file },
    );
  }
  return { meta: JSON.parse(st.metadata.meta) as CheckpointMeta, tensors: st.tensors as Map<string, CheckpointTensor> };
}

/** Converts a checkpoint back to a trainer state for `model` (whose variable names and shapes it must match). */
export function checkpointToState(file: string, ckpt: LoadedCheckpoint, model: CmidModel, current: TrainerState): TrainerState {
  const lay = layouts(model);
  const tensors: TrainerState['tensors'] = {};
  for (const [name, t] of Object.entries(current.tensors)) {
    let key = name;
    let layout: TorchLayout = lay.get(name) ?? 'plain';
    if (name.startsWith('slot:')) {
      const [, param, slot] = name.split(':') as [string, string, string];
      key = `optimizer.${param}.${slot}`;
      layout = lay.get(param) ?? 'plain';
    }
    const c = ckpt.tensors.get(key);
    if (c === undefined) throw new CmidError('input', `${file}: has no tensor "${key}"; it was written for another model or config (backbone ${ckpt.meta.config.backbone}).`, { file });
    const h = t.dtype === 'float32' ? torchToTf({ shape: [...c.shape], data: c.data as Float32Array }, layout) : { shape: [...c.shape], data: c.data };
    if (h.shape.join() !== t.shape.join()) {
      throw new CmidError('input', `${file}: tensor "${key}" is [${c.shape}] but this model's is [${t.shape}] (tfjs layout); the checkpoint is for another architecture or config.`, { file });
    }
    const data = t.dtype === 'int32'
      ? (h.data instanceof BigInt64Array ? Int32Array.from(h.data, (x) => Number(x)) : Int32Array.from(h.data as Int32Array))
      : t.dtype === 'bool' ? Uint8Array.from(h.data as Uint8Array) : Float32Array.from(h.data as Float32Array);
    tensors[name] = { data, shape: t.shape, dtype: t.dtype };
  }
  return { step: ckpt.meta.step, tensors };
}

/** Keeps the newest `keep` files named `step_<n>.safetensors` in `dir`. */
export async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  const files = (await readdir(dir)).filter((f) => /^step_\d+\.safetensors$/.test(f));
  files.sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  for (const f of files.slice(0, Math.max(files.length - keep, 0))) await rm(join(dir, f), { force: true });
}
