#!/usr/bin/env python3
"""transformers' JambaForCausalLM prefill throughput on the GPU, same shape and layer count as
`longjam bench --device cuda --shape jamba-1.5-mini --layers N`, random bf16 weights, and our
throughput as a ratio of it.

Usage: python3 bench/hf_jamba_bench.py --layers 8 --context 4096,16384 [--repeat 3] [--ours LOG]
  LOG: output of longjam bench (its '# summary ... prefill@4096=TOKS ...' line) for the ratio.
Each context is timed --repeat times after a warm-up at that length; the median is printed.
Contexts that do not fit (out of memory) are reported and skipped. transformers runs its own
Mamba path here (no mamba_ssm / causal_conv1d kernels installed: use_mamba_kernels=False)."""
import argparse
import re
import time

import torch
from transformers import JambaConfig, JambaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--context", default="4096")
    ap.add_argument("--ours", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    ours = {}
    if a.ours:
        for line in open(a.ours):
            if line.startswith("# summary"):
                for k, v in re.findall(r"prefill@(\d+)=([\d.]+)", line):
                    ours[int(k)] = float(v)
    cfg = JambaConfig(vocab_size=65536, hidden_size=4096, intermediate_size=14336, num_hidden_layers=a.layers,
                      num_attention_heads=32, num_key_value_heads=8, num_experts=16, num_experts_per_tok=2,
                      attn_layer_period=8, attn_layer_offset=4, expert_layer_period=2, expert_layer_offset=1,
                      mamba_d_state=16, mamba_d_conv=4, mamba_expand=2, mamba_dt_rank=256, mamba_conv_bias=True,
                      mamba_proj_bias=False, rms_norm_eps=1e-6, use_mamba_kernels=False, tie_word_embeddings=False)
    torch.set_default_dtype(torch.bfloat16)
    t0 = time.time()
    with torch.device("cuda"):
        model = JambaForCausalLM(cfg).eval()
    torch.cuda.synchronize()
    import transformers
    print(f"transformers {transformers.__version__} (torch {torch.__version__}) JambaForCausalLM, {a.layers} layers "
          f"of the Jamba-1.5-Mini shape, bf16 on {torch.cuda.get_device_name()} (built in {time.time() - t0:.1f} s)")
    res = []
    with torch.no_grad():
        ids = torch.randint(0, cfg.vocab_size, (1, 512), device="cuda")
        model(ids, use_cache=False, logits_to_keep=1)   # warm-up
        for C in [int(c) for c in a.context.split(",")]:
            ids = torch.randint(0, cfg.vocab_size, (1, C), device="cuda")
            try:
                model(ids, use_cache=False, logits_to_keep=1)   # warm-up at this length
                times = []
                for _ in range(max(1, a.repeat)):
                    torch.cuda.synchronize()
                    t = time.time()
                    model(ids, use_cache=False, logits_to_keep=1)
                    torch.cuda.synchronize()
                    times.append(time.time() - t)
                times.sort()
                n = len(times)
                tps = C / (times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2]))
                print(f"{C}: runs {', '.join(f'{C / x:.0f}' for x in times)} tok/s", flush=True)
                res.append((C, tps))
            except torch.OutOfMemoryError:
                torch.cuda.empty_cache()
                res.append((C, None))
    print(f"\n{'context':>8s} {'hf tok/s':>12s} {'ours tok/s':>12s} {'ratio':>8s}")
    for C, tps in res:
        if tps is None:
            print(f"{C:8d} {'OOM':>12s}")
            continue
        o = ours.get(C)
        print(f"{C:8d} {tps:12.1f} {o if o else float('nan'):12.0f} {(o / tps) if o else float('nan'):7.1f}x")


if __name__ == "__main__":
    main()
