/** max |a - b| over max(max |b|, floor): relative to the tensor's scale, with a floor for tensors that are ~0. */
export function scaledErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, floor);
}
