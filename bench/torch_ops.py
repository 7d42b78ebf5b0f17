#!/usr/bin/env python3
"""PyTorch figures for the same op shapes as `longjam bench --device cuda --op all` (Jamba-1.5-Mini):
causal GQA SDPA prefill (TFLOP/s), torch._grouped_mm for the MoE expert GEMMs (TFLOP/s), a
device-to-device copy (HBM GB/s, bytes read + written) and a bf16 8192^3 matmul.
Usage: python3 bench/torch_ops.py [--only matmul,copy,sdpa,moe]   (needs a CUDA GPU)"""
import argparse

import torch


def bench(fn, reps=10, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="matmul,copy,sdpa,moe",
                    help="comma-separated subset of matmul,copy,sdpa,moe (default: all)")
    only = set(ap.parse_args().only.split(","))
    dev = "cuda"
    torch.manual_seed(0)
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    rows = []
    n = 8192
    if "matmul" in only:
        matmul_row(rows, n, dev)
    if "copy" in only:
        copy_row(rows, dev)
    if "sdpa" in only:
        sdpa_rows(rows, dev)
    if "moe" in only:
        moe_rows(rows, dev)
    print(f"\n{'torch op':40s} {'ms':>10s}  figure")
    for name, ms, fig in rows:
        print(f"{name:40s} {ms:10.3f}  {fig}")


def matmul_row(rows, n, dev):
    x = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    w = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    ms = bench(lambda: x @ w.T)
    rows.append(("matmul bf16 8192^3", ms, f"{2 * n**3 / ms / 1e9:.1f} TF/s"))
    del x, w


def copy_row(rows, dev):
    src = torch.randn(1 << 30, device=dev, dtype=torch.bfloat16)   # 2 GiB
    dst = torch.empty_like(src)
    ms = bench(lambda: dst.copy_(src))
    rows.append(("copy 2 GiB (read+write)", ms, f"{2 * src.numel() * 2 / ms / 1e6:.0f} GB/s"))
    del src, dst


def sdpa_rows(rows, dev):
    H, KV, hd = 32, 8, 128
    for T in (4096, 16384, 32768):
        q = torch.randn(1, H, T, hd, device=dev, dtype=torch.bfloat16)
        k = torch.randn(1, KV, T, hd, device=dev, dtype=torch.bfloat16)
        v = torch.randn(1, KV, T, hd, device=dev, dtype=torch.bfloat16)
        f = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        ms = bench(f, reps=5)
        flops = 4.0 * H * hd * T * (T + 1) / 2
        rows.append((f"sdpa causal T={T} {H}/{KV}", ms, f"{flops / ms / 1e9:.1f} TF/s"))
        del q, k, v


def moe_rows(rows, dev):
    T, Hd, F, E, K = 8192, 4096, 14336, 16, 2
    TK = T * K
    xp = torch.randn(TK, Hd, device=dev, dtype=torch.bfloat16)
    wgu = torch.randn(E, Hd, 2 * F, device=dev, dtype=torch.bfloat16) * 0.02
    wd = torch.randn(E, F, Hd, device=dev, dtype=torch.bfloat16) * 0.02
    offs = torch.arange(1, E + 1, device=dev, dtype=torch.int32) * (TK // E)

    def moe():
        h = torch._grouped_mm(xp, wgu, offs=offs)
        g, u = h[:, :F], h[:, F:]
        return torch._grouped_mm(torch.nn.functional.silu(g) * u, wd, offs=offs)
    try:
        ms = bench(moe, reps=5)
        rows.append((f"_grouped_mm moe T={T} E={E} top{K}", ms, f"{2.0 * TK * 3 * Hd * F / ms / 1e9:.1f} TF/s"))
        ms = bench(lambda: torch._grouped_mm(xp, wgu, offs=offs), reps=5)
        rows.append(("_grouped_mm gate|up only", ms, f"{2.0 * TK * 2 * Hd * F / ms / 1e9:.1f} TF/s"))
    except Exception as e:  # older torch
        rows.append(("_grouped_mm", 0.0, f"unavailable: {e}"))


if __name__ == "__main__":
    main()
