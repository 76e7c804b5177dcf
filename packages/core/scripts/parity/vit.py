"""Reference tensors for ViT parity (Debian python3-torch 1.13), MAE / timm key layout.

Usage: /usr/bin/python3 vit.py OUT_DIR
The reference ViT below is written from the MAE / timm layout (cls_token, pos_embed, patch_embed.proj,
blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm; LayerNorm eps 1e-6), not imported.
Writes into OUT_DIR:
  small.safetensors           state_dict: depth 2, dim 64, heads 4, patch 16, img 64 (4x4 grid), random norms
  small.expected.safetensors  for each case c in {s64, s96, r48x80}: c.input (NCHW), c.pos (the pos_embed used,
                              bicubic-interpolated for other grids as MAE's interpolate_pos_embed), c.tokens (after
                              the blocks, no norm), c.map (normed patch tokens, NCHW), c.cls (norm(x)[:, 0]),
                              c.avg (mean of the patch tokens through `norm`'s weights used as fc_norm);
                              sincos8 (MAE's 2-D sin-cos table, dim 64, grid 8, with its zero cls row)
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import save_safetensors

torch.set_num_threads(2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, p):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, p, stride=p)


class ViT(nn.Module):
    def __init__(self, img=64, patch=16, dim=64, depth=2, heads=4, cin=3):
        super().__init__()
        self.patch = patch
        self.grid = img // patch
        self.patch_embed = PatchEmbed(cin, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid ** 2, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def pos_for(self, gh, gw):
        if (gh, gw) == (self.grid, self.grid):
            return self.pos_embed
        d = self.pos_embed.shape[-1]
        cls, grid = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        grid = grid.reshape(1, self.grid, self.grid, d).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
        return torch.cat([cls, grid.permute(0, 2, 3, 1).reshape(1, gh * gw, d)], dim=1)

    def tokens(self, x):
        b, _, h, w = x.shape
        gh, gw = h // self.patch, w // self.patch
        t = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls_token.expand(b, -1, -1), t], dim=1) + self.pos_for(gh, gw)
        for blk in self.blocks:
            t = blk(t)
        return t


def sincos_2d(dim, grid):
    """MAE's get_2d_sincos_pos_embed, restated: meshgrid(w, h), first half from w, second from h."""
    def one_d(d, pos):
        omega = np.arange(d // 2, dtype=np.float64) / (d / 2.0)
        omega = 1.0 / 10000 ** omega
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    gw, gh = np.meshgrid(np.arange(grid, dtype=np.float32), np.arange(grid, dtype=np.float32))
    emb = np.concatenate([one_d(dim // 2, gw), one_d(dim // 2, gh)], axis=1)
    return np.concatenate([np.zeros([1, dim]), emb], axis=0)


def main():
    out_dir = sys.argv[1]
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = ViT()
    with torch.no_grad():
        model.cls_token.copy_(0.5 * torch.randn(model.cls_token.shape, generator=gen))
        model.pos_embed.copy_(0.5 * torch.randn(model.pos_embed.shape, generator=gen))
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif "norm" in name and name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    model.eval()
    save_safetensors(model.state_dict(), f"{out_dir}/small.safetensors")

    expected = {}
    for name, (h, w) in {"s64": (64, 64), "s96": (96, 96), "r48x80": (48, 80)}.items():
        x = torch.randn(2, 3, h, w, generator=gen)
        expected[f"{name}.input"] = x
        with torch.no_grad():
            expected[f"{name}.pos"] = model.pos_for(h // 16, w // 16)
            t = model.tokens(x)
            expected[f"{name}.tokens"] = t
            normed = model.norm(t)
            expected[f"{name}.map"] = normed[:, 1:].reshape(2, h // 16, w // 16, -1).permute(0, 3, 1, 2)
            expected[f"{name}.cls"] = normed[:, 0]
            expected[f"{name}.avg"] = model.norm(t[:, 1:].mean(dim=1))
    expected["sincos8"] = torch.from_numpy(sincos_2d(64, 8)).float()
    save_safetensors(expected, f"{out_dir}/small.expected.safetensors", {"torch": torch.__version__})
    print("wrote vit references")


if __name__ == "__main__":
    main()
