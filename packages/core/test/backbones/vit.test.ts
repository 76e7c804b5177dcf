import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index.js';
import { loadStateDict, seedInit, torchShape } from '../../src/nn/index.js';
import type { StateDict } from '../../src/checkpoint/tensor.js';
import { bicubicMatrix, bicubicResize, resamplePosEmbed, VisionTransformer, vit_b16, type VitOptions } from '../../src/backbones/vit.js';
import { expectClose, randomArray, runTorch } from '../../src/testing/index.js';
import { f32, nhwcInput, nhwcValues, parityEnabled, readStateDict, runParityScript } from './parity-helpers.js';

const SMALL: VitOptions = { embedDim: 64, depth: 2, numHeads: 4, patchSize: 16, imgSize: 64 };
const enabled = parityEnabled('vit.py');

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('ViT helpers', () => {
  it('bicubicMatrix rows sum to 1 and the identity size is exact', () => {
    for (const [i, o] of [[4, 6], [14, 7], [5, 5], [2, 9]] as const) {
      const m = bicubicMatrix(i, o);
      for (let r = 0; r < o; r++) {
        let s = 0;
        for (let c = 0; c < i; c++) s += m[r * i + c]!;
        expect(s).toBeCloseTo(1, 6);
      }
    }
    expect(Array.from(bicubicMatrix(3, 3))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  it.skipIf(!enabled)('bicubicResize equals torch interpolate(bicubic, align_corners=False): 4x4->6x6, 7x5->3x13, 2x3->9x2', () => {
    for (const [ih, iw, oh, ow] of [[4, 4, 6, 6], [7, 5, 3, 13], [2, 3, 9, 2]] as const) {
      const d = 3;
      const grid = randomArray(ih * iw * d, ih * 100 + iw);
      const ref = runTorch(
        `g = inputs['g'].permute(2, 0, 1).unsqueeze(0)\n` +
          `outputs['y'] = torch.nn.functional.interpolate(g, size=(${oh}, ${ow}), mode='bicubic', align_corners=False)[0].permute(1, 2, 0).contiguous()`,
        { g: { data: grid, shape: [ih, iw, d] } },
      );
      const ours = bicubicResize(grid, ih, iw, d, oh, ow);
      const r = expectClose(ours, ref.y!.data, 1e-5, 1e-6, `bicubic ${ih}x${iw}->${oh}x${ow}`);
      console.log(`bicubic ${ih}x${iw}->${oh}x${ow}: max diff ${r.maxAbsDiff.toExponential(2)}`);
    }
  });
});

describe.skipIf(!enabled)('ViT parity with the PyTorch reference (MAE / timm layout)', () => {
  let sd: StateDict;
  let expected: StateDict;

  beforeAll(async () => {
    const dir = runParityScript('vit.py');
    sd = await readStateDict(join(dir, 'small.safetensors'));
    expected = await readStateDict(join(dir, 'small.expected.safetensors'));
  }, 300_000);

  const cases: [string, string][] = [
    ['s64', 'x=[2,64,64,3] dim 64 depth 2 heads 4 patch 16: the stored 4x4 position grid'],
    ['s96', 'x=[2,96,96,3]: pos_embed bicubic 4x4 -> 6x6'],
    ['r48x80', 'x=[2,48,80,3]: pos_embed bicubic 4x4 -> 3x5 (down in H, up in W)'],
  ];
  for (const [name, title] of cases) {
    it(title, () => {
      seedInit(1);
      const model = new VisionTransformer('vit_b16', SMALL).eval();
      loadStateDict(model, sd, { source: 'small.safetensors' });
      const x = nhwcInput(expected.get(`${name}.input`)!);
      const [, h, w] = x.shape;
      const out = tf.tidy(() => ({
        pos: model.positionEmbedding(h / 16, w / 16).dataSync() as Float32Array,
        tokens: model.tokens(x).dataSync() as Float32Array,
        map: model.features(x)[0]!,
        cls: model.forward(x).dataSync() as Float32Array,
      }));
      const check = (label: string, actual: Float32Array, ref: Float32Array) => {
        const r = expectClose(actual, ref, 1e-4, 1e-6, `${name} ${label}`);
        console.log(`vit ${name} ${label}: max diff ${r.maxAbsDiff.toExponential(2)} (scale ${r.scale.toFixed(2)})`);
      };
      check('pos_embed', out.pos, f32(expected.get(`${name}.pos`)));
      check('tokens', out.tokens, f32(expected.get(`${name}.tokens`)));
      const mapRef = nhwcValues(expected.get(`${name}.map`)!);
      expect(out.map.shape).toEqual(mapRef.shape);
      check('map', out.map.dataSync() as Float32Array, mapRef.data);
      out.map.dispose();
      check('cls', out.cls, f32(expected.get(`${name}.cls`)));

      // MAE fine-tuning's global_pool: the same weights with norm.* as fc_norm.*
      const avgModel = new VisionTransformer('vit_b16', { ...SMALL, globalPool: 'avg' }).eval();
      const renamed: StateDict = new Map([...sd].map(([k, t]) => [k.replace(/^norm\./, 'fc_norm.'), t]));
      loadStateDict(avgModel, renamed);
      check('avg', tf.tidy(() => avgModel.forward(x).dataSync() as Float32Array), f32(expected.get(`${name}.avg`)));
      avgModel.dispose();
      x.dispose();
      model.dispose();
    });
  }

  it('resamplePosEmbed (host, for checkpoints) gives the interpolated table torch uses at 96 px', () => {
    const pos = resamplePosEmbed(sd.get('pos_embed')!, [6, 6]);
    expect(pos.shape).toEqual([1, 37, 64]);
    expectClose(pos.data as Float32Array, f32(expected.get('s96.pos')), 1e-5, 1e-6, 'resamplePosEmbed');
  });

  it("posEmbed 'sincos' is MAE's fixed 2-D table (dim 64, 8x8 grid) and is not trainable", () => {
    const model = new VisionTransformer('vit_b16', { ...SMALL, imgSize: 128, posEmbed: 'sincos' });
    expectClose(model.posEmbed.dataSync() as Float32Array, f32(expected.get('sincos8')), 1e-6, 1e-6, 'sincos');
    expect(model.trainableVariables()).not.toContain(model.posEmbed);
    model.dispose();
  });

  it('a depth-2 checkpoint loaded into a depth-3 ViT reports the missing blocks', () => {
    const model = new VisionTransformer('vit_b16', { ...SMALL, depth: 3 });
    expect(() => loadStateDict(model, sd, { source: 'small.safetensors' })).toThrow(/Missing from the checkpoint: blocks\.2\./);
    model.dispose();
  });
});

describe('ViT behaviour', () => {
  it('vit_b16 has the MAE / timm keys in order and 85.8M parameters (ViT-B/16 without head)', () => {
    seedInit(0);
    const model = vit_b16();
    const keys = [...model.stateEntries().map((e) => e.name)];
    expect(keys.slice(0, 4)).toEqual(['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias']);
    expect(keys.slice(4, 16)).toEqual(
      ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias', 'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias'].map((k) => `blocks.0.${k}`),
    );
    expect(keys.slice(-2)).toEqual(['norm.weight', 'norm.bias']);
    expect(keys.length).toBe(4 + 12 * 12 + 2);
    // timm vit_base_patch16_224 with num_classes=0: 85,798,656
    expect(model.numParameters()).toBe(85_798_656);
    const shapes = new Map(model.stateEntries().map((e) => [e.name, torchShape(e.variable.shape, e.layout)]));
    expect(shapes.get('pos_embed')).toEqual([1, 197, 768]);
    expect(shapes.get('patch_embed.proj.weight')).toEqual([768, 3, 16, 16]);
    expect(shapes.get('blocks.11.mlp.fc1.weight')).toEqual([3072, 768]);
    model.dispose();
  });

  it('input not a multiple of the patch is refused; gradients reach pos_embed through the interpolation', () => {
    seedInit(3);
    const model = new VisionTransformer('vit_b16', { ...SMALL, dropPathRate: 0.1 });
    expect(() => tf.tidy(() => model.forward(tf.zeros([1, 70, 64, 3])))).toThrow(/70x64 is not a multiple of the patch size 16/);
    const x = tf.randomNormal([2, 96, 96, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(x))), model.trainableVariables());
    const g = grads[model.posEmbed.name]!;
    const [finite, norm] = tf.tidy(() => [tf.all(tf.isFinite(g)).dataSync()[0], tf.norm(g).dataSync()[0]]);
    expect(finite).toBe(1);
    expect(norm).toBeGreaterThan(0);
    tf.dispose(grads);
    x.dispose();
    model.dispose();
  });
});
