/**
 * onnxruntime-node sessions: the CPU execution provider by default with threads = cores (CMID_THREADS
 * overrides), CUDA or WebGPU when asked and available. onnxruntime-node is loaded lazily so that importing
 * @cmid/core does not load its 45 MB native library.
 */
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { readConfig } from '../runtime/config.js';
import { CmidError } from '../runtime/errors.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface SessionOptions {
  /** intra-op threads; default CMID_THREADS or all cores. */
  threads?: number;
  provider?: ExecutionProvider;
  /** Graph optimisation level; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write onnxruntime's per-node profile (Chrome trace JSON) to `<prefix>_<date>.json` when the session ends. */
  profileFilePrefix?: string;
  /** Write the model as onnxruntime optimised it (after fusions and transpose cancelling) to this path. */
  optimizedModelFilePath?: string;
  /**
   * onnxruntime's memory-pattern planning (its default, off here): after the first run, every run takes one
   * pre-planned block for all intermediates. The first run's per-tensor allocations stay in the CPU arena beside
   * that block, so peak RSS grows by about the step's activation memory. Measured (2 threads, batch 8, 224 px):
   * ResNet-50 SGD step 2.8 GiB with it against 1.9 without at the same speed; CMID ResNet-50 step 7.7 against 5.9
   * GiB, about 8 % faster with it (docs/decisions.md, "Peak memory of the compiled step"). Results are
   * bit-identical either way.
   */
  memoryPattern?: boolean;
}

let ortModule: typeof Ort | undefined;

export async function loadOrt(): Promise<typeof Ort> {
  if (ortModule === undefined) {
    try {
      ortModule = (await import('onnxruntime-node')) as typeof Ort;
    } catch (e) {
      throw new CmidError('backend', `onnxruntime-node failed to load (${(e as Error).message}). Reinstall it: pnpm install.`, {
        cause: e,
      });
    }
  }
  return ortModule;
}

export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<Ort.InferenceSession> {
  const ort = await loadOrt();
  const threads = options.threads ?? readConfig().threads ?? availableParallelism();
  const provider = options.provider ?? 'cpu';
  try {
    const opts: Ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: options.optimization ?? 'all',
      ...(options.profileFilePrefix !== undefined ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
      ...(options.optimizedModelFilePath !== undefined ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
      enableMemPattern: options.memoryPattern === true,
    };
    return typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  } catch (e) {
    const where = typeof model === 'string' ? model : 'in-memory ONNX model';
    const hint =
      provider === 'cpu'
        ? 'The model may use an op or opset this onnxruntime does not support.'
        : `Execution provider "${provider}" may be unavailable here; use provider "cpu".`;
    throw new CmidError('backend', `onnxruntime could not create a session for ${where}: ${(e as Error).message}. ${hint}`, {
      cause: e,
      ...(typeof model === 'string' ? { file: model } : {}),
    });
  }
}
