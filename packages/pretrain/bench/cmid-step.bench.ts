/**
 * CMID training-step benchmark (issue "@cmid/pretrain", and the CMID row of the compiled-engine issue): images/s
 * and peak RSS of one CMID ResNet-50 iteration (two masked student passes with backward, two teacher passes, MIM
 * head with focal L1 + focal frequency loss, MoCo with a 65 536-key queue, local heads with position matching,
 * Adan, EMA) at batch 8 and 224 px, in one run on the same cores:
 *   - our compiled engine (the whole iteration as one ONNX graph on onnxruntime-node);
 *   - PyTorch CPU (Debian python3-torch 1.13, same threads): benchmarks/reference/torch_cmid_step.py, a faithful
 *     re-implementation of the reference step;
 *   - optionally (--eager) our eager tfjs-wasm engine at --eager-batch.
 * The issue's floor: compiled >= 0.3x PyTorch. Writes benchmarks/results/cmid-step-ort-f32-<machine>-<date>.json
 * and the README table between <!-- bench:cmid-step:start/end -->.
 *
 * Usage: pnpm --filter pretrain bench [-- --batch 8 --size 224 --reps 3 --eager --eager-batch 2 --width 64 --accumulation 4]
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, machineInfo, machineTag, markdownTable, renderReadmeSection, repoRoot, torchAvailable, PYTHON, writeBenchResult } from '@cmid/core/testing';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const batch = arg('batch', 8), size = arg('size', 224), reps = arg('reps', 3), eagerBatch = arg('eager-batch', 2), width = arg('width', 64);
const withEager = process.argv.includes('--eager');
/** Also measure the compiled step with gradient accumulation over this many micro-batches (0: not run). */
const accumulation = arg('accumulation', 4);
const threads = availableParallelism();
const here = fileURLToPath(new URL('.', import.meta.url));

function child(engine: 'compiled' | 'eager', b: number, r: number, accum = 1, pattern = false): { stepS: number; compileS: number; peakRssMiB: number; terms: Record<string, number> } {
  const out = execFileSync(process.execPath, [...process.execArgv, join(here, 'cmid-step.child.ts'), engine, 'resnet50', String(b), String(size), String(r), String(width), String(accum), pattern ? 'pattern' : 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function torchStep(): { step_s: number; peak_rss_mib: number; gemm_gflops: number; loss_terms: Record<string, number> } | undefined {
  if (!torchAvailable()) return undefined;
  const script = join(repoRoot(), 'benchmarks', 'reference', 'torch_cmid_step.py');
  const out = execFileSync(PYTHON, [script, String(batch), String(size), String(threads), String(reps), '--width', String(width)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  console.log(`CMID ResNet-50 (width ${width}) training step, batch ${batch}, ${size} px, ${threads} threads`);
  const compiled = child('compiled', batch, reps);
  console.log(`compiled: ${JSON.stringify(compiled)}`);
  const torch = torchStep();
  console.log(`pytorch: ${JSON.stringify(torch ?? 'python3-torch not available')}`);
  const eager = withEager ? child('eager', eagerBatch, 1) : undefined;
  const accumulated = accumulation > 1 ? child('compiled', batch, reps, accumulation) : undefined;
  if (accumulated) console.log(`compiled, ${accumulation} micro-batches: ${JSON.stringify(accumulated)}`);
  const planned = child('compiled', batch, reps, 1, true);
  console.log(`compiled, memoryPattern: ${JSON.stringify(planned)}`);
  const row = {
    model: `CMID ResNet-50${width !== 64 ? ` (width ${width})` : ''}`,
    compiledImgS: batch / compiled.stepS,
    compiledRssMiB: compiled.peakRssMiB,
    compileS: compiled.compileS,
    torchImgS: torch ? batch / torch.step_s : Number.NaN,
    torchRssMiB: torch?.peak_rss_mib ?? Number.NaN,
    eagerImgS: eager ? eagerBatch / eager.stepS : Number.NaN,
    eagerRssMiB: eager?.peakRssMiB ?? Number.NaN,
    compiledTerms: compiled.terms,
    torchTerms: torch?.loss_terms ?? null,
  };
  const ratio = row.compiledImgS / row.torchImgS;
  const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  const header = ['step', 'compiled img/s (peak RSS)', 'PyTorch CPU img/s (peak RSS)', 'compiled / PyTorch', 'eager wasm img/s'];
  const table = [[row.model, `${f(row.compiledImgS)} (${f(row.compiledRssMiB, 0)} MiB)`, `${f(row.torchImgS)} (${f(row.torchRssMiB, 0)} MiB)`, `${f(ratio)}x`, withEager ? f(row.eagerImgS) : 'not run']];
  const accumulatedRow = accumulated
    ? { model: `${row.model}, ${accumulation} x ${batch / accumulation} accumulated`, compiledImgS: batch / accumulated.stepS, compiledRssMiB: accumulated.peakRssMiB, compileS: accumulated.compileS, compiledTerms: accumulated.terms }
    : null;
  table.push([`${row.model}, memoryPattern`, `${f(batch / planned.stepS)} (${f(planned.peakRssMiB, 0)} MiB)`, '-', `${f(batch / planned.stepS / row.torchImgS)}x`, '-']);
  if (accumulatedRow) table.push([accumulatedRow.model, `${f(accumulatedRow.compiledImgS)} (${f(accumulatedRow.compiledRssMiB, 0)} MiB)`, '-', `${f(accumulatedRow.compiledImgS / row.torchImgS)}x`, '-']);
  console.log(formatTable(header, table));
  const file = writeBenchResult({ bench: 'cmid-step', backend: 'ort', dtype: 'f32' }, {
    machine: machineInfo(), threads, batch, size, reps, width, torchGemmGflops: torch?.gemm_gflops ?? null, ratio, floor: 0.3, row, accumulation: accumulatedRow, memoryPattern: { compiledImgS: batch / planned.stepS, compiledRssMiB: planned.peakRssMiB, compileS: planned.compileS },
  });
  console.log(`wrote ${file}`);
  const note = `\n\nOne CMID iteration (ResNet-50 student on two masked views with backward, teacher on two views, MIM head with focal L1 + focal frequency loss, MoCo InfoNCE against a 65 536-key queue, local heads on 20 matched cells per view, Adan, EMA) at batch ${batch}, ${size} px, ${threads} threads on ${machineTag()} (${new Date().toISOString().slice(0, 10)}); PyTorch side: \`benchmarks/reference/torch_cmid_step.py\` (a re-implementation of the reference step; Debian python3-torch with a generic BLAS at ${torch?.gemm_gflops?.toFixed(1) ?? '-'} GFLOP/s for a 2048^3 matmul, oneDNN convolutions). Floor set by the issue: 0.3x. The accumulated row runs the same batch as ${accumulation} micro-batches (one update with the mean gradient; BN statistics per micro-batch), trading speed for peak memory; the memoryPattern row turns on onnxruntime's memory-pattern planning (\`--memory-pattern\`; off by default). Source: \`${file.slice(repoRoot().length + 1)}\`.`;
  if (!renderReadmeSection('bench:cmid-step', markdownTable(header, table) + note)) console.warn('README markers <!-- bench:cmid-step:start/end --> not found; table not rendered.');
}

await main();
