/** The UCM README table is rendered from result files only: every cell and the comparison sentence come from them. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRowResult } from '../src/results.js';
import { renderUcmTable, UCM_ROWS } from '../src/tables/ucm.js';

const dataset = { name: 'synthetic-ucm', root: '/x', synthetic: true, train: 336, test: 84, classes: 21 };

describe('renderUcmTable', () => {
  it('fills the measured rows, marks the rest as not run, and compares CMID with random init from the numbers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cmid-ucm-'));
    const protocol = { size: 96, epochs: 8, engine: 'compiled' };
    await writeRowResult('ucm-cmid-tiny-synthetic-t', { table: 'ucm', row: 'cmid-tiny-synthetic', time: '2026-01-02T00:00:00Z', metrics: { oa: 29.76, oaBest: 30.95, bestEpoch: 7, knnTop1: 32.14, linearTop1: 39.29 }, dataset, protocol: { ...protocol, pretrainEpochs: 60, pretrainSteps: 720 }, logs: [], backend: 'wasm' }, root);
    await writeRowResult('ucm-random-tiny-t', { table: 'ucm', row: 'random-tiny', time: '2026-01-02T00:00:00Z', metrics: { oa: 36.9, oaBest: 38.1, bestEpoch: 6, knnTop1: 17.86, linearTop1: 21.43 }, dataset, protocol, logs: [], backend: 'wasm' }, root);
    // an older record of the same row is superseded by the newer one
    await writeRowResult('ucm-random-tiny-old', { table: 'ucm', row: 'random-tiny', time: '2025-01-01T00:00:00Z', metrics: { oa: 99, oaBest: 99, bestEpoch: 1, knnTop1: 99, linearTop1: 99 }, dataset, protocol, logs: [], backend: 'wasm' }, root);
    const md = await renderUcmTable(root);
    const lines = md.split('\n').filter((l) => l.startsWith('|'));
    expect(lines).toHaveLength(2 + UCM_ROWS.length);
    const cmid = lines.find((l) => l.includes('CMID (pretrained here)'))!;
    expect(cmid).toContain('| 29.76 |');
    expect(cmid).toContain('30.95 (epoch 7)');
    expect(cmid).toContain('32.14 / 39.29');
    expect(lines.find((l) => l.startsWith('| random init'))).toContain('| 36.90 |');
    expect(md).not.toContain('99.00');
    expect(lines.find((l) => l.includes('cmid_resnet50_millionaid.pth'))).toContain('not run');
    expect(md).toContain('After 720 pretraining steps of the tiny CMID model, its frozen features are above random init on the linear probe (39.29 vs 21.43 %) and above it on kNN (32.14 vs 17.86 %); fully fine-tuned for 8 epochs it ends below random init (29.76 vs 36.90 %');
  });
});
