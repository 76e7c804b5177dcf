"""PyTorch pieces of the CMID step shared by the reference scripts (torch_cmid_step.py for the bench,
torch_cmid_step_parity.py for the parity test): a ResNet of any stem width with the stem and the trunk callable
apart (the mask token goes in between), timm's two weight-decay groups (cmid.md section 8.1), Adan (8.2), the
focal-L1 + focal-frequency reconstruction terms (4.4) and MoCo InfoNCE (4.1). Parameters are arguments, so each
script passes its own config."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledResNet(nn.Module):
    """torchvision's ResNet layout (its block class, stage depths `layers`) with stem width w and no fc; w = 64 is
    structurally torchvision's resnet18/resnet50 (BasicBlock [2, 2, 2, 2] / Bottleneck [3, 4, 6, 3])."""

    def __init__(self, block, layers, w):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = w
        self.layer1 = self._make(block, w, layers[0], 1)
        self.layer2 = self._make(block, 2 * w, layers[1], 2)
        self.layer3 = self._make(block, 4 * w, layers[2], 2)
        self.layer4 = self._make(block, 8 * w, layers[3], 2)

    def _make(self, block, planes, blocks, stride):
        out = planes * block.expansion
        down = None
        if stride != 1 or self.inplanes != out:
            down = nn.Sequential(nn.Conv2d(self.inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        layers = [block(self.inplanes, planes, stride, down)]
        self.inplanes = out
        layers += [block(out, planes) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x):
        return trunk(self, stem(self, x))


def stem(m, x):
    """conv1, bn1, relu, maxpool of a torchvision-layout ResNet (ScaledResNet or torchvision's own)."""
    return m.maxpool(m.relu(m.bn1(m.conv1(x))))


def trunk(m, x):
    """layer1..layer4 of a torchvision-layout ResNet."""
    return m.layer4(m.layer3(m.layer2(m.layer1(x))))


def decay_groups(named_params, wd):
    """timm's groups: no weight decay for 1-d tensors and biases; frozen parameters left out."""
    no_decay, decay = [], []
    for name, p in named_params:
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": wd}]


class Adan:
    """timm 0.6.12 Adan, no_prox False: decoupled decay applied as p / (1 + lr wd)."""

    def __init__(self, param_groups, lr, betas, eps):
        self.groups = [dict(g, step=0) for g in param_groups]
        self.lr, self.betas, self.eps = lr, betas, eps
        self.state = {}

    def zero_grad(self):
        for g in self.groups:
            for p in g["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self):
        b1, b2, b3 = self.betas
        lr, eps = self.lr, self.eps
        for g in self.groups:
            g["step"] += 1
            k = g["step"]
            bc1, bc2, bc3 = 1 - b1 ** k, 1 - b2 ** k, math.sqrt(1 - b3 ** k)
            for p in g["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {"m": torch.zeros_like(p), "v": torch.zeros_like(p), "n": torch.zeros_like(p), "prev": grad.clone()}
                delta = grad - st["prev"]
                st["m"].mul_(b1).add_(grad, alpha=1 - b1)
                st["v"].mul_(b2).add_(delta, alpha=1 - b2)
                gd = grad + b2 * delta
                st["n"].mul_(b3).addcmul_(gd, gd, value=1 - b3)
                denom = st["n"].sqrt().div_(bc3).add_(eps)
                upd = (st["m"] / bc1).add_(st["v"], alpha=b2 / bc2).div_(denom)
                p.add_(upd, alpha=-lr)
                p.div_(1 + lr * g["weight_decay"])
                st["prev"].copy_(grad)


def mim_terms(x, y, mask, alpha, gamma, fft_unmask_weight, unmask_weight=0.0, channels=3):
    """x target, y prediction [B,C,S,S], mask [B,S/p,S/p] -> (spatial focal-L1, focal frequency loss)."""
    s = x.shape[2] // mask.shape[1]
    m = mask.repeat_interleave(s, 1).repeat_interleave(s, 2).unsqueeze(1).to(x.dtype)
    d = (y - x).abs()
    l = d * (2 * torch.sigmoid(alpha * d) - 1) ** gamma
    ms = m + (1 - m) * unmask_weight if unmask_weight > 0 else m
    spatial = (l * ms).sum() / (ms.sum() + 1e-5) / channels
    x_rep = 0.5 * y.detach() + 0.5 * x
    mf = m + (1 - m) * fft_unmask_weight
    yp = y * mf + x_rep * (1 - mf)
    fp = torch.fft.fft2(yp, norm="ortho").mean(0, keepdim=True)
    ft = torch.fft.fft2(x, norm="ortho").mean(0, keepdim=True)
    diff = fp - ft
    dist = diff.real ** 2 + diff.imag ** 2
    with torch.no_grad():
        w = torch.log(dist.sqrt() + 1.0)
        w = w / w.max()
        w = torch.nan_to_num(w, nan=0.0).clamp(0.0, 1.0)
    ffl = (w * dist).mean()
    return spatial, ffl


def infonce(q, k, queue_dk, temperature):
    """MoCo InfoNCE of queries q against their keys k (positives) and the queue [D, K] (negatives)."""
    pos = (q * k).sum(1, keepdim=True)
    neg = q @ queue_dk
    logits = torch.cat([pos, neg], 1) / temperature
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))
