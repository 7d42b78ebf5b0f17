#!/usr/bin/env python3
"""A random Jamba checkpoint of a chosen size (hub tensor names, bf16, N shards + index) for
measuring the loader (peak host memory of a streaming load). Values are small random numbers;
the model computes nothing meaningful.

usage: make_synthetic_checkpoint.py OUTDIR [--hidden 512] [--inter 2048] [--layers 8]
                                    [--experts 16] [--vocab 8192] [--shards 2]
"""
import argparse
import json
import os

import torch
from safetensors.torch import save_file

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--hidden", type=int, default=512)
ap.add_argument("--inter", type=int, default=2048)
ap.add_argument("--layers", type=int, default=8)
ap.add_argument("--experts", type=int, default=16)
ap.add_argument("--vocab", type=int, default=8192)
ap.add_argument("--shards", type=int, default=2)
a = ap.parse_args()
H, I, L, E, V = a.hidden, a.inter, a.layers, a.experts, a.vocab
heads, kvh, N, K = 8, 2, 16, 4
D, R, hd = 2 * H, (H + 15) // 16, H // 8
cfg = dict(architectures=["JambaForCausalLM"], model_type="jamba", vocab_size=V, hidden_size=H,
           intermediate_size=I, num_hidden_layers=L, num_attention_heads=heads, num_key_value_heads=kvh,
           attn_layer_period=8, attn_layer_offset=4, expert_layer_period=2, expert_layer_offset=1,
           num_experts=E, num_experts_per_tok=2, mamba_d_state=N, mamba_d_conv=K, mamba_expand=2,
           mamba_dt_rank=R, mamba_conv_bias=True, mamba_proj_bias=False, rms_norm_eps=1e-6,
           tie_word_embeddings=False, max_position_embeddings=4096, eos_token_id=2, bos_token_id=1, pad_token_id=0)
g = torch.Generator().manual_seed(0)
def rnd(*shape, s=0.02):
    return (torch.randn(*shape, generator=g) * s).to(torch.bfloat16)
t = {"model.embed_tokens.weight": rnd(V, H), "model.final_layernorm.weight": torch.ones(H, dtype=torch.bfloat16),
     "lm_head.weight": rnd(V, H)}
for l in range(L):
    p = f"model.layers.{l}"
    t[f"{p}.input_layernorm.weight"] = torch.ones(H, dtype=torch.bfloat16)
    t[f"{p}.pre_ff_layernorm.weight"] = torch.ones(H, dtype=torch.bfloat16)
    if l % 8 == 4:
        for n, o in (("q", heads * hd), ("k", kvh * hd), ("v", kvh * hd)):
            t[f"{p}.self_attn.{n}_proj.weight"] = rnd(o, H)
        t[f"{p}.self_attn.o_proj.weight"] = rnd(H, heads * hd)
    else:
        m = f"{p}.mamba"
        t[f"{m}.in_proj.weight"] = rnd(2 * D, H)
        t[f"{m}.conv1d.weight"] = rnd(D, 1, K, s=0.3)
        t[f"{m}.conv1d.bias"] = rnd(D)
        t[f"{m}.x_proj.weight"] = rnd(R + 2 * N, D)
        t[f"{m}.dt_proj.weight"] = rnd(D, R)
        t[f"{m}.dt_proj.bias"] = rnd(D)
        t[f"{m}.A_log"] = torch.zeros(D, N, dtype=torch.bfloat16)
        t[f"{m}.D"] = torch.ones(D, dtype=torch.bfloat16)
        t[f"{m}.out_proj.weight"] = rnd(H, D)
        for n, s in (("dt", R), ("b", N), ("c", N)):
            t[f"{m}.{n}_layernorm.weight"] = torch.ones(s, dtype=torch.bfloat16)
    f = f"{p}.feed_forward"
    if l % 2 == 1:
        t[f"{f}.router.weight"] = rnd(E, H)
        for e in range(E):
            t[f"{f}.experts.{e}.gate_proj.weight"] = rnd(I, H)
            t[f"{f}.experts.{e}.up_proj.weight"] = rnd(I, H)
            t[f"{f}.experts.{e}.down_proj.weight"] = rnd(H, I)
    else:
        t[f"{f}.gate_proj.weight"] = rnd(I, H)
        t[f"{f}.up_proj.weight"] = rnd(I, H)
        t[f"{f}.down_proj.weight"] = rnd(H, I)
os.makedirs(a.out, exist_ok=True)
json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=1)
names = list(t)
per = (len(names) + a.shards - 1) // a.shards
wm = {}
for s in range(a.shards):
    fn = f"model-{s + 1:05d}-of-{a.shards:05d}.safetensors"
    part = {n: t[n].contiguous() for n in names[s * per:(s + 1) * per]}
    save_file(part, os.path.join(a.out, fn))
    wm.update({n: fn for n in part})
json.dump({"metadata": {}, "weight_map": wm}, open(os.path.join(a.out, "model.safetensors.index.json"), "w"))
total = sum(v.numel() * 2 for v in t.values())
print(f"{a.out}: {len(t)} tensors, {total} bytes bf16 in {a.shards} shards")
