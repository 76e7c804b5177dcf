/**
 * Backbone extraction from a full CMID pretraining checkpoint, as official-CMID `extract.py` does it: take the
 * checkpoint's `model` entry, keep only the keys under `online_encoder.model.` (the student backbone) and strip
 * that prefix. Everything else is dropped: the EMA teacher (`branch_encoder.*`), `online_encoder.mask_token`, the
 * MIM head (`mim2org.*`), projectors, class heads, `class_loss.center`, `queue`, `queue_ptr`. The released
 * "backbone only" weights are therefore the student; `{ encoder: 'teacher' }` takes `branch_encoder.` instead
 * (not something extract.py offers). The result keeps the file's key order, like extract.py's OrderedDict.
 */
import { checkpointError, isCheckpointTensor, type StateDict } from './tensor.js';
import type { Checkpoint } from './pth/read-pth.js';
import { isStateDict } from './state-dict.js';

export const CMID_ENCODER_PREFIXES = { student: 'online_encoder.model.', teacher: 'branch_encoder.' } as const;

export interface ExtractOptions {
  /** 'student' (default, as extract.py) = `online_encoder.model.`; 'teacher' = the EMA `branch_encoder.`. */
  encoder?: keyof typeof CMID_ENCODER_PREFIXES;
}

/**
 * @example
 * const backbone = extractBackbone(await readPth('checkpoints/epoch_100.pth'));
 * [...backbone.keys()].slice(0, 2) // ['conv1.weight', 'bn1.weight'] (ResNet-50) or ['patch_embed.projection.weight', ...] (Swin-B)
 * await writeSafetensors('cmid_resnet50.safetensors', backbone);
 */
export function extractBackbone(ckpt: Checkpoint | unknown, options: ExtractOptions = {}): StateDict {
  const isCkpt = typeof ckpt === 'object' && ckpt !== null && 'root' in ckpt && 'file' in ckpt && !(ckpt instanceof Map);
  const root = isCkpt ? (ckpt as Checkpoint).root : ckpt;
  const file = isCkpt ? (ckpt as Checkpoint).file : '<checkpoint>';
  const prefix = CMID_ENCODER_PREFIXES[options.encoder ?? 'student'];
  if (!(root instanceof Map) || !(root.get('model') instanceof Map)) {
    throw checkpointError(
      file,
      `extractBackbone: no "model" entry; a full CMID pretraining checkpoint (checkpoints/epoch_<e>.pth) is a dict with "model", "epoch", "optimizer". ` +
        (isStateDict(root) ? 'This file is already a bare state dict (an extracted backbone?); use it directly.' : ''),
    );
  }
  const model = root.get('model') as Map<unknown, unknown>;
  const out: StateDict = new Map();
  for (const [k, v] of model) {
    if (typeof k === 'string' && k.startsWith(prefix) && isCheckpointTensor(v)) out.set(k.slice(prefix.length), v);
  }
  if (out.size === 0) {
    const prefixes = new Set([...model.keys()].map((k) => String(k).split('.').slice(0, 2).join('.') + '.'));
    throw checkpointError(file, `extractBackbone: no keys under "${prefix}" in "model"; its key prefixes are ${[...prefixes].slice(0, 10).join(', ')}. Not a CMID pretraining checkpoint?`);
  }
  return out;
}
