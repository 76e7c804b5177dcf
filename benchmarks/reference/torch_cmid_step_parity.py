"""PyTorch (Debian python3-torch 1.13) reference for ONE CMID pretraining step of the SMALL test config, the oracle of
packages/pretrain/test/torch-step.test.ts.

Usage: /usr/bin/python3 torch_cmid_step_parity.py DIR

Reads from DIR (written by the test):
- config.json: sizes and hyper-parameters (width, size, out_dim, hidden_dim, bottleneck_dim, class_feat_size,
  queue_size, num_layers, use_bn, temperature, online_temp, center_momentum, alpha, gamma, fft_weight,
  fft_unmask_weight, encoder_in_channels, unmask_weight, optimizer ('sgd' | 'adan'), lr, tau, wd, momentum, betas,
  eps, center_once, dtypes (e.g. ["float32", "float64"]));
- state.safetensors: our CmidModel's stateDict (reference keys, PyTorch layouts), except `queue`, which is ours:
  [K, D], newest first (docs/deviations.md);
- batch.safetensors: the collated batch as fed to our trainer: img, mim_img, view, view_mim_img NHWC float32;
  mask, view_mask [B, S/4, S/4] float32; match_{org,view}_{student,teacher} int32 row indices into the
  [B * cells, C] (row-major cells) feature rows; teacher_temp [1].
Writes DIR/out_<dtype>.safetensors: loss, loss_rec, global_loss, pixel_loss (shape [1]), the whole state dict
after the step (same keys; queue in our layout) and, under `delta:<key>`, each floating tensor's change in the step
(after - before, taken in the run's dtype before rounding), always stored as float32 / int64.

The step is written from shared/spec/cmid.md sections 2-8, with the pieces shared with the bench script (cmid_torch_ops.py), with the
SMALL test config's architecture: ResNet-18 (torchvision BasicBlock) at stem width W (stages W..8W), additive mask
token after the max-pool, projector MLP, LocalHead (Conv1d k=1 [-> BN1d] -> GELU x (L-1), bottleneck, normalise,
weight-normed last layer with frozen g), MIM head 1x1 conv + PixelShuffle(32). Train mode throughout. Order:
student(mim_img), student(view_mim_img), teacher(view), teacher(img) (BN running statistics advance in that order);
MoCo InfoNCE on the queue snapshot, then enqueue; local loss with the centre updated after each call (quirk 7,
unless center_once); then EMA of the three teacher pairs (parameters only) with the given tau BEFORE the optimiser
update (section 7; the test passes the tau explicitly so the EMA is exercised in one step); then backward and SGD
(torch.optim.SGD, momentum, coupled L2 decay) or Adan (section 8.2), with timm's two decay groups (no decay for
ndim <= 1 or '.bias'; frozen parameters excluded).

Deliberate matches of OUR semantics (docs/deviations.md): the queue is [K, D] newest first, each step prepends
[k_view; k_org] and drops the oldest 2B rows (the reference's ring holds the same keys in another order; InfoNCE
does not depend on the order); position-match indices are taken from the batch, not recomputed.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock

from cmid_torch_ops import Adan, ScaledResNet, decay_groups, infonce, mim_terms, stem, trunk

DIR = sys.argv[1]
with open(os.path.join(DIR, "config.json")) as f:
    CFG = json.load(f)
torch.set_num_threads(int(CFG.get("threads", 2)))

# ---------------------------------------------------------------- safetensors (numpy)
ST_TO_NP = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}
NP_TO_ST = {np.dtype(v): k for k, v in ST_TO_NP.items()}


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        arr = np.frombuffer(raw[base + b : base + e], dtype=ST_TO_NP[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def write_st(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy())
        data = a.tobytes()
        header[name] = {"dtype": NP_TO_ST[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


# ---------------------------------------------------------------- model (SMALL config)
W = int(CFG["width"])
C_IN = 8 * W  # ResNet-18 output channels
OUT_DIM, HIDDEN = int(CFG["out_dim"]), int(CFG["hidden_dim"])
PROTOS, BOTTLENECK = int(CFG["class_feat_size"]), int(CFG["bottleneck_dim"])
NUM_LAYERS, USE_BN = int(CFG["num_layers"]), bool(CFG["use_bn"])
STRIDE = 32


class MaskResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = ScaledResNet(BasicBlock, [2, 2, 2, 2], W)
        self.mask_token = nn.Parameter(torch.zeros(1, W, 1, 1))

    def forward(self, x, mask):
        x = stem(self.model, x)
        x = x + self.mask_token * mask.unsqueeze(1).to(x.dtype)  # additive (quirk 11)
        return trunk(self.model, x)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Sequential(nn.Sequential(nn.Linear(C_IN, HIDDEN), nn.Identity(), nn.ReLU(), nn.Linear(HIDDEN, OUT_DIM), nn.Dropout(0.0)))

    def forward(self, x):
        return self.layer(x)


class LocalHead(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        if NUM_LAYERS == 1:
            layers.append(nn.Conv1d(C_IN, BOTTLENECK, 1))
        else:
            d = C_IN
            for _ in range(NUM_LAYERS - 1):
                layers.append(nn.Conv1d(d, HIDDEN, 1))
                if USE_BN:
                    layers.append(nn.BatchNorm1d(HIDDEN))
                layers.append(nn.GELU())
                d = HIDDEN
            layers.append(nn.Conv1d(HIDDEN, BOTTLENECK, 1))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.utils.weight_norm(nn.Conv1d(BOTTLENECK, PROTOS, 1, bias=False))
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x):  # [B, C, n] -> [B, PROTOS, n]
        return self.last_layer(F.normalize(self.mlp(x), dim=1))


class MIMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder_pred = nn.Sequential(nn.Conv2d(C_IN, STRIDE * STRIDE * 3, 1), nn.PixelShuffle(STRIDE))

    def forward(self, x):
        return self.decoder_pred(x)


class LocalLossState(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("center", torch.zeros(1, PROTOS, 1))


class CMID(nn.Module):
    def __init__(self):
        super().__init__()
        self.online_encoder = MaskResNet()
        self.branch_encoder = ScaledResNet(BasicBlock, [2, 2, 2, 2], W)
        self.mim2org = MIMHead()
        self.online_projector = MLP()
        self.branch_projector = MLP()
        self.class_projector = LocalHead()
        self.branch_class_projector = LocalHead()
        self.class_loss = LocalLossState()
        self.register_buffer("queue", torch.zeros(int(CFG["queue_size"]), OUT_DIM))  # OUR layout [K, D], newest first
        for s, t in self.momentum_pairs():
            for p in t.parameters():
                p.requires_grad = False

    def momentum_pairs(self):
        return [
            (self.online_encoder.model, self.branch_encoder),
            (self.online_projector, self.branch_projector),
            (self.class_projector, self.branch_class_projector),
        ]


# ---------------------------------------------------------------- losses (section 4)
def mim_loss(x, y, mask):
    """x target, y prediction [B,3,S,S], mask [B,S/4,S/4] -> spatial focal-L1 + fft_weight * FFL (section 4.4)."""
    spatial, ffl = mim_terms(x, y, mask, CFG["alpha"], CFG["gamma"], CFG["fft_unmask_weight"], CFG["unmask_weight"], CFG["encoder_in_channels"])
    return spatial + CFG["fft_weight"] * ffl


def local_loss(center, s, t, teacher_temp):
    """s, t [1, P, M]; returns (loss, new centre) without assigning (the caller chains the centre)."""
    with torch.no_grad():
        pt = F.softmax((t - center) / teacher_temp, dim=1)
    loss = torch.sum(-pt * F.log_softmax(s / CFG["online_temp"], dim=1), dim=1).mean()
    with torch.no_grad():
        bc = t.sum(dim=(0, 2), keepdim=True) / (t.shape[0] * t.shape[2])
        m = CFG["center_momentum"]
        new_center = center * m + bc * (1 - m)
    return loss, new_center


# ---------------------------------------------------------------- one step
def nchw(t, dtype):
    return t.permute(0, 3, 1, 2).contiguous().to(dtype)


def cells_rows(f):  # [B, C, h, w] -> [B * h * w, C], row-major cells (our row index b * cells + y * w + x)
    return f.flatten(2).transpose(1, 2).reshape(-1, f.shape[1])


def as_head_input(rows):  # [M, C] -> [1, C, M]: BN1d then normalises over the M matched cells, as ours
    return rows.t().unsqueeze(0)


def run(dtype):
    state = read_st(os.path.join(DIR, "state.safetensors"))
    batch = read_st(os.path.join(DIR, "batch.safetensors"))
    model = CMID()
    sd = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}
    model.load_state_dict(sd, strict=True)
    model.to(dtype)
    model.train()

    img, mim_img = nchw(batch["img"], dtype), nchw(batch["mim_img"], dtype)
    view, view_mim_img = nchw(batch["view"], dtype), nchw(batch["view_mim_img"], dtype)
    mask, view_mask = batch["mask"].to(dtype), batch["view_mask"].to(dtype)
    idx = {k: batch[k].long() for k in ("match_org_student", "match_org_teacher", "match_view_student", "match_view_teacher")}
    teacher_temp = float(batch["teacher_temp"].reshape(-1)[0])
    B = img.shape[0]

    # student on the masked views, teacher (train-mode BN, no grad) on the clean ones
    s_org = model.online_encoder(mim_img, mask)
    s_view = model.online_encoder(view_mim_img, view_mask)
    with torch.no_grad():
        t_view = model.branch_encoder(view)
        t_org = model.branch_encoder(img)
    # reconstruction
    loss_rec = (mim_loss(img, model.mim2org(s_org), mask) + mim_loss(view, model.mim2org(s_view), view_mask)) / 2
    # global branch
    q_org = F.normalize(model.online_projector(s_org.mean(dim=(2, 3))), dim=1)
    q_view = F.normalize(model.online_projector(s_view.mean(dim=(2, 3))), dim=1)
    with torch.no_grad():
        k_org = F.normalize(model.branch_projector(t_org.mean(dim=(2, 3))), dim=1)
        k_view = F.normalize(model.branch_projector(t_view.mean(dim=(2, 3))), dim=1)
    queue = model.queue.clone().detach()
    global_loss = (infonce(q_org, k_view, queue.t(), CFG["temperature"]) + infonce(q_view, k_org, queue.t(), CFG["temperature"])) / 2
    rep = int(CFG.get("queue_repeat", 1))
    fresh = torch.cat([k_view] * rep + [k_org] * rep, 0)
    K = queue.shape[0]
    model.queue.copy_(torch.cat([fresh, queue[: K - fresh.shape[0]]], 0))
    # local branch (match indices from the batch)
    p1 = model.class_projector(as_head_input(cells_rows(s_org)[idx["match_org_student"]]))
    p2 = model.class_projector(as_head_input(cells_rows(s_view)[idx["match_view_student"]]))
    with torch.no_grad():
        t1 = model.branch_class_projector(as_head_input(cells_rows(t_view)[idx["match_org_teacher"]]))
        t2 = model.branch_class_projector(as_head_input(cells_rows(t_org)[idx["match_view_teacher"]]))
    c0 = model.class_loss.center.clone()
    la, ca = local_loss(c0, p1, t1, teacher_temp)
    if CFG["center_once"]:
        lb, cb = local_loss(c0, p2, t2, teacher_temp)
        new_center = (ca + cb) / 2
    else:
        lb, cb = local_loss(ca, p2, t2, teacher_temp)  # quirk 7
        new_center = cb
    model.class_loss.center.copy_(new_center)
    pixel_loss = (la + lb) / 2
    total = loss_rec + global_loss + pixel_loss

    # EMA hook before the optimiser hook (section 7), parameters only
    tau = CFG["tau"]
    with torch.no_grad():
        for s, t in model.momentum_pairs():
            for ps, pt in zip(s.parameters(), t.parameters()):
                pt.mul_(tau).add_(ps.detach(), alpha=1 - tau)
    # optimiser hook
    if CFG["optimizer"] == "sgd":
        opt = torch.optim.SGD(decay_groups(model.named_parameters(), CFG["wd"]), lr=CFG["lr"], momentum=CFG["momentum"])
    elif CFG["optimizer"] == "adan":
        opt = Adan(decay_groups(model.named_parameters(), CFG["wd"]), CFG["lr"], CFG["betas"], CFG["eps"])
    else:
        raise SystemExit("unknown optimizer " + CFG["optimizer"])
    for p in model.parameters():
        p.grad = None
    total.backward()
    opt.step()

    out = {k: torch.tensor([v.item()], dtype=torch.float32) for k, v in
           (("loss", total), ("loss_rec", loss_rec), ("global_loss", global_loss), ("pixel_loss", pixel_loss))}
    for k, v in model.state_dict().items():
        out[k] = v.float() if v.is_floating_point() else v
        if v.is_floating_point():  # the step's change, taken before rounding the result to float32
            out["delta:" + k] = (v.double() - state[k].double()).float()
    return out


for name in CFG.get("dtypes", ["float32"]):
    res = run(getattr(torch, name))
    write_st(os.path.join(DIR, f"out_{name}.safetensors"), res)
print("ok")
