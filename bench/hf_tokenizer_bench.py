#!/usr/bin/env python3
"""Times Hugging Face `tokenizers` against `longjam bench tokenizer` on the same text.

  bench/hf_tokenizer_bench.py --tokenizer FILE [--text FILE] [--longjam PATH] [--threads 2] [--runs 3]

Without --text, a 10 MB English text is built from Debian's docs (/usr/share/common-licenses and
/usr/share/doc/**/*.gz, decompressed) into build/bench-10mb.txt (git-ignored).

The workload: the whole file as ONE text, encoded with add_special_tokens=True.
  HF single     : Tokenizer.encode(text)                (one thread; RAYON_NUM_THREADS=1)
  HF batched    : Tokenizer.encode_batch(lines)         (rayon over all cores; a different workload:
                                                          each line is its own input)
  longjam 1 / N : longjam bench tokenizer --threads 1 / N  (tok_encode_parallel: same ids as 1 thread)
It checks that longjam's ids equal HF's (their count and a hash) and prints MB/s and the ratios.
"""
import argparse
import glob
import gzip
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_text(path, size=10 << 20):
    parts, total = [], 0
    files = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/share/doc/**/*.gz", recursive=True))
    for p in files:
        try:
            data = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
        except (OSError, EOFError):
            continue
        text = data.decode("utf-8", errors="replace")
        parts.append(text)
        total += len(text.encode("utf-8"))
        if total >= size:
            break
    text = "".join(parts).encode("utf-8")[:size].decode("utf-8", errors="ignore")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def best_of(fn, runs):
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        r = fn()
        dt = time.perf_counter() - t0
        best = dt if best is None or dt < best else best
    return best, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--text")
    ap.add_argument("--longjam", default=os.path.join(ROOT, "build", "cli", "longjam"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    text_path = a.text or os.path.join(ROOT, "build", "bench-10mb.txt")
    if not os.path.exists(text_path):
        make_text(text_path)
    text = open(text_path, encoding="utf-8", newline="").read()
    mb = len(text.encode("utf-8")) / 1e6

    # HF single-threaded (the tokenizer runs in this process; RAYON_NUM_THREADS set before import)
    code = ("import os,sys,time,json,hashlib\n"
            "from tokenizers import Tokenizer\n"
            "t=Tokenizer.from_file(sys.argv[1]); text=open(sys.argv[2],encoding='utf-8',newline='').read()\n"
            "best=None\n"
            "for _ in range(int(sys.argv[3])):\n"
            "    t0=time.perf_counter(); e=t.encode(text); dt=time.perf_counter()-t0\n"
            "    best=dt if best is None or dt<best else best\n"
            "ids=e.ids; h=0\n"
            "for i in ids: h=(h*1000003+i+1)&0xFFFFFFFFFFFFFFFF\n"
            "h='%016x'%h\n"
            "print(json.dumps({'s':best,'n':len(ids),'h':h}))\n")
    env = dict(os.environ, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    out = subprocess.run([sys.executable, "-c", code, a.tokenizer, text_path, str(a.runs)], env=env,
                         capture_output=True, text=True, check=True).stdout
    import json
    hf = json.loads(out.strip().splitlines()[-1])

    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(a.tokenizer)
    lines = text.splitlines(keepends=True)
    hb, enc = best_of(lambda: tok.encode_batch(lines), a.runs)
    hb_tokens = sum(len(e.ids) for e in enc)

    def longjam(threads):
        r = subprocess.run([a.longjam, "bench", "tokenizer", "--tokenizer", a.tokenizer, "--text", text_path,
                            "--threads", str(threads), "--runs", str(a.runs), "--hash"],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"longjam failed: {r.stderr}")
        m = dict(re.findall(r"(\w+)=(\S+)", r.stdout))
        return float(m["seconds"]), int(m["tokens"]), m["hash"]

    l1, n1, h1 = longjam(1)
    lN, nN, hN = longjam(a.threads)
    print(f"text: {text_path} ({mb:.2f} MB), tokenizer: {a.tokenizer}")
    print(f"HF tokenizers single-threaded encode(text): {hf['s']:.3f} s  {mb / hf['s']:.2f} MB/s  {hf['n'] / hf['s'] / 1e6:.2f} Mtok/s  ({hf['n']} tokens)")
    print(f"HF tokenizers encode_batch(lines), {os.cpu_count()} cores: {hb:.3f} s  {mb / hb:.2f} MB/s  ({hb_tokens} tokens; per-line inputs)")
    print(f"longjam 1 thread : {l1:.3f} s  {mb / l1:.2f} MB/s  {n1 / l1 / 1e6:.2f} Mtok/s  ({n1} tokens)")
    print(f"longjam {a.threads} threads: {lN:.3f} s  {mb / lN:.2f} MB/s  {nN / lN / 1e6:.2f} Mtok/s  ({nN} tokens)")
    same = hf["n"] == n1 == nN and hf["h"] == h1 == hN
    print(f"ids identical to HF: {'yes' if same else 'NO'} (hash {hf['h']} / {h1} / {hN})")
    print(f"ratio longjam 1 thread  / HF single: {hf['s'] / l1:.2f}x faster")
    print(f"ratio longjam {a.threads} threads / HF single: {hf['s'] / lN:.2f}x faster")
    print(f"ratio longjam {a.threads} threads / HF batched: {hb / lN:.2f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
