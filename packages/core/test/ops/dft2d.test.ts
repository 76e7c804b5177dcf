import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fft2d, initBackend, type DftNorm } from '../../src/index.js';
import { checkGradFiniteDiff, expectClose, onBackend, randomArray, runTorch, torchAvailable, torchRequired } from '../../src/testing/index.js';

/** Direct O(N^2) 2-D DFT in float64 over the last two dims of x [n, H, W]. */
function directDft(x: Float32Array, n: number, H: number, W: number, norm: DftNorm): { re: Float64Array; im: Float64Array } {
  const s = norm === 'backward' ? 1 : norm === 'ortho' ? 1 / Math.sqrt(H * W) : 1 / (H * W);
  const re = new Float64Array(n * H * W);
  const im = new Float64Array(n * H * W);
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < H; u++) {
      for (let v = 0; v < W; v++) {
        let sr = 0;
        let si = 0;
        for (let h = 0; h < H; h++) {
          for (let w = 0; w < W; w++) {
            const t = -2 * Math.PI * (((u * h) % H) / H + ((v * w) % W) / W);
            const xv = x[(b * H + h) * W + w]!;
            sr += xv * Math.cos(t);
            si += xv * Math.sin(t);
          }
        }
        re[(b * H + u) * W + v] = s * sr;
        im[(b * H + u) * W + v] = s * si;
      }
    }
  }
  return { re, im };
}

const shapes: number[][] = [
  [1, 1, 1, 1],
  [1, 1, 2, 2],
  [2, 3, 4, 4],
  [1, 2, 5, 7],
  [2, 1, 8, 3],
  [1, 1, 9, 16],
  [1, 3, 7, 7],
];
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe('fft2d vs a direct float64 DFT', () => {
  for (const shape of shapes) {
    for (const norm of ['backward', 'ortho', 'forward'] as const) {
      it(`x=[${shape}] norm=${norm} (wasm and cpu)`, async () => {
        const x = randomArray(size(shape), 1);
        const [H, W] = shape.slice(-2) as [number, number];
        const ref = directDft(x, size(shape) / (H * W), H, W, norm);
        for (const backend of ['wasm', 'cpu'] as const) {
          const [re, im] = await onBackend(backend, () => {
            const { real, imag } = fft2d(tf.tensor4d(x, shape as [number, number, number, number]), norm);
            expect(real.shape).toEqual(shape);
            return [real, imag];
          });
          expectClose(re!, ref.re, 1e-4, 1e-6, `${backend} real`);
          expectClose(im!, ref.im, 1e-4, 1e-6, `${backend} imag`);
        }
      });
    }
  }

  it('docstring example: [[1,2],[3,4]] ortho gives real [[5,-1],[-2,0]], imag 0', async () => {
    await initBackend({ backend: 'wasm' });
    const { real, imag } = fft2d(tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]), 'ortho');
    expectClose(real.dataSync(), [5, -1, -2, 0], 1e-6, 1e-6);
    expectClose(imag.dataSync(), [0, 0, 0, 0], 1e-6, 1e-6);
    tf.dispose([real, imag]);
  });

  it('rank 3 and rank 2 inputs: x=[3,6,5], x=[6,5]', async () => {
    await initBackend({ backend: 'wasm' });
    const x = randomArray(90, 2);
    const ref = directDft(x, 3, 6, 5, 'backward');
    const a = fft2d(tf.tensor3d(x, [3, 6, 5]));
    expectClose(a.real.dataSync(), ref.re, 1e-4, 1e-6);
    const b = fft2d(tf.tensor2d(x.slice(0, 30), [6, 5]));
    expectClose(b.imag.dataSync(), ref.im.slice(0, 30), 1e-4, 1e-6);
    tf.dispose([a.real, a.imag, b.real, b.imag]);
  });

  it('Parseval with norm=ortho: sum x^2 = sum |X|^2, x=[2,3,14,10]', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.tensor4d(randomArray(2 * 3 * 14 * 10, 3), [2, 3, 14, 10]);
    const { real, imag } = fft2d(x, 'ortho');
    const e1 = tf.sum(tf.square(x), [2, 3]);
    const e2 = tf.sum(tf.add(tf.square(real), tf.square(imag)), [2, 3]);
    expectClose(e2.dataSync(), e1.dataSync(), 1e-5, 1e-6);
    tf.dispose([x, real, imag, e1, e2]);
  });

  it('bad input is refused with the op name: rank 1, int32, unknown norm', () => {
    expect(() => fft2d(tf.tensor1d([1, 2]))).toThrow(/fft2d: x needs rank >= 2/);
    expect(() => fft2d(tf.tensor2d([1, 2], [1, 2], 'int32'))).toThrow(/fft2d: x must be float32/);
    expect(() => fft2d(tf.ones([2, 2]), 'none' as DftNorm)).toThrow(/ortho, backward, forward/);
  });
});

