#!/usr/bin/env python3
"""Pages per second of `longjam extract` next to `pdftotext` on the same PDFs (whole processes,
output discarded, median of --runs runs after one warm-up, the two commands run in turn).

usage: bench/pdf_speed.py LONGJAM PDF... [--runs 5]"""
import argparse, re, statistics, subprocess, sys, time

def pages(pdf):
    out = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))

def run(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("longjam")
    ap.add_argument("pdfs", nargs="+")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    print(f"{'file':<44} {'pages':>5} {'longjam p/s':>11} {'pdftotext p/s':>13} {'ratio':>6}")
    tl = tp = 0.0
    np = 0
    for pdf in a.pdfs:
        n = pages(pdf)
        lj = [a.longjam, "extract", pdf]
        pt = ["pdftotext", "-enc", "UTF-8", pdf, "-"]
        run(lj); run(pt)
        ts_l, ts_p = [], []
        for _ in range(a.runs):
            ts_l.append(run(lj)); ts_p.append(run(pt))
        ml, mp = statistics.median(ts_l), statistics.median(ts_p)
        tl += ml; tp += mp; np += n
        print(f"{pdf[-44:]:<44} {n:>5} {n / ml:>11.1f} {n / mp:>13.1f} {mp / ml:>6.2f}")
    print(f"{'ALL':<44} {np:>5} {np / tl:>11.1f} {np / tp:>13.1f} {tp / tl:>6.2f}")

if __name__ == "__main__":
    sys.exit(main())
