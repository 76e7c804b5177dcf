/**
 * One measurement of the CMID training step in its own process (so peak RSS is its own): builds the model,
 * feeds `reps` + 1 batches through the trainer (the first compiles / warms up) and prints
 * {stepS (median), compileS, peakRssMiB, terms} as the last stdout line.
 * argv: engine preset batch size reps [baseWidth] [accumulationSteps] [pattern: memoryPattern]
 */
import { cmidEmaTau, createTrainer, initBackend, seedInit } from '@cmid/core';
import { CMID_PRESETS, mergeConfig, type CmidPreset } from '../src/config.js';
import { CmidModel } from '../src/model/cmid-model.js';
import { cmidTrainStep } from '../src/step.js';
import { cmidBatch } from '../test/helpers/batch.js';

const [engine, preset, b, s, r, width, accum, pattern] = process.argv.slice(2);
const batch = Number(b), size = Number(s), reps = Number(r);
await initBackend();
const c = mergeConfig(CMID_PRESETS[preset as CmidPreset], { size, batch_size: batch, ...(width !== undefined ? { backbone_options: { baseWidth: Number(width) } } : {}), ...(accum !== undefined ? { accumulation_steps: Number(accum) } : {}) });
seedInit(0);
const model = new CmidModel(c);
const trainer = await createTrainer(cmidTrainStep(model, c, batch), { engine: engine as 'compiled' | 'eager', ...(pattern === 'pattern' ? { memoryPattern: true } : {}) });
const batches = [cmidBatch(c, batch, 1), cmidBatch(c, batch, 2)];
const t0 = performance.now();
let terms: Record<string, number> = {};
await trainer.step(batches[0]!, { lr: 1e-4, tau: 1 });
const compileS = (performance.now() - t0) / 1000;
const times: number[] = [];
for (let i = 0; i < reps; i++) {
  const t = performance.now();
  const res = await trainer.step(batches[(i + 1) % 2]!, { lr: 1e-4, tau: cmidEmaTau(i + 1, 1000) ?? 1 });
  times.push((performance.now() - t) / 1000);
  terms = res.terms;
}
times.sort((x, y) => x - y);
console.log(JSON.stringify({ stepS: times[Math.floor(times.length / 2)], compileS, peakRssMiB: process.resourceUsage().maxRSS / 1024, terms }));
