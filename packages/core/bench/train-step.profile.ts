/**
 * Where the compiled training step spends its time: builds the same step as train-step.child.ts (train-mode
 * forward, mean-square loss, backward, SGD momentum), runs it with onnxruntime's per-node profiler, and prints
 *   - the ONNX op types of our graph and of the graph onnxruntime optimised (counts);
 *   - time share by op type and the largest nodes, over the measured steps (the warm-up step is left out).
 * Usage: tsx --conditions=@cmid/source bench/train-step.profile.ts [ARCH=resnet50] [BATCH=8] [SIZE=224] [STEPS=2] [OUTDIR] [FILTER_LAYOUT=ohwi|hwio]
 * The profile JSON, our model and onnxruntime's optimised model are kept in OUTDIR (default a temp folder).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, seedInit, createTrainer, moduleVariables, createOptimizer, paramSpecsFromModule } from '../src/index.js';
import { randomArray } from '../src/testing/index.js';
import { createBackbone } from '../src/backbones/registry.js';

const [arch = 'resnet50', batchS = '8', sizeS = '224', stepsS = '2', outArg, layoutArg = 'ohwi'] = process.argv.slice(2);
const batch = Number(batchS), size = Number(sizeS), steps = Number(stepsS);
const outDir = outArg ?? mkdtempSync(join(tmpdir(), 'cmid-profile-'));

/** Op types of an ONNX model's main graph (ModelProto.graph = 7, GraphProto.node = 1, NodeProto.op_type = 4). */
export function onnxOpCounts(buf: Uint8Array): Map<string, number> {
  const fields = (b: Uint8Array, want: number, cb: (v: Uint8Array) => void) => {
    let i = 0;
    const varint = () => {
      let r = 0, m = 1;
      for (;;) {
        const x = b[i++]!;
        r += (x & 0x7f) * m;
        m *= 128;
        if (x < 0x80) return r;
      }
    };
    while (i < b.length) {
      const key = varint(), f = Math.floor(key / 8), wt = key & 7;
      if (wt === 0) varint();
      else if (wt === 1) i += 8;
      else if (wt === 5) i += 4;
      else if (wt === 2) {
        const len = varint();
        if (f === want) cb(b.subarray(i, i + len));
        i += len;
      } else throw new Error(`wire type ${wt}`);
    }
  };
  const counts = new Map<string, number>();
  fields(buf, 7, (g) => fields(g, 1, (node) => fields(node, 4, (t) => {
    const op = new TextDecoder().decode(t);
    counts.set(op, (counts.get(op) ?? 0) + 1);
  })));
  return counts;
}

await initBackend({ backend: 'wasm' });
seedInit(0);
const net = createBackbone(arch as 'resnet50').train();
const modelPath = join(outDir, 'step.onnx'), optPath = join(outDir, 'step.opt.onnx');
const trainer = await createTrainer({
  variables: moduleVariables(net),
  params: paramSpecsFromModule(net, { weightDecay: 0, rule: 'all' }).map((e) => e.spec),
  inputs: { x: { shape: [batch, size, size, 3] } },
  optimizer: createOptimizer({ kind: 'sgd', momentum: 0.9 }),
  loss: (b) => ({ loss: tf.mean(tf.square(net.forward(b.x as tf.Tensor4D))) as tf.Scalar }),
}, {
  engine: 'compiled',
  filterLayout: layoutArg as 'ohwi' | 'hwio',
  session: { profileFilePrefix: join(outDir, 'ort'), optimizedModelFilePath: optPath },
  onModel: (m) => writeFileSync(modelPath, m),
});
const x = { x: { data: randomArray(batch * size * size * 3, 1), shape: [batch, size, size, 3] } };
await trainer.step(x, { lr: 0.01 });
const times: number[] = [];
for (let s = 0; s < steps; s++) {
  const t = performance.now();
  await trainer.step(x, { lr: 0.01 });
  times.push((performance.now() - t) / 1000);
}
trainer.dispose();
await new Promise((r) => setTimeout(r, 2000)); // release() ends the profile and writes it

const fmtCounts = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
const ours = onnxOpCounts(readFileSync(modelPath)), opt = onnxOpCounts(readFileSync(optPath));
console.log(`step times (s): ${times.map((t) => t.toFixed(2)).join(' ')}`);
console.log(`our graph: ${[...ours.values()].reduce((a, b) => a + b, 0)} nodes: ${fmtCounts(ours)}`);
console.log(`optimised graph: ${[...opt.values()].reduce((a, b) => a + b, 0)} nodes: ${fmtCounts(opt)}`);

const profFile = readdirSync(outDir).find((f) => f.startsWith('ort') && f.endsWith('.json'));
if (profFile === undefined) throw new Error(`no profile in ${outDir}`);
interface Ev { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string; output_size?: string; input_type_shape?: unknown; output_type_shape?: unknown } }
const events = JSON.parse(readFileSync(join(outDir, profFile), 'utf8')) as Ev[];
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
const measured = runs.slice(1); // skip the warm-up run
const inMeasured = (e: Ev) => measured.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inMeasured(e));
const runUs = measured.reduce((a, r) => a + r.dur, 0);
const nodeUs = nodes.reduce((a, e) => a + e.dur, 0);
console.log(`profile ${profFile}: ${measured.length} measured runs, ${(runUs / measured.length / 1e6).toFixed(2)} s/run, kernels ${(100 * nodeUs / runUs).toFixed(0)}% of run time`);
const byOp = new Map<string, { us: number; n: number }>();
for (const e of nodes) {
  const op = e.args?.op_name ?? '?';
  const r = byOp.get(op) ?? { us: 0, n: 0 };
  r.us += e.dur; r.n += 1;
  byOp.set(op, r);
}
console.log('\nop type | share of kernel time | ms/step | nodes');
for (const [op, r] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 25)) {
  console.log(`${op} | ${(100 * r.us / nodeUs).toFixed(1)}% | ${(r.us / measured.length / 1000).toFixed(1)} | ${r.n / measured.length}`);
}
const byNode = new Map<string, { us: number; op: string; shapes: string }>();
for (const e of nodes) {
  const name = e.name.replace(/_kernel_time$/, '');
  const r = byNode.get(name) ?? { us: 0, op: e.args?.op_name ?? '?', shapes: JSON.stringify(e.args?.input_type_shape ?? '').slice(0, 160) };
  r.us += e.dur;
  byNode.set(name, r);
}
console.log('\nlargest nodes (ms/step, op, node, input shapes)');
for (const [name, r] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, 30)) {
  console.log(`${(r.us / measured.length / 1000).toFixed(1)} ${r.op} ${name} ${r.shapes}`);
}
console.log(`\nfiles in ${outDir}`);
