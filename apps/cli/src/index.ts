/**
 * The `cmid` program: global flags and one command per file under commands/. Commands are thin: the work lives
 * in the @cmid/* packages, so `pnpm --filter <pkg> train` and `cmid <task> train` run the same code.
 */
import { Command } from 'commander';
import { infoCommand } from './commands/info.js';
import { demoCommand } from './commands/demo.js';
import { synthCommand } from './commands/synth.js';
import { pretrainCommand, extractCommand } from './commands/pretrain.js';
import { classifyCommand } from './commands/classify.js';

export function buildProgram(): Command {
  const program = new Command('cmid')
    .description('CMID: contrastive mask image distillation for remote-sensing imagery, in TypeScript')
    .option('--backend <name>', 'tfjs backend: tensorflow | webgpu | wasm | cpu (default: automatic, or CMID_BACKEND)')
    .option('--threads <n>', 'threads for onnxruntime (default: all cores, or CMID_THREADS)')
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ backend?: string; threads?: string }>();
      if (o.backend !== undefined) process.env.CMID_BACKEND = o.backend;
      if (o.threads !== undefined) process.env.CMID_THREADS = o.threads;
    });
  program.addCommand(infoCommand());
  program.addCommand(demoCommand());
  program.addCommand(synthCommand());
  program.addCommand(pretrainCommand());
  program.addCommand(extractCommand());
  program.addCommand(classifyCommand());
  return program;
}
