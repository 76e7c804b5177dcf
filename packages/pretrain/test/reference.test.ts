/**
 * Interop with the reference: a CMID pretraining checkpoint in official-CMID's layout (written by PyTorch 1.13,
 * scripts/parity/cmid_checkpoint.py) loads strictly into CmidModel, its heads give PyTorch's outputs, its queue is
 * converted, and `extract` gives a backbone that loads strictly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, initBackend, loadStateDict, nchwToNhwc, readPth, readSafetensors, seedInit, type StateDict } from '@cmid/core';
import { PYTHON, torchAvailable, torchRequired } from '@cmid/core/testing';
import { CMID_TINY, mergeConfig } from '../src/config.js';
import { extractFromCheckpoint } from '../src/extract.js';
import { CmidModel } from '../src/model/cmid-model.js';
import { loadReferenceCheckpoint } from '../src/reference.js';

const enabled = torchAvailable();
if (!enabled && torchRequired()) throw new Error('CMID_REQUIRE_TORCH=1 but python3-torch is not importable by /usr/bin/python3.');
if (!enabled) console.warn('reference.test.ts: skipped, python3-torch 1.13 (/usr/bin/python3) is not installed (apt-get install -y python3-torch python3-torchvision).');

let dir = '';
let heads: StateDict;
const script = fileURLToPath(new URL('../scripts/parity/cmid_checkpoint.py', import.meta.url));
// the script's sizes: ResNet-18, hidden 64, out 32, bottleneck 16, 48 prototypes, queue 128
const config = mergeConfig(CMID_TINY, { backbone_options: {}, hidden_dim: 64, out_dim: 32, bottleneck_dim: 16, class_feat_size: 48, queue_size: 128 });

beforeAll(async () => {
  await initBackend();
  if (!enabled) return;
  dir = mkdtempSync(join(tmpdir(), 'cmid-ref-ckpt-'));
  execFileSync(PYTHON, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  heads = (await readSafetensors(join(dir, 'heads.safetensors'))).tensors;
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const close = (a: Float32Array, b: Float32Array, label: string, tol = 1e-5) => {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  expect(d / s, label).toBeLessThan(tol);
};

describe.skipIf(!enabled)('reference CMID checkpoint (official-CMID layout, PyTorch 1.13)', () => {
  it('loads strictly into CmidModel; projector, LocalHead and MIM head match PyTorch; the queue is converted', async () => {
    const ckpt = await readPth(join(dir, 'epoch_3.pth'));
    seedInit(5);
    const model = new CmidModel(config);
    const report = loadReferenceCheckpoint(model, ckpt);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    model.eval();
    const f = heads.get('features')!; // [2, 512, 7, 7]
    const fN = tf.tensor4d(nchwToNhwc({ data: f.data as Float32Array, shape: [...f.shape] }).data, [2, 7, 7, 512]);
    close(model.onlineProjector.forward(tf.mean(fN, [1, 2])).dataSync() as Float32Array, heads.get('projector')!.data as Float32Array, 'projector');
    const mim = heads.get('mim')!; // [2, 3, 224, 224]
    close(model.mim2org.forward(fN).dataSync() as Float32Array, nchwToNhwc({ data: mim.data as Float32Array, shape: [...mim.shape] }).data, 'MIM head (PixelShuffle order)');
    const cells = heads.get('cells')!; // [2, 512, 5] -> rows [10, 512]
    const rows = tf.reshape(tf.transpose(tf.tensor3d(cells.data as Float32Array, [2, 512, 5]), [0, 2, 1]), [10, 512]) as tf.Tensor2D;
    const local = heads.get('local')!; // [2, 48, 5] -> [10, 48]
    const want = tf.reshape(tf.transpose(tf.tensor3d(local.data as Float32Array, [2, 48, 5]), [0, 2, 1]), [10, 48]).dataSync() as Float32Array;
    close(model.classProjector.forward(rows).dataSync() as Float32Array, want, 'LocalHead (BN1d eval, weight norm)');
    // queue: ours row 0 = the reference's newest column, ptr - 1 = 39
    const refQueue = (ckpt.root as Map<string, unknown>).get('model') as StateDict;
    const q = refQueue.get('queue')!.data as Float32Array; // [32, 128]
    const ours = model.queue.arraySync() as number[][];
    for (let d = 0; d < 32; d++) {
      expect(ours[0]![d]).toBe(q[d * 128 + 39]);
      expect(ours[40]![d]).toBe(q[d * 128 + 127]);
    }
    model.dispose();
  });

  it('extract gives the student backbone, which loads strictly into ResNet-18', async () => {
    const ex = await extractFromCheckpoint(join(dir, 'epoch_3.pth'));
    expect(ex.source).toBe('reference-pth');
    const bb = createBackbone('resnet18');
    const r = loadStateDict(bb, ex.tensors, { source: 'extract' });
    expect(r.missing).toEqual([]);
    expect(r.unexpected).toEqual([]);
    expect(ex.tensors.has('mask_token')).toBe(false);
    bb.dispose();
  });

  it('a checkpoint for another architecture is a clear error naming the file', async () => {
    const ckpt = await readPth(join(dir, 'epoch_3.pth'));
    seedInit(5);
    const other = new CmidModel(mergeConfig(config, { backbone: 'resnet50', use_bn: true }));
    expect(() => loadReferenceCheckpoint(other, ckpt)).toThrow(/epoch_3\.pth/);
    other.dispose();
  });
});
