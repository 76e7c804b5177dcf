"""PyTorch CPU reference for ONE CMID pretraining iteration with a ResNet-50 backbone (Debian python3-torch 1.13 +
torchvision 0.14), the reference side of `pnpm --filter pretrain bench`.

Usage: /usr/bin/python3 torch_cmid_step.py BATCH SIZE THREADS REPS [--width W]
Prints one JSON line: {"arch": "cmid-resnet50", "width", "batch", "size", "threads", "step_s" (median of REPS timed
iterations after 1 warm-up iteration), "imgs_per_s" (BATCH / step_s), "peak_rss_mib", "loss_terms" (of the last
iteration), "gemm_gflops"}.

What one timed iteration contains (written from shared/spec/cmid.md sections 2-8 and 10.2, fp32, CPU, train mode):
- student (torchvision resnet50 without fc, timm-style init with zero bn3 gamma): stem -> x + mask_token * mask
  ([1,64,1,1], zero-init, additive) -> layer1..layer4, on mim_img and on view_mim_img;
- teacher (a separately built copy whose parameters were copied from the student; no_grad, train-mode BN) on the
  unmasked img and view;
- MIM head (1x1 conv 2048->3072 + PixelShuffle(32)); per view: focal-L1 (alpha 0.2, gamma 1, sigmoid) on masked pixels
  + Focal Frequency Loss (fft2 ortho, batch-averaged spectrum, log weight over its global max, detached) on the 'mixed'
  replacement with unmasked weight 0.001; averaged over the two views (section 4.4);
- global branch: avgpool -> MLP 2048->2048 ReLU ->256 -> L2 normalise; symmetric MoCo InfoNCE (T 0.2) against a
  [256, 65536] queue snapshot (initialised with the spec's row-normalisation quirk), then enqueue k_view, k_org;
- local branch: position_match (cdist, top-1 nearest, keep the 20 cells with smallest distance, in index order) both
  directions; LocalHead (Conv1d 2048->2048 BN GELU, 2048->2048 BN GELU, 2048->256, normalise, weight-normed Conv1d
  256->2048 with frozen g = 1) for student and teacher; DINO-style loss with centring (student temp 0.1, teacher temp
  of epoch 0 of the ResNet config, linspace(0.04, 0.07, 50)[1] = 0.0406), centre updated after each of the two calls;
- total = rec + global + local; then, in the reference's hook order: EMA of the three teacher pairs (parameters only,
  tau 0.996; skipped at iteration 0, i.e. in the warm-up iteration), zero_grad, backward, Adan step exactly as
  section 8.2 (betas 0.98/0.92/0.99, eps 1e-8, proximal decoupled weight decay) with the two parameter groups of 8.1
  (wd 0 for ndim <= 1 or '.bias', wd 0.02 otherwise; frozen params excluded).

Simplifications (none of them changes the amount of arithmetic in the step in a material way):
- random inputs instead of the augmentation pipeline: img and view are N(0,1) images; mim_img/view_mim_img are them with
  30 of the 49 32-px blocks filled with the image's per-channel mean (section 6.3); the view locations come from the
  section 5.1 crop-parameter draw and the section 5.2 grid (fraction-offset quirk kept). Data preparation is outside
  the timed region;
- single process (no DDP, no SyncBN, no double gather), no AMP, constant lr 0.004 (no cosine/warm-up schedule), constant
  EMA tau 0.996, constant teacher temperature, no PlotSaver/logging hooks;
- pooled features are flattened with flatten(1) instead of squeeze() (same result for B > 1);
- the enqueue wraps around modulo 65536 instead of asserting 65536 % B == 0;
- position_match keeps the 20 smallest with torch.sort (unstable, like the reference) and then re-sorts the kept cell
  indices, which equals the reference's boolean masked selection;
- --width W (default 64 = the real torchvision resnet50) builds a scaled ResNet-50 (stem W, stage widths W..8W,
  output 32W channels) from torchvision's Bottleneck block, for quick checks; heads keep their spec sizes
  (hidden 2048, out 256, prototypes 2048), the MIM head maps 32W -> 3072.
gemm_gflops is a 2048^3 float32 matmul in the same process: Debian's torch uses a generic BLAS (about 6 GFLOP/s), which
slows the queue and head matmuls here while the convolutions use oneDNN.
"""
import json
import math
import random
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import Bottleneck

