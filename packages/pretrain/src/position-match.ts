/**
 * CMID's `position_match` (cmid.md §5.3) as index arithmetic on the host. It involves no gradient: given the cell
 * centres of two views it says which student cells are paired with which teacher cells, and the model then gathers
 * features with those indices (so the compiled training graph gets them as int32 inputs).
 *
 * For each input cell i: its nearest candidate cell nn(i) = argmin_j ||loc_in[i] - loc_cand[j]|| and that distance
 * d(i). The `numMatches` input cells with the smallest d are kept and emitted in increasing cell order, each with
 * its partner nn(i). Distances are exact (float64 on float32 coordinates); ties are broken by the lower index, both
 * for nn and for the ranking. The reference decides near-ties by the rounding noise of torch.cdist's matrix-product
 * form and an unstable sort (quirk 20): about 1-2 % of calls select a different subset there; documented in
 * docs/deviations.md.
 */
import { CmidError } from '@cmid/core';

export interface Matches {
  /** Selected input (student) cells, increasing. */
  input: Int32Array;
  /** Their nearest candidate (teacher) cells, aligned with `input`. */
  candidate: Int32Array;
}

/**
 * @param inputLoc  [cells * 2] (row, col) centres of the student view's cells, row-major cells
 * @param candLoc   [cells * 2] centres of the other view's cells
 */
export function positionMatch(inputLoc: ArrayLike<number>, candLoc: ArrayLike<number>, numMatches: number): Matches {
  const n = inputLoc.length / 2;
  const m = candLoc.length / 2;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n === 0 || m === 0) {
    throw new CmidError('config', `positionMatch: locations must be [cells, 2] (got ${inputLoc.length} and ${candLoc.length} values).`);
  }
  if (!Number.isInteger(numMatches) || numMatches < 1 || numMatches > n) {
    throw new CmidError('config', `positionMatch: numMatches ${numMatches} must be in 1..${n} (the number of feature cells); lower num_matches or raise the input size.`);
  }
  const nn = new Int32Array(n);
  const dmin = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = inputLoc[2 * i]!, c = inputLoc[2 * i + 1]!;
    let best = 0, bestD = Infinity;
    for (let j = 0; j < m; j++) {
      const d = Math.hypot(r - candLoc[2 * j]!, c - candLoc[2 * j + 1]!);
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    nn[i] = best;
    dmin[i] = bestD;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dmin[a]! - dmin[b]! || a - b);
  const keep = order.slice(0, numMatches).sort((a, b) => a - b);
  return { input: Int32Array.from(keep), candidate: Int32Array.from(keep, (i) => nn[i]!) };
}
