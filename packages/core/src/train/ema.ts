/**
 * EMA teacher (cmid.md section 7; BYOL / solo-learn `MomentumUpdater`):
 *
 *   theta_teacher <- tau * theta_teacher + (1 - tau) * theta_student
 *   tau(t) = final - (final - base) * (cos(pi t / T) + 1) / 2        (final = 1: tau goes from base to 1)
 *
 * `emaUpdate` is pure (tf ops only) so the compiled engine can trace it with tau as a graph input; pass
 * `oneMinusTau` computed in float64 as well, otherwise 1 - tau is formed in float32 from the rounded tau
 * (for tau = 0.996 that coefficient is off by ~1.5e-5 relative; PyTorch forms 1 - tau in float64).
 * `cmidEmaTau` reproduces CMID's exact timing (skip at t = 0, tau lagging one step, base tau after a resume).
 */
import * as tf from '@tensorflow/tfjs';

/** The cosine momentum schedule at step t of T (t clamped to [0, T]). */
export function emaTau(t: number, total: number, base = 0.996, final = 1): number {
  if (!(total > 0)) throw new RangeError(`emaTau: total must be > 0, got ${total}.`);
  const f = Math.min(Math.max(t, 0), total) / total;
  return final - ((final - base) * (Math.cos(Math.PI * f) + 1)) / 2;
}

export interface CmidEmaOptions {
  /** base_momentum, default 0.996 */
  base?: number;
  /** final_momentum, default 1 */
  final?: number;
  /** first iteration of this process (0 for a fresh run, the resume iteration otherwise) */
  runStart?: number;
}

/**
 * The tau CMID's EMAHook applies at global iteration t of T, or null when it applies none (cmid.md section 7):
 * the hook updates only when t > last_step (last_step starts at 0, so never at t = 0), with the tau it stored at
 * the previous update, i.e. tau(t - 1); the stored tau starts at the constructor's base, which is what the first
 * update of a process uses (after a resume too, as the hook has no saved state).
 */
export function cmidEmaTau(t: number, total: number, options: CmidEmaOptions = {}): number | null {
  const base = options.base ?? 0.996;
  const final = options.final ?? 1;
  const runStart = options.runStart ?? 0;
  if (t <= 0) return null;
  if (t === runStart) return base;
  return emaTau(t - 1, total, base, final);
}

/** tau * teacher + (1 - tau) * student; pure. `oneMinusTau` defaults to 1 - tau in float32. */
export function emaUpdate(teacher: tf.Tensor, student: tf.Tensor, tau: tf.Scalar, oneMinusTau?: tf.Scalar): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tau, teacher), tf.mul(oneMinusTau ?? tf.sub(1, tau), student)));
}

/** A teacher variable and the student tensor it follows. */
export interface EmaPair {
  teacher: tf.Variable;
  student: tf.Tensor;
}

/**
 * Eager EMA over pairs (e.g. zipped `namedParameters()` of student and teacher, parameters only, not buffers):
 * assigns every teacher; `tau` is a JS number (1 - tau is taken in float64).
 */
export function emaUpdateVariables(pairs: readonly EmaPair[] | ReadonlyMap<string, EmaPair>, tau: number): void {
  const list: readonly EmaPair[] = isPairMap(pairs) ? [...pairs.values()] : pairs;
  const t = tf.scalar(tau, 'float32');
  const u = tf.scalar(1 - tau, 'float32');
  try {
    for (const { teacher, student } of list) {
      if (teacher.shape.length !== student.shape.length || teacher.shape.some((d, i) => d !== student.shape[i])) {
        throw new Error(`emaUpdateVariables: teacher [${teacher.shape}] and student [${student.shape}] differ in shape.`);
      }
      tf.tidy(() => {
        teacher.assign(emaUpdate(teacher, student, t, u));
      });
    }
  } finally {
    t.dispose();
    u.dispose();
  }
}

function isPairMap(x: readonly EmaPair[] | ReadonlyMap<string, EmaPair>): x is ReadonlyMap<string, EmaPair> {
  return x instanceof Map;
}

/** Pairs from two modules' named parameters (same names in both), in the student's order. */
export function emaPairsByName(
  student: Iterable<[string, { variable: tf.Variable }]>,
  teacher: Iterable<[string, { variable: tf.Variable }]>,
): EmaPair[] {
  const byName = new Map([...teacher].map(([n, p]) => [n, p.variable] as const));
  const out: EmaPair[] = [];
  for (const [n, p] of student) {
    const t = byName.get(n);
    if (t === undefined) throw new Error(`emaPairsByName: the teacher has no parameter "${n}".`);
    out.push({ teacher: t, student: p.variable });
    byName.delete(n);
  }
  if (byName.size > 0) throw new Error(`emaPairsByName: the student has no parameter ${[...byName.keys()].slice(0, 5).join(', ')}.`);
  return out;
}