from cmid_torch_ops import Adan, ScaledResNet, decay_groups, infonce, mim_terms, stem, trunk

# ---------------------------------------------------------------- arguments
args = sys.argv[1:]
width = 64
if "--width" in args:
    i = args.index("--width")
    width = int(args[i + 1])
    del args[i : i + 2]
batch, size, threads, reps = int(args[0]), int(args[1]), int(args[2]), int(args[3])
assert size % 32 == 0 and batch >= 2
torch.set_num_threads(threads)
torch.manual_seed(0)
random.seed(0)

# ---------------------------------------------------------------- constants (section 1.1, 1.2)
OUT_DIM = 256
HIDDEN = 2048
PROTOS = 2048
BOTTLENECK = 256
QUEUE = 65536
MOCO_T = 0.2
NUM_MATCHES = 20
ONLINE_TEMP = 0.1
BRANCH_TEMP = 0.04 + (0.07 - 0.04) * 1 / 49  # schedule index epoch + 1 = 1 at epoch 0 (ResNet config, section 4.3)
CENTER_MOM = 0.9
FOCAL_ALPHA, FOCAL_GAMMA = 0.2, 1.0
FFT_UNMASK_WEIGHT = 0.001
MASK_PATCH, MODEL_PATCH, MASK_RATIO = 32, 4, 0.6
LR, WD = 0.004, 0.02
BETAS, EPS = (0.98, 0.92, 0.99), 1e-8
TAU = 0.996
GRID = size // 32  # feature map side (7 at 224)
C_IN = 32 * width  # backbone output channels (2048 for ResNet-50)


# ---------------------------------------------------------------- backbone (section 10.2, init section 3.6)
def make_backbone():
    if width == 64:
        m = torchvision.models.resnet50()
        del m.fc
        m.avgpool = nn.Identity()
    else:
        m = ScaledResNet(Bottleneck, [3, 4, 6, 3], width)
    # timm ResNet.init_weights: conv kaiming_normal (fan_out, relu), BN 1/0, zero_init_last (bn3 gamma 0)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.ones_(mod.weight)
            nn.init.zeros_(mod.bias)
    for mod in m.modules():
        if isinstance(mod, Bottleneck):
            nn.init.zeros_(mod.bn3.weight)
    return m


class MaskResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = make_backbone()
        self.mask_token = nn.Parameter(torch.zeros(1, width, 1, 1))

    def forward(self, x, mask):
        x = stem(self.model, x)
        x = x + self.mask_token * mask.unsqueeze(1).to(x.dtype)  # additive (residual=False -> replace=False)
        return trunk(self.model, x)


# ---------------------------------------------------------------- heads (section 3)
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Sequential(nn.Linear(C_IN, HIDDEN), nn.Identity(), nn.ReLU(), nn.Linear(HIDDEN, OUT_DIM), nn.Dropout(0.0))

    def forward(self, x):
        return self.layer(x)


class LocalHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Conv1d(C_IN, HIDDEN, 1), nn.BatchNorm1d(HIDDEN), nn.GELU(),
            nn.Conv1d(HIDDEN, HIDDEN, 1), nn.BatchNorm1d(HIDDEN), nn.GELU(),
            nn.Conv1d(HIDDEN, BOTTLENECK, 1),
        )
        self.last_layer = nn.utils.weight_norm(nn.Conv1d(BOTTLENECK, PROTOS, 1, bias=False))
        self.last_layer.weight_g.data.fill_(1.0)
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x):  # [B, C, n] -> [B, PROTOS, n]
        x = F.normalize(self.mlp(x), dim=1)
        return self.last_layer(x)


class MIMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder_pred = nn.Sequential(nn.Conv2d(C_IN, 32 * 32 * 3, 1), nn.PixelShuffle(32))

    def forward(self, x):
        return self.decoder_pred(x)


class CMID(nn.Module):
    def __init__(self):
        super().__init__()
        self.online_encoder = MaskResNet()
        self.branch_encoder = make_backbone()
        self.mim2org = MIMHead()
        self.online_projector = MLP()
        self.branch_projector = MLP()
        self.class_projector = LocalHead()
        self.branch_class_projector = LocalHead()
        q = torch.randn(OUT_DIM, QUEUE)
        self.register_buffer("queue", F.normalize(q, dim=1))  # quirk 3: unit-norm rows, not keys
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))
        self.register_buffer("center", torch.zeros(1, PROTOS, 1))
        for s, t in self.momentum_pairs():
            for ps, pt in zip(s.parameters(), t.parameters()):
                pt.data.copy_(ps.data)
                pt.requires_grad = False

    def momentum_pairs(self):
        return [
            (self.online_encoder.model, self.branch_encoder),
            (self.online_projector, self.branch_projector),
            (self.class_projector, self.branch_class_projector),
        ]


