/**
 * A kernel-1 Conv1d (PyTorch `nn.Conv1d(in, out, 1)`) applied to channels-last rows: the DINO-style heads of CMID's
 * LocalHead run it on [B, C, L] sequences, which are per-position linear maps. Here the input is [..., in] (rows
 * = positions), so it is a Linear whose state dict shows PyTorch's [out, in, 1] (layout 'pointwise1d').
 * Init: PyTorch's default, U(+-1/sqrt(in)) for weight and bias.
 */
import { Linear } from './linear.js';

export class PointwiseConv1d extends Linear {
  constructor(inChannels: number, outChannels: number, bias = true) {
    super(inChannels, outChannels, bias, 'pointwise1d');
  }
}
