#!/usr/bin/env node
/**
 * `pnpm --filter @cmid/benchmarks bench` (run by `turbo run bench`): runs the task protocols behind the README
 * result tables, writes one result file per row to benchmarks/results/, and re-renders the tables between their
 * README markers from those files. `--render-only` re-renders without running.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { CmidError, initBackend } from '@cmid/core';
import { renderReadmeSection, repoRoot } from '@cmid/core/testing';
import { renderUcmTable, runUcmTable, UCM_ROWS } from './tables/ucm.js';

const TABLES = { ucm: { run: runUcmTable, render: renderUcmTable, marker: 'bench:ucm' } } as const;

const program = new Command('cmid-bench')
  .description('regenerate the README result tables')
  .argument('[tables...]', `tables to run (${Object.keys(TABLES).join(', ')})`, ['ucm'])
  .option('--data <root>', 'real dataset root (default: CMID_DATA, else the synthetic set)')
  .option('--weights <dir>', 'folder with the paper rows\' checkpoints (default: CMID_WEIGHTS)')
  .option('--rows <ids>', `comma-separated row ids (ucm: ${UCM_ROWS.map((r) => r.id).join(', ')})`)
  .option('--epochs <n>', 'fine-tuning epochs of the paper rows (default: the reference\'s)')
  .option('--work <dir>', 'work folder for the runs', join('runs', 'bench'))
  .option('--threads <n>', 'onnxruntime threads')
  .option('--render-only', 'only re-render the README tables from benchmarks/results/')
  .action(async (tables: string[], f: { data?: string; weights?: string; rows?: string; epochs?: string; work: string; threads?: string; renderOnly?: boolean }) => {
    if (process.env.INIT_CWD !== undefined) process.chdir(process.env.INIT_CWD);
    await initBackend();
    for (const name of tables) {
      const t = TABLES[name as keyof typeof TABLES];
      if (t === undefined) throw new CmidError('config', `unknown table "${name}"; tables: ${Object.keys(TABLES).join(', ')}.`);
      if (f.renderOnly !== true) {
        const data = f.data ?? process.env.CMID_DATA;
        const weights = f.weights ?? process.env.CMID_WEIGHTS;
        await t.run({
          work: f.work,
          ...(data !== undefined && data !== '' ? { data } : {}),
          ...(weights !== undefined && weights !== '' ? { weights } : {}),
          ...(f.rows !== undefined ? { rows: f.rows.split(',') } : {}),
          ...(f.epochs !== undefined ? { epochs: Number(f.epochs) } : {}),
          ...(f.threads !== undefined ? { threads: Number(f.threads) } : {}),
        });
      }
      const md = await t.render();
      const ok = renderReadmeSection(t.marker, md, join(repoRoot(), 'README.md'));
      console.log(ok ? `README: ${t.marker} table regenerated` : `README has no ${t.marker} markers; table:\n${md}`);
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CmidError) {
    console.error(`cmid-bench: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
