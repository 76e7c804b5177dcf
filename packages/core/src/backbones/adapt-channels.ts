/**
 * Input-band adaptation of a pretrained first layer, so RGB checkpoints load into models for other band counts
 * (e.g. 13 Sentinel-2 bands, 4-band RGB-NIR, 1-band SAR). The usual rule (as timm's adapt_input_conv): one band
 * takes the sum of the RGB filters; n bands repeat the RGB filters cyclically and scale by 3/n, so a constant image
 * gives the same activations as before when n is a multiple of 3 (approximately otherwise). Works on the PyTorch-layout weight (OIHW) of a state dict.
 */
import { toFloat32, type CheckpointTensor, type StateDict } from '../checkpoint/tensor.js';
import { CmidError } from '../runtime/errors.js';

/** The first-layer weight keys of the supported backbone layouts. */
export const FIRST_LAYER_KEYS = ['conv1.weight', 'patch_embed.projection.weight', 'patch_embed.proj.weight'] as const;

export function adaptInputChannels(weight: CheckpointTensor, inChannels: number): CheckpointTensor {
  const [o, c, kh, kw] = weight.shape as [number, number, number, number];
  if (weight.shape.length !== 4) throw new CmidError('checkpoint', `adaptInputChannels: expected an OIHW conv weight, got shape [${weight.shape}].`);
  if (inChannels === c) return weight;
  const src = toFloat32(weight);
  const out = new Float32Array(o * inChannels * kh * kw);
  const k = kh * kw;
  for (let oi = 0; oi < o; oi++) {
    for (let ci = 0; ci < inChannels; ci++) {
      for (let t = 0; t < k; t++) {
        let v: number;
        if (inChannels === 1) {
          v = 0;
          for (let s = 0; s < c; s++) v += src[(oi * c + s) * k + t]!;
        } else {
          v = (src[(oi * c + (ci % c)) * k + t]! * c) / inChannels;
        }
        out[(oi * inChannels + ci) * k + t] = v;
      }
    }
  }
  return { dtype: 'float32', shape: [o, inChannels, kh, kw], data: out };
}

/**
 * Returns a copy of `dict` whose first-layer weight has `inChannels` input bands, and a sentence saying what was
 * done (for logs), or the dict unchanged when the band count already fits.
 */
export function adaptStateDictChannels(dict: StateDict, inChannels: number): { dict: StateDict; note: string | undefined } {
  const key = FIRST_LAYER_KEYS.find((k) => dict.has(k));
  if (key === undefined) return { dict, note: undefined };
  const w = dict.get(key)!;
  const from = w.shape[1]!;
  if (from === inChannels) return { dict, note: undefined };
  const next = new Map(dict);
  next.set(key, adaptInputChannels(w, inChannels));
  const how = inChannels === 1 ? 'summed over the input bands' : `repeated cyclically and scaled by ${from}/${inChannels}`;
  return { dict: next, note: `${key}: adapted from ${from} to ${inChannels} input bands (${how}).` };
}
