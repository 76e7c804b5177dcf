/**
 * A progress bar for long work (epochs, synth, evaluation): step/total, rate, ETA and free fields (loss, lr).
 *
 * On a TTY it redraws one line with a carriage return (at most every redrawMs); elsewhere (CI logs, files,
 * `| tee`) it prints a plain line every lineEveryMs, so a log holds a readable history instead of thousands of
 * \r-joined fragments. The stream and the clock are injected, so tests can drive it exactly.
 * The rate is measured over the last rateWindowMs (default 10 s): it follows a slowdown without jitter.
 */

/** Where the bar goes: process.stderr by default, or anything with write(). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type ProgressFields = Record<string, number | string | undefined>;

export interface ProgressOptions {
  /** Steps in all. Default: unknown (no bar, no ETA). */
  total?: number;
  /** Text before the bar, e.g. 'epoch 3/100'. */
  label?: string;
  /** Unit of the rate. Default: 'it'. */
  unit?: string;
  /** Default: process.stderr. */
  stream?: ProgressStream;
  /** Redraw in place. Default: stream.isTTY. */
  tty?: boolean;
  /** Milliseconds clock. Default: performance.now. */
  now?: () => number;
  /** TTY: least time between redraws. Default: 100 ms. */
  redrawMs?: number;
  /** Not a TTY: time between plain lines. Default: 10000 ms. */
  lineEveryMs?: number;
  /** Rate over this recent span. Default: 10000 ms. */
  rateWindowMs?: number;
  /** Bar width in characters. Default: 20. */
  barWidth?: number;
}

/** Seconds as h:mm:ss or m:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A field value: integers as they are, tiny/huge numbers in exponent form, others to 4 significant digits. */
export function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/**
 * @example
 * const bar = new Progress({ total: steps, label: 'epoch 1' });
 * for (...) { ...; bar.tick(1, { loss, lr }); }
 * bar.done();
 * // TTY:  epoch 1  42% |########------------| 420/1000 12.3 it/s ETA 0:47 loss=0.4312 lr=1.00e-4
 */
export class Progress {
  step = 0;
  fields: ProgressFields = {};
  private readonly o: Required<Omit<ProgressOptions, 'total' | 'label' | 'stream' | 'tty'>>;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastLine: number;
  private history: Array<[number, number]> = []; // (time, step)
  private finished = false;
  private drawn = false;

  constructor(private readonly options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.o = {
      unit: options.unit ?? 'it',
      now: options.now ?? (() => performance.now()),
      redrawMs: options.redrawMs ?? 100,
      lineEveryMs: options.lineEveryMs ?? 10_000,
      rateWindowMs: options.rateWindowMs ?? 10_000,
      barWidth: options.barWidth ?? 20,
    };
    this.start = this.o.now();
    this.lastLine = this.start;
    this.history.push([this.start, 0]);
  }

  get total(): number | undefined {
    return this.options.total;
  }

  /** Advances by n steps and merges `fields`; redraws when due. */
  tick(n = 1, fields?: ProgressFields): void {
    this.update(this.step + n, fields);
  }

  /** Sets the step and merges `fields`; redraws when due. */
  update(step: number, fields?: ProgressFields): void {
    const now = this.o.now();
    this.step = step;
    if (fields !== undefined) Object.assign(this.fields, fields);
    const last = this.history[this.history.length - 1]!;
    if (now - last[0] >= this.o.rateWindowMs / 50) this.history.push([now, step]); // anchors, not every tick
    while (this.history.length > 2 && now - this.history[1]![0] >= this.o.rateWindowMs) this.history.shift();
    if (this.tty) {
      if (now - this.lastDraw >= this.o.redrawMs) this.draw(now);
    } else if (now - this.lastLine >= this.o.lineEveryMs) {
      this.lastLine = now;
      this.stream.write(`${this.format(now)}\n`);
    }
  }

  /** Items per second over the recent window (overall when the window is empty); undefined before any time passed. */
  rate(now = this.o.now()): number | undefined {
    const [t0, s0] = this.history[0]!;
    const dt = (now - t0) / 1000;
    if (dt <= 0) return undefined;
    return (this.step - s0) / dt;
  }

  /** Seconds left at the current rate; undefined without a total or a rate. */
  eta(now = this.o.now()): number | undefined {
    const r = this.rate(now);
    if (this.options.total === undefined || r === undefined || r <= 0) return undefined;
    return Math.max(0, this.options.total - this.step) / r;
  }

  /** The status line (without \r or \n). */
  format(now = this.o.now()): string {
    const parts: string[] = [];
    if (this.options.label !== undefined) parts.push(this.options.label);
    const total = this.options.total;
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, Math.max(0, this.step / total));
      const filled = Math.round(frac * this.o.barWidth);
      parts.push(`${String(Math.floor(frac * 100)).padStart(3)}%`);
      if (this.tty) parts.push(`|${'#'.repeat(filled)}${'-'.repeat(this.o.barWidth - filled)}|`);
      parts.push(`${this.step}/${total}`);
    } else {
      parts.push(`${this.step}`);
    }
    const r = this.rate(now);
    parts.push(r === undefined ? `? ${this.o.unit}/s` : `${r >= 100 ? r.toFixed(0) : r.toPrecision(3)} ${this.o.unit}/s`);
    if (this.finished) parts.push(`in ${formatDuration((now - this.start) / 1000)}`);
    else if (total !== undefined) parts.push(`ETA ${formatDuration(this.eta(now) ?? NaN)}`);
    for (const [k, v] of Object.entries(this.fields)) if (v !== undefined) parts.push(`${k}=${formatValue(v)}`);
    return parts.join(' ');
  }

  /** Prints a message line without breaking the bar (on a TTY the bar is redrawn under it). */
  log(message: string): void {
    if (this.tty && this.drawn) this.stream.write(`\r\x1b[K${message}\n`);
    else this.stream.write(`${message}\n`);
    if (this.tty && this.drawn && !this.finished) this.draw(this.o.now());
  }

  /** Final line: the rate over the recent window and the elapsed time; ends the line. */
  done(fields?: ProgressFields): void {
    if (this.finished) return;
    if (fields !== undefined) Object.assign(this.fields, fields);
    this.finished = true;
    const now = this.o.now();
    if (this.tty) {
      this.draw(now);
      this.stream.write('\n');
    } else {
      this.stream.write(`${this.format(now)}\n`);
    }
  }

  private draw(now: number): void {
    this.lastDraw = now;
    this.drawn = true;
    let line = this.format(now);
    const cols = this.stream.columns;
    if (cols !== undefined && cols > 1 && line.length > cols - 1) line = line.slice(0, cols - 1);
    this.stream.write(`\r${line}\x1b[K`);
  }
}
