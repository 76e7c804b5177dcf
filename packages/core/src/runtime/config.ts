/**
 * What the user asked for: backend, threads, seed. Read from the environment (CMID_BACKEND, CMID_THREADS,
 * CMID_SEED) or passed to initBackend(). Kept apart from capabilities.ts, which says what the machine can do.
 */
import { CmidError } from './errors.js';

export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface RuntimeConfig {
  /** Backend to use; undefined means "choose automatically" (tensorflow > webgpu > wasm). */
  backend: BackendName | undefined;
  /** Allow the pure-JS cpu backend for training-sized work. Default false: it is about 1000x slower. */
  allowCpu: boolean;
  /** Threads for onnxruntime sessions; default: all cores. */
  threads: number | undefined;
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const raw = env.CMID_BACKEND?.trim();
  let backend: BackendName | undefined;
  if (raw !== undefined && raw !== '' && raw !== 'auto') {
    if (!isBackendName(raw)) {
      throw new CmidError(
        'config',
        `CMID_BACKEND=${raw} is not a backend. Valid: ${BACKEND_NAMES.join(', ')}, or auto (unset).`,
      );
    }
    backend = raw;
  }
  let threads: number | undefined;
  if (env.CMID_THREADS !== undefined && env.CMID_THREADS !== '') {
    threads = Number(env.CMID_THREADS);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new CmidError('config', `CMID_THREADS=${env.CMID_THREADS} must be a positive integer.`);
    }
  }
  return { backend, allowCpu: env.CMID_ALLOW_CPU === '1', threads };
}
