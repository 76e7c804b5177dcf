import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';

describe('Rng', () => {
  it('same seed, same stream; different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xa);
  });

  it('uniform mean and variance, normal moments (n=200k)', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0, s2 = 0, ns = 0, ns2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next(); s += u; s2 += u * u;
      const z = r.normal(); ns += z; ns2 += z * z;
    }
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(s2 / n - s * s / n / n - 1 / 12)).toBeLessThan(0.002);
    expect(Math.abs(ns / n)).toBeLessThan(0.01);
    expect(Math.abs(ns2 / n - 1)).toBeLessThan(0.02);
  });

  it('state round-trips for an exact resume', () => {
    const r = new Rng(7);
    for (let i = 0; i < 5; i++) r.next();
    const st = r.getState();
    const after = [r.next(), r.next(), r.int(0, 100)];
    const r2 = new Rng(0);
    r2.setState(st);
    expect([r2.next(), r2.next(), r2.int(0, 100)]).toEqual(after);
  });

  it('int stays in range and hits every value', () => {
    const r = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) { const v = r.int(2, 7); expect(v).toBeGreaterThanOrEqual(2); expect(v).toBeLessThan(7); seen.add(v); }
    expect([...seen].sort()).toEqual([2, 3, 4, 5, 6]);
  });
  it('storeWords / loadWords hand the stream out and back without touching the cached normal spare', () => {
    const a = new Rng(11), b = new Rng(11);
    a.normal();
    b.normal(); // both hold a spare now
    const words = new Uint32Array(6);
    a.storeWords(words, 1);
    expect(Array.from(words.subarray(1, 5))).toEqual(a.getState());
    // advance the copied state by 5 words "elsewhere" (here: another Rng), then load it back into a
    const elsewhere = new Rng(Array.from(words.subarray(1, 5)) as [number, number, number, number]);
    for (let i = 0; i < 5; i++) elsewhere.nextU32();
    elsewhere.storeWords(words, 2);
    a.loadWords(words, 2);
    for (let i = 0; i < 5; i++) b.nextU32();
    expect(a.getState()).toEqual(b.getState());
    expect(a.normal()).toBe(b.normal()); // the spare survived in a as in b
    expect([a.nextU32(), a.next()]).toEqual([b.nextU32(), b.next()]);
  });
});
