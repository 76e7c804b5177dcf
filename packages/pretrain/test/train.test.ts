/**
 * The training loop: kill-and-resume gives the same state as an uninterrupted run (bit for bit), logs / plots /
 * previews / checkpoints are written, a non-finite loss stops the run and leaves the last checkpoint as it was,
 * and extract pulls a loadable backbone out of the checkpoint.
 */
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CmidError, createBackbone, initBackend, loadStateDict, readJsonl, readSafetensors } from '@cmid/core';
import { ensureSynthetic } from '@cmid/core/synth';
import { mergeConfig } from '../src/config.js';
import { extractFromCheckpoint } from '../src/extract.js';
import { pretrain } from '../src/train.js';
import { SMALL } from './helpers/batch.js';

let corpus: string;
beforeAll(async () => {
  await initBackend();
  corpus = await ensureSynthetic('millionaid', { size: 'tiny', seed: 0 }); // 12 images -> 3 steps per epoch at batch 4
});

const CFG = mergeConfig(SMALL, { epochs: 3, warmup_epochs: 1, optimizer: 'adan', lr: 1e-3 });
const tmp = () => mkdtemp(join(tmpdir(), 'cmid-pretrain-'));

describe('pretrain()', () => {
  it('resumes bit for bit after an interruption mid-epoch, and writes log, plot, preview and checkpoints', async () => {
    const full = await tmp();
    const a = await pretrain({ config: CFG, out: full, data: corpus, progress: null, workers: 0, keepCheckpoints: 2 });
    expect(a.steps).toBe(9);
    expect(a.itersPerEpoch).toBe(3);

    const cut = await tmp();
    const b1 = await pretrain({ config: CFG, out: cut, data: corpus, progress: null, workers: 0, maxSteps: 4 }); // epoch 1, batch 1
    expect(b1.steps).toBe(4);
    const b2 = await pretrain({ config: { ...CFG, lr: 123 }, out: cut, data: corpus, progress: null, workers: 2, resume: true }); // config comes from the checkpoint
    expect(b2.steps).toBe(9);

    const sa = await readSafetensors(join(full, 'checkpoints', 'last.safetensors'));
    const sb = await readSafetensors(join(cut, 'checkpoints', 'last.safetensors'));
    expect([...sb.tensors.keys()].sort()).toEqual([...sa.tensors.keys()].sort());
    let compared = 0;
    for (const [k, t] of sa.tensors) {
      const u = sb.tensors.get(k)!;
      expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
    // the losses of the resumed part equal the uninterrupted run's
    expect(b2.losses.slice(-5)).toEqual(a.losses.slice(-5));

    // log: one step record per step (the resumed run's log has no duplicates), events, a start record
    const log = await readJsonl(join(cut, 'log.jsonl'));
    const steps = log.filter((r) => r.event === 'step').map((r) => r.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.some((r) => r.event === 'resume')).toBe(true);
    const rec = log.find((r) => r.event === 'step' && r.step === 5)!;
    expect(rec).toMatchObject({ epoch: 1, batch: 1 });
    expect(Object.keys(rec.terms as object).sort()).toEqual(['global_loss', 'loss_rec', 'pixel_loss']);
    for (const f of ['loss.png', 'preview.png']) expect((await stat(join(full, f))).size).toBeGreaterThan(1000);
    // epoch checkpoints pruned to 2, plus last
    expect((await readdir(join(full, 'checkpoints'))).sort()).toEqual(['last.safetensors', 'step_6.safetensors', 'step_9.safetensors']);

    // extract: the student backbone loads strictly into a fresh ResNet
    const ex = await extractFromCheckpoint(join(full, 'checkpoints', 'last.safetensors'));
    expect(ex.backbone).toBe('resnet18');
    const bb = createBackbone('resnet18', { baseWidth: 8 });
    const report = loadStateDict(bb, ex.tensors, { strict: true, source: 'extracted' });
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(ex.tensors.get('bn1.num_batches_tracked')!.dtype).toBe('int64');
    const teacher = await extractFromCheckpoint(join(full, 'checkpoints', 'last.safetensors'), 'teacher');
    expect(teacher.tensors.size).toBe(ex.tensors.size);
    bb.dispose();
  });

  it('stops on a non-finite loss with a clear error and keeps the last good checkpoint', async () => {
    const out = await tmp();
    const blowUp = mergeConfig(CFG, { optimizer: 'sgd', lr: 1e30, warmup_epochs: 0 });
    const err = await pretrain({ config: blowUp, out, data: corpus, progress: null, workers: 0, checkpointEvery: 1, preview: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect((err as CmidError).kind).toBe('numeric');
    expect((err as Error).message).toMatch(/the loss is (NaN|Infinity|-Infinity)/);
    expect((err as Error).message).toContain('last.safetensors');
    const log = await readJsonl(join(out, 'log.jsonl'));
    const bad = log.find((r) => r.event === 'non-finite')!;
    const saved = await readSafetensors(join(out, 'checkpoints', 'last.safetensors'));
    expect(Number(saved.metadata.step)).toBe(Number(bad.step) - 1);
  });

  it('names the folder when there are no images or too few for a batch', async () => {
    const empty = await tmp();
    await expect(pretrain({ config: CFG, out: await tmp(), data: empty, progress: null })).rejects.toThrow(/no image/);
    await expect(pretrain({ config: mergeConfig(CFG, { batch_size: 16, queue_size: 32 }), out: await tmp(), data: corpus, progress: null })).rejects.toThrow(/fewer than one batch/);
  });
});
