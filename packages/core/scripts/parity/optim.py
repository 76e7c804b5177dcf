"""Reference optimiser trajectories for the optimiser parity tests (Debian python3-torch 1.13).

Used two ways:
  * imported by packages/core/test/train/optim/torch-parity.test.ts inside a runTorch() snippet:
        import optim; outputs.update(optim.run_cases(CASES, inputs))
  * standalone:  /usr/bin/python3 optim.py DIR
    DIR holds cases.json (a list of cases) and the inputs as runTorch writes them (inputs.json + in_<name>.f32);
    the outputs are written the same way (outputs.json + out_<name>.f32).

A case is {"id", "kind": sgd|adamw|lars|adan, "hyper": {...}, "params": [{"shape", "weightDecay", "lrScale"}],
"lrs": [lr for step 1..T]}. Inputs: <id>_p<i> (initial parameter i) and <id>_g<i>_<t> (its gradient at step t,
t = 1..T; an all-zero gradient is a real zero gradient, not "no gradient"). Outputs: <id>_p<i>_<t> (parameter i
after step t) and <id>_s<i>_<slot> (state slot after the last step, under the names our optimisers use).

Each parameter gets its own param group (its weight decay, and lr = scheduled lr x lrScale), so Adan's per-group
step counter advances once per step() for all of them, as in CMID (all groups step together).

References:
  sgd   torch.optim.SGD (foreach=False: the single-tensor path)
  adamw torch.optim.AdamW (foreach=False, amsgrad=False)
  lars  RefLars below: the algorithm of solo-learn's solo/utils/lars.py (from Lightning Bolts), rewritten here;
        "excluded" means exclude_bias_n_norm_lars and p.ndim == 1
  adan  RefAdan below: cmid.md section 8.2 written out formula by formula (plain multiply-adds, not lerp_),
        with CMID's stored state names (exp_avg_sq holds v, exp_avg_diff holds n, pre_grad the last gradient)
"""
import json
import math
import sys

import numpy as np
import torch

torch.set_num_threads(1)


