"""Reference tensors for Swin parity (Debian python3-torch 1.13), mmcls / CMID key layout (cmid.md 10.1).

Usage: /usr/bin/python3 swin.py OUT_DIR
The reference modules below are written from the spec (mmcls/mmcv-style Swin as CMID uses it), not imported.
Writes into OUT_DIR:
  small.safetensors            state_dict of a small model (embed 32, depths [2,2,2,2], heads [1,2,4,8],
                               window 7, out_indices (0,1,2,3)), random LayerNorms and relative-position tables
  small.ms.safetensors         the same weights in Microsoft's Swin names (layers.*, attn.*, mlp.fc*, norm,
                               position-major PatchMerging), for fromMicrosoftKeys
  small.expected.safetensors   for each case c in {sq224, rect198x226, small112pad}: c.input (NCHW),
                               c.eval_stage{i} (NCHW, after norm{i}), c.eval_pooled; c.train_* with drop_path 0;
                               grad.<param> and grad.loss for loss = sum_i mean(stage_i^2) on small112pad (train)
  structure.json               keys, shapes and parameter counts of swin_t and swin_b
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import save_safetensors

torch.set_num_threads(2)


class WindowMSA(nn.Module):
    def __init__(self, dim, heads, ws):
        super().__init__()
        self.heads, self.ws = heads, ws
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        # mmcls builds the index as a "double step" sequence plus its transpose, flipped along columns
        row = torch.arange(0, (2 * ws - 1) * ws, 2 * ws - 1)
        col = torch.arange(0, ws)
        coords = (row[:, None] + col[None, :]).reshape(1, -1)
        self.register_buffer("relative_position_index", (coords + coords.T).flip(1).contiguous())
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


def partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws, ws, c)


def reverse(win, h, w, ws):
    b = win.shape[0] // ((h // ws) * (w // ws))
    x = win.view(b, h // ws, w // ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, w, -1)


class ShiftWindowMSA(nn.Module):
    def __init__(self, dim, heads, ws, shift, pad_small_map):
        super().__init__()
        self.ws, self.shift_size, self.pad_small_map = ws, shift, pad_small_map
        self.w_msa = WindowMSA(dim, heads, ws)

    def mask(self, hp, wp, shift):
        ws = self.ws
        img = torch.zeros(1, hp, wp, 1)
        cnt = 0
        for hs in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            for wsl in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
                img[:, hs, wsl, :] = cnt
                cnt += 1
        mw = partition(img, ws).view(-1, ws * ws)
        m = mw.unsqueeze(1) - mw.unsqueeze(2)
        return m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0)

    def forward(self, x, hw):
        b, l, c = x.shape
        h, w = hw
        x = x.view(b, h, w, c)
        ws, shift = self.ws, self.shift_size
        if min(h, w) == ws:
            shift = shift if self.pad_small_map else 0
        elif min(h, w) < ws:
            assert self.pad_small_map, f"map {h}x{w} smaller than window {ws}"
        pr = (ws - w % ws) % ws
        pb = (ws - h % ws) % ws
        x = F.pad(x, (0, 0, 0, pr, 0, pb))
        hp, wp = x.shape[1], x.shape[2]
        if shift > 0:
            x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
        mask = self.mask(hp, wp, shift) if shift > 0 else None
        win = self.w_msa(partition(x, ws).view(-1, ws * ws, c), mask=mask)
        x = reverse(win.view(-1, ws, ws, c), hp, wp, ws)
        if self.shift_size > 0:
            x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
        x = x[:, :h, :w, :].contiguous()
        return x.view(b, h * w, c)


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape[0], *([1] * (x.dim() - 1))) >= self.p
        return x * keep / (1 - self.p)


class FFN(nn.Module):
    def __init__(self, dim, hidden, drop_path):
        super().__init__()
        self.layers = nn.Sequential(nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0)), nn.Linear(hidden, dim), nn.Dropout(0.0))
        self.drop = DropPath(drop_path)

    def forward(self, x, identity):
        return identity + self.drop(self.layers(x))


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, ws, shift, drop_path, pad_small_map):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = ShiftWindowMSA(dim, heads, ws, ws // 2 if shift else 0, pad_small_map)
        self.drop = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = FFN(dim, 4 * dim, drop_path)

    def forward(self, x, hw):
        x = x + self.drop(self.attn(self.norm1(x), hw))
        return self.ffn(self.norm2(x), identity=x)


class PatchMerging(nn.Module):
    """mmcv: corner padding, nn.Unfold(2, stride 2) (channel-major 4C), LayerNorm, Linear no bias."""

    def __init__(self, cin, cout):
        super().__init__()
        self.sampler = nn.Unfold(kernel_size=2, stride=2)
        self.norm = nn.LayerNorm(4 * cin)
        self.reduction = nn.Linear(4 * cin, cout, bias=False)

    def forward(self, x, hw):
        b, l, c = x.shape
        h, w = hw
        x = x.view(b, h, w, c).permute(0, 3, 1, 2)
        x = F.pad(x, (0, w % 2, 0, h % 2))
        h2, w2 = x.shape[2] // 2, x.shape[3] // 2
        x = self.sampler(x).transpose(1, 2)
        return self.reduction(self.norm(x)), (h2, w2)


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, p):
        super().__init__()
        self.p = p
        self.projection = nn.Conv2d(cin, dim, p, stride=p)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        p = self.p
        x = F.pad(x, (0, (p - x.shape[3] % p) % p, 0, (p - x.shape[2] % p) % p))
        x = self.projection(x)
        hw = (x.shape[2], x.shape[3])
        return self.norm(x.flatten(2).transpose(1, 2)), hw


class Stage(nn.Module):
    def __init__(self, dim, depth, heads, ws, dprs, downsample, pad_small_map):
        super().__init__()
        self.blocks = nn.ModuleList([SwinBlock(dim, heads, ws, i % 2 == 1, dprs[i], pad_small_map) for i in range(depth)])
        self.downsample = PatchMerging(dim, 2 * dim) if downsample else None


class Swin(nn.Module):
    def __init__(self, embed, depths, heads, ws=7, out_indices=(3,), drop_path_rate=0.0, pad_small_map=False, cin=3):
        super().__init__()
        self.patch_embed = PatchEmbed(cin, embed, 4)
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        self.stages = nn.ModuleList()
        k = 0
        for s, (d, nh) in enumerate(zip(depths, heads)):
            self.stages.append(Stage(embed * 2 ** s, d, nh, ws, dpr[k:k + d], s < len(depths) - 1, pad_small_map))
            k += d
        self.out_indices = out_indices
        for i in out_indices:
            self.add_module(f"norm{i}", nn.LayerNorm(embed * 2 ** i))

    def forward(self, x):
        x, hw = self.patch_embed(x)
        outs = []
        for s, stage in enumerate(self.stages):
            for blk in stage.blocks:
                x = blk(x, hw)
            if s in self.out_indices:
                o = getattr(self, f"norm{s}")(x)
                outs.append(o.view(-1, *hw, o.shape[-1]).permute(0, 3, 1, 2).contiguous())
            else:
                outs.append(x.view(-1, *hw, x.shape[-1]).permute(0, 3, 1, 2).contiguous())
            if stage.downsample is not None:
                x, hw = stage.downsample(x, hw)
        return outs


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            elif "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif "norm" in name and name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def to_microsoft(sd, n_stages):
    """mmcls names -> Microsoft names, with the PatchMerging 4C axis position-major: index (dj*2+di)*C + c."""
    out = {}
    for k, v in sd.items():
        nk = k.replace("patch_embed.projection.", "patch_embed.proj.").replace("stages.", "layers.")
        nk = nk.replace(".attn.w_msa.", ".attn.").replace(".ffn.layers.0.0.", ".mlp.fc1.").replace(".ffn.layers.1.", ".mlp.fc2.")
        if nk.startswith(f"norm{n_stages - 1}."):
            nk = "norm." + nk.split(".", 1)[1]
        elif nk.startswith("norm"):
            continue
        if ".downsample." in nk:
            c = v.shape[-1] // 4
            # channel-major value at c*4 + di*2 + dj goes to (dj*2 + di)*C + c
            v = v.reshape(*v.shape[:-1], c, 2, 2).permute(*range(v.dim() - 1), v.dim() + 1, v.dim(), v.dim() - 1)
            v = v.reshape(*v.shape[:-3], 4 * c).contiguous()
        out[nk] = v
    return out


def microsoft_merge(x, hw, norm_w, norm_b, red_w):
    """Microsoft PatchMerging forward (concat x0, x1, x2, x3) with Microsoft-layout weights."""
    b, l, c = x.shape
    h, w = hw
    x = x.view(b, h, w, c)
    x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1).view(b, -1, 4 * c)
    return F.linear(F.layer_norm(x, (4 * c,), norm_w, norm_b), red_w)


def main():
    out_dir = sys.argv[1]
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = Swin(32, [2, 2, 2, 2], [1, 2, 4, 8], out_indices=(0, 1, 2, 3))
    randomize(model, gen)
    sd = model.state_dict()
    save_safetensors(sd, f"{out_dir}/small.safetensors")
    ms = to_microsoft(sd, 4)
    save_safetensors(ms, f"{out_dir}/small.ms.safetensors")

    # the permutation is right iff Microsoft's merging with permuted weights equals mmcv's
    xm = torch.randn(2, 14 * 14, 32, generator=gen)
    ref, _ = model.stages[0].downsample(xm, (14, 14))
    alt = microsoft_merge(xm, (14, 14), ms["layers.0.downsample.norm.weight"], ms["layers.0.downsample.norm.bias"], ms["layers.0.downsample.reduction.weight"])
    assert (ref - alt).abs().max() < 1e-5, "Microsoft PatchMerging permutation is wrong"

    expected = {}
    cases = {"sq224": (224, 224, False), "rect198x226": (198, 226, False), "small112pad": (112, 112, True)}
    for name, (h, w, pad_small) in cases.items():
        for blk_stage in model.stages:
            for blk in blk_stage.blocks:
                blk.attn.pad_small_map = pad_small
        x = torch.randn(2, 3, h, w, generator=gen)
        expected[f"{name}.input"] = x
        for mode in ("eval", "train"):
            model.train(mode == "train")
            with torch.no_grad():
                outs = model(x)
            for i, o in enumerate(outs):
                expected[f"{name}.{mode}_stage{i}"] = o
            expected[f"{name}.{mode}_pooled"] = outs[-1].mean(dim=(2, 3))
    # gradients (train mode, drop_path 0) on the last case (small112pad: shifted masks and padding on every path)
    model.train()
    model.zero_grad()
    outs = model(x)
    loss = sum(o.pow(2).mean() for o in outs)
    loss.backward()
    expected["grad.loss"] = loss.detach().reshape(1)
    for k, p in model.named_parameters():
        expected[f"grad.{k}"] = p.grad
    save_safetensors(expected, f"{out_dir}/small.expected.safetensors", {"torch": torch.__version__})

    structure = {}
    for arch, embed, depths, heads in (("swin_t", 96, [2, 2, 6, 2], [3, 6, 12, 24]), ("swin_b", 128, [2, 2, 18, 2], [4, 8, 16, 32])):
        m = Swin(embed, depths, heads, out_indices=(3,))
        structure[arch] = {
            "keys": [[k, list(v.shape), str(v.dtype)] for k, v in m.state_dict().items()],
            "num_parameters": sum(p.numel() for p in m.parameters()),
        }
    with open(f"{out_dir}/structure.json", "w") as f:
        json.dump(structure, f)
    print("wrote swin references")


if __name__ == "__main__":
    main()
