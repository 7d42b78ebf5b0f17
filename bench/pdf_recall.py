#!/usr/bin/env python3
"""Word recall of `longjam extract` against `pdftotext` (poppler-utils) on real PDFs.

usage: bench/pdf_recall.py LONGJAM PDF... [--min 0.98] [--extract-args "--keep-furniture"]

Words: NFKC, lower-cased runs of letters/digits (Unicode \\w without '_'), compared as multisets:
recall = sum_w min(ours[w], ref[w]) / sum_w ref[w]. Exit 1 when any file is below --min.
pdftotext runs in its default (reading-order) mode, as `pdftotext -enc UTF-8 FILE -`.
Words lost to intended cleaning (running headers, page numbers, de-hyphenation) count as misses,
so the recall is a lower bound on what was really lost."""
import argparse, collections, re, subprocess, sys, unicodedata

WORD = re.compile(r"[^\W_]+", re.UNICODE)

def words(text):
    return collections.Counter(WORD.findall(unicodedata.normalize("NFKC", text).lower()))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("longjam")
    ap.add_argument("pdfs", nargs="+")
    ap.add_argument("--min", type=float, default=0.98)
    ap.add_argument("--extract-args", default="")
    ap.add_argument("--show-missing", type=int, default=0, help="print the N most-missed words")
    a = ap.parse_args()
    worst = 1.0
    tot_hit = tot_ref = 0
    print(f"{'file':<48} {'pdftotext words':>15} {'longjam words':>13} {'recall':>8}")
    for pdf in a.pdfs:
        ref = words(subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True, check=True).stdout.decode("utf-8", "replace"))
        r = subprocess.run([a.longjam, "extract", *a.extract_args.split(), pdf], capture_output=True)
        if r.returncode != 0:
            print(f"{pdf:<48} longjam failed: {r.stderr.decode().strip()}")
            worst = 0.0
            continue
        ours = words(r.stdout.decode("utf-8", "replace"))
        nref = sum(ref.values())
        hit = sum(min(c, ours[w]) for w, c in ref.items())
        rec = hit / nref if nref else 1.0
        worst = min(worst, rec)
        tot_hit += hit; tot_ref += nref
        print(f"{pdf:<48} {nref:>15} {sum(ours.values()):>13} {rec:>8.4f}")
        if a.show_missing:
            miss = collections.Counter({w: c - ours[w] for w, c in ref.items() if c > ours[w]})
            print("   most missed:", ", ".join(f"{w}x{c}" for w, c in miss.most_common(a.show_missing)))
    if tot_ref:
        print(f"{'ALL':<48} {tot_ref:>15} {'':>13} {tot_hit / tot_ref:>8.4f}")
    return 0 if worst >= a.min else 1

if __name__ == "__main__":
    sys.exit(main())
