/**
 * Learning-rate schedules as plain JS functions of the iteration index (float64). The value for iteration t is
 * the lr used by the optimiser step taken at iteration t (CMID sets it in `before_iter`, before the forward).
 *
 * - `cmidLr` / `warmupCosineLr`: CMID's CosineAnnealingLrUpdaterHook (cmid.md section 8.3): per-iteration cosine
 *   from the base lr to min_lr over the whole run, multiplied during the first W iterations by the linear warm-up
 *   factor (1 - (1 - t/W)(1 - ratio)) = ratio + (1 - ratio) t / W. The warm-up does not shift the cosine.
 * - `cosineLr`: plain cosine annealing (MoCo v2 `--cos` per epoch with min 0; SwAV 0.6 -> 0.0006 per iteration).
 * - `stepLr`: multi-step decay (SeCo: x0.1 at epochs 120 and 160; mmrotate step [8, 11]).
 * - `linearWarmupCosineLr`: PyTorch Lightning Bolts' LinearWarmupCosineAnnealingLR closed form (solo-learn).
 * Layer-wise lr decay is not used by CMID pretraining or UCM fine-tuning (cmid.md section 8.4); per-parameter
 * multipliers go into ParamSpec.lrScale.
 */

/** min + (base - min) (1 + cos(pi t / total)) / 2, with t clamped to [0, total] (mmcv `annealing_cos`). */
export function cosineLr(t: number, total: number, base: number, min = 0): number {
  if (!(total > 0)) throw new RangeError(`cosineLr: total must be > 0, got ${total}.`);
  const f = Math.min(Math.max(t, 0), total) / total;
  return min + 0.5 * (base - min) * (Math.cos(Math.PI * f) + 1);
}

export interface WarmupCosineOptions {
  /** the group's base lr (CMID: config lr x world size) */
  baseLr: number;
  /** cosine floor (CMID: 1e-6, not scaled by the world size) */
  minLr: number;
  /** total iterations T = epochs x iterations per epoch */
  totalIters: number;
  /** warm-up iterations W = warmup_epochs x iterations per epoch (0: none) */
  warmupIters: number;
  /** lr factor at t = 0 (CMID warmup_factor 0.01) */
  warmupRatio?: number;
}

/** CMID's per-iteration lr (cmid.md 8.3) at global iteration t (0-based). */
export function warmupCosineLr(t: number, o: WarmupCosineOptions): number {
  const ratio = o.warmupRatio ?? 0.01;
  const regular = cosineLr(t, o.totalIters, o.baseLr, o.minLr);
  if (o.warmupIters > 0 && t < o.warmupIters) {
    const k = (1 - t / o.warmupIters) * (1 - ratio);
    return regular * (1 - k);
  }
  return regular;
}

export interface CmidLrOptions {
  baseLr: number;
  minLr?: number;
  epochs: number;
  itersPerEpoch: number;
  warmupEpochs: number;
  warmupRatio?: number;
}

/**
 * CMID's schedule in its config terms: `cmidLr({ baseLr: 0.001 * 4, minLr: 1e-6, epochs: 400, itersPerEpoch,
 * warmupEpochs: 10 })(t)`; warm-up is counted in epochs and converted to iterations (warmup_by_epoch).
 */
export function cmidLr(o: CmidLrOptions): (t: number) => number {
  const opts: WarmupCosineOptions = {
    baseLr: o.baseLr,
    minLr: o.minLr ?? 1e-6,
    totalIters: o.epochs * o.itersPerEpoch,
    warmupIters: o.warmupEpochs * o.itersPerEpoch,
    warmupRatio: o.warmupRatio ?? 0.01,
  };
  return (t) => warmupCosineLr(t, opts);
}

/** base x gamma^(number of milestones <= t) (torch MultiStepLR; t and milestones in the same unit). */
export function stepLr(t: number, base: number, milestones: readonly number[], gamma = 0.1): number {
  let k = 0;
  for (const m of milestones) if (t >= m) k++;
  return base * gamma ** k;
}

export interface LinearWarmupCosineOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** default 0 */
  warmupStartLr?: number;
  /** default 0 */
  etaMin?: number;
}

/**
 * Lightning Bolts' LinearWarmupCosineAnnealingLR (`_get_closed_form_lr`), which solo-learn steps per iteration:
 * t < W: start + t (base - start) / max(1, W - 1); afterwards eta_min + (base - eta_min)(1 + cos(pi (t - W) /
 * (T - W))) / 2. Note the W - 1: the warm-up reaches the base lr at t = W - 1.
 */
export function linearWarmupCosineLr(t: number, o: LinearWarmupCosineOptions): number {
  const start = o.warmupStartLr ?? 0;
  const etaMin = o.etaMin ?? 0;
  if (t < o.warmupSteps) return start + (t * (o.baseLr - start)) / Math.max(1, o.warmupSteps - 1);
  return etaMin + 0.5 * (o.baseLr - etaMin) * (1 + Math.cos((Math.PI * (t - o.warmupSteps)) / (o.totalSteps - o.warmupSteps)));
}
