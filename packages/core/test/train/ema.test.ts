/** EMA teacher: the cosine tau schedule, CMID's update timing (cmid.md 7), the pure update and the eager helper. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, Linear, LOWERINGS, seedInit, trace } from '../../src/index.js';
import { expectClose, randomArray } from '../../src/testing/index.js';
import { cmidEmaTau, emaPairsByName, emaTau, emaUpdate, emaUpdateVariables } from '../../src/train/ema.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('tau schedule: 1 - (1 - base)(cos(pi t / T) + 1) / 2', () => {
  it('base at t = 0, halfway at T/2, 1 at T (CMID 0.996 -> 1)', () => {
    expect(emaTau(0, 1000)).toBe(0.996);
    expect(emaTau(500, 1000)).toBeCloseTo(0.998, 15);
    expect(emaTau(1000, 1000)).toBe(1);
    expect(emaTau(1, 1000)).toBeCloseTo(0.9960000098695962, 15);
    // solo-learn style base 0.99 -> final 0.999 (MoCo v2+)
    expect(emaTau(0, 10, 0.99, 0.999)).toBeCloseTo(0.99, 15);
    expect(emaTau(5, 10, 0.99, 0.999)).toBeCloseTo(0.9945, 15);
    expect(emaTau(10, 10, 0.99, 0.999)).toBeCloseTo(0.999, 15);
  });

  it("CMID timing: no update at t = 0, tau(t - 1) afterwards, the constructor's 0.996 first after a resume", () => {
    const T = 1000;
    expect(cmidEmaTau(0, T)).toBeNull();
    expect(cmidEmaTau(1, T)).toBe(0.996);
    expect(cmidEmaTau(2, T)).toBe(emaTau(1, T));
    expect(cmidEmaTau(501, T)).toBe(emaTau(500, T));
    expect(cmidEmaTau(T - 1, T)).toBe(emaTau(T - 2, T));
    expect(cmidEmaTau(600, T, { runStart: 600 })).toBe(0.996);
    expect(cmidEmaTau(601, T, { runStart: 600 })).toBe(emaTau(600, T));
  });
});

describe('emaUpdate', () => {
  it('tau * teacher + (1 - tau) * student; exact on representable values, float64-accurate with oneMinusTau', () => {
    const t = tf.tensor([1, 2, 3, -4]);
    const s = tf.tensor([5, 6, 7, 8]);
    const y = emaUpdate(t, s, tf.scalar(0.75));
    expect(Array.from(y.dataSync())).toEqual([2, 3, 4, -1]);
    const tv = randomArray(50, 1);
    const sv = randomArray(50, 2);
    const tau = 0.996;
    const ref = Array.from(tv, (a, i) => tau * a + (1 - tau) * sv[i]!); // float64
    const z = emaUpdate(tf.tensor(tv), tf.tensor(sv), tf.scalar(tau), tf.scalar(1 - tau));
    expectClose(z.dataSync(), ref, 1e-7, 0);
    // the inputs are not modified
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, -4]);
    expect(Array.from(s.dataSync())).toEqual([5, 6, 7, 8]);
    tf.dispose([t, s, y, z]);
  });

  it('traces to ops that all have ONNX lowerings (tau is a graph input)', () => {
    const inputs = { teacher: tf.tensor(randomArray(6, 3), [2, 3]), student: tf.tensor(randomArray(6, 4), [2, 3]), tau: tf.scalar(0.99), oneMinusTau: tf.scalar(0.01) };
    const r = trace((i) => emaUpdate(i.teacher!, i.student!, i.tau as tf.Scalar, i.oneMinusTau as tf.Scalar), { inputs });
    expect(r.graph.nodes.filter((n) => !n.folded && LOWERINGS[n.op] === undefined).map((n) => n.op)).toEqual([]);
    expect(r.graph.nodes.filter((n) => !n.folded).length).toBeGreaterThanOrEqual(3);
    tf.dispose([...r.outputs, ...Object.values(inputs)]);
  });
});

describe('emaUpdateVariables over named parameters', () => {
  it('updates every teacher parameter from the same-named student parameter, leaks nothing, checks names and shapes', () => {
    seedInit(1);
    const student = new Linear(3, 2);
    seedInit(2);
    const teacher = new Linear(3, 2);
    const pairs = emaPairsByName(student.namedParameters(), teacher.namedParameters());
    expect(pairs.length).toBe(2);
    const before = pairs.map((p) => ({ t: Array.from(p.teacher.dataSync()), s: Array.from(p.student.dataSync()) }));
    const n = tf.memory().numTensors;
    emaUpdateVariables(pairs, 0.9);
    expect(tf.memory().numTensors).toBe(n);
    pairs.forEach((p, i) => {
      const { t, s } = before[i]!;
      expectClose(p.teacher.dataSync(), t.map((a, j) => 0.9 * a + 0.1 * s[j]!), 1e-7, 0, `pair ${i}`);
      expect(Array.from(p.student.dataSync())).toEqual(s);
    });
    const other = new Linear(2, 2, false);
    expect(() => emaPairsByName(student.namedParameters(), other.namedParameters())).toThrow(/teacher has no parameter "bias"/);
    expect(() => emaUpdateVariables([{ teacher: teacher.weight, student: other.weight }], 0.9)).toThrow(/differ in shape/);
    student.dispose();
    teacher.dispose();
    other.dispose();
  });
});
