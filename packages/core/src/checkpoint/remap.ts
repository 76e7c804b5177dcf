/**
 * Key renaming between checkpoint families: wrapper prefixes (DataParallel's `module.`, mmcv's `backbone.`,
 * BYOL's `online_encoder.`) and per-family rules. Every function returns a new Map in the original key order.
 */
import { CmidError } from '../runtime/errors.js';
import type { StateDict } from './tensor.js';

export interface RemapRule {
  /** A string matches a key prefix; a RegExp is applied with String.replace (use ^ and groups as needed). */
  readonly from: RegExp | string;
  /** Replacement: for a string `from`, the new prefix; for a RegExp, a replace pattern ($1, ...). */
  readonly to: string;
}

/** Wrapper prefixes seen in the supported checkpoints, most specific first. */
export const COMMON_PREFIXES = ['module.backbone.', 'module.encoder_q.', 'module.', 'backbone.', 'online_encoder.model.', 'online_encoder.', 'encoder_q.', 'encoder.', 'model.'] as const;

/**
 * Strips `prefix` from the keys that have it. Keys without it are kept unchanged unless `{ dropOthers: true }`.
 *
 * @example
 * stripPrefix(new Map([['module.conv1.weight', w]]), 'module.') // Map { 'conv1.weight' => w }
 */
export function stripPrefix<T>(dict: Map<string, T>, prefix: string, options: { dropOthers?: boolean } = {}): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of dict) {
    if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
    else if (!options.dropOthers) out.set(k, v);
  }
  return out;
}

/**
 * Applies the first matching rule to each key (keys matching no rule are kept). A rule whose `to` is '' with a
 * string `from` strips that prefix. Throws if two keys end up with the same name, since one would be lost.
 */
export function remapKeys<T>(dict: Map<string, T>, rules: readonly RemapRule[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of dict) {
    let nk = k;
    for (const r of rules) {
      if (typeof r.from === 'string' ? k.startsWith(r.from) : new RegExp(r.from.source, r.from.flags.replace('g', '')).test(k)) {
        nk = typeof r.from === 'string' ? r.to + k.slice(r.from.length) : k.replace(r.from, r.to);
        break;
      }
    }
    if (out.has(nk)) throw new CmidError('checkpoint', `remapKeys: "${k}" maps to "${nk}", which another key already produced; check the rules.`);
    out.set(nk, v);
  }
  return out;
}

/**
 * The first candidate prefix that every key starts with, or undefined. With `{ minShare }` below 1, the first
 * candidate that at least that share of keys starts with (for dicts with a few extra head or queue keys).
 *
 * @example
 * detectPrefix(stateDict, COMMON_PREFIXES) // 'module.' for a DataParallel save
 */
export function detectPrefix(dict: StateDict | Map<string, unknown>, candidates: readonly string[] = COMMON_PREFIXES, options: { minShare?: number } = {}): string | undefined {
  const keys = [...dict.keys()];
  if (keys.length === 0) return undefined;
  const need = Math.ceil((options.minShare ?? 1) * keys.length);
  for (const c of candidates) {
    let n = 0;
    for (const k of keys) if (k.startsWith(c)) n++;
    if (n >= need && n > 0) return c;
  }
  return undefined;
}

/** Repeatedly strips whichever candidate prefix all keys share (e.g. `module.` then `backbone.`); returns the prefixes removed. */
export function stripCommonPrefixes<T>(dict: Map<string, T>, candidates: readonly string[] = COMMON_PREFIXES): { dict: Map<string, T>; stripped: string[] } {
  const stripped: string[] = [];
  let d = dict;
  for (let p = detectPrefix(d, candidates); p !== undefined; p = detectPrefix(d, candidates)) {
    stripped.push(p);
    d = stripPrefix(d, p);
  }
  return { dict: d, stripped };
}
