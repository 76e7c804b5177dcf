/**
 * `cmid demo` (also `pnpm demo`): the embedded main job, CMID pretraining on the synthetic corpus compared with
 * random init (runCmidDemo in @cmid/pretrain). `cmid demo --supervised` keeps the foundation check: a small CNN trained from scratch on seeded synthetic textures (stripes at three
 * orientations and blobs, random colour, brightness and noise) by the compiled engine (the whole Adam step as one
 * ONNX graph on onnxruntime; `--engine eager` runs it on the tfjs backend with the training kernels @cmid/core
 * registers on wasm). It prints the loss as it falls and the held-out accuracy
 * against the same network at random init and against chance.
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { initBackend, assertTrainingBackend, CmidError, Rng, createTrainer, createOptimizer, type Engine } from '@cmid/core';
import { runCmidDemo } from '@cmid/pretrain';

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
  engine: Engine;
  firstLoss: number;
  lastLoss: number;
  accuracy: number;
  randomInitAccuracy: number;
  imagesPerSecond: number;
}

/** Trains the demo CNN; `log` receives progress lines (default: none). */
export async function runDemo(
  { steps = 120, seed = 0, engine = 'compiled', log }: { steps?: number; seed?: number; engine?: Engine; log?: (line: string, final?: boolean) => void } = {},
): Promise<DemoResult> {
  const info = await initBackend();
  assertTrainingBackend();
  log?.(`backend: ${info.name} (${info.reason}); engine: ${engine}`, true);
  if (info.registeredKernels.length > 0) log?.(`training kernels from @cmid/core: ${info.registeredKernels.join(', ')}`, true);
  const train = makeSet(512, seed + 1), test = makeSet(256, seed + 2);
  const trainX = train.x.dataSync() as Float32Array;
  const params = initParams(seed);
  const randomInitAccuracy = accuracy(params, test);
  const batch = 32;
  const names = ['conv0', 'conv1', 'conv2', 'fc.weight', 'fc.bias'];
  const variables = Object.fromEntries(params.map((p, i) => [names[i]!, p]));
  const trainer = await createTrainer({
    variables,
    params: params.map((p, i) => ({ name: names[i]!, shape: [...p.shape], weightDecay: 0 })),
    inputs: { x: { shape: [batch, S, S, 3] }, y: { shape: [batch, CLASSES.length] } },
    optimizer: createOptimizer({ kind: 'adamw' }), // weight decay 0: Adam
    loss: (b) => ({ loss: tf.losses.softmaxCrossEntropy(b.y!, forward(params, b.x as tf.Tensor4D)) as tf.Scalar }),
  }, { engine });
  const rng = new Rng(seed + 3);
  const t0 = performance.now();
  let firstLoss = NaN, lastLoss = NaN;
  const xb = new Float32Array(batch * S * S * 3), yb = new Float32Array(batch * CLASSES.length);
  for (let step = 1; step <= steps; step++) {
    yb.fill(0);
    for (let i = 0; i < batch; i++) {
      const j = rng.int(0, 512);
      xb.set(trainX.subarray(j * S * S * 3, (j + 1) * S * S * 3), i * S * S * 3);
      yb[i * CLASSES.length + train.labels[j]!] = 1;
    }
    const r = await trainer.step({ x: { data: xb, shape: [batch, S, S, 3] }, y: { data: yb, shape: [batch, CLASSES.length] } }, { lr: 3e-3 });
    if (step === 1) firstLoss = r.loss;
    lastLoss = r.loss;
    if (step % 10 === 0 || step === steps) {
      const s = (performance.now() - t0) / 1000;
      const rate = (step * batch) / s;
      const eta = ((steps - step) * batch) / rate;
      const bar = '#'.repeat(Math.round((20 * step) / steps)).padEnd(20, '.');
      log?.(`[${bar}] step ${step}/${steps}  loss ${r.loss.toFixed(3)}  ${rate.toFixed(0)} img/s  ETA ${eta.toFixed(0)}s`);
    }
  }
  const imagesPerSecond = (steps * batch) / ((performance.now() - t0) / 1000);
  trainer.syncToVariables();
  trainer.dispose();
  const acc = accuracy(params, test);
  tf.dispose([train.x, train.y, test.x, test.y, ...params]);
  return { backend: info.name, engine, firstLoss, lastLoss, accuracy: acc, randomInitAccuracy, imagesPerSecond };
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('the main job on embedded data: CMID pretraining of a small backbone on the synthetic corpus, then kNN / linear probe against random init')
    .option('--epochs <n>', 'CMID pretraining epochs (12 steps each)', '12')
    .option('--out <dir>', 'run folder', 'runs/cmid-demo')
    .option('--engine <engine>', 'compiled (the whole step as one ONNX graph on onnxruntime) | eager (tfjs backend)', 'compiled')
    .option('--workers <n>', 'data-loader worker threads', '1')
    .option('--supervised', 'instead: the foundation demo (a small CNN trained with labels on synthetic textures)')
    .option('--steps <n>', '--supervised: training steps', '120')
    .option('--seed <n>', '--supervised: seed', '0')
    .action(async (opts: { epochs: string; out: string; engine: string; workers: string; supervised?: boolean; steps: string; seed: string }) => {
      if (opts.engine !== 'compiled' && opts.engine !== 'eager') throw new CmidError('config', `--engine must be compiled or eager, not "${opts.engine}".`);
      if (opts.supervised !== true) {
        const r = await runCmidDemo({ epochs: Number(opts.epochs), out: opts.out, engine: opts.engine, workers: Number(opts.workers) });
        const win = (r.pretrained.knnTop1 > r.randomInit.knnTop1) && ((r.pretrained.linearTop1 ?? 0) > (r.randomInit.linearTop1 ?? 0));
        console.log(`${win ? 'CMID pretraining beats random init' : 'WARNING: CMID pretraining did not beat random init'} (${r.seconds.toFixed(0)} s in all). Loss curve: ${opts.out}/loss.png, reconstructions: ${opts.out}/preview.png, log: ${opts.out}/log.jsonl`);
        if (!win) process.exitCode = 1;
        return;
      }
      const tty = process.stdout.isTTY === true;
      const r = await runDemo({
        steps: Number(opts.steps),
        seed: Number(opts.seed),
        engine: opts.engine,
        log: (line, final) => (final || !tty ? console.log(line) : process.stdout.write(`\r${line}   `)),
      });
      if (tty) process.stdout.write('\n');
      console.log(`loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}`);
      console.log(
        `held-out accuracy: trained ${(100 * r.accuracy).toFixed(1)}%, random init ${(100 * r.randomInitAccuracy).toFixed(1)}%, ` +
          `chance ${(100 / CLASSES.length).toFixed(1)}%`,
      );
    });
}