describe('fft2d gradients', () => {
  // focal-frequency-style loss: weighted spectrum power, so that real and imag both matter
  const loss = (x: tf.Tensor, norm: DftNorm): tf.Scalar => {
    const { real, imag } = fft2d(x, norm);
    const w = tf.linspace(0.5, 1.5, real.size).reshape(real.shape);
    return tf.sum(tf.mul(w, tf.add(tf.square(real), tf.mul(tf.scalar(2), tf.square(imag)))));
  };
  for (const [shape, norm] of [
    [[1, 2, 5, 6], 'ortho'],
    [[2, 1, 7, 3], 'backward'],
    [[1, 1, 4, 4], 'forward'],
  ] as Array<[[number, number, number, number], DftNorm]>) {
    it(`x=[${shape}] norm=${norm}: wasm vs cpu and finite differences`, async () => {
      const x = randomArray(size(shape), 4);
      const f = (): tf.Tensor => tf.grad((t: tf.Tensor) => loss(t, norm))(tf.tensor4d(x, shape));
      const [cpu] = await onBackend('cpu', f);
      const [wasm] = await onBackend('wasm', f);
      expectClose(wasm!, cpu!, 1e-4, 1e-6);
      checkGradFiniteDiff((t) => loss(t, norm), x, shape);
    });
  }

  it('no leak: numTensors and numDataIds unchanged across forward and backward (x=[1,2,6,5])', async () => {
    await initBackend({ backend: 'wasm' });
    const x = tf.tensor4d(randomArray(60, 5), [1, 2, 6, 5]);
    const step = (): void => {
      const { real, imag } = fft2d(x, 'ortho');
      tf.dispose([real, imag]);
      tf.grad((t: tf.Tensor) => loss(t, 'ortho'))(x).dispose();
    };
    step();
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(ids);
    x.dispose();
  });
});

describe('fft2d vs torch.fft.fft2', () => {
  const haveTorch = torchAvailable();
  it.skipIf(!haveTorch && !torchRequired())(
    `x=[2,3,8,8] and x=[1,2,7,5], norm=ortho and backward${haveTorch ? '' : ' (SKIPPED: /usr/bin/python3 cannot import torch; set CMID_REQUIRE_TORCH=1 to fail instead)'}`,
    async () => {
      expect(haveTorch, 'CMID_REQUIRE_TORCH=1 but /usr/bin/python3 cannot import torch (apt-get install python3-torch)').toBe(true);
      await initBackend({ backend: 'wasm' });
      for (const shape of [[2, 3, 8, 8], [1, 2, 7, 5]] as Array<[number, number, number, number]>) {
        const x = randomArray(size(shape), 6);
        const torch = runTorch(
          "for n in ('ortho', 'backward'):\n" +
            "    y = torch.fft.fft2(inputs['x'].double(), norm=n)\n" +
            "    outputs['re_' + n] = y.real\n" +
            "    outputs['im_' + n] = y.imag\n",
          { x: { data: x, shape } },
        );
        for (const norm of ['ortho', 'backward'] as const) {
          const { real, imag } = fft2d(tf.tensor4d(x, shape), norm);
          expect(torch[`re_${norm}`]!.shape).toEqual(shape);
          expectClose(real.dataSync(), torch[`re_${norm}`]!.data, 1e-4, 1e-6, `x=[${shape}] ${norm} real`);
          expectClose(imag.dataSync(), torch[`im_${norm}`]!.data, 1e-4, 1e-6, `x=[${shape}] ${norm} imag`);
          tf.dispose([real, imag]);
        }
      }
    },
  );
});
