import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/commands/demo.js';

describe('cmid demo', () => {
  for (const engine of ['compiled', 'eager'] as const) {
    it(`trains with the ${engine} engine: loss falls and the held-out accuracy clearly beats random init and chance`, async () => {
      const r = await runDemo({ steps: 60, seed: 0, engine });
      expect(r.backend).toBe('wasm');
      expect(r.engine).toBe(engine);
      expect(r.lastLoss).toBeLessThan(0.6 * r.firstLoss);
      expect(r.accuracy).toBeGreaterThan(r.randomInitAccuracy + 0.3);
      expect(r.accuracy).toBeGreaterThan(0.7); // chance is 0.25
    });
  }
});
