/**
 * initBackend(): the one call that chooses the tfjs backend, registers our training kernels, and says why.
 *
 * Order when nothing is asked for: `tensorflow` (the user installed @tensorflow/tfjs-node-gpu or -node and its
 * binding loads), then `webgpu` (the `webgpu` package finds an adapter), then `wasm`, the embedded default.
 * `cpu` is never chosen automatically: it is pure JS loops, about 1000x slower than wasm for convolutions,
 * and its Conv2DBackpropFilter takes minutes for one layer. CMID_BACKEND=cpu still selects it, with a warning.
 *
 * An explicit choice that cannot be honoured is an error naming the package to install, never a silent fallback.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { type BackendName, BACKEND_NAMES, isBackendName, readConfig } from './config.js';
import { probeTensorflow, probeWebgpu, probeWasmSimd, resolveOptional } from './capabilities.js';
import { CmidError } from './errors.js';
import { registerTrainingKernels } from '../kernels/wasm/index.js';

export interface BackendInfo {
  name: BackendName;
  /** Why this backend: what was asked for and what was (not) found. */
  reason: string;
  /** Kernels @cmid/core registered on this backend (empty except on wasm). */
  registeredKernels: string[];
  /** wasm only: whether the SIMD build runs. */
  simd?: boolean;
}

export interface InitBackendOptions {
  /** Force a backend; default: CMID_BACKEND, else automatic. */
  backend?: BackendName | 'auto';
}

const require = createRequire(import.meta.url);
let current: BackendInfo | undefined;

/** The backend chosen by the last initBackend() call, or undefined before it. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const config = readConfig();
  const asked = options.backend === undefined ? config.backend : options.backend === 'auto' ? undefined : options.backend;
  if (asked !== undefined && !isBackendName(asked)) {
    throw new CmidError('config', `backend "${String(asked)}" is not one of ${BACKEND_NAMES.join(', ')}.`);
  }
  const info = asked === undefined ? await chooseAutomatically() : await useExplicit(asked);
  await activate(info.name);
  info.registeredKernels = info.name === 'wasm' ? registeredWasmKernels : [];
  if (info.name === 'wasm') info.simd = probeWasmSimd();
  current = info;
  return info;
}

// Our wasm kernels are registered once, after the wasm module registered its own and before
// tf.setBackend('wasm') runs the kernels' setup functions.
let registeredWasmKernels: string[] = [];

async function activate(name: BackendName): Promise<void> {
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm'); // registers the shipped kernels; ours go over them
    if (registeredWasmKernels.length === 0) registeredWasmKernels = registerTrainingKernels();
  } else if (name === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu' as string);
  } else if (name === 'tensorflow') {
    const path = resolveOptional('@tensorflow/tfjs-node-gpu') ?? resolveOptional('@tensorflow/tfjs-node');
    if (path !== undefined) require(path);
  } else {
    await import('@tensorflow/tfjs-backend-cpu' as string).catch(() => undefined); // bundled in @tensorflow/tfjs
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  // tfjs's cpu backend prints a "you are running in Node.js" banner on its first write; our reason says it better
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  if (!ok || tf.getBackend() !== name) {
    throw new CmidError('backend', `tfjs could not start the ${name} backend (tf.getBackend() is ${tf.getBackend()}).`);
  }
}

async function chooseAutomatically(): Promise<BackendInfo> {
  const notes: string[] = [];
  const native = await probeTensorflow();
  if (native.available) return { name: 'tensorflow', reason: `automatic: ${native.detail}`, registeredKernels: [] };
  notes.push(`no tensorflow (${native.detail})`);
  const gpu = await probeWebgpu();
  if (gpu.available) {
    return { name: 'webgpu', reason: `automatic: ${notes.join('; ')}; ${gpu.detail}`, registeredKernels: [] };
  }
  notes.push(`no webgpu (${gpu.detail})`);
  return { name: 'wasm', reason: `automatic: ${notes.join('; ')}`, registeredKernels: [] };
}

async function useExplicit(name: BackendName): Promise<BackendInfo> {
  const source = 'asked for';
  if (name === 'tensorflow') {
    const p = await probeTensorflow();
    if (!p.available) {
      throw new CmidError(
        'backend',
        `backend "tensorflow" is not available: ${p.detail}. Install @tensorflow/tfjs-node@4.22.0 (CPU) or ` +
          `@tensorflow/tfjs-node-gpu@4.22.0 (CUDA 11.2) in your project; their install downloads libtensorflow. ` +
          `Valid here without it: webgpu (if a GPU adapter exists), wasm.`,
      );
    }
    return { name, reason: `${source}: ${p.detail}`, registeredKernels: [] };
  }
  if (name === 'webgpu') {
    const p = await probeWebgpu();
    if (!p.available) {
      throw new CmidError(
        'backend',
        `backend "webgpu" is not available: ${p.detail}. Install the packages webgpu and ` +
          `@tensorflow/tfjs-backend-webgpu@4.22.0 on a machine with a GPU and a Vulkan/Metal/D3D12 driver. Valid here: wasm.`,
      );
    }
    return { name, reason: `${source}: ${p.detail}`, registeredKernels: [] };
  }
  if (name === 'cpu') {
    return {
      name,
      reason: `${source}: cpu is pure JavaScript, about 1000x slower than wasm for convolutions; use it only for tiny tensors`,
      registeredKernels: [],
    };
  }
  return { name, reason: `${source}: embedded WebAssembly backend with @cmid/core training kernels`, registeredKernels: [] };
}

/**
 * Throws unless a training-capable backend is active. Call at the start of a training run so that nothing
 * silently trains on `cpu` (tfjs falls back to it when no backend was initialised).
 */
export function assertTrainingBackend(): void {
  const name = tf.getBackend();
  if (name === 'cpu' && readConfig().allowCpu !== true && current?.name !== 'cpu') {
    throw new CmidError(
      'backend',
      'Training would run on the pure-JS cpu backend (about 1000x slower). Call `await initBackend()` from ' +
        '@cmid/core first; set CMID_BACKEND=cpu explicitly if you really want cpu.',
    );
  }
}
