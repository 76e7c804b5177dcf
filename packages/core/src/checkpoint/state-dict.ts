/**
 * Finding the state dict inside the wrappers that training code saves around it.
 */
import { checkpointError, isCheckpointTensor, type StateDict } from './tensor.js';
import type { Checkpoint } from './pth/read-pth.js';

/**
 * Keys tried, in order, after the object itself (which covers torchvision/timm files, CMID's extract.py output
 * and other released backbone-only weights):
 * - `state_dict`: MoCo v1-v3, SwAV, PyTorch Lightning `.ckpt` (SeCo, solo-learn), mmcv / mmselfsup.
 * - `model`: MAE, DeiT, Barlow Twins `checkpoint.pth`, and CMID's own Trainer (full pretraining checkpoint).
 * - `teacher` before `student`: DINO saves both; its authors evaluate and release the teacher.
 * - `online_network`, `online_network_state_dict`: BYOL re-implementations (the online network is the one used).
 * - `network`, `net`, `module`: other trainers, and DeepSpeed-style wrappers.
 */
export const STATE_DICT_KEYS = [
  'state_dict',
  'model',
  'teacher',
  'student',
  'online_network',
  'online_network_state_dict',
  'network',
  'net',
  'module',
] as const;

export interface FoundStateDict {
  readonly stateDict: StateDict;
  /** Where it was: [] for the object itself, ['state_dict'], ['model'], ... (one or two levels). */
  readonly path: readonly string[];
}

/** True for a non-empty dict whose keys are all strings and whose values are all tensors. */
export function isStateDict(v: unknown): v is StateDict {
  if (!(v instanceof Map) || v.size === 0) return false;
  for (const [k, t] of v) if (typeof k !== 'string' || !isCheckpointTensor(t)) return false;
  return true;
}

/**
 * Returns the state dict in `obj` (a Checkpoint from readPth, or its `root`) and where it was found. Tries the
 * object, then each of `keys` (default STATE_DICT_KEYS) one level down, then the same keys two levels down
 * (e.g. `{ model: { state_dict } }`). Throws CmidError 'checkpoint' listing the top-level keys when none fits.
 *
 * @example
 * findStateDict(await readPth('moco_v2_800ep.pth')).path // ['state_dict']
 */
export function findStateDict(obj: Checkpoint | unknown, keys: readonly string[] = STATE_DICT_KEYS): FoundStateDict {
  const isCkpt = typeof obj === 'object' && obj !== null && 'root' in obj && 'file' in obj && !(obj instanceof Map);
  const root = isCkpt ? (obj as Checkpoint).root : obj;
  const file = isCkpt ? (obj as Checkpoint).file : '<checkpoint>';
  if (isStateDict(root)) return { stateDict: root, path: [] };
  if (root instanceof Map) {
    for (const k of keys) if (isStateDict(root.get(k))) return { stateDict: root.get(k) as StateDict, path: [k] };
    for (const k of keys) {
      const inner = root.get(k);
      if (inner instanceof Map) for (const k2 of keys) if (isStateDict(inner.get(k2))) return { stateDict: inner.get(k2) as StateDict, path: [k, k2] };
    }
    const top = [...root.keys()].slice(0, 12).map((k) => {
      const v = root.get(k);
      return `${String(k)} (${v instanceof Map ? `dict of ${v.size}` : isCheckpointTensor(v) ? 'tensor' : Array.isArray(v) ? 'list' : typeof v})`;
    });
    throw checkpointError(
      file,
      `no state dict found: the object is not a dict of tensors, and none of the keys ${keys.join(', ')} holds one. ` +
        `Top-level keys: ${top.join(', ')}${root.size > 12 ? ', ...' : ''}.`,
    );
  }
  throw checkpointError(file, `no state dict found: the checkpoint holds a ${Array.isArray(root) ? 'list' : typeof root}, not a dict.`);
}
