/**
 * Reconstruction preview (what the reference's PlotSaver draws, cmid.md §9, written at checkpoints instead of every
 * step): for up to 4 samples, one row each of view 1, its masked input, and the reconstruction pasted into the
 * masked blocks, de-normalised with the pretraining mean/std. Eval mode (running statistics), so drawing it does
 * not touch the training state.
 */
import * as tf from '@tensorflow/tfjs';
import { CMID_MEAN, CMID_STD, writeFileAtomic } from '@cmid/core';
import { encodeImage } from '@cmid/core/synth';
import type { CmidConfig } from './config.js';
import type { CmidModel } from './model/cmid-model.js';

export async function writePreview(file: string, model: CmidModel, batch: Record<string, { data: Float32Array | Int32Array; shape: number[] }>, c: CmidConfig): Promise<void> {
  const [B, S, , C] = batch.img!.shape as [number, number, number, number];
  const n = Math.min(B, 4);
  const take = (k: string) => tf.tensor(batch[k]!.data.slice(0, n * (batch[k]!.data.length / B)), [n, ...batch[k]!.shape.slice(1)]);
  const wasTraining = model.training;
  model.eval();
  const [img, mim, rec, maskPx] = tf.tidy(() => {
    const x = take('img') as tf.Tensor4D;
    const xm = take('mim_img') as tf.Tensor4D;
    const m = take('mask') as tf.Tensor3D;
    const f = model.onlineEncoder.forward(xm, m);
    const r = model.mim2org.forward(f);
    const up = S / m.shape[1];
    const mp = tf.reshape(tf.tile(tf.reshape(m, [n, m.shape[1], 1, m.shape[2], 1, 1]), [1, 1, up, 1, up, 1]), [n, S, S, 1]);
    return [x, xm, tf.add(tf.mul(r, mp), tf.mul(x, tf.sub(1, mp))), mp].map((t) => t.dataSync() as Float32Array);
  });
  model.train(wasTraining);
  const mean = c.encoderInChannels === 3 ? CMID_MEAN : new Array<number>(C).fill(0.5);
  const std = c.encoderInChannels === 3 ? CMID_STD : new Array<number>(C).fill(0.25);
  const W = 3 * S + 8, H = n * S + (n - 1) * 4;
  const out = new Uint8Array(W * H * 3).fill(255);
  const panels = [img!, mim!, rec!];
  for (let i = 0; i < n; i++) {
    panels.forEach((p, j) => {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          for (let ch = 0; ch < 3; ch++) {
            const src = ch < C ? ch : 0;
            let v = p[((i * S + y) * S + x) * C + src]! * std[src]! + mean[src]!;
            if (j === 1 && maskPx![(i * S + y) * S + x]! > 0.5) v = 0.5 * v + 0.25; // masked blocks shown washed out
            out[((i * (S + 4) + y) * W + j * (S + 4) + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v * 255)));
          }
        }
      }
    });
  }
  await writeFileAtomic(file, await encodeImage(out, W, H, 3, 'png'));
}
