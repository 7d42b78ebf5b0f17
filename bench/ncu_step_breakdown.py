#!/usr/bin/env python3
"""Per-kernel breakdown of one decode step (or one prefill) from an ncu CSV.

Usage: ncu_step_breakdown.py [--prefill] NCU.csv [TOP]

NCU.csv comes from
  ncu --clock-control none --cache-control none \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum --csv \
      ljc_bench ... --context 64 --chunk 64 --decode 6 --batch 1 > NCU.csv
The step is the kernels after the second-to-last argmax up to the last one (one decoded token).
Prints the kernel count, the summed duration and DRAM bytes, then the TOP (default 40) kernel
names (with grid) by total time: launches, total us, us per launch, achieved read GB/s.
--prefill: the kernels from the first embedding lookup up to the next one (the first decode step's)
instead; run the bench with --context N --chunk N --repeat 1 so that this is one whole prefill of N
tokens in one chunk.
Under ncu each kernel runs alone, so a tiny kernel's duration includes ~2-3 us of launch floor.
"""
import collections
import csv
import sys


def main():
    args = sys.argv[1:]
    prefill = "--prefill" in args
    args = [a for a in args if a != "--prefill"]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    top = int(args[1]) if len(args) > 1 else 40
    with open(args[0]) as f:
        lines = [l for l in f if l.startswith('"')]
    rows = list(csv.reader(lines))
    if not rows:
        print(f"{args[0]}: no CSV rows from ncu", file=sys.stderr)
        return 1
    hdr, rows = rows[0], rows[1:]
    ki, vi, mi, ii, gi = (hdr.index(k) for k in ("Kernel Name", "Metric Value", "Metric Name", "ID", "Grid Size"))
    ks = {}
    for x in rows:
        d = ks.setdefault(int(x[ii]), {"name": x[ki], "grid": x[gi]})
        d[x[mi]] = float(x[vi].replace(",", ""))
    ids = sorted(ks)
    am = [i for i in ids if "argmax" in ks[i]["name"]]
    if prefill:
        emb = [i for i in ids if "embedding" in ks[i]["name"]]
        if not emb:
            print("no embedding kernel: not a model run", file=sys.stderr)
            return 1
        end = emb[1] if len(emb) > 1 else ids[-1] + 1
        step = [i for i in ids if emb[0] <= i < end]
    elif len(am) < 2:
        print("fewer than two argmax kernels: not a decode run", file=sys.stderr)
        return 1
    else:
        step = [i for i in ids if am[-2] < i <= am[-1]]
    agg = collections.defaultdict(lambda: [0, 0.0, 0.0])
    tot = byt = 0.0
    for i in step:
        d = ks[i]
        t, b = d.get("gpu__time_duration.sum", 0.0), d.get("dram__bytes_read.sum", 0.0)
        tot += t
        byt += b
        a = agg[d["name"][:60] + " " + d["grid"]]
        a[0] += 1
        a[1] += t
        a[2] += b
    print(f"kernels {'in the prefill' if prefill else 'per step'} {len(step)}; sum {tot / 1e3:.1f} us; DRAM read {byt / 1e9:.3f} GB ({byt / tot:.0f} GB/s)")
    for n, (c, t, b) in sorted(agg.items(), key=lambda a: -a[1][1])[:top]:
        print(f"{c:4d} {t / 1e3:8.1f} us {t / c / 1e3:7.2f} {b / t:6.0f} GB/s  {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
