"""Reference values and gradients of the CMID losses for test/losses/parity.test.ts.

The formulas of shared/spec/cmid.md section 4 restated in PyTorch, in the reference's layouts (NCHW images,
queue [D, K], local-loss logits [B, P, n]): MoCo v2 InfoNCE with a queue and the queue initialisation (4.1), the
DINO-style local loss with its centre updated after each call (4.3), the focal frequency loss (4.4 step 5) and
the MIM loss (4.4 steps 1-6). batch_matrix=False computes the per-image-per-channel maximum the reference
intends (its own code crashes there).

Usage: losses.py DIR. Reads DIR/inputs.safetensors, whose __metadata__["cases"] is a JSON list of
{"kind", "name", options...} naming input tensors "<name>.<input>", and writes DIR/outputs.safetensors with
"<name>.<output>" (losses and gradients, float32).
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

from common import save_safetensors


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise ValueError(f"{name}: only F32 inputs are supported, got {h['dtype']}")
        a, b = h["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(blob[a:b], dtype="<f4").copy().reshape(h["shape"]))
    return tensors, meta


def info_nce(q, k, queue, temperature):
    """q, k [N, D] normalised; queue [D, K]: mean CE([q.k | q Queue] / T, 0)."""
    pos = (q * k).sum(dim=1, keepdim=True)
    neg = q @ queue
    logits = torch.cat([pos, neg], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


class LocalLossRef:
    """Section 4.3: logits [B, P, n], softmax over dim 1, centre [1, P, 1] updated after every call."""

    def __init__(self, center, student_temp, teacher_temp, momentum):
        self.center = center.clone()
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp
        self.momentum = momentum

    def __call__(self, s, t):
        pt = F.softmax((t - self.center) / self.teacher_temp, dim=1).detach()
        loss = torch.sum(-pt * F.log_softmax(s / self.student_temp, dim=1), dim=1).mean()
        with torch.no_grad():
            b, _, n = t.shape
            batch_center = torch.sum(t, dim=(0, 2), keepdim=True) / (b * n)
            self.center = self.center * self.momentum + batch_center * (1 - self.momentum)
        return loss


def focal_l1(pred, target, alpha, gamma, activate, residual):
    d = (pred - target).abs()
    f = torch.tanh(alpha * d) if activate == "tanh" else 2.0 * torch.sigmoid(alpha * d) - 1.0
    out = d * f ** gamma
    return out + d if residual else out


def ffl(pred, target, alpha=1.0, ave_spectrum=True, log_matrix=True, batch_matrix=True, loss_weight=1.0):
    fp = torch.fft.fft2(pred, dim=(2, 3), norm="ortho")
    ft = torch.fft.fft2(target, dim=(2, 3), norm="ortho")
    fp = torch.stack([fp.real, fp.imag], -1)
    ft = torch.stack([ft.real, ft.imag], -1)
    if ave_spectrum:
        fp = fp.mean(0, keepdim=True)
        ft = ft.mean(0, keepdim=True)
    sq = (fp - ft) ** 2
    w = torch.sqrt(sq[..., 0] + sq[..., 1]) ** alpha
    if log_matrix:
        w = torch.log(w + 1.0)
    if batch_matrix:
        w = w / w.max()
    else:
        w = w / w.amax(dim=(2, 3), keepdim=True)
    w[torch.isnan(w)] = 0.0
    w = torch.clamp(w, 0.0, 1.0).clone().detach()
    dist = sq[..., 0] + sq[..., 1]
    return (w * dist).mean() * loss_weight


def mim(x, y, mask, c):
    scale_h, scale_w = x.shape[2] // mask.shape[1], x.shape[3] // mask.shape[2]
    m = mask.repeat_interleave(scale_h, 1).repeat_interleave(scale_w, 2).unsqueeze(1)
    uw = c.get("unmaskWeight", 0.0)
    ms = m + (1.0 - m) * uw if uw > 0 else m
    l = focal_l1(y, x, c.get("alpha", 0.2), c.get("gamma", 1.0), c.get("activate", "sigmoid"), c.get("residual", False))
    spatial = (l * ms).sum() / (ms.sum() + 1e-5) / c.get("encoderInChannels", 3)
    fft_weight = c.get("fftWeight", 1.0)
    if fft_weight <= 0:
        return spatial, spatial, torch.zeros(())
    fuw = c.get("fftUnmaskWeight", 0.001)
    y_in = y
    if fuw < 1:
        replace = 0.5 * y.clone().detach() + 0.5 * x.clone()
        mf = m + (1.0 - m) * fuw
        y_in = y * mf + replace * (1.0 - mf)
    freq = ffl(y_in, x)
    return spatial + fft_weight * freq, spatial, freq


def main():
    d = sys.argv[1]
    inputs, meta = load_safetensors(f"{d}/inputs.safetensors")
    cases = json.loads(meta["cases"])
    out = {}
    for c in cases:
        name, kind = c["name"], c["kind"]
        get = lambda k: inputs[f"{name}.{k}"].clone()
        if kind == "infonce":
            q_raw = get("q").requires_grad_(True)
            q = F.normalize(q_raw, dim=1)
            k = F.normalize(get("k"), dim=1)
            loss = info_nce(q, k, get("queue"), c["temperature"])
            loss.backward()
            out[f"{name}.loss"] = loss.detach().reshape(1)
            out[f"{name}.grad_q"] = q_raw.grad
        elif kind == "queue_init":
            r = get("randn")
            out[f"{name}.quirk"] = F.normalize(r, dim=1)  # reference: unit-norm rows over the K slots
            out[f"{name}.keys"] = F.normalize(r, dim=0)  # standard MoCo: unit-norm keys
        elif kind == "local":
            ref = LocalLossRef(get("center"), c["studentTemp"], c["teacherTemp"], c["centerMomentum"])
            for i in (1, 2):
                s = get(f"s{i}").requires_grad_(True)
                loss = ref(s, get(f"t{i}"))
                loss.backward()
                out[f"{name}.loss{i}"] = loss.detach().reshape(1)
                out[f"{name}.grad_s{i}"] = s.grad
                out[f"{name}.center{i}"] = ref.center.reshape(-1).clone()
        elif kind == "ffl":
            pred = get("pred").requires_grad_(True)
            loss = ffl(pred, get("target"), c.get("alpha", 1.0), c.get("aveSpectrum", True), c.get("logMatrix", True),
                       c.get("batchMatrix", True), c.get("lossWeight", 1.0))
            loss.backward()
            out[f"{name}.loss"] = loss.detach().reshape(1)
            out[f"{name}.grad_pred"] = pred.grad
        elif kind == "mim":
            pred = get("pred").requires_grad_(True)
            loss, spatial, freq = mim(get("target"), pred, get("mask"), c)
            loss.backward()
            out[f"{name}.loss"] = loss.detach().reshape(1)
            out[f"{name}.spatial"] = spatial.detach().reshape(1)
            out[f"{name}.frequency"] = freq.detach().reshape(1)
            out[f"{name}.grad_pred"] = pred.grad
        else:
            raise ValueError(f"unknown case kind {kind}")
    save_safetensors({k: v.detach().float().contiguous() for k, v in out.items()}, f"{d}/outputs.safetensors", {"torch": torch.__version__})


if __name__ == "__main__":
    main()
