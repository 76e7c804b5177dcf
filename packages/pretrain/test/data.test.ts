import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CmidError, initBackend, Rng } from '@cmid/core';
import { ensureSynthetic } from '@cmid/core/synth';
import { cmidSample, collateCmid, listPretrainImages } from '../src/data.js';

beforeAll(async () => {
  await initBackend();
});

describe('pretraining data', () => {
  it('reads the Potsdam release layout (RGB tiles only) and transforms a GeoTIFF tile', async () => {
    const root = await ensureSynthetic('potsdam', { size: 'tiny' });
    const samples = await listPretrainImages(root, 'potsdam');
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => /2_Ortho_RGB\/top_potsdam_\d+_\d+_RGB\.tif$/.test(s.path))).toBe(true);
    const map = cmidSample({ transform: { size: 64, maskPatchSize: 16 }, numMatches: 3 });
    const item = await map(samples[0]!, { index: 0, epoch: 0, rng: new Rng(1) });
    expect(item.img.length).toBe(64 * 64 * 3);
    expect(item.mask.length).toBe(16 * 16);
    expect(item.orgInput.length).toBe(3);
    const batch = collateCmid([item, item], 4);
    expect(batch.img!.shape).toEqual([2, 64, 64, 3]);
    expect(batch.mask!.shape).toEqual([2, 16, 16]);
    expect(Array.from(batch.match_org_student!.data).slice(3)).toEqual(Array.from(item.orgInput, (i) => 4 + i));
  });

  it('a MillionAID-style folder is read recursively; a truncated image is an error naming the file', async () => {
    const root = await ensureSynthetic('millionaid', { size: 'tiny' });
    expect((await listPretrainImages(root)).length).toBe(12);
    const bad = join(await mkdtemp(join(tmpdir(), 'cmid-bad-')), 'broken.jpg');
    await writeFile(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70]));
    const map = cmidSample({ transform: { size: 64, maskPatchSize: 16 }, numMatches: 3 });
    const err = await Promise.resolve(map({ path: bad }, { index: 0, epoch: 0, rng: new Rng(1) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect((err as Error).message).toContain('broken.jpg');
  });
});
