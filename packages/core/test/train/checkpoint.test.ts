/** Run folders: a fresh run never lands on top of another run unless told to replace it. */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRunFolder } from '../../src/train/checkpoint.js';
import { CmidError } from '../../src/runtime/errors.js';

async function oldRun(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'cmid-run-'));
  await mkdir(join(out, 'checkpoints'));
  await writeFile(join(out, 'checkpoints', 'last.safetensors'), 'x');
  await writeFile(join(out, 'checkpoints', 'step_10.safetensors'), 'x');
  await writeFile(join(out, 'log.jsonl'), '{"step":1}\n');
  await writeFile(join(out, 'notes.txt'), 'mine');
  return out;
}

describe('prepareRunFolder', () => {
  it('creates the checkpoints folder of a new run', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'cmid-run-')), 'new', 'run');
    await prepareRunFolder(out, { resume: false });
    expect(existsSync(join(out, 'checkpoints'))).toBe(true);
  });

  it('refuses a fresh run in a folder that holds one, naming the folder and the three ways out', async () => {
    const out = await oldRun();
    const err = await prepareRunFolder(out, { resume: false, command: 'cmid pretrain' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect(String((err as Error).message)).toMatch(new RegExp(`${out} already holds a run \\(checkpoints/last.safetensors, log.jsonl\\).*--resume.*--out.*--overwrite \\(cmid pretrain\\)`));
    expect(existsSync(join(out, 'checkpoints', 'step_10.safetensors'))).toBe(true);
  });

  it('resuming keeps everything; overwrite deletes the old checkpoints and log but nothing else', async () => {
    const a = await oldRun();
    await prepareRunFolder(a, { resume: true });
    expect(existsSync(join(a, 'checkpoints', 'step_10.safetensors'))).toBe(true);
    const b = await oldRun();
    await prepareRunFolder(b, { resume: false, overwrite: true });
    expect(existsSync(join(b, 'checkpoints'))).toBe(true);
    expect(existsSync(join(b, 'checkpoints', 'last.safetensors'))).toBe(false);
    expect(existsSync(join(b, 'checkpoints', 'step_10.safetensors'))).toBe(false);
    expect(existsSync(join(b, 'log.jsonl'))).toBe(false);
    expect(existsSync(join(b, 'notes.txt'))).toBe(true);
  });
});
