/**
 * Split machinery shared by the dataset readers: the seeded stratified split, the reference's split-file format
 * (`<file name> <class index>` per line, CMID's Dataset/UCM.py), atomic writing of split files, and small
 * folder probes. Class-index files are parsed here; the dataset files decide what a name resolves to.
 */
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError, Rng } from '@cmid/core';
import { writeFileAtomic } from '@cmid/core/io';
import type { SceneSample, SplitRatios } from './types.js';

/** Code-point order (Python's sorted()), the same on every machine and locale. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Samples in the canonical order: by label, then path. */
export function sortSamples(samples: SceneSample[]): SceneSample[] {
  return samples.sort((a, b) => a.label - b.label || byCodePoint(a.path, b.path));
}

export async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Non-hidden sub-folder names of `dir` (symlinks followed), sorted; [] when it is not a folder. */
export async function listDirs(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDir(join(dir, e.name))))) out.push(e.name);
  }
  return out.sort(byCodePoint);
}

/** Checks ratios and fills in val and test. `op` prefixes the error. */
export function resolveRatios(op: string, r: SplitRatios): Required<SplitRatios> {
  const val = r.val ?? 0;
  const test = r.test ?? 1 - r.train - val;
  const ok = (x: number): boolean => Number.isFinite(x) && x >= 0 && x <= 1;
  if (!ok(r.train) || r.train === 0 || !ok(val) || !ok(test) || Math.abs(r.train + val + test - 1) > 1e-6) {
    throw new CmidError(
      'config',
      `${op}: split ratios train=${r.train} val=${val} test=${test} are not fractions that add up to 1. ` +
        'Pass e.g. { train: 0.8 } (test is the rest) or { train: 0.6, val: 0.2, test: 0.2 }.',
    );
  }
  return { train: r.train, val, test: Math.max(0, test) };
}

/**
 * The seeded, stratified split: each class's files (sorted by code point) are shuffled with their own Rng, forked
 * in class order from new Rng(seed); the first round(train * n) go to train, the next round(val * n) to val, the
 * rest to test (round half up). Per-class counts are therefore exact and do not depend on other classes' sizes.
 *
 * @example
 * stratifiedSplit([['a1', 'a2', 'a3', 'a4', 'a5']], { train: 0.8 }, 0) // train 4 of class 0, test 1
 */
export function stratifiedSplit(
  byClass: readonly (readonly string[])[],
  ratios: Required<SplitRatios>,
  seed: number,
): { train: SceneSample[]; val: SceneSample[]; test: SceneSample[] } {
  const master = new Rng(seed);
  const out = { train: [] as SceneSample[], val: [] as SceneSample[], test: [] as SceneSample[] };
  byClass.forEach((paths, label) => {
    const rng = master.fork();
    const order = rng.shuffle([...paths].sort(byCodePoint));
    const n = order.length;
    const nTrain = Math.min(n, Math.round(ratios.train * n));
    const nVal = Math.min(n - nTrain, Math.round(ratios.val * n));
    order.forEach((path, i) => (i < nTrain ? out.train : i < nTrain + nVal ? out.val : out.test).push({ path, label }));
  });
  sortSamples(out.train);
  sortSamples(out.val);
  sortSamples(out.test);
  return out;
}

/** One parsed line of a split file. */
export interface SplitLine {
  name: string;
  label: number;
  /** 1-based line number, for error messages. */
  line: number;
}

/**
 * Parses a `<file name> <class index>` split file (the name is everything before the last run of white space, so
 * names with spaces survive; blank lines are ignored). Errors name the file, the line and the fix.
 */
export async function readLabelSplitFile(file: string, classes: readonly string[]): Promise<SplitLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CmidError('input', `${file}: cannot read split file (${code === 'ENOENT' ? 'no such file' : String(code ?? e)}).`, { file, cause: e });
  }
  const out: SplitLine[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const where = `${file}:${i + 1}`;
    const m = /^(.+?)\s+(\S+)$/.exec(raw);
    if (m === null) {
      throw new CmidError('input', `${where}: "${raw}" is not "<file name> <class index>" (e.g. "airplane00.tif 1"). Fix the line or regenerate the split.`, { file });
    }
    const [, name, id] = m as unknown as [string, string, string];
    if (!/^\d+$/.test(id)) {
      throw new CmidError('input', `${where}: class index "${id}" is not a non-negative integer (line "${raw}"). Expected "<file name> <class index>".`, { file });
    }
    const label = Number(id);
    if (label >= classes.length) {
      throw new CmidError(
        'input',
        `${where}: unknown class id ${label}; valid are 0..${classes.length - 1} (0 = ${classes[0]}, ${classes.length - 1} = ${classes[classes.length - 1]}, alphabetical). ` +
          'A 1-based split file? Subtract 1 from every id.',
        { file },
      );
    }
    const prev = seen.get(name);
    if (prev !== undefined) throw new CmidError('input', `${where}: ${name} is listed twice (also on line ${prev}). Remove the duplicate.`, { file });
    seen.set(name, i + 1);
    out.push({ name, label, line: i + 1 });
  }
  return out;
}

/** The reference's split-file text: one `<name> <label>` line per sample, in the given order, newline-terminated. */
export function formatLabelSplit(lines: ReadonlyArray<{ name: string; label: number }>): string {
  return lines.map((l) => `${l.name} ${l.label}\n`).join('');
}

/** Writes split files atomically (temp file + rename in the same folder), creating `dir` if needed. */
export async function writeSplitFiles(dir: string, files: Record<string, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFileAtomic(path, text);
    written.push(path);
  }
  return written;
}
