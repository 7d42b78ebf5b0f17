#!/usr/bin/env python3
"""Derived engine fixtures (same weights and reference, other storage):
  g-f16   : g-periods with every weight stored as F16. BF16 values convert exactly except the few
            below 2^-17 in magnitude (F16 subnormals); those move by at most 2^-25, far below what the
            1e-4 logits bound can see (the script asserts the bound and prints the count).
  g-fused : g-odd-gqa with MoE experts in transformers-v5 fused names
            (experts.gate_up_proj [E, 2I, H], experts.down_proj [E, H, I]), one file
usage: derive-engine-fixtures.py FIXTURES_DIR"""
import json, os, shutil, sys
import torch
from safetensors.torch import load_file, save_file

root = sys.argv[1]


def load_dir(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        sd = {}
        for f in sorted(set(json.load(open(idx))["weight_map"].values())):
            sd.update(load_file(os.path.join(d, f)))
        return sd
    return load_file(os.path.join(d, "model.safetensors"))


def copy_meta(src, dst):
    os.makedirs(dst, exist_ok=True)
    for f in ("config.json", "reference.safetensors"):
        shutil.copy(os.path.join(src, f), os.path.join(dst, f))


# F16
src, dst = os.path.join(root, "g-periods"), os.path.join(root, "g-f16")
copy_meta(src, dst)
sd = load_dir(src)
out, inexact = {}, 0
for k, v in sd.items():
    h = v.to(torch.float16)
    d = (h.to(torch.float32) - v.to(torch.float32)).abs()
    assert d.max().item() <= 2.0 ** -25, f"{k}: F16 rounding moves a value by {d.max().item()}"
    inexact += int((d > 0).sum())
    out[k] = h.contiguous()
print(f"g-f16: {inexact} of {sum(v.numel() for v in sd.values())} values rounded (each by at most 2^-25)")
save_file(out, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
cfg = json.load(open(os.path.join(dst, "config.json")))
cfg["dtype"] = "float16"
json.dump(cfg, open(os.path.join(dst, "config.json"), "w"), indent=2, sort_keys=True)

# fused experts
src, dst = os.path.join(root, "g-odd-gqa"), os.path.join(root, "g-fused")
copy_meta(src, dst)
sd = load_dir(src)
cfg = json.load(open(os.path.join(src, "config.json")))
E = cfg["num_experts"]
out = {}
layers = sorted({int(k.split(".")[2]) for k in sd if ".feed_forward.experts." in k})
for k, v in sd.items():
    if ".feed_forward.experts." not in k:
        out[k] = v
for l in layers:
    p = f"model.layers.{l}.feed_forward.experts"
    out[f"{p}.gate_up_proj"] = torch.stack(
        [torch.cat([sd[f"{p}.{e}.gate_proj.weight"], sd[f"{p}.{e}.up_proj.weight"]], 0) for e in range(E)]).contiguous()
    out[f"{p}.down_proj"] = torch.stack([sd[f"{p}.{e}.down_proj.weight"] for e in range(E)]).contiguous()
save_file(out, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
print("derived g-f16, g-fused")
