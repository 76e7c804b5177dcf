/**
 * The local (DINO-style self-distillation) loss of CMID, cmid.md section 4.3 (reference `LocalLoss`), with the
 * centre update of section 4.3 and section 13 item 7.
 *
 * Rows are (sample, matched cell) pairs: the reference's [B, P, n] logits (softmax over dim 1) are our [M, P]
 * with M = B * n rows, softmax over the last axis. For student logits s and teacher logits t (constants):
 *   P_t = softmax((t - c) / tau_t)   (detached),   log P_s = log_softmax(s / tau_s)
 *   loss = mean over the M rows of sum_k -P_t[k] log P_s[k]
 *   new centre c' = m c + (1 - m) * (sum of the rows of the RAW teacher t) / M.
 * The centre is returned, not assigned: CMID evaluates the loss twice per step and the second call must see the
 * centre updated by the first (item 7), so chain the calls: `const a = localDistillationLoss(s1, t1, c, o);
 * const b = localDistillationLoss(s2, t2, a.center, o); centerVar.assign(b.center)`.
 * tau_t may be a scalar tensor (it follows a per-epoch schedule and is fed to a compiled step as an input).
 */
import * as tf from '@tensorflow/tfjs';
import { noGrad, stopGradient } from './stop-gradient.js';

export interface LocalDistillationOptions {
  /** tau_s (CMID `online_temp` 0.1). */
  studentTemp: number;
  /** tau_t (CMID schedule 0.04 -> 0.07), a number or a scalar tensor. */
  teacherTemp: number | tf.Scalar;
  /** m (CMID 0.9). */
  centerMomentum: number;
}

export function localDistillationLoss(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  center: tf.Tensor,
  opts: LocalDistillationOptions,
): { loss: tf.Scalar; center: tf.Tensor1D } {
  if (student.rank !== 2 || teacher.rank !== 2) throw new Error(`localDistillationLoss: student and teacher must be [M, P], got [${student.shape}], [${teacher.shape}].`);
  if (student.shape[0] !== teacher.shape[0] || student.shape[1] !== teacher.shape[1]) {
    throw new Error(`localDistillationLoss: student [${student.shape}] and teacher [${teacher.shape}] differ in shape.`);
  }
  const [M, P] = student.shape;
  if (center.size !== P) throw new Error(`localDistillationLoss: center has ${center.size} values, expected P = ${P}.`);
  const { studentTemp, teacherTemp, centerMomentum: m } = opts;
  if (!(studentTemp > 0)) throw new Error(`localDistillationLoss: studentTemp must be > 0, got ${studentTemp}.`);
  if (typeof teacherTemp === 'number' && !(teacherTemp > 0)) throw new Error(`localDistillationLoss: teacherTemp must be > 0, got ${teacherTemp}.`);
  return tf.tidy(() => {
    const c = tf.reshape(center, [P]);
    const pt = noGrad((t, cc) => tf.softmax(tf.div(tf.sub(t, cc), teacherTemp), -1), teacher, c);
    const logps = tf.logSoftmax(tf.div(student, studentTemp), -1);
    const loss = tf.mean(tf.sum(tf.mul(tf.neg(pt), logps), 1)) as tf.Scalar;
    const batchCenter = tf.div(tf.sum(stopGradient(teacher), 0), M);
    const newCenter = tf.add(tf.mul(stopGradient(c), m), tf.mul(batchCenter, 1 - m)) as tf.Tensor1D;
    return { loss, center: newCenter };
  });
}
