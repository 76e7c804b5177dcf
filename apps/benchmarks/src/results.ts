/**
 * Result records of table rows: one JSON file per run in benchmarks/results/, named
 * `<table>-<row>-<backend>-f32-<machine>-<date>.json`, plus the run's JSONL logs copied to
 * benchmarks/results/logs/, so every number in a README table can be traced to the run that produced it.
 * Tables are rendered only from these files (the newest record per row).
 */
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { machineInfo, machineTag, repoRoot } from '@cmid/core/testing';
import { writeFileAtomic } from '@cmid/core';

export interface RowResult {
  table: string;
  row: string;
  /** ISO time the run finished. */
  time: string;
  /** What the run measured: the numbers the table shows. */
  metrics: Record<string, number | null>;
  /** The dataset the protocol ran on (root, kind, split, images), stated in the table. */
  dataset: { name: string; root: string; synthetic: boolean; train: number; test: number; classes: number };
  /** Protocol settings that make the number comparable or not (epochs, size, backbone width, ...). */
  protocol: Record<string, unknown>;
  /** Log files of the run, relative to the repository root. */
  logs: string[];
  machine: Record<string, unknown>;
  backend: string;
}

export function resultsDir(root = repoRoot()): string {
  return join(root, 'benchmarks', 'results');
}

/** Copies the run's logs into benchmarks/results/logs/ (names prefixed with the record's stem); returns repo-relative paths. */
export async function keepLogs(stem: string, files: Record<string, string>, root = repoRoot()): Promise<string[]> {
  const dir = join(resultsDir(root), 'logs');
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (const [label, file] of Object.entries(files)) {
    const name = `${stem}.${label}.${basename(file).split('.').pop()}`;
    await copyFile(file, join(dir, name));
    out.push(`benchmarks/results/logs/${name}`);
  }
  return out;
}

export function recordStem(table: string, row: string, backend: string): string {
  return `${table}-${row}-${backend}-f32-${machineTag()}-${new Date().toISOString().slice(0, 10)}`;
}

export async function writeRowResult(stem: string, r: Omit<RowResult, 'machine'>, root = repoRoot()): Promise<string> {
  const file = join(resultsDir(root), `${stem}.json`);
  await mkdir(resultsDir(root), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify({ ...r, machine: machineInfo() }, null, 2)}\n`);
  return file;
}

/** The newest record per row of `table` among the result files, with the file each came from. */
export async function readRowResults(table: string, root = repoRoot()): Promise<Map<string, RowResult & { file: string }>> {
  const dir = resultsDir(root);
  const out = new Map<string, RowResult & { file: string }>();
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(`${table}-`) && n.endsWith('.json'));
  } catch {
    return out;
  }
  for (const n of names) {
    const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as RowResult;
    if (r.table !== table || typeof r.row !== 'string') continue;
    const prev = out.get(r.row);
    if (prev === undefined || prev.time < r.time) out.set(r.row, { ...r, file: `benchmarks/results/${n}` });
  }
  return out;
}
