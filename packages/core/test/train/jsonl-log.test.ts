/** JsonlLog: one record per line, survives SIGKILL, torn tails, resume appends and resumeAfter. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JsonlLog, jsonlLine, readJsonl } from '../../src/train/jsonl-log.js';
import { CmidError } from '../../src/runtime/errors.js';
import { removeTempDirs, tempDir } from '../io/helpers.js';

afterAll(removeTempDirs);

const CORE = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

describe('JsonlLog', () => {
  it('one object per line; reopening appends; NaN/Infinity/bigint survive as strings', async () => {
    const path = join(await tempDir('cmid-jsonl-'), 'runs', 'a', 'log.jsonl'); // folders are made
    const a = await JsonlLog.open(path);
    a.write({ step: 1, loss: 2.5 });
    a.write({ step: 2, loss: NaN, lr: Infinity, n: 10n });
    a.close();
    const b = await JsonlLog.open(path);
    b.write({ step: 3, loss: 1.25, note: 'line\nbreak' });
    b.close();
    const text = await readFile(path, 'utf8');
    expect(text.split('\n')).toHaveLength(4); // three lines + the final newline
    expect(await readJsonl(path)).toEqual([
      { step: 1, loss: 2.5 },
      { step: 2, loss: 'NaN', lr: 'Infinity', n: '10' },
      { step: 3, loss: 1.25, note: 'line\nbreak' },
    ]);
    expect(() => b.write({ step: 4 })).toThrow(/write after close/);
    expect(() => jsonlLine([1, 2] as unknown as object)).toThrow(/must be a plain object/);
  });

  it('every written record is in the file after the process is SIGKILLed', async () => {
    const path = join(await tempDir('cmid-jsonl-kill-'), 'log.jsonl');
    const mod = pathToFileURL(join(CORE, 'src/train/jsonl-log.ts')).href;
    const code = `const { JsonlLog } = await import(${JSON.stringify(mod)});
      const log = await JsonlLog.open(${JSON.stringify(path)});
      for (let step = 0; step < 500; step++) log.write({ step, loss: 1 / (step + 1), pad: 'x'.repeat(200) });
      process.kill(process.pid, 'SIGKILL');`;
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBe('SIGKILL');
    const records = await readJsonl(path);
    expect(records).toHaveLength(500);
    expect(records[499]).toMatchObject({ step: 499, loss: 1 / 500 });
  });

  it('a torn last line is ignored by readJsonl and cut off on open, so appends stay parseable', async () => {
    const path = join(await tempDir('cmid-jsonl-torn-'), 'log.jsonl');
    await writeFile(path, '{"step":1}\n{"step":2}\n{"step":3,"lo');
    expect(await readJsonl(path)).toEqual([{ step: 1 }, { step: 2 }]);
    const log = await JsonlLog.open(path);
    expect(log.recovered).toEqual({ tornBytes: 13, dropped: 0 });
    log.write({ step: 3 });
    log.close();
    expect(await readFile(path, 'utf8')).toBe('{"step":1}\n{"step":2}\n{"step":3}\n');
  });

  it('a whole last record without its newline is kept, and the next one starts on a new line', async () => {
    const path = join(await tempDir('cmid-jsonl-nonl-'), 'log.jsonl');
    await writeFile(path, '{"step":1}\n{"step":2}');
    expect(await readJsonl(path)).toEqual([{ step: 1 }, { step: 2 }]);
    const log = await JsonlLog.open(path);
    log.write({ step: 3 });
    log.close();
    expect(await readFile(path, 'utf8')).toBe('{"step":1}\n{"step":2}\n{"step":3}\n');
  });

  it('resumeAfter drops the records past the checkpoint step before appending', async () => {
    const path = join(await tempDir('cmid-jsonl-resume-'), 'log.jsonl');
    const log = await JsonlLog.open(path);
    for (let step = 1; step <= 10; step++) log.write({ step, loss: step });
    log.write({ event: 'eval', acc: 0.5 }); // no step: kept
    log.close();
    await appendFile(path, '{"step":11,"lo'); // and the crash tore a line
    const resumed = await JsonlLog.open(path, { resumeAfter: { key: 'step', value: 6 } });
    expect(resumed.recovered).toEqual({ tornBytes: 14, dropped: 4 });
    resumed.write({ step: 7, loss: 7.5 });
    resumed.close();
    const steps = (await readJsonl(path)).map((r) => r.step ?? r.event);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 'eval', 7]);
  });

  it('a bad line that is not the last is an error naming the file and line', async () => {
    const path = join(await tempDir('cmid-jsonl-bad-'), 'log.jsonl');
    await writeFile(path, '{"step":1}\nnot json\n{"step":3}\n');
    const e = await readJsonl(path).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CmidError);
    expect((e as Error).message).toContain(`${path} line 2 is not JSON`);
    await expect(JsonlLog.open(path, { resumeAfter: { key: 'step', value: 1 } })).rejects.toThrow(/record 2 is not JSON/);
    await expect(readJsonl(join(path, 'nope'))).rejects.toThrow(/cannot read/);
  });
});
