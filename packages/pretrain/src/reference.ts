/**
 * Loading a reference CMID pretraining checkpoint (`checkpoints/epoch_<e>.pth` of official-CMID, cmid.md §9,
 * §10.3) into a CmidModel, e.g. to continue pretraining from the released full checkpoints or to inspect their
 * heads. The `model` entry is loaded strictly, with two conversions:
 * - `queue` [D, K] ring buffer with `queue_ptr` -> ours, [K, D] newest first: row r = column (ptr - 1 - r) mod K;
 * - `queue_ptr` is dropped (our queue needs no pointer).
 * A checkpoint of another backbone or head size fails with the key/shape report of loadStateDict, naming the file.
 */
import { CmidError, findStateDict, loadStateDict, type Checkpoint, type CheckpointTensor, type LoadReport, type StateDict } from '@cmid/core';
import type { CmidModel } from './model/cmid-model.js';

export function loadReferenceCheckpoint(model: CmidModel, ckpt: Checkpoint): LoadReport {
  const root = ckpt.root;
  const entry = root instanceof Map ? root.get('model') : undefined;
  const dict = (entry instanceof Map ? entry : findStateDict(ckpt).stateDict) as StateDict;
  const queue = dict.get('queue');
  const ptrT = dict.get('queue_ptr');
  const converted: StateDict = new Map();
  for (const [k, v] of dict) {
    if (k === 'queue' || k === 'queue_ptr') continue;
    converted.set(k, v);
  }
  if (queue !== undefined) {
    if (queue.shape.length !== 2) throw new CmidError('input', `${ckpt.file}: queue has shape [${queue.shape}], expected [D, K].`, { file: ckpt.file });
    const [D, K] = queue.shape as [number, number];
    const ptr = ptrT === undefined ? 0 : Number(ptrT.data[0]);
    const src = queue.data as Float32Array;
    const data = new Float32Array(D * K);
    for (let r = 0; r < K; r++) {
      const col = (((ptr - 1 - r) % K) + K) % K;
      for (let d = 0; d < D; d++) data[r * D + d] = src[d * K + col]!;
    }
    converted.set('queue', { dtype: 'float32', shape: [K, D], data } satisfies CheckpointTensor);
  }
  return loadStateDict(model, converted, { source: ckpt.file });
}
