"""Export a trained JambaLM in the Hugging Face layout and check it against transformers."""
import json
import os

import torch
from safetensors.torch import save_file

from jamba_model import hf_config


def save_model(model, tokenizer_doc, outdir, dtype=torch.bfloat16, eom_id=5):
    """Writes config.json, model.safetensors (hub tensor names), tokenizer.json, generation_config.json."""
    os.makedirs(outdir, exist_ok=True)
    cfg = hf_config(model.config)
    cfg["dtype"] = {torch.bfloat16: "bfloat16", torch.float32: "float32"}[dtype]
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    sd = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(sd, os.path.join(outdir, "model.safetensors"), metadata={"format": "pt"})
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
    ours = type(model)(model.config, scan=model.model.layers[0].mamba.scan
                       if hasattr(model.model.layers[0], "mamba") else "ref").float().eval()
    ours.load_state_dict({k: v.float() for k, v in load_file(os.path.join(outdir, "model.safetensors")).items()})
    ref = load_transformers(outdir, torch.float32)
    a = ours(ids)
    b = ref(ids).logits.float()
    return (a - b).abs().max().item(), b.abs().max().item()
