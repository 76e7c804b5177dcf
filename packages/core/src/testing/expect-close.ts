/**
 * Numeric comparison for tests: max-abs-diff relative to the scale of the expected values, with a report that
 * names the worst element. `rtol` is relative to max(|expected|) (so near-zero elements do not dominate), plus
 * an absolute floor `atol`.
 */
export interface CloseReport {
  ok: boolean;
  maxAbsDiff: number;
  scale: number;
  worstIndex: number;
  message: string;
}

export type NumArray = ArrayLike<number>;

export function compareClose(actual: NumArray, expected: NumArray, rtol = 1e-4, atol = 1e-6): CloseReport {
  if (actual.length !== expected.length) {
    return {
      ok: false,
      maxAbsDiff: Infinity,
      scale: 0,
      worstIndex: -1,
      message: `length ${actual.length} != expected length ${expected.length}`,
    };
  }
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let maxAbsDiff = 0;
  let worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= maxAbsDiff)) {
      maxAbsDiff = d; // NaN lands here too and stays
      worstIndex = i;
      if (Number.isNaN(d)) break;
    }
  }
  const tol = rtol * scale + atol;
  const ok = maxAbsDiff <= tol;
  const message =
    `max |actual-expected| = ${maxAbsDiff.toExponential(3)} at [${worstIndex}] ` +
    `(actual ${worstIndex >= 0 ? actual[worstIndex] : '-'}, expected ${worstIndex >= 0 ? expected[worstIndex] : '-'}); ` +
    `tolerance ${tol.toExponential(3)} = rtol ${rtol} x scale ${scale.toExponential(3)} + atol ${atol}`;
  return { ok, maxAbsDiff, scale, worstIndex, message };
}

/** Throws with the report unless `actual` is close to `expected`. */
export function expectClose(actual: NumArray, expected: NumArray, rtol = 1e-4, atol = 1e-6, label = ''): CloseReport {
  const r = compareClose(actual, expected, rtol, atol);
  if (!r.ok) throw new Error(`${label ? label + ': ' : ''}${r.message}`);
  return r;
}
