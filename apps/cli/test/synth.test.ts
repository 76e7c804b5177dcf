import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The program with commander's process.exit replaced by a throw, and its output captured. */
function program(): { program: Command; errors: string[] } {
  const errors: string[] = [];
  const p = buildProgram();
  for (const c of [p, ...p.commands]) c.exitOverride().configureOutput({ writeErr: (s) => void errors.push(s), writeOut: () => undefined });
  return { program: p, errors };
}

describe('cmid synth', () => {
  it('is registered next to info and demo', () => {
    expect(buildProgram().commands.map((c) => c.name())).toEqual(expect.arrayContaining(['info', 'demo', 'synth']));
  });

  it('synth vaihingen --size tiny --seed 3: writes the layout in-process and prints count/total progress', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cmid-cli-synth-'));
    dirs.push(out);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
    try {
      await program().program.parseAsync(['node', 'cmid', 'synth', 'vaihingen', '--out', out, '--size', 'tiny', '--seed', '3']);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(expect.arrayContaining(['vaihingen 1/2', 'vaihingen 2/2', `vaihingen: 2 samples, 6 files in ${out}`]));
    expect(lines.at(-1)).toMatch(/^done in \d+\.\d s \(size tiny, seed 3, same seed = same bytes\)$/);
    expect((await readdir(join(out, 'ISPRS_semantic_labeling_Vaihingen/top'))).sort()).toEqual(['top_mosaic_09cm_area1.tif', 'top_mosaic_09cm_area2.tif']);
    const manifest = JSON.parse(await readFile(join(out, 'synth.json'), 'utf8')) as { kind: string; seed: number; size: string };
    expect(manifest).toMatchObject({ kind: 'vaihingen', seed: 3, size: 'tiny' });
  });

  it('rejects an unknown dataset, size or seed with the valid choices, before writing anything', async () => {
    for (const [args, pattern] of [
      [['synth', 'eurosat', '--out', '/nonexistent/x'], /value 'eurosat' is invalid for argument 'kind'. Allowed choices are millionaid, seco, ucm, potsdam, vaihingen, dota, cdd, all/],
      [['synth', 'ucm', '--out', '/nonexistent/x', '--size', 'huge'], /option '--size <size>' argument 'huge' is invalid. Allowed choices are tiny, small, medium/],
      [['synth', 'ucm', '--out', '/nonexistent/x', '--seed', '-1'], /expected an integer in 0\.\.4294967295/],
      [['synth', 'ucm'], /required option '--out <dir>' not specified/],
    ] as const) {
      const { program: p, errors } = program();
      await expect(p.parseAsync(['node', 'cmid', ...args])).rejects.toThrow();
      expect(errors.join('')).toMatch(pattern);
    }
  });
});
