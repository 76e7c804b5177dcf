"""A reference-layout CMID pretraining checkpoint and head outputs, for the interop test (test/reference.test.ts).

Usage: /usr/bin/python3 cmid_checkpoint.py OUT_DIR
Builds, with the reference's module structure and state-dict keys (cmid.md §2.1, §3, §10.3), a small CMID:
torchvision ResNet-18 student and teacher (no fc), mask token, MIM head (1x1 conv + PixelShuffle(32)), MoCo
projectors (Linear -> Identity -> ReLU -> Linear -> Dropout), LocalHeads (Conv1d + BN1d + GELU x2, Conv1d,
L2 normalisation, weight-normed Conv1d with g = 1), the centre, the [D, K] queue and queue_ptr; randomises BN
statistics; saves {'model', 'epoch', 'num_gpus', 'optimizer'} to OUT_DIR/epoch_3.pth as the reference Trainer
does, and the eval-mode head outputs for random features to OUT_DIR/heads.safetensors.
"""
import os
import sys

import torch
import torchvision
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "core", "scripts", "parity"))
from common import save_safetensors  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
C, H, O, BN_DIM, P, K = 512, 64, 32, 16, 48, 128


def backbone():
    m = torchvision.models.resnet18()
    del m.fc
    return m


class MaskResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = backbone()
        self.mask_token = nn.Parameter(torch.randn(1, 64, 1, 1) * 0.02)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([nn.Sequential(nn.Linear(C, H), nn.Identity(), nn.ReLU(), nn.Linear(H, O), nn.Dropout(0.0))])

    def forward(self, x):
        return self.layer[0](x)


class LocalHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv1d(C, H, 1), nn.BatchNorm1d(H), nn.GELU(), nn.Conv1d(H, H, 1), nn.BatchNorm1d(H), nn.GELU(), nn.Conv1d(H, BN_DIM, 1))
        self.last_layer = nn.utils.weight_norm(nn.Conv1d(BN_DIM, P, 1, bias=False))
        self.last_layer.weight_g.data.fill_(1)

    def forward(self, x):
        x = nn.functional.normalize(self.mlp(x), dim=1)
        return self.last_layer(x)


class Center(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("center", torch.randn(1, P, 1) * 0.1)


class Cmid(nn.Module):
    def __init__(self):
        super().__init__()
        self.online_encoder = MaskResNet()
        self.branch_encoder = backbone()
        self.mim2org = nn.Module()
        self.mim2org.decoder_pred = nn.Sequential(nn.Conv2d(C, 3 * 32 * 32, 1), nn.PixelShuffle(32))
        self.online_projector = Mlp()
        self.branch_projector = Mlp()
        self.class_projector = LocalHead()
        self.branch_class_projector = LocalHead()
        self.class_loss = Center()
        self.register_buffer("queue", nn.functional.normalize(torch.randn(O, K), dim=1))
        self.register_buffer("queue_ptr", torch.tensor([40], dtype=torch.long))


m = Cmid()
g = torch.Generator().manual_seed(1)
for mod in m.modules():
    if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
        with torch.no_grad():
            mod.weight.copy_(1 + 0.2 * torch.randn(mod.weight.shape, generator=g))
            mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=g))
            mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=g))
            mod.running_var.copy_(1 + 0.2 * torch.rand(mod.running_var.shape, generator=g))
            mod.num_batches_tracked.fill_(7)
torch.save({"epoch": 3, "num_gpus": 4, "model": m.state_dict(), "optimizer": {"state": {}, "param_groups": [{"lr": 0.004, "params": [0, 1]}]}}, os.path.join(out, "epoch_3.pth"))

m.eval()
f = torch.randn(2, C, 7, 7, generator=g)
cells = torch.randn(2, C, 5, generator=g)
with torch.no_grad():
    save_safetensors({
        "features": f,
        "cells": cells,
        "projector": m.online_projector(f.mean(dim=(2, 3))),
        "local": m.class_projector(cells),
        "mim": m.mim2org.decoder_pred(f),
    }, os.path.join(out, "heads.safetensors"))
