/**
 * Shared by the backbone parity tests: run a reference script from scripts/parity with Debian's python3-torch
 * into a temp dir, read its safetensors into state dicts, and compare NCHW references with NHWC outputs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import { nchwToNhwc } from '../../src/nn/index.js';
import { toFloat32, type CheckpointTensor as StateTensor, type StateDict } from '../../src/checkpoint/tensor.js';
import { PYTHON, torchAvailable, torchRequired } from '../../src/testing/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PARITY_DIR = join(here, '..', '..', 'scripts', 'parity');

/** Whether the parity tests can run; throws when torch is absent but CMID_REQUIRE_TORCH=1. */
export function parityEnabled(script: string): boolean {
  if (torchAvailable()) return true;
  if (torchRequired()) throw new Error(`${script} parity: CMID_REQUIRE_TORCH=1 but "${PYTHON} -c 'import torch'" fails. Install python3-torch.`);
  console.warn(`${script} parity tests skipped: ${PYTHON} has no torch (apt install python3-torch, or set CMID_REQUIRE_TORCH=1 to fail instead).`);
  return false;
}

/** Runs scripts/parity/<script> OUT_DIR and returns OUT_DIR. */
export function runParityScript(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cmid-parity-${script.replace(/\W/g, '')}-`));
  try {
    execFileSync(PYTHON, [join(PARITY_DIR, script), dir], { cwd: PARITY_DIR, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${script} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
  return dir;
}

/** Reads a safetensors file as an nn StateDict (PyTorch layout). */
export async function readStateDict(file: string): Promise<StateDict> {
  return (await readSafetensors(file)).tensors;
}

export function f32(t: StateTensor | undefined, name = '?'): Float32Array {
  if (t === undefined) throw new Error(`reference tensor ${name} is missing`);
  return toFloat32(t);
}

/** An NCHW reference image as an NHWC tf tensor. */
export function nhwcInput(t: StateTensor): tf.Tensor4D {
  const v = nchwToNhwc({ shape: [...t.shape], data: f32(t) });
  return tf.tensor4d(v.data, v.shape as [number, number, number, number]);
}

/** An NCHW reference map as NHWC host values. */
export function nhwcValues(t: StateTensor): { shape: number[]; data: Float32Array } {
  return nchwToNhwc({ shape: [...t.shape], data: f32(t) });
}
