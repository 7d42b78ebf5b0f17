"""Export a trained JambaLM in the Hugging Face layout and check it against transformers."""
import json
import math
import os

import torch
from safetensors.torch import save_file

from jamba_model import hf_config


def save_model(model, tokenizer_doc, outdir, dtype=torch.bfloat16, eom_id=5, shards=1):
    """Writes config.json, model.safetensors (hub tensor names), tokenizer.json, generation_config.json."""
    os.makedirs(outdir, exist_ok=True)
    cfg = hf_config(model.config)
    cfg["dtype"] = {torch.bfloat16: "bfloat16", torch.float32: "float32"}[dtype]
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    sd = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    if shards <= 1:
        save_file(sd, os.path.join(outdir, "model.safetensors"), metadata={"format": "pt"})
    else:   # hub-style shards + index (to move files under a per-file size limit; merge_shards joins them)
        names = sorted(sd)
        per = math.ceil(sum(sd[k].numel() for k in names) / shards)
        groups, cur, size = [], [], 0
        for k in names:
            if cur and size + sd[k].numel() > per and len(groups) < shards - 1:
                groups.append(cur)
                cur, size = [], 0
            cur.append(k)
            size += sd[k].numel()
        groups.append(cur)
        wmap = {}
        for i, g in enumerate(groups):
            fn = f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors"
            save_file({k: sd[k] for k in g}, os.path.join(outdir, fn), metadata={"format": "pt"})
            wmap.update({k: fn for k in g})
        total = sum(v.numel() * v.element_size() for v in sd.values())
        with open(os.path.join(outdir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, f, indent=2)
    with open(os.path.join(outdir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_doc, f, ensure_ascii=False, indent=None)
    gen = {"bos_token_id": 1, "eos_token_id": [2, eom_id], "pad_token_id": 0, "do_sample": False}
    with open(os.path.join(outdir, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)


def load_transformers(outdir, dtype=torch.float32):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import JambaForCausalLM
    m = JambaForCausalLM.from_pretrained(outdir, dtype=dtype, attn_implementation="eager")
    return m.eval()


@torch.no_grad()
def parity(model, outdir, ids):
    """Max |ours - transformers| of the logits, float32 on the CPU, for the weights as exported.

    Our model is first loaded from the exported file too, so both run the same (rounded) weights."""
    from safetensors.torch import load_file
    ours = type(model)(model.config, scan="ref").float().eval()
    sd = load_weights(outdir)
    ours.load_state_dict({k: v.float() for k, v in sd.items()})
    ref = load_transformers(outdir, torch.float32)
    a = ours(ids)
    b = ref(ids).logits.float()
    return (a - b).abs().max().item(), b.abs().max().item()


def load_weights(outdir):
    """The tensors of an exported model directory (one file or hub-style shards)."""
    from safetensors.torch import load_file
    if os.path.exists(os.path.join(outdir, "model.safetensors")):
        return load_file(os.path.join(outdir, "model.safetensors"))
    sd = {}
    idx = json.load(open(os.path.join(outdir, "model.safetensors.index.json")))
    for fn in sorted(set(idx["weight_map"].values())):
        sd.update(load_file(os.path.join(outdir, fn)))
    return sd


def merge_shards(indir, out_file):
    """Join hub-style shards (model.safetensors.index.json) into one safetensors file."""
    from safetensors.torch import load_file
    idx = json.load(open(os.path.join(indir, "model.safetensors.index.json")))
    sd = {}
    for fn in sorted(set(idx["weight_map"].values())):
        sd.update(load_file(os.path.join(indir, fn)))
    save_file(dict(sorted(sd.items())), out_file, metadata={"format": "pt"})
