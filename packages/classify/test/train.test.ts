import { copyFile, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@cmid/core';
import { CLASSIFY_TINY, finetune, listImages, mergeClassifyConfig, openSceneDataset, ScenePredictor, type SceneDataset } from '../src/index.js';

const REAL = join(__dirname, '..', '..', '..', '..', 'shared', 'data', 'real');

let ds: SceneDataset;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  const full = await openSceneDataset('synthetic', undefined, { seed: 0, size: 'tiny' });
  ds = full;
});

const config = mergeClassifyConfig(CLASSIFY_TINY, { size: 64, batchSize: 8, epochs: 2, backboneOptions: { baseWidth: 8 } });

describe('finetune', () => {
  it('resumes bit for bit after an interruption mid-epoch and writes log, plots, model files and confusion PNG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-ft-'));
    const full = await finetune({ config, out: join(dir, 'full'), dataset: ds, progress: null });
    expect(full.steps).toBe(2 * Math.floor(ds.train.length / 8));
    const cut = await finetune({ config, out: join(dir, 'cut'), dataset: ds, progress: null, maxSteps: 5 });
    expect(cut.steps).toBe(5);
    // a fresh run into the interrupted run's folder is refused (its checkpoint stays for the resume below)
    await expect(finetune({ config, out: join(dir, 'cut'), dataset: ds, progress: null })).rejects.toThrow(/cut already holds a run .*--resume.*--overwrite/);
    const resumed = await finetune({ config, out: join(dir, 'cut'), dataset: ds, progress: null, resume: true });
    expect(resumed.losses).toEqual(full.losses); // steps 1-5 from the log, the rest from the resumed run
    expect(resumed.final.oa).toBe(full.final.oa);
    for (const f of ['log.jsonl', 'loss.png', 'accuracy.png', 'model.onnx', 'model.safetensors', 'best.safetensors', 'metrics.json', 'confusion.png', 'checkpoints/last.safetensors']) {
      expect((await stat(join(dir, 'full', f))).size).toBeGreaterThan(0);
    }
    const metrics = JSON.parse(await readFile(join(dir, 'full', 'metrics.json'), 'utf8')) as { final: { oa: number } };
    expect(metrics.final.oa).toBe(full.final.oa);
  }, 600_000);

  it('stops on a corrupt training image naming it, or skips it with a warning; predict does the same per flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-ft-bad-'));
    const bad = join(dir, 'broken.jpg');
    await copyFile(join(REAL, 'scenes', 'broken-truncated-airport.jpg'), bad);
    const withBad: SceneDataset = { ...ds, train: [...ds.train, { path: join(dir, 'missing.tif'), label: 0 }] };
    await expect(finetune({ config, out: join(dir, 'a'), dataset: withBad, progress: null })).rejects.toThrow(/missing\.tif/);
    const warnings: string[] = [];
    const r = await finetune({ config: mergeClassifyConfig(config, { epochs: 1 }), out: join(dir, 'b'), dataset: withBad, onCorrupt: 'skip', progress: { write: (s: string) => { warnings.push(s); return true; } } as never });
    expect(warnings.join('')).toMatch(/missing\.tif/);
    expect(r.dataset.train).toBe(ds.train.length);

    const folder = join(dir, 'predict');
    await mkdir(folder);
    await copyFile(ds.test[0]!.path, join(folder, 'a.tif'));
    await copyFile(bad, join(folder, 'b.jpg'));
    await writeFile(join(folder, 'notes.txt'), 'not an image');
    const paths = await listImages([folder]);
    expect(paths.map((p) => p.slice(folder.length + 1))).toEqual(['a.tif', 'b.jpg']);
    const p = await ScenePredictor.open(join(dir, 'b'));
    await expect(p.predictFiles(paths)).rejects.toThrow(/b\.jpg/);
    const seen: string[] = [];
    const out = await p.predictFiles(paths, { onCorrupt: 'skip', warn: (m) => seen.push(m) });
    await p.close();
    expect(out.predictions.map((x) => x.path)).toEqual([paths[0]]);
    expect(out.skipped.map((x) => x.path)).toEqual([paths[1]]);
    expect(seen.join()).toMatch(/b\.jpg/);
  }, 600_000);
});
