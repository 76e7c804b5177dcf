import { describe, expect, it } from 'vitest';
import { deriveRngState, epochOrder, importFactory, moduleUrl, sampleRng } from '../../src/data/sample-map.js';
import { CmidError } from '../../src/runtime/errors.js';

describe('epochOrder', () => {
  it('n=10 seed=0: a pinned permutation (changing it breaks resuming runs made before)', () => {
    expect(Array.from(epochOrder(10, { seed: 0, epoch: 0 }))).toEqual(PINNED_E0);
    expect(Array.from(epochOrder(10, { seed: 0, epoch: 1 }))).toEqual(PINNED_E1);
  });

  it('n=1000: a permutation, the same for the same (seed, epoch), different across epochs and seeds', () => {
    const a = epochOrder(1000, { seed: 7, epoch: 3 });
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochOrder(1000, { seed: 7, epoch: 3 })).toEqual(a);
    expect(epochOrder(1000, { seed: 7, epoch: 4 })).not.toEqual(a);
    expect(epochOrder(1000, { seed: 8, epoch: 3 })).not.toEqual(a);
    expect(Array.from(epochOrder(5, { seed: 7, epoch: 3, shuffle: false }))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('sampleRng', () => {
  it('is a pure function of (seed, epoch, index), and neighbours differ', () => {
    const draw = (s: number, e: number, i: number): number[] => Array.from({ length: 4 }, ((r) => () => r.nextU32())(sampleRng(s, e, i)));
    expect(draw(1, 2, 3)).toEqual(draw(1, 2, 3));
    const seen = new Set<string>();
    for (let e = 0; e < 4; e++) for (let i = 0; i < 64; i++) seen.add(draw(1, e, i).join(','));
    expect(seen.size).toBe(256);
    expect(draw(2, 0, 0)).not.toEqual(draw(1, 0, 0));
    // seeds above 2^32 are not truncated
    expect(deriveRngState(2 ** 32 + 5, 0)).not.toEqual(deriveRngState(5, 0));
  });
});

describe('moduleUrl / importFactory', () => {
  it('accepts URL objects, file: URLs and paths; refuses bare names with the fix', () => {
    expect(moduleUrl({ module: new URL('file:///a/b.js'), export: 'x' })).toBe('file:///a/b.js');
    expect(moduleUrl({ module: '/a/b.js', export: 'x' })).toBe('file:///a/b.js');
    expect(() => moduleUrl({ module: 'some-package', export: 'x' })).toThrow(/new URL\('\.\/your-map\.js', import\.meta\.url\)/);
  });

  it('a missing export is an error naming the module, the export and what is exported', async () => {
    const url = new URL('./fixtures/toy-map.ts', import.meta.url);
    const e = await importFactory({ module: url, export: 'nope' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CmidError);
    expect((e as Error).message).toContain('toy-map.ts has no exported function "nope"');
    expect((e as Error).message).toContain('toyDecodeAugment');
  });
});

const PINNED_E0 = [5, 7, 9, 4, 0, 6, 8, 3, 2, 1];
const PINNED_E1 = [4, 8, 5, 2, 6, 3, 9, 7, 1, 0];
