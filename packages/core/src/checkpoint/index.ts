/**
 * Checkpoint IO without tfjs: torch.save zip files (.pth), safetensors, key remapping and CMID backbone
 * extraction. Tensors are plain typed arrays (tensor.ts).
 */
export {
  DTYPE_BYTES,
  isCheckpointTensor,
  numel,
  toFloat32,
  float32ToBfloat16,
  type CheckpointDtype,
  type CheckpointTensor,
  type StateDict,
  type TensorArray,
} from './tensor.js';
export { readPth, type Checkpoint, type ReadPthOptions, type OpaqueObject } from './pth/read-pth.js';
export { ZipContainer, type ZipEntry } from './pth/zip-container.js';
export { unpickle, PickleError, type PickleHooks, type PyGlobal, type PyValue } from './pth/pickle-vm.js';
export { findStateDict, isStateDict, STATE_DICT_KEYS, type FoundStateDict } from './state-dict.js';
export { readSafetensors, decodeSafetensors, encodeSafetensors, writeSafetensors, type Safetensors } from './safetensors.js';
export { stripPrefix, remapKeys, detectPrefix, stripCommonPrefixes, COMMON_PREFIXES, type RemapRule } from './remap.js';
export { extractBackbone, CMID_ENCODER_PREFIXES, type ExtractOptions } from './extract.js';
export { writeFileAtomic, openAtomic, type AtomicFile } from './atomic-write.js';
