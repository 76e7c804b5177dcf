import { CmidError } from '@cmid/core';
import { buildProgram } from './index.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CmidError) {
    console.error(`cmid: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
