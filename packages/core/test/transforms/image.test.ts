import { describe, expect, it } from 'vitest';
import { CmidError } from '../../src/runtime/errors.js';
import { checkImage, cloneImage, emptyImage, imageFrom, requireRgb, requireUint8, roundHalfEven, toFloat32Image } from '../../src/transforms/image.js';

describe('image', () => {
  it('checkImage rejects a length that does not match H*W*C and names the HWC layout', () => {
    expect(() => checkImage({ data: new Uint8Array(11), height: 2, width: 2, channels: 3 }, 'op')).toThrow(/op: data has 11 values but height\*width\*channels = 2\*2\*3 = 12.*HWC/);
    expect(() => checkImage({ data: new Uint8Array(0), height: 0, width: 2, channels: 3 }, 'op')).toThrow(CmidError);
    expect(() => checkImage({ data: [1, 2, 3] as never, height: 1, width: 1, channels: 3 }, 'op')).toThrow(/Uint8Array or Float32Array/);
    const ok = imageFrom(new Float32Array(12), 2, 2, 3);
    expect(ok.channels).toBe(3);
  });

  it('requireRgb / requireUint8 explain how to proceed', () => {
    const ms = emptyImage('uint8', 2, 2, 13);
    expect(() => requireRgb(ms, 'adjustHue')).toThrow(/adjustHue: needs a 3-band RGB image, got 13 band\(s\).*probability to 0/);
    expect(() => requireUint8(emptyImage('float32', 2, 2, 3), 'solarize')).toThrow(/expects a uint8 image/);
    expect(() => requireRgb(emptyImage('uint8', 2, 2, 3), 'x')).not.toThrow();
  });

  it('cloneImage copies; toFloat32Image keeps the 0..255 values; emptyImage follows the array type', () => {
    const a = imageFrom(new Uint8Array([1, 2, 3, 250, 251, 252]), 1, 2, 3);
    const b = cloneImage(a);
    b.data[0] = 99;
    expect(a.data[0]).toBe(1);
    expect(Array.from(toFloat32Image(a).data)).toEqual([1, 2, 3, 250, 251, 252]);
    expect(emptyImage(new Float32Array(1), 2, 3, 4).data).toBeInstanceOf(Float32Array);
    expect(emptyImage('uint8', 2, 3, 4).data.length).toBe(24);
  });

  it("roundHalfEven is Python's round(): ties to even, others to nearest", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, 7].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, 7]);
  });
});
