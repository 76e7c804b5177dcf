/**
 * `cmid demo` (also `pnpm demo`): the embedded main job. Until CMID pretraining lands (issue 5), it exercises
 * the foundation end to end on the default backend: a small CNN trained from scratch with tf.grad on seeded
 * synthetic textures (stripes at three orientations and blobs, random colour, brightness and noise), using the
 * training kernels @cmid/core registers on wasm. It prints the loss as it falls and the held-out accuracy
 * against the same network at random init and against chance.
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initBackend, assertTrainingBackend, CmidError, Rng } from '@cmid/core';

const CLASSES = ['horizontal stripes', 'vertical stripes', 'diagonal stripes', 'blobs'];
const S = 32;

function texture(rng: Rng, cls: number): Float32Array {
  const img = new Float32Array(S * S * 3);
  const colour = [rng.uniform(0.2, 1), rng.uniform(0.2, 1), rng.uniform(0.2, 1)];
  const brightness = rng.uniform(0.6, 1.4);
  const freq = rng.uniform(0.25, 0.6), phase = rng.uniform(0, 2 * Math.PI);
  const blobs = Array.from({ length: 5 }, () => [rng.uniform(0, S), rng.uniform(0, S), rng.uniform(2, 5)] as const);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let v: number;
      if (cls === 0) v = Math.sin(freq * y + phase);
      else if (cls === 1) v = Math.sin(freq * x + phase);
      else if (cls === 2) v = Math.sin(freq * 0.7071 * (x + y) + phase);
      else v = blobs.reduce((m, [bx, by, r]) => Math.max(m, Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * r * r))), 0) * 2 - 1;
      for (let c = 0; c < 3; c++) img[(y * S + x) * 3 + c] = brightness * colour[c]! * (0.5 + 0.4 * v) + rng.normal(0, 0.15);
    }
  }
  return img;
}

function makeSet(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D; labels: Int32Array } {
  const rng = new Rng(seed);
  const data = new Float32Array(n * S * S * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % CLASSES.length;
    data.set(texture(rng, labels[i]!), i * S * S * 3);
  }
  return { x: tf.tensor4d(data, [n, S, S, 3]), y: tf.tensor1d(labels, 'int32'), labels };
}

function initParams(seed: number): tf.Variable[] {
  const rng = new Rng(seed);
  const he = (shape: number[], fanIn: number) =>
    tf.variable(tf.tensor(rng.fill(shape.reduce((a, b) => a * b), (r) => r.normal(0, Math.sqrt(2 / fanIn))), shape));
  return [he([3, 3, 3, 16], 27), he([3, 3, 16, 32], 144), he([3, 3, 32, 32], 288), he([32, CLASSES.length], 32), tf.variable(tf.zeros([CLASSES.length]))];
}

function forward(p: tf.Variable[], x: tf.Tensor4D): tf.Tensor2D {
  let h = tf.relu(tf.conv2d(x, p[0] as tf.Tensor4D, 1, 'same'));
  h = tf.relu(tf.conv2d(h, p[1] as tf.Tensor4D, 2, 'same'));
  h = tf.relu(tf.conv2d(h, p[2] as tf.Tensor4D, 2, 'same'));
  return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, p[3] as tf.Tensor2D), p[4]!);
}

function accuracy(p: tf.Variable[], set: { x: tf.Tensor4D; labels: Int32Array }): number {
  const pred = tf.tidy(() => tf.argMax(forward(p, set.x), 1).dataSync());
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === set.labels[i]) ok++;
  return ok / pred.length;
}

export interface DemoResult {
  backend: string;
  firstLoss: number;
  lastLoss: number;
  accuracy: number;
  randomInitAccuracy: number;
  imagesPerSecond: number;
}

/** Trains the demo CNN; `log` receives progress lines (default: none). */
export async function runDemo(
  { steps = 120, seed = 0, log }: { steps?: number; seed?: number; log?: (line: string, final?: boolean) => void } = {},
): Promise<DemoResult> {
  const info = await initBackend();
  assertTrainingBackend();
  log?.(`backend: ${info.name} (${info.reason})`, true);
  if (info.registeredKernels.length > 0) log?.(`training kernels from @cmid/core: ${info.registeredKernels.join(', ')}`, true);
  const train = makeSet(512, seed + 1), test = makeSet(256, seed + 2);
  const params = initParams(seed);
  const randomInitAccuracy = accuracy(params, test);
  const opt = tf.train.adam(3e-3);
  const rng = new Rng(seed + 3);
  const batch = 32;
  const t0 = performance.now();
  let firstLoss = NaN, lastLoss = NaN;
  for (let step = 1; step <= steps; step++) {
    const idx = tf.tensor1d(Int32Array.from({ length: batch }, () => rng.int(0, 512)), 'int32');
    const loss = opt.minimize(() => {
      const xb = tf.gather(train.x, idx), yb = tf.oneHot(tf.gather(train.y, idx), CLASSES.length);
      return tf.losses.softmaxCrossEntropy(yb, forward(params, xb)) as tf.Scalar;
    }, true, params)!;
    const l = loss.dataSync()[0]!;
    tf.dispose([loss, idx]);
    if (!Number.isFinite(l)) throw new CmidError('numeric', `demo: loss became ${l} at step ${step}; lower the learning rate.`);
    if (step === 1) firstLoss = l;
    lastLoss = l;
    if (step % 10 === 0 || step === steps) {
      const s = (performance.now() - t0) / 1000;
      const rate = (step * batch) / s;
      const eta = ((steps - step) * batch) / rate;
      const bar = '#'.repeat(Math.round((20 * step) / steps)).padEnd(20, '.');
      log?.(`[${bar}] step ${step}/${steps}  loss ${l.toFixed(3)}  ${rate.toFixed(0)} img/s  ETA ${eta.toFixed(0)}s`);
    }
  }
  const imagesPerSecond = (steps * batch) / ((performance.now() - t0) / 1000);
  const acc = accuracy(params, test);
  tf.dispose([train.x, train.y, test.x, test.y, ...params]);
  opt.dispose();
  return { backend: info.name, firstLoss, lastLoss, accuracy: acc, randomInitAccuracy, imagesPerSecond };
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('train a small CNN on embedded synthetic textures with the default backend (foundation demo)')
    .option('--steps <n>', 'training steps', '120')
    .option('--seed <n>', 'seed', '0')
    .action(async (opts: { steps: string; seed: string }) => {
      const tty = process.stdout.isTTY === true;
      const r = await runDemo({
        steps: Number(opts.steps),
        seed: Number(opts.seed),
        log: (line, final) => (final || !tty ? console.log(line) : process.stdout.write(`\r${line}   `)),
      });
      if (tty) process.stdout.write('\n');
      console.log(`loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}`);
      console.log(
        `held-out accuracy: trained ${(100 * r.accuracy).toFixed(1)}%, random init ${(100 * r.randomInitAccuracy).toFixed(1)}%, ` +
          `chance ${(100 / CLASSES.length).toFixed(1)}%`,
      );
      console.log('(CMID pretraining on the synthetic remote-sensing corpus replaces this demo once @cmid/pretrain lands.)');
    });
}
