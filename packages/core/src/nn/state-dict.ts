/**
 * stateDict / loadStateDict with PyTorch keys, shapes and layouts. The dictionaries are plain host arrays (no
 * tfjs), the form checkpoint readers and writers use. Loading reports missing, unexpected and shape-mismatched
 * keys; strict loading throws a CmidError with that report and leaves the module untouched (all checks run
 * before any variable is assigned, so a failed load never half-loads a model).
 */
import * as tf from '@tensorflow/tfjs';
import { CmidError } from '../runtime/errors.js';
import { tfToTorch, torchShape, torchToTf } from './layout.js';
import type { Module } from './module.js';
import { toFloat32, type CheckpointTensor, type StateDict } from '../checkpoint/tensor.js';

// One state-dict type for the whole toolkit: the checkpoint readers' (PyTorch layout, any dtype).
export type { StateDict, CheckpointTensor as StateTensor };

export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  mismatched: { key: string; expected: number[]; got: number[] }[];
}

/** The module's state in PyTorch layout and key order. */
export function stateDict(module: Module): StateDict {
  const out: StateDict = new Map();
  for (const e of module.stateEntries()) {
    const values = e.variable.dataSync();
    if (e.torchDtype === 'int64') {
      out.set(e.name, { dtype: 'int64', shape: [...e.variable.shape], data: BigInt64Array.from(values as Int32Array, (v) => BigInt(v)) });
    } else {
      const t = tfToTorch({ shape: [...e.variable.shape], data: Float32Array.from(values) }, e.layout);
      out.set(e.name, { dtype: 'float32', shape: t.shape, data: t.data });
    }
  }
  return out;
}

function toInt32(t: CheckpointTensor): Int32Array {
  if (t.data instanceof BigInt64Array) return Int32Array.from(t.data, (v) => Number(v));
  return Int32Array.from(t.data as ArrayLike<number>);
}

export interface LoadOptions {
  /** Throw unless every key matches (default true). */
  strict?: boolean;
  /** Keys allowed to be missing even when strict (e.g. a classifier head: /^fc\./). */
  allowMissing?: RegExp[];
  /** Keys allowed to be unexpected even when strict. */
  allowUnexpected?: RegExp[];
  /** Named in error messages: the checkpoint file or source. */
  source?: string;
}

/** Loads `dict` into `module`; see the file header for the strictness rules. */
export function loadStateDict(module: Module, dict: StateDict, options: LoadOptions = {}): LoadReport {
  const { strict = true, allowMissing = [], allowUnexpected = [], source = 'state dict' } = options;
  const entries = module.stateEntries();
  const ours = new Map(entries.map((e) => [e.name, e]));
  const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  for (const e of entries) {
    const t = dict.get(e.name);
    if (t === undefined) {
      if (e.torchDtype === 'int64' && e.name.endsWith('num_batches_tracked')) continue; // old torch checkpoints lack it
      report.missing.push(e.name);
      continue;
    }
    const expected = torchShape(e.variable.shape, e.layout);
    const sameShape = expected.length === t.shape.length && expected.every((d, i) => d === t.shape[i]);
    if (!sameShape) report.mismatched.push({ key: e.name, expected, got: [...t.shape] });
  }
  for (const key of dict.keys()) if (!ours.has(key)) report.unexpected.push(key);

  const badMissing = report.missing.filter((k) => !allowMissing.some((r) => r.test(k)));
  const badUnexpected = report.unexpected.filter((k) => !allowUnexpected.some((r) => r.test(k)));
  if (report.mismatched.length > 0 || (strict && (badMissing.length > 0 || badUnexpected.length > 0))) {
    throw new CmidError('checkpoint', describeMismatch(source, module, report, badMissing, badUnexpected), {
      ...(options.source !== undefined ? { file: options.source } : {}),
    });
  }
  for (const e of entries) {
    const t = dict.get(e.name);
    if (t === undefined) continue;
    if (e.torchDtype === 'int64' || e.variable.dtype === 'int32') {
      e.variable.assign(tf.tensor(toInt32(t), e.variable.shape, 'int32'));
    } else {
      const v = torchToTf({ shape: [...t.shape], data: toFloat32(t) }, e.layout);
      const tensor = tf.tensor(v.data, e.variable.shape, 'float32');
      e.variable.assign(tensor);
      tensor.dispose();
    }
    report.loaded.push(e.name);
  }
  return report;
}

function describeMismatch(source: string, module: Module, r: LoadReport, missing: string[], unexpected: string[]): string {
  const list = (xs: string[]) => (xs.length <= 8 ? xs.join(', ') : `${xs.slice(0, 8).join(', ')} … (${xs.length} in all)`);
  const parts = [`${source}: does not fit ${module.constructor.name}.`];
  if (r.mismatched.length > 0) {
    parts.push(`Shape mismatch: ${r.mismatched.slice(0, 6).map((m) => `${m.key} is [${m.got}] in the checkpoint, [${m.expected}] in the model`).join('; ')}${r.mismatched.length > 6 ? ` … (${r.mismatched.length} in all)` : ''}.`);
  }
  if (missing.length > 0) parts.push(`Missing from the checkpoint: ${list(missing)}.`);
  if (unexpected.length > 0) parts.push(`Not in the model: ${list(unexpected)}.`);
  const hint = guessFamily(unexpected.length > 0 ? unexpected : [...r.mismatched.map((m) => m.key)]);
  if (hint !== undefined) parts.push(hint);
  const prefixes = commonPrefix(unexpected);
  if (prefixes !== undefined && missing.length > 0) parts.push(`The checkpoint keys start with "${prefixes}": strip that prefix (remap) before loading.`);
  return parts.join(' ');
}

function commonPrefix(keys: string[]): string | undefined {
  if (keys.length === 0) return undefined;
  const first = keys[0]!.split('.');
  for (const candidate of ['module.', 'backbone.', 'encoder.', 'online_encoder.model.', 'branch_encoder.', 'model.', 'online_encoder.']) {
    if (keys.every((k) => k.startsWith(candidate))) return candidate;
  }
  return first.length > 1 && keys.every((k) => k.startsWith(first[0]! + '.')) ? first[0] + '.' : undefined;
}

function guessFamily(keys: string[]): string | undefined {
  const s = keys.join(' ');
  if (/stages\.\d+\.blocks|layers\.\d+\.blocks|relative_position_bias_table/.test(s)) return 'The checkpoint looks like a Swin Transformer.';
  if (/blocks\.\d+\.attn|cls_token|pos_embed/.test(s)) return 'The checkpoint looks like a ViT.';
  if (/layer\d\.\d+\.conv\d|bn1\.running_mean/.test(s)) return 'The checkpoint looks like a ResNet.';
  return undefined;
}
