/**
 * Benchmark plumbing shared by every package's `bench` script: median timing, a machine tag, and result files
 * in benchmarks/results/ named <bench>-<backend>-<dtype>-<machine>-<date>.json (written atomically).
 * Benches are never timed tests: they measure and report, side by side with their reference in the same run.
 */
import { cpus, availableParallelism, totalmem } from 'node:os';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface Timing {
  /** Median seconds per call. */
  median: number;
  min: number;
  reps: number;
}

/** Times `f` (synchronous or async): `warmup` calls, then reps until `minSeconds` or `maxReps`, at least `minReps`. */
export async function timeIt(
  f: () => unknown,
  { warmup = 1, minReps = 3, maxReps = 50, minSeconds = 1 }: { warmup?: number; minReps?: number; maxReps?: number; minSeconds?: number } = {},
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await f();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxReps && (times.length < minReps || (performance.now() - start) / 1000 < minSeconds)) {
    const t0 = performance.now();
    await f();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, reps: times.length };
}

/** A short machine description for result file names and headers, e.g. "amd-epyc-2c". */
export function machineTag(): string {
  const model = (cpus()[0]?.model ?? 'cpu').toLowerCase();
  const vendor = model.includes('amd') ? 'amd' : model.includes('intel') ? 'intel' : model.includes('apple') ? 'apple' : 'cpu';
  const family = /epyc|xeon|ryzen|core|m\d/.exec(model)?.[0] ?? 'x';
  return `${vendor}-${family}-${availableParallelism()}c`;
}

export function machineInfo(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The repository root: the nearest ancestor with pnpm-workspace.yaml. */
export function repoRoot(from = process.cwd()): string {
  let dir = resolve(from);
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = up;
  }
  return dir;
}

/** Writes benchmarks/results/<name>.json atomically and returns its path. */
export function writeBenchResult(parts: { bench: string; backend: string; dtype?: string }, data: unknown): string {
  const date = new Date().toISOString().slice(0, 10);
  const name = `${parts.bench}-${parts.backend}-${parts.dtype ?? 'f32'}-${machineTag()}-${date}.json`;
  const dir = join(repoRoot(), 'benchmarks', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path + '.tmp', JSON.stringify(data, null, 2) + '\n');
  renameSync(path + '.tmp', path);
  return path;
}

/** Renders rows as a fixed-width text table. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in the repository README with
 * `markdown`, so README tables are regenerated from result files, never typed by hand. Returns false when the
 * markers are absent.
 */
export function renderReadmeSection(name: string, markdown: string, readme = join(repoRoot(), 'README.md')): boolean {
  if (!existsSync(readme)) return false;
  const text = readFileSync(readme, 'utf8');
  const start = `<!-- ${name}:start -->`, end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start), j = text.indexOf(end);
  if (i < 0 || j < i) return false;
  const next = text.slice(0, i + start.length) + '\n' + markdown.trim() + '\n' + text.slice(j);
  writeFileSync(readme + '.tmp', next);
  renameSync(readme + '.tmp', readme);
  return true;
}

/** Rows as a GitHub markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const cell = (c: string | number) => (typeof c === 'number' ? fmt(c) : c);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}