# ---------------------------------------------------------------- losses (section 4)
def mim_loss(x, y, mask):
    """x target, y prediction [B,3,S,S], mask [B,S/4,S/4] -> (spatial focal-L1, focal frequency loss)."""
    return mim_terms(x, y, mask, FOCAL_ALPHA, FOCAL_GAMMA, FFT_UNMASK_WEIGHT)


def enqueue(model, keys):
    n = keys.shape[0]
    p = int(model.queue_ptr)
    idx = (p + torch.arange(n)) % QUEUE
    model.queue[:, idx] = keys.t()
    model.queue_ptr[0] = (p + n) % QUEUE


def position_match(in_loc, cand_loc, in_maps, cand_maps, k):
    dist = torch.cdist(in_loc, cand_loc)  # [B, n, n]
    dmin, nn_idx = dist.topk(1, dim=2, largest=False)
    order = torch.sort(dmin.squeeze(2), dim=1).indices[:, :k]
    sel = order.sort(dim=1).values  # kept cells in increasing cell index order
    partner = nn_idx.squeeze(2).gather(1, sel)
    c = in_maps.shape[2]
    a = in_maps.gather(1, sel.unsqueeze(2).expand(-1, -1, c))
    b = cand_maps.gather(1, partner.unsqueeze(2).expand(-1, -1, c))
    return a, b


def local_loss(model, s, t):
    with torch.no_grad():
        pt = F.softmax((t - model.center) / BRANCH_TEMP, dim=1)
    loss = torch.sum(-pt * F.log_softmax(s / ONLINE_TEMP, dim=1), dim=1).mean()
    with torch.no_grad():
        bc = t.sum(dim=(0, 2), keepdim=True) / (t.shape[0] * t.shape[2])
        model.center.mul_(CENTER_MOM).add_(bc, alpha=1 - CENTER_MOM)
    return loss


# ---------------------------------------------------------------- random but plausible inputs (sections 5, 6)
def block_mask():
    n = GRID * GRID
    perm = torch.randperm(n)
    m = torch.zeros(n, dtype=torch.long)
    m[perm[: math.ceil(n * MASK_RATIO)]] = 1
    scale = MASK_PATCH // MODEL_PATCH
    return m.view(GRID, GRID).repeat_interleave(scale, 0).repeat_interleave(scale, 1)  # [S/4, S/4]


def mean_fill(img, mask):
    m = mask.repeat_interleave(MODEL_PATCH, 0).repeat_interleave(MODEL_PATCH, 1).bool()
    mean = img.mean(dim=(1, 2), keepdim=True).expand_as(img)
    return torch.where(m.unsqueeze(0), mean, img)


def crop_location():
    full = size
    for _ in range(10):
        a = random.uniform(0.3, 1.0) * full * full
        r = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
        w, h = round(math.sqrt(a * r)), round(math.sqrt(a / r))
        if 0 < w <= full and 0 < h <= full:
            i, j = random.randint(0, full - h), random.randint(0, full - w)
            break
    else:
        h = w = full
        i = j = 0
    hs, ws = i / (full - h + 1e-10), j / (full - w + 1e-10)  # fractions (quirk 1)
    k = torch.arange(GRID, dtype=torch.float32) + 0.5
    rows = (hs + k * h / GRID).view(GRID, 1).expand(GRID, GRID)
    cols = (ws + k * w / GRID).view(1, GRID).expand(GRID, GRID)
    grid = torch.stack([rows, cols], -1)
    if random.random() < 0.5:
        grid = grid.flip(1)
    return grid  # [GRID, GRID, 2]


def make_batch():
    img = torch.randn(batch, 3, size, size)
    view = torch.randn(batch, 3, size, size)
    mask = torch.stack([block_mask() for _ in range(batch)])
    view_mask = torch.stack([block_mask() for _ in range(batch)])
    mim_img = torch.stack([mean_fill(img[b], mask[b]) for b in range(batch)])
    view_mim_img = torch.stack([mean_fill(view[b], view_mask[b]) for b in range(batch)])
    locations = [torch.stack([crop_location() for _ in range(batch)]) for _ in range(2)]
    return img, mim_img, mask, view, view_mim_img, view_mask, locations


