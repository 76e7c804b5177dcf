/**
 * MAE's per-sample random token masking (facebookresearch/mae models_mae.py `random_masking`,
 * baselines-datasets.md §2.5): per sample, uniform noise per token, ids_shuffle = argsort(noise) (ascending),
 * ids_restore = argsort(ids_shuffle), keep the first len_keep = trunc(L * (1 - ratio)) shuffled ids; mask = 1 for
 * removed tokens, in the original token order. Ties (probability ~ 2^-32) are broken by the lower token index.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';

export interface MaeMask {
  batch: number;
  numTokens: number;
  lenKeep: number;
  /** [batch * lenKeep]: token ids the encoder sees, in shuffled order. */
  idsKeep: Int32Array;
  /** [batch * numTokens]: position of each token in the shuffled order (to unshuffle the decoder input). */
  idsRestore: Int32Array;
  /** [batch * numTokens]: 1 = removed (masked), 0 = kept. */
  mask: Uint8Array;
}

/**
 * ```ts
 * const m = maeRandomMask(rng, 8, 196, 0.75); // m.lenKeep = 49; every sample keeps 49 tokens
 * ```
 */
export function maeRandomMask(rng: Rng, batch: number, numTokens: number, maskRatio = 0.75): MaeMask {
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(numTokens) || numTokens < 1) {
    throw new CmidError('input', `maeRandomMask: batch (${batch}) and numTokens (${numTokens}) must be positive integers.`);
  }
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new CmidError('config', `maeRandomMask: maskRatio must lie in [0, 1), got ${maskRatio}.`);
  const L = numTokens;
  const lenKeep = Math.trunc(L * (1 - maskRatio));
  const idsKeep = new Int32Array(batch * lenKeep);
  const idsRestore = new Int32Array(batch * L);
  const mask = new Uint8Array(batch * L);
  const noise = new Float64Array(L);
  const order = new Int32Array(L);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < L; i++) {
      noise[i] = rng.next();
      order[i] = i;
    }
    order.sort((a, c) => noise[a]! - noise[c]! || a - c);
    for (let k = 0; k < L; k++) {
      const id = order[k]!;
      idsRestore[b * L + id] = k;
      mask[b * L + id] = k < lenKeep ? 0 : 1;
      if (k < lenKeep) idsKeep[b * lenKeep + k] = id;
    }
  }
  return { batch, numTokens: L, lenKeep, idsKeep, idsRestore, mask };
}
