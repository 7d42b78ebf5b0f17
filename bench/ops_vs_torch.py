#!/usr/bin/env python3
"""Every per-op ratio of the CUDA backend's speed targets (issue 4), from one command.

Runs our op benchmark and bench/torch_ops.py one after the other on the same GPU, then prints
each target with our figure, PyTorch's (or the HBM copy bandwidth PyTorch measured in the same
run), the ratio and whether the target is met:
  attention prefill at 16K and 32K   >= 85% of SDPA's TFLOP/s (4K shown, no target)
  decode attention                   >= 80% of HBM (the copy bandwidth)
  selective scan, conv1d + SiLU      >= 70% of HBM (the scan's own arithmetic floor shown too)
  MoE expert GEMMs                   >= 85% of torch._grouped_mm

Usage:
  bench/ops_vs_torch.py [--bench 'CMD'] [--torch 'CMD']     run both (needs a CUDA GPU)
  bench/ops_vs_torch.py --ours FILE --peer FILE              parse saved outputs instead
--bench defaults to `build/cli/longjam bench --device cuda --shape jamba-1.5-mini --op all`
(ljc_bench from bench/cuda_build_standalone.sh takes the same arguments); --torch to
`python3 bench/torch_ops.py`.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

NUM = r"([0-9]+(?:\.[0-9]+)?)"


def parse_ours(text):
    ours = {"attn": {}, "decode": {}}
    for line in text.splitlines():
        m = re.match(rf"attention prefill T=(\d+)\s+\S+\s+{NUM}\s+{NUM} TF/s", line)
        if m:
            ours["attn"][int(m[1])] = float(m[3])
        m = re.match(rf"decode attention ctx=(\d+)\s+batch (\d+)\s+{NUM}\s+{NUM} GB/s", line)
        if m:
            ours["decode"][(int(m[1]), int(m[2]))] = float(m[4])
        m = re.match(rf"selective scan .*?\s{NUM}\s+{NUM} GB/s", line)
        if m:
            ours["scan_ms"], ours["scan"] = float(m[1]), float(m[2])
        m = re.match(rf"\s+its arithmetic alone .*?{NUM} ms", line)
        if m:
            ours["scan_floor_ms"] = float(m[1])
        m = re.match(rf"conv1d\+silu .*?\s{NUM}\s+{NUM} GB/s", line)
        if m:
            ours["conv"] = float(m[2])
        m = re.match(rf"moe block T=8192 E=\d+ top\d+ per-expert\s+{NUM}\s+{NUM} TF/s", line)
        if m:
            ours["moe"] = float(m[2])
    return ours


def parse_peer(text):
    peer = {"sdpa": {}}
    for line in text.splitlines():
        m = re.match(rf"copy .*?\s{NUM}\s+{NUM} GB/s", line)
        if m:
            peer["copy"] = float(m[2])
        m = re.match(rf"sdpa causal T=(\d+)\s+\S+\s+{NUM}\s+{NUM} TF/s", line)
        if m:
            peer["sdpa"][int(m[1])] = float(m[3])
        m = re.match(rf"_grouped_mm moe .*?\s{NUM}\s+{NUM} TF/s", line)
        if m:
            peer["grouped_mm"] = float(m[2])
    return peer


def rows(ours, peer):
    """(what, ours, unit, reference, reference name, ratio, target or None)"""
    out = []
    for T, tf in sorted(ours["attn"].items()):
        if T in peer["sdpa"]:
            out.append((f"attention prefill T={T}", tf, "TF/s", peer["sdpa"][T], "SDPA", tf / peer["sdpa"][T],
                        0.85 if T >= 16384 else None))
    hbm = peer.get("copy")
    if hbm:
        for (ctx, nb), gbs in sorted(ours["decode"].items()):
            out.append((f"decode attention ctx={ctx} batch {nb}", gbs, "GB/s", hbm, "HBM copy", gbs / hbm, 0.80))
        for key, name in (("scan", "selective scan T=D=8192 N=16"), ("conv", "conv1d+SiLU T=D=8192")):
            if key in ours:
                out.append((name, ours[key], "GB/s", hbm, "HBM copy", ours[key] / hbm, 0.70))
        if "scan_floor_ms" in ours and "scan_ms" in ours:
            floor_gbs = ours["scan"] * ours["scan_ms"] / ours["scan_floor_ms"]
            out.append(("  scan's arithmetic alone (its floor)", floor_gbs, "GB/s", hbm, "HBM copy", floor_gbs / hbm, None))
    if "moe" in ours and "grouped_mm" in peer:
        out.append(("MoE block T=8192 E=16 top-2 (expert GEMMs)", ours["moe"], "TF/s", peer["grouped_mm"],
                    "torch._grouped_mm", ours["moe"] / peer["grouped_mm"], 0.85))
    return out


def run(cmd):
    print(f"$ {cmd}", file=sys.stderr)
    p = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
    if p.returncode:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"{cmd}: exit {p.returncode}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--bench", default=f"{root}/build/cli/longjam bench --device cuda --shape jamba-1.5-mini --op all")
    ap.add_argument("--torch", default=f"python3 {root}/bench/torch_ops.py")
    ap.add_argument("--ours", help="our saved `--op all` output instead of running --bench")
    ap.add_argument("--peer", help="saved bench/torch_ops.py output instead of running --torch")
    a = ap.parse_args()
    ours = parse_ours(open(a.ours).read() if a.ours else run(a.bench))
    peer = parse_peer(open(a.peer).read() if a.peer else run(a.torch))
    table = rows(ours, peer)
    if not table:
        raise SystemExit("no op figures found in the outputs")
    print(f"{'op':44s} {'ours':>14s}  {'reference':>14s} {'':18s} {'ratio':>6s}  target")
    met = total = 0
    for what, val, unit, ref, refname, ratio, target in table:
        verdict = ""
        if target is not None:
            total += 1
            ok = ratio >= target
            met += ok
            verdict = f">= {target:.0%}: {'met' if ok else 'NOT met'}"
        print(f"{what:44s} {val:9.1f} {unit:4s}  {ref:9.1f} {unit:4s} {refname:18s} {ratio:6.0%}  {verdict}")
    print(f"{met} of {total} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