# ---------------------------------------------------------------- one iteration (section 2, hook order of 7 and 9)
model = CMID()
model.train()
opt = Adan(decay_groups(model.named_parameters(), WD), LR, BETAS, EPS)
iteration = 0


def flat(x):  # [B, C, g, g] -> [B, g*g, C], row-major cells
    return x.flatten(2).transpose(1, 2)


def cmid_step(data):
    global iteration
    img, mim_img, mask, view, view_mim_img, view_mask, locations = data
    # student
    s_org = model.online_encoder(mim_img, mask)
    s_view = model.online_encoder(view_mim_img, view_mask)
    # reconstruction
    sp1, ff1 = mim_loss(img, model.mim2org(s_org), mask)
    sp2, ff2 = mim_loss(view, model.mim2org(s_view), view_mask)
    loss_rec = ((sp1 + ff1) + (sp2 + ff2)) / 2
    # teacher
    with torch.no_grad():
        t_view = trunk(model.branch_encoder, stem(model.branch_encoder, view))
        t_org = trunk(model.branch_encoder, stem(model.branch_encoder, img))
    # global branch
    q_org = F.normalize(model.online_projector(s_org.mean(dim=(2, 3))), dim=1)
    q_view = F.normalize(model.online_projector(s_view.mean(dim=(2, 3))), dim=1)
    with torch.no_grad():
        k_org = F.normalize(model.branch_projector(t_org.mean(dim=(2, 3))), dim=1)
        k_view = F.normalize(model.branch_projector(t_view.mean(dim=(2, 3))), dim=1)
    queue = model.queue.clone().detach()
    global_loss = (infonce(q_org, k_view, queue, MOCO_T) + infonce(q_view, k_org, queue, MOCO_T)) / 2
    enqueue(model, k_view)
    enqueue(model, k_org)
    # local branch
    l_org, l_view = locations[0].flatten(1, 2), locations[1].flatten(1, 2)
    k = min(NUM_MATCHES, GRID * GRID)
    a_s, a_t = position_match(l_org, l_view, flat(s_org), flat(t_view), k)
    b_s, b_t = position_match(l_view, l_org, flat(s_view), flat(t_org), k)
    p1 = model.class_projector(a_s.transpose(1, 2))
    p2 = model.class_projector(b_s.transpose(1, 2))
    with torch.no_grad():
        t1 = model.branch_class_projector(a_t.transpose(1, 2))
        t2 = model.branch_class_projector(b_t.transpose(1, 2))
    pixel_loss = (local_loss(model, p1, t1) + local_loss(model, p2, t2)) / 2
    total = loss_rec + global_loss + pixel_loss
    # EMA hook (before the optimizer hook; skipped at iteration 0)
    if iteration > 0:
        with torch.no_grad():
            for s, t in model.momentum_pairs():
                for ps, pt in zip(s.parameters(), t.parameters()):
                    pt.mul_(TAU).add_(ps.detach(), alpha=1 - TAU)
    # optimizer hook
    opt.zero_grad()
    total.backward()
    opt.step()
    iteration += 1
    return {
        "rec": loss_rec.item(), "rec_focal_l1": (sp1.item() + sp2.item()) / 2, "rec_ffl": (ff1.item() + ff2.item()) / 2,
        "global": global_loss.item(), "local": pixel_loss.item(), "total": total.item(),
    }


cmid_step(make_batch())
ts = []
terms = None
for _ in range(reps):
    data = make_batch()
    t0 = time.perf_counter()
    terms = cmid_step(data)
    ts.append(time.perf_counter() - t0)

a = torch.randn(2048, 2048)
b = torch.randn(2048, 2048)
t0 = time.perf_counter()
a @ b
gemm = 2 * 2048 ** 3 / (time.perf_counter() - t0) / 1e9
step_s = statistics.median(ts)
print(json.dumps({
    "arch": "cmid-resnet50", "width": width, "batch": batch, "size": size, "threads": threads, "step_s": step_s,
    "imgs_per_s": batch / step_s, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "loss_terms": terms, "gemm_gflops": gemm,
}))
