#!/usr/bin/env python3
"""Reference logits of a fixture model with ExpertsInt8 applied, for tests/int8_parity.

Loads FIXTURE_DIR with transformers' JambaForCausalLM, replaces every MoE expert weight by its
per-output-channel symmetric int8 quantisation, dequantised (scale = max|row| / 127,
q = clamp(round(w / scale), -127, 127), w' = q * scale, computed in float64 as longjam does on
the host), runs the fixture's input_ids in float64 and greedy-decodes N tokens with the cache.
Writes OUT.safetensors: logits F32 [T, V], greedy_ids I64 [N].

usage: make_int8_reference.py FIXTURE_DIR OUT.safetensors
"""
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import JambaForCausalLM


def quant_dequant(w: torch.Tensor) -> torch.Tensor:
    w32 = w.float()                            # the stored weights as the loader sees them (fp32)
    mx = w32.abs().amax(dim=-1, keepdim=True)
    scale = mx / 127.0                         # fp32, as quant_rows_i8
    safe = torch.where(scale == 0, torch.ones_like(scale), scale)
    q = torch.round(w32.double() / safe.double()).clamp(-127, 127)
    q = torch.where(scale == 0, torch.zeros_like(q), q)
    return (q.float() * scale).double()        # dequantised exactly as the CPU kernel (fp32 product)


def main():
    fx, out = sys.argv[1], sys.argv[2]
    ref = load_file(f"{fx}/reference.safetensors")
    ids = ref["input_ids"].long().unsqueeze(0)
    n_new = ref["greedy_ids"].numel()
    model = JambaForCausalLM.from_pretrained(fx, torch_dtype=torch.float32, use_mamba_kernels=False)
    model.config._experts_implementation = "eager"   # the grouped kernel has no float64
    model = model.double().eval()
    n = 0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".experts." in name and p.dim() >= 2:
                p.copy_(quant_dequant(p.data))   # per row of the last dim = per output channel
                n += 1
        logits = model(ids, use_cache=False).logits[0].float()
        gen = model.generate(ids, max_new_tokens=n_new, do_sample=False, min_new_tokens=n_new,
                             eos_token_id=None, pad_token_id=0)
    greedy = gen[0, ids.shape[1]:].long()
    save_file({"logits": logits.contiguous(), "greedy_ids": greedy.contiguous()}, out)
    print(f"{fx}: {n} expert tensors quantised; logits {tuple(logits.shape)}; greedy {greedy.tolist()}")


if __name__ == "__main__":
    main()
