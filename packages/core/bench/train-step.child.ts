/**
 * One engine, one model, in its own process (so peak RSS is its own): prints one JSON line
 * {"stepS", "compileS", "peakRssMiB"}. Spawned by train-step.bench.ts.
 * Usage: train-step.child.ts ENGINE(compiled|eager) ARCH BATCH SIZE REPS [VARIANT]
 * VARIANT (compiled engine): 'hwio' keeps filters in tfjs's layout, 'pattern' turns memory-pattern planning on,
 * 'grads-v1' lowers every conv input gradient as ConvTranspose and every filter gradient on NHWC operands (the
 * lowering before the fourth pass in docs/decisions.md; CMID_DX_CONV=0, CMID_DW_NCHW=0).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, seedInit, createTrainer, moduleVariables, createOptimizer, paramSpecsFromModule } from '../src/index.js';
import { randomArray } from '../src/testing/index.js';
import { createBackbone } from '../src/backbones/registry.js';

const [engine, arch, batchS, sizeS, repsS, variant] = process.argv.slice(2);
const batch = Number(batchS), size = Number(sizeS), reps = Number(repsS);
if (variant === 'grads-v1') Object.assign(process.env, { CMID_DX_CONV: '0', CMID_DW_NCHW: '0' }); // read when the step is lowered

await initBackend({ backend: 'wasm' });
seedInit(0);
const net = createBackbone(arch as 'resnet50').train();
const trainer = await createTrainer({
  variables: moduleVariables(net),
  params: paramSpecsFromModule(net, { weightDecay: 0, rule: 'all' }).map((e) => e.spec),
  inputs: { x: { shape: [batch, size, size, 3] } },
  optimizer: createOptimizer({ kind: 'sgd', momentum: 0.9 }),
  loss: (b) => ({ loss: tf.mean(tf.square(net.forward(b.x as tf.Tensor4D))) as tf.Scalar }),
}, { engine: engine as 'compiled' | 'eager', ...(variant === 'hwio' ? { filterLayout: 'hwio' as const } : {}), ...(variant === 'pattern' ? { memoryPattern: true } : {}) });
const x = { x: { data: randomArray(batch * size * size * 3, 1), shape: [batch, size, size, 3] } };
const t0 = performance.now();
await trainer.step(x, { lr: 0.01 }); // compiles (compiled engine) and warms up
const compileS = (performance.now() - t0) / 1000;
const times: number[] = [];
for (let r = 0; r < reps; r++) {
  const t = performance.now();
  await trainer.step(x, { lr: 0.01 });
  times.push((performance.now() - t) / 1000);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ stepS: times[Math.floor(times.length / 2)], compileS, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
