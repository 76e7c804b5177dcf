/**
 * An append-only JSON Lines log of a run: one object per line, written with one write(2) per line on a file
 * opened for append, so every record that write() returned for is in the file even if the process is killed
 * the next moment (fsync: true also survives a power cut, at a cost per line).
 *
 * Reopening appends. A line torn by a crash mid-write (no final newline) is cut off on open, so the next record
 * starts on a line of its own. With resumeAfter, records past the step a run resumes from (written after the
 * last checkpoint, and about to be redone) are dropped first, so the log has each step once.
 * Numbers that JSON cannot hold are written as strings: NaN -> "NaN", Infinity -> "Infinity"; bigint -> string.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readFile, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic-write.js';
import { CmidError } from '../runtime/errors.js';

export interface JsonlLogOptions {
  /** fsync after each line. Default: false (the OS has the line; a power cut may lose the last ones). */
  fsync?: boolean;
  /** Drop records whose numeric `key` is greater than `value` before appending, e.g. { key: 'step', value: 4000 }. */
  resumeAfter?: { key: string; value: number };
}

function parsesAsObject(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** One record as its line (with the newline). */
export function jsonlLine(record: object): string {
  const s = JSON.stringify(record, replacer);
  if (s === undefined || !s.startsWith('{')) throw new CmidError('input', `JsonlLog: a record must be a plain object, got ${String(record)}.`);
  return `${s}\n`;
}

/**
 * @example
 * const log = await JsonlLog.open('runs/cmid/log.jsonl', { resumeAfter: { key: 'step', value: resumedStep } });
 * log.write({ step, epoch, loss, lr, time: Date.now() });
 * log.close();
 */
export class JsonlLog {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly fsync: boolean,
    /** What open() removed: bytes of a torn last line, and records dropped by resumeAfter. */
    readonly recovered: { tornBytes: number; dropped: number },
  ) {
    this.fd = fd;
  }

  static async open(path: string, options: JsonlLogOptions = {}): Promise<JsonlLog> {
    mkdirSync(dirname(path), { recursive: true });
    const recovered = { tornBytes: 0, dropped: 0 };
    let size = 0;
    try {
      size = (await stat(path)).size;
    } catch {
      size = 0; // a new log
    }
    let needNewline = false;
    if (size > 0) {
      let text = await readFile(path, 'utf8');
      const tail = text.slice(text.lastIndexOf('\n') + 1);
      if (tail.length > 0 && parsesAsObject(tail)) {
        text += '\n'; // a whole record without its newline (another writer): keep it
        needNewline = true;
      }
      const kept = text.slice(0, text.lastIndexOf('\n') + 1);
      recovered.tornBytes = Buffer.byteLength(text) - Buffer.byteLength(kept);
      if (options.resumeAfter !== undefined) {
        const { key, value } = options.resumeAfter;
        const lines = kept.split('\n').filter((l) => l.trim().length > 0);
        const keep = lines.filter((l, i) => {
          let v: unknown;
          try {
            v = (JSON.parse(l) as Record<string, unknown>)[key];
          } catch (e) {
            throw new CmidError('input', `JsonlLog: ${path} record ${i + 1} is not JSON (${(e as Error).message}); fix or delete that line before resuming.`, {
              file: path,
              cause: e,
            });
          }
          return !(typeof v === 'number' && v > value);
        });
        recovered.dropped = lines.length - keep.length;
        if (recovered.dropped > 0 || recovered.tornBytes > 0 || needNewline) {
          await writeFileAtomic(path, keep.map((l) => `${l}\n`).join(''));
          needNewline = false;
        }
      } else if (recovered.tornBytes > 0) {
        await truncate(path, Buffer.byteLength(kept));
      }
    }
    let fd: number;
    try {
      fd = openSync(path, 'a');
    } catch (e) {
      throw new CmidError('input', `JsonlLog: cannot open ${path} for appending (${(e as Error).message}). Check the folder and its permissions.`, {
        file: path,
        cause: e,
      });
    }
    if (needNewline) writeSync(fd, '\n');
    return new JsonlLog(path, fd, options.fsync ?? false, recovered);
  }

  /** Appends one record; it is in the file when this returns. */
  write(record: object): void {
    if (this.fd === undefined) throw new CmidError('config', `JsonlLog ${this.path}: write after close().`);
    const buf = Buffer.from(jsonlLine(record), 'utf8');
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    if (this.fsync) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Reads a JSONL log. A torn last line (a crash mid-write: no newline, not JSON) is ignored; any other bad line is an error naming the
 * file and line number.
 */
export async function readJsonl(path: string): Promise<Array<Record<string, unknown>>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CmidError('input', `readJsonl: cannot read ${path} (${(e as Error).message}). Check the path.`, { file: path, cause: e });
  }
  const lines = text.split('\n');
  const last = lines[lines.length - 1]!;
  const torn = last.length > 0 && !parsesAsObject(last) ? lines.length - 1 : -1; // cut off by a crash
  const out: Array<Record<string, unknown>> = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0 || i === torn) return;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch (e) {
      throw new CmidError('input', `readJsonl: ${path} line ${i + 1} is not JSON (${(e as Error).message}). Fix or delete that line.`, {
        file: path,
        cause: e,
      });
    }
  });
  return out;
}
