/**
 * Pretraining checkpoints: core's training checkpoint (train/checkpoint.ts, one atomic safetensors file with the
 * full trainer state) tagged 'cmid-pretrain/1', with this record as its metadata.
 *
 * - Model tensors under the reference checkpoint's keys (`online_encoder.model.conv1.weight`, `branch_encoder.*`,
 *   `queue`, `class_loss.center`, ...), in PyTorch layout and dtype (num_batches_tracked int64), so `cmid extract`
 *   and other tools read them as they read the reference `model` entry.
 * - Optimiser state under `optimizer.<param>.<slot>` (PyTorch layout of the parameter).
 * - `__metadata__`: format tag, step, loader position (epoch, batch), the config (JSON), engine, time.
 * Everything the next step depends on is in the file: resuming from it continues bit for bit (the data loader's
 * randomness is a pure function of (seed, epoch, sample), so it needs no saved state).
 */
import {
  checkpointToTrainerState,
  pruneCheckpoints,
  readTrainCheckpoint,
  saveTrainCheckpoint,
  type CheckpointTensor,
  type LoaderPosition,
  type TrainerState,
} from '@cmid/core';
import type { CmidConfig } from './config.js';
import type { CmidModel } from './model/cmid-model.js';

export { pruneCheckpoints };

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

/** Writes `state` (from Trainer.getState()) to `file` atomically. */
export async function saveCheckpoint(file: string, model: CmidModel, state: TrainerState, meta: CheckpointMeta): Promise<void> {
  await saveTrainCheckpoint(file, CHECKPOINT_FORMAT, model, state, meta);
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** Tensors of the file (PyTorch layout). */
  tensors: Map<string, CheckpointTensor>;
}

export async function readCheckpoint(file: string): Promise<LoadedCheckpoint> {
  const c = await readTrainCheckpoint<CheckpointMeta>(
    file,
    CHECKPOINT_FORMAT,
    'CMID pretraining checkpoint',
    'To start from backbone weights, use them with the task packages; to resume, pass a checkpoints/*.safetensors file written by `cmid pretrain`.',
  );
  return { meta: c.meta, tensors: c.tensors };
}

/** Converts a checkpoint back to a trainer state for `model` (whose variable names and shapes it must match). */
export function checkpointToState(file: string, ckpt: LoadedCheckpoint, model: CmidModel, current: TrainerState): TrainerState {
  return checkpointToTrainerState(file, ckpt.tensors, ckpt.meta.step, model, current, `backbone ${ckpt.meta.config.backbone}`);
}
