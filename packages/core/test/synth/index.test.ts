import { afterAll, describe, expect, it, vi } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError } from '../../src/runtime/errors.js';
import { SYNTH_KINDS, generate, type SynthResult } from '../../src/synth/index.js';
import { hashTree, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describe('synth registry and generate()', () => {
  it('one writer per real layout', () => {
    expect(Object.keys(SYNTH_KINDS)).toEqual(['millionaid', 'seco', 'ucm', 'potsdam', 'vaihingen', 'dota', 'cdd']);
  });

  it("'all' writes every kind into <out>/<kind>, in registry order, with the same size and seed", async () => {
    const calls: Array<[string, string, string | undefined, number | undefined]> = [];
    const spies = Object.keys(SYNTH_KINDS).map((k) =>
      vi.spyOn(SYNTH_KINDS, k as keyof typeof SYNTH_KINDS).mockImplementation(async (o) => {
        calls.push([k, o.out, o.size, o.seed]);
        return { kind: k, out: o.out, size: o.size ?? 'tiny', seed: o.seed ?? 0, samples: 0, files: [] } satisfies SynthResult;
      }),
    );
    try {
      const kinds: string[] = [];
      const r = await generate('all', { out: '/data', size: 'small', seed: 9, onKind: (k) => kinds.push(k) });
      expect(r.map((x) => x.kind)).toEqual(Object.keys(SYNTH_KINDS));
      expect(kinds).toEqual(Object.keys(SYNTH_KINDS));
      expect(calls).toEqual(Object.keys(SYNTH_KINDS).map((k) => [k, join('/data', k), 'small', 9]));
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });

  it('an unknown kind, size or seed is a config error naming the valid choices', async () => {
    await expect(generate('eurosat' as never, { out: '/tmp/x' })).rejects.toThrow(/unknown dataset 'eurosat'. Valid: millionaid, seco, ucm, potsdam, vaihingen, dota, cdd, or 'all'/);
    await expect(generate('cdd', { out: '/tmp/x', size: 'huge' as never })).rejects.toThrow(CmidError);
    await expect(generate('cdd', { out: '/tmp/x', size: 'huge' as never })).rejects.toThrow(/tiny, small, medium/);
    await expect(generate('cdd', { out: '/tmp/x', seed: -1 })).rejects.toThrow(/seed must be an integer/);
  });

  it('progress reaches total; synth.json says how the folder was made; another seed gives other bytes', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const seen: Array<[number, number]> = [];
    const [r] = await generate('vaihingen', { out: a, size: 'tiny', seed: 1, onProgress: (d, t) => seen.push([d, t]) });
    await generate('vaihingen', { out: b, size: 'tiny', seed: 2 });
    expect(seen).toEqual([[1, 2], [2, 2]]);
    expect(r!.files).toContain('ISPRS_semantic_labeling_Vaihingen/top/top_mosaic_09cm_area1.tif');
    const manifest = JSON.parse(await readFile(join(a, 'synth.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ generator: '@cmid/core synth', kind: 'vaihingen', size: 'tiny', seed: 1, samples: 2, files: 6, synthetic: true });
    const [ha, hb] = [await hashTree(a), await hashTree(b)];
    const differing = [...ha.keys()].filter((f) => f !== 'synth.json' && ha.get(f) !== hb.get(f));
    expect(differing.length).toBe(6);
  });
});
