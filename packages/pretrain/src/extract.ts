/**
 * `cmid extract`: the backbone-only checkpoint out of a pretraining checkpoint, as the reference `extract.py` does
 * (cmid.md §11): keep the student backbone (`online_encoder.model.*`, or the EMA teacher `branch_encoder.*` on
 * request), strip the prefix, drop everything else (mask token, heads, queue, centre, optimiser state). Reads this
 * toolkit's pretraining checkpoints (safetensors) and the reference's `.pth` files; writes safetensors with
 * PyTorch key names and layouts (`conv1.weight` [64, 3, 7, 7], ...; num_batches_tracked as int64), which load
 * into @cmid/core backbones, torchvision/timm ResNets and mmseg/mmcls Swins alike.
 */
import { CmidError, extractBackbone, readPth, readSafetensors, writeSafetensors, type Checkpoint, type StateDict } from '@cmid/core';
import { CHECKPOINT_FORMAT } from './checkpoint.js';

export interface ExtractResult {
  tensors: StateDict;
  /** Backbone name when known (from our checkpoint's config). */
  backbone?: string;
  source: 'cmid-pretrain' | 'reference-pth';
}

export async function extractFromCheckpoint(file: string, encoder: 'student' | 'teacher' = 'student'): Promise<ExtractResult> {
  if (file.endsWith('.safetensors')) {
    const st = await readSafetensors(file);
    if (st.metadata.format !== CHECKPOINT_FORMAT) {
      throw new CmidError('input', `${file}: not a pretraining checkpoint (no "${CHECKPOINT_FORMAT}" format tag); it may already be an extracted backbone.`, { file });
    }
    // the checkpoint's tensors are the reference's `model` entry, so core's extract.py port applies as is
    const out = extractBackbone({ file, archive: '', tensorCount: st.tensors.size, root: new Map([['model', st.tensors]]) } satisfies Checkpoint, { encoder });
    const meta = JSON.parse(st.metadata.meta ?? '{}') as { config?: { backbone?: string } };
    return { tensors: out, ...(meta.config?.backbone !== undefined ? { backbone: meta.config.backbone } : {}), source: 'cmid-pretrain' };
  }
  const ckpt = await readPth(file);
  return { tensors: extractBackbone(ckpt, { encoder }), source: 'reference-pth' };
}

/** Extracts and writes `out` (safetensors); returns the number of tensors written. */
export async function extractToFile(file: string, out: string, encoder: 'student' | 'teacher' = 'student'): Promise<ExtractResult> {
  const r = await extractFromCheckpoint(file, encoder);
  await writeSafetensors(out, r.tensors, { format: 'pt', source: `cmid extract (${encoder}) of ${file}`, ...(r.backbone !== undefined ? { backbone: r.backbone } : {}) });
  return r;
}
