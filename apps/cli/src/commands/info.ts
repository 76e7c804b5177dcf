/** `cmid info`: which backend would run and why, what this machine can load, versions. */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { availableParallelism, cpus } from 'node:os';
import { initBackend, probeTensorflow, probeWebgpu, probeWasmSimd, loadOrt } from '@cmid/core';

export function infoCommand(): Command {
  return new Command('info').description('show the chosen backend and why, capabilities and versions').action(async () => {
    const info = await initBackend();
    const [native, gpu] = await Promise.all([probeTensorflow(), probeWebgpu()]);
    const ort = await loadOrt().then((o) => (o.env as { versions?: { common?: string } }).versions?.common ?? 'loaded').catch((e: Error) => `not loadable: ${e.message}`);
    const lines = [
      `backend      ${info.name}  (${info.reason})`,
      `our kernels  ${info.registeredKernels.length > 0 ? info.registeredKernels.join(', ') : '-'}`,
      `tensorflow   ${native.available ? 'yes' : 'no'}: ${native.detail}`,
      `webgpu       ${gpu.available ? 'yes' : 'no'}: ${gpu.detail}`,
      `wasm simd    ${probeWasmSimd() ? 'yes' : 'no'}`,
      `onnxruntime  ${ort}`,
      `tfjs         ${tf.version.tfjs}`,
      `node         ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'})`,
    ];
    console.log(lines.join('\n'));
  });
}
