/**
 * The whole path on the synthetic sets: CMID pretraining (tiny run) -> extract -> fine-tune from the extracted
 * backbone and from random init with the same recipe and budget -> eval -> ONNX predict, and the ONNX and tfjs
 * predictions of the fine-tuned model agree.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@cmid/core';
import { CMID_TINY, extractToFile, mergeConfig, pretrain } from '@cmid/pretrain';
import { CLASSIFY_TINY, finetune, mergeClassifyConfig, openSceneDataset, ScenePredictor } from '@cmid/classify';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('pretrain -> extract -> fine-tune -> eval -> ONNX predict', () => {
  it('fine-tuning from the CMID backbone beats random init, and ONNX and tfjs predictions agree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmid-e2e-'));
    const pt = await pretrain({ config: mergeConfig(CMID_TINY, { epochs: 3 }), out: join(dir, 'pt'), synthSize: 'small', progress: null, preview: false, workers: 1 });
    const backbone = join(dir, 'backbone.safetensors');
    await extractToFile(pt.checkpoint, backbone);

    const ds = await openSceneDataset('synthetic', undefined, { seed: 0, size: 'small' });
    // head-only fine-tuning (frozen backbone), plain augmentation: at this tiny scale (36 pretraining steps) full
    // fine-tuning from random init catches up with the pretrained start within a few epochs (docs/decisions.md)
    const config = mergeClassifyConfig(CLASSIFY_TINY, { epochs: 4, aa: null, mixup: 0, cutmix: 0, reprob: 0, smoothing: 0, freezeBackbone: true, lr: 0.01 });
    const cmid = await finetune({ config, out: join(dir, 'ft-cmid'), dataset: ds, weights: backbone, progress: null });
    const rand = await finetune({ config, out: join(dir, 'ft-random'), dataset: ds, progress: null });
    expect(cmid.losses[cmid.losses.length - 1]).toBeLessThan(cmid.losses[0]!);
    expect(cmid.final.oa).toBeGreaterThan(100 / 21 + 5); // well above chance
    expect(cmid.final.oa).toBeGreaterThan(rand.final.oa);

    const paths = ds.test.map((s) => s.path);
    const onnx = await ScenePredictor.open(join(dir, 'ft-cmid'), { engine: 'onnx' });
    const eager = await ScenePredictor.open(join(dir, 'ft-cmid', 'model.safetensors'), { engine: 'tfjs' });
    const a = await onnx.predictFiles(paths);
    const b = await eager.predictFiles(paths);
    await onnx.close();
    await eager.close();
    expect(a.predictions.map((p) => p.index)).toEqual(b.predictions.map((p) => p.index));
    let worst = 0;
    a.predictions.forEach((p, i) => p.probabilities.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b.predictions[i]!.probabilities[k]!)))));
    expect(worst).toBeLessThan(1e-4);
    // predictions of the ONNX file reproduce the final evaluation
    const correct = a.predictions.filter((p, i) => p.index === ds.test[i]!.label).length;
    expect((100 * correct) / paths.length).toBeCloseTo(cmid.final.oa, 6);
  }, 900_000);
});
