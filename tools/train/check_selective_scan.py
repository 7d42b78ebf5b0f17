#!/usr/bin/env python3
"""Check the Triton selective scan (forward and gradients) against the sequential PyTorch scan, and
time it on a GPU. On a CPU it runs in Triton's interpreter at small sizes."""
import os
import sys
import time

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selective_scan as ss  # noqa: E402


def check(Bt, T, D, N, dev):
    g = torch.Generator().manual_seed(T)
    u = torch.randn(Bt, T, D, generator=g).to(dev).requires_grad_()
    dt = (torch.rand(Bt, T, D, generator=g) * 0.5 + 0.01).to(dev).requires_grad_()
    A = (-torch.rand(D, N, generator=g) * 4 - 0.1).to(dev).requires_grad_()
    B = torch.randn(Bt, T, N, generator=g).to(dev).requires_grad_()
    C = torch.randn(Bt, T, N, generator=g).to(dev).requires_grad_()
    w = torch.randn(Bt, T, D, generator=g).to(dev)
    yr = ss.scan_reference(u, dt, A, B, C)
    gr = torch.autograd.grad((yr * w).sum(), [u, dt, A, B, C])
    yk = ss.scan(u, dt, A, B, C)
    gk = torch.autograd.grad((yk * w).sum(), [u, dt, A, B, C])
    worst = float((yk - yr).abs().max() / yr.abs().max())
    for a, b in zip(gk, gr):
        worst = max(worst, float((a - b).abs().max() / b.abs().max()))
    print(f"scan Bt={Bt} T={T} D={D} N={N}: worst relative error (y and all grads) {worst:.2e}")
    return worst < 1e-4


def bench(Bt, T, D, N):
    u = torch.randn(Bt, T, D, device="cuda", requires_grad=True)
    dt = (torch.rand(Bt, T, D, device="cuda") * 0.1).requires_grad_()
    A = (-torch.rand(D, N, device="cuda") * 4).requires_grad_()
    B = torch.randn(Bt, T, N, device="cuda", requires_grad=True)
    C = torch.randn(Bt, T, N, device="cuda", requires_grad=True)
    for it in range(4):
        if it == 1:
            torch.cuda.synchronize()
            t0 = time.time()
        ss.scan(u, dt, A, B, C).sum().backward()
    torch.cuda.synchronize()
    dtm = (time.time() - t0) / 3
    print(f"scan fwd+bwd Bt={Bt} T={T} D={D}: {dtm * 1e3:.1f} ms = {Bt * T / dtm / 1e6:.2f}M tokens/s per layer")


if __name__ == "__main__":
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev == "cpu":
        ss.CHUNK = 8
        ok = check(2, 21, 48, 16, dev) and check(1, 16, 32, 16, dev)
    else:
        ok = check(2, 300, 512, 16, dev) and check(1, 1000, 96, 16, dev)
        bench(16, 4096, 512, 16)
    sys.exit(0 if ok else 1)
