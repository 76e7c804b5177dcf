"""Reference training steps for the compiled engine's parity tests.

For ResNet-18 (torchvision, 5-class fc), a small Swin stack (swin.py's mmcls-layout model) and a small ViT (vit.py)
this writes, per model: the initial state dict, a batch, and the state dict after two optimiser steps with SGD
(momentum, weight decay) and with AdamW, starting from the same initial weights, in float32 (`sgd.`, `adamw.`) and
in float64 (`sgd64.`, `adamw64.`, stored as float32): the float64 result is the exact answer, and PyTorch's own
float32 distance from it measures how ill-conditioned each tensor's update is. Training mode throughout, so
batch-norm statistics are updated too. Usage: train_step.py OUT_DIR
"""
import math
import sys

import torch
import torch.nn.functional as F
import torchvision

from common import randomize_bn, save_safetensors
from swin import Swin, randomize as randomize_swin
from vit import ViT

STEPS = 2


def weights_nchw(c, h, w):
    """Fixed loss weights over an NCHW map: sin(0.37 c + 0.11 h + 0.07 w) (the TS test builds the same in NHWC)."""
    cc = torch.arange(c, dtype=torch.float64).view(c, 1, 1)
    hh = torch.arange(h, dtype=torch.float64).view(1, h, 1)
    ww = torch.arange(w, dtype=torch.float64).view(1, 1, w)
    return torch.sin(0.37 * cc + 0.11 * hh + 0.07 * ww).float()


def weights_tokens(t, d):
    tt = torch.arange(t, dtype=torch.float64).view(t, 1)
    dd = torch.arange(d, dtype=torch.float64).view(1, d)
    return torch.sin(0.37 * dd + 0.11 * tt).float()


def run(name, make, loss_fn, batch, out_dir, gen):
    model = make()
    init = {k: v.clone() for k, v in model.state_dict().items()}
    out = {f"{k}": v for k, v in init.items()}
    save_safetensors(out, f"{out_dir}/{name}.init.safetensors")
    save_safetensors(batch, f"{out_dir}/{name}.batch.safetensors")
    expected = {}
    # float64 runs give the exact result the float32 ones (PyTorch's and ours) are judged against
    for suffix, dtype in (("", torch.float32), ("64", torch.float64)):
        model.to(dtype)
        b = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in batch.items()}
        for opt_name in ("sgd", "adamw"):
            model.load_state_dict(init)
            model.train()
            if opt_name == "sgd":
                opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
            else:
                opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
            for step in range(STEPS):
                opt.zero_grad()
                loss = loss_fn(model, b)
                loss.backward()
                opt.step()
                expected[f"{opt_name}{suffix}.loss{step}"] = loss.detach().reshape(1).float()
            for k, v in model.state_dict().items():
                expected[f"{opt_name}{suffix}.{k}"] = v.clone().float() if v.is_floating_point() else v.clone()
    save_safetensors(expected, f"{out_dir}/{name}.expected.safetensors", {"torch": torch.__version__})


def main():
    out_dir = sys.argv[1]
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)

    def make_resnet():
        torch.manual_seed(1)
        m = torchvision.models.resnet18(num_classes=5)
        randomize_bn(m, torch.Generator().manual_seed(2))
        return m

    x = torch.randn(4, 3, 64, 64, generator=gen)
    y = torch.tensor([0, 3, 1, 4])
    run("resnet18", make_resnet, lambda m, b: F.cross_entropy(m(b["x"]), b["y"]), {"x": x, "y": y}, out_dir, gen)

    def make_swin():
        torch.manual_seed(3)
        m = Swin(32, [2, 2, 2, 2], [1, 2, 4, 8], out_indices=(3,))
        randomize_swin(m, torch.Generator().manual_seed(4))
        return m

    xs = torch.randn(2, 3, 224, 224, generator=gen)
    ws = weights_nchw(256, 7, 7)
    run("swin", make_swin, lambda m, b: (m(b["x"])[-1] * ws.to(b["x"].dtype)).sum() / 100.0, {"x": xs}, out_dir, gen)

    def make_vit():
        torch.manual_seed(5)
        m = ViT()
        with torch.no_grad():
            g = torch.Generator().manual_seed(6)
            m.cls_token.copy_(0.5 * torch.randn(m.cls_token.shape, generator=g))
            m.pos_embed.copy_(0.5 * torch.randn(m.pos_embed.shape, generator=g))
        return m

    xv = torch.randn(2, 3, 64, 64, generator=gen)
    wv = weights_tokens(17, 64)
    run("vit", make_vit, lambda m, b: (m.norm(m.tokens(b["x"])) * wv.to(b["x"].dtype)).sum() / 10.0, {"x": xv}, out_dir, gen)


if __name__ == "__main__":
    main()
