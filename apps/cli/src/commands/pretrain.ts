/**
 * `cmid pretrain` (train / eval sub-commands) and `cmid extract`: the commands of @cmid/pretrain, wired here
 * unchanged so `pnpm --filter pretrain train` and `cmid pretrain train` run the same code.
 */
import { Command } from 'commander';
import { evalCommand, extractCommand as pkgExtract, trainCommand } from '@cmid/pretrain';

export function pretrainCommand(): Command {
  return new Command('pretrain')
    .description('CMID self-supervised pretraining: train (default), eval (kNN / linear probe of a backbone)')
    .addCommand(trainCommand('train'), { isDefault: true })
    .addCommand(evalCommand('eval'));
}

export function extractCommand(): Command {
  return pkgExtract('extract');
}