class RefLars(torch.optim.Optimizer):
    """SGD with momentum on a trust-ratio-scaled gradient (solo-learn LARS semantics)."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, eta=1e-3,
                 eps=1e-8, clip_lars_lr=False, exclude_bias_n_norm_lars=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, eta=eta, eps=eps, clip_lars_lr=clip_lars_lr,
                                      exclude_bias_n_norm_lars=exclude_bias_n_norm_lars))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            wd, mom = group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                direction = grad
                skip = group["exclude_bias_n_norm_lars"] and p.ndim == 1
                if not skip:
                    w_norm = torch.norm(p)
                    g_norm = torch.norm(grad)
                    if w_norm != 0 and g_norm != 0:
                        ratio = w_norm / (g_norm + w_norm * wd + group["eps"])
                        ratio = ratio * group["eta"]
                        if group["clip_lars_lr"]:
                            ratio = min(ratio / group["lr"], 1)
                        direction = grad.add(p, alpha=wd) * ratio
                if mom != 0:
                    st = self.state[p]
                    if "momentum_buffer" in st:
                        st["momentum_buffer"].mul_(mom).add_(direction, alpha=1 - group["dampening"])
                    else:
                        st["momentum_buffer"] = direction.clone()
                    buf = st["momentum_buffer"]
                    direction = direction.add(buf, alpha=mom) if group["nesterov"] else buf
                p.add_(direction, alpha=-group["lr"])


class RefAdan(torch.optim.Optimizer):
    """Adan exactly as cmid.md section 8.2 states it."""

    def __init__(self, params, lr, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, no_prox=no_prox))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2, b3 = group["betas"]
            group["step"] = group.get("step", 0) + 1
            k = group["step"]
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                st = self.state[p]
                if not st:
                    st["exp_avg"] = torch.zeros_like(p)       # m
                    st["exp_avg_sq"] = torch.zeros_like(p)    # v (stored-name quirk)
                    st["exp_avg_diff"] = torch.zeros_like(p)  # n (stored-name quirk)
                    st["pre_grad"] = g.clone()
                m, v, n = st["exp_avg"], st["exp_avg_sq"], st["exp_avg_diff"]
                delta = g - st["pre_grad"]
                m.copy_(b1 * m + (1 - b1) * g)
                v.copy_(b2 * v + (1 - b2) * delta)
                n.copy_(b3 * n + (1 - b3) * (g + b2 * delta) ** 2)
                denom = n.sqrt() / math.sqrt(1 - b3 ** k) + group["eps"]
                u = (m / (1 - b1 ** k) + b2 * v / (1 - b2 ** k)) / denom
                if group["no_prox"]:
                    p.mul_(1 - lr * wd)
                    p.sub_(lr * u)
                else:
                    p.sub_(lr * u)
                    p.div_(1 + lr * wd)
                st["pre_grad"].copy_(g)


SLOTS = {
    "sgd": ["momentum_buffer"],
    "lars": ["momentum_buffer"],
    "adamw": ["exp_avg", "exp_avg_sq"],
    "adan": ["exp_avg", "exp_avg_sq", "exp_avg_diff", "pre_grad"],
}


def build(kind, hyper, groups):
    h = dict(hyper)
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=1.0, momentum=h.get("momentum", 0.0), dampening=h.get("dampening", 0.0),
                               nesterov=h.get("nesterov", False), foreach=False)
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=1.0, betas=tuple(h.get("betas", (0.9, 0.999))), eps=h.get("eps", 1e-8),
                                 amsgrad=False, foreach=False)
    if kind == "lars":
        return RefLars(groups, lr=1.0, momentum=h.get("momentum", 0.0), dampening=h.get("dampening", 0.0),
                       nesterov=h.get("nesterov", False), eta=h.get("eta", 1e-3), eps=h.get("eps", 1e-8),
                       clip_lars_lr=h.get("clipLr", False), exclude_bias_n_norm_lars=h.get("excludeBiasAndNorm", False))
    if kind == "adan":
        return RefAdan(groups, lr=1.0, betas=tuple(h.get("betas", (0.98, 0.92, 0.99))), eps=h.get("eps", 1e-8),
                       no_prox=h.get("noProx", False))
    raise ValueError(f"unknown optimiser kind {kind}")


def run_case(case, inputs):
    cid, kind = case["id"], case["kind"]
    params = []
    groups = []
    for i, spec in enumerate(case["params"]):
        p = torch.nn.Parameter(inputs[f"{cid}_p{i}"].clone().reshape(spec["shape"]))
        params.append(p)
        groups.append({"params": [p], "weight_decay": spec["weightDecay"], "lr": 1.0})
    opt = build(kind, case.get("hyper", {}), groups)
    out = {}
    for t, lr in enumerate(case["lrs"], start=1):
        for i, (p, spec, group) in enumerate(zip(params, case["params"], opt.param_groups)):
            p.grad = inputs[f"{cid}_g{i}_{t}"].clone().reshape(spec["shape"])
            group["lr"] = lr * spec.get("lrScale", 1.0)
        opt.step()
        for i, p in enumerate(params):
            out[f"{cid}_p{i}_{t}"] = p.detach().clone()
    for i, p in enumerate(params):
        for slot in SLOTS[kind]:
            if opt.state[p].get(slot) is not None:
                out[f"{cid}_s{i}_{slot}"] = opt.state[p][slot].clone()
    return out


def run_cases(cases, inputs):
    out = {}
    for case in cases:
        out.update(run_case(case, inputs))
    return out


def main(d):
    with open(d + "/cases.json") as f:
        cases = json.load(f)
    with open(d + "/inputs.json") as f:
        manifest = json.load(f)
    inputs = {k: torch.from_numpy(np.fromfile(f"{d}/in_{k}.f32", dtype="<f4").reshape(s)) for k, s in manifest.items()}
    outputs = run_cases(cases, inputs)
    shapes = {}
    for k, v in outputs.items():
        a = np.ascontiguousarray(v.detach().numpy(), dtype="<f4")
        a.tofile(f"{d}/out_{k}.f32")
        shapes[k] = list(a.shape)
    with open(d + "/outputs.json", "w") as f:
        json.dump(shapes, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: optim.py DIR  (DIR/cases.json plus runTorch-style inputs)")
    main(sys.argv[1])
