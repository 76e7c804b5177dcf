import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../src/index.js';

describe('cmid program', () => {
  it('has the info and demo commands', () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['info', 'demo', 'pretrain', 'extract', 'classify']));
    const classify = buildProgram().commands.find((c) => c.name() === 'classify')!;
    expect(classify.commands.map((c) => c.name())).toEqual(['train', 'eval', 'predict', 'probe', 'export']);
  });

  it('cmid classify predict reports a missing model with the fix', async () => {
    await expect(buildProgram().parseAsync(['node', 'cmid', 'classify', 'predict', 'x.jpg', '-m', '/nonexistent/run'])).rejects.toThrow(/\/nonexistent\/run: no such model file or run folder/);
  });

  it('info prints the chosen backend and its reason', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
    await buildProgram().parseAsync(['node', 'cmid', 'info']);
    spy.mockRestore();
    const out = lines.join('\n');
    expect(out).toMatch(/^backend\s+wasm\s+\(automatic: no tensorflow/m);
    expect(out).toMatch(/onnxruntime\s+1\.30/);
  });

  it('--backend with an unavailable backend fails with the package to install', async () => {
    const saved = process.env.CMID_BACKEND;
    await expect(buildProgram().parseAsync(['node', 'cmid', '--backend', 'tensorflow', 'info'])).rejects.toThrow(/tfjs-node/);
    if (saved === undefined) delete process.env.CMID_BACKEND; else process.env.CMID_BACKEND = saved;
  });
});
