/**
 * `cmid synth <kind|all> --out <dir> --size tiny|small|medium --seed N`: writes a synthetic dataset in the real
 * on-disk layout (UC Merced, Potsdam, Vaihingen, DOTA, CDD, SeCo, MillionAID), for running every pipeline
 * where the real data cannot be downloaded. The work lives in @cmid/core/synth; this file parses and reports.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { generate, SYNTH_KINDS, SYNTH_SIZES, type SynthKind, type SynthResult, type SynthSize } from '@cmid/core/synth';

export interface SynthCommandOptions {
  out: string;
  size: SynthSize;
  seed: number;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 0xffffffff) throw new InvalidArgumentError('expected an integer in 0..4294967295.');
  return n;
}

/**
 * Runs the generation and reports progress as `<kind> <done>/<total>`: rewritten in place on a terminal,
 * otherwise one line per tenth. Returns one result per dataset written.
 */
export async function runSynth(kind: SynthKind | 'all', o: SynthCommandOptions, log: (line: string) => void = (l) => console.log(l)): Promise<SynthResult[]> {
  const tty = process.stdout.isTTY === true;
  let current: string = kind;
  let lastTenth = -1;
  const started = Date.now();
  const results = await generate(kind, {
    out: o.out,
    size: o.size,
    seed: o.seed,
    onKind: (k) => {
      current = k;
      lastTenth = -1;
    },
    onProgress: (done, total) => {
      const line = `${current} ${done}/${total}`;
      if (tty) {
        process.stdout.write(`\r${line}${done === total ? '\n' : ''}`);
        return;
      }
      const tenth = Math.floor((10 * done) / total);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        log(line);
      }
    },
  });
  for (const r of results) log(`${r.kind}: ${r.samples} samples, ${r.files.length} files in ${r.out}`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s (size ${o.size}, seed ${o.seed}, same seed = same bytes)`);
  return results;
}

export function synthCommand(): Command {
  return new Command('synth')
    .description('write a synthetic dataset in the real on-disk layout (same seed, same bytes)')
    .addArgument(new Argument('<kind>', 'dataset, or all (each into <out>/<kind>)').choices([...Object.keys(SYNTH_KINDS), 'all']))
    .requiredOption('--out <dir>', 'output folder: the dataset root')
    .addOption(new Option('--size <size>', 'tiny: seconds, for tests; small: a smoke training set; medium: a realistic slice').choices(SYNTH_SIZES).default('tiny'))
    .option('--seed <n>', 'random seed', parseSeed, 0)
    .action(async (kind: SynthKind | 'all', opts: SynthCommandOptions) => {
      await runSynth(kind, opts);
    });
}
