#!/usr/bin/env python3
"""Structure-aware fuzzing of tokenizer.json loading: mutates a file (wrong types, missing keys,
truncation) and runs `longjam tokenize` (ASan build) on it; any crash or sanitizer report is saved.
usage: tools/tok_json_fuzz.py TOKENIZER.json [SEED] [ITERATIONS]   (expects build-asan/cli/longjam)"""
import json, random, subprocess, sys, copy, os
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
base = json.load(open(sys.argv[1]))
LJ = "build-asan/cli/longjam"
def paths(o, p=()):
    yield p
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("vocab",) and len(v) > 50:
                for kk in rng.sample(list(v), 5): yield p + (k, kk)
                continue
            yield from paths(v, p + (k,))
    elif isinstance(o, list):
        idx = range(len(o)) if len(o) < 20 else rng.sample(range(len(o)), 5)
        for i in idx: yield from paths(o[i], p + (i,))
weird = [None, -1, 2**40, "", "x", [], {}, True, 1.5, "(", {"String": ""}, {"Regex": "("}, {"Regex": ""}, ["a"], ["a","b","c"], 10**6]
crashes = 0
allp = list(paths(base))
for it in range(int(sys.argv[3]) if len(sys.argv) > 3 else 150):
    j = copy.deepcopy(base)
    for _ in range(rng.randint(1, 3)):
        p = rng.choice(allp)
        if not p: continue
        o = j
        try:
            for k in p[:-1]: o = o[k]
            if rng.random() < 0.2 and isinstance(o, dict): del o[p[-1]]
            else: o[p[-1]] = rng.choice(weird)
        except Exception: pass
    s = json.dumps(j)
    if rng.random() < 0.1: s = s[:rng.randint(0, len(s))]
    open("/tmp/lj_jf_t.json", "w").write(s)
    r = subprocess.run([LJ, "tokenize", "--tokenizer", "/tmp/lj_jf_t.json"], input='{"text": "Hello world 123 <s> é"}\n{"text": ""}\n', capture_output=True, text=True, timeout=60)
    r2 = subprocess.run([LJ, "tokenize", "--decode", "--tokenizer", "/tmp/lj_jf_t.json"], input='{"ids": [0, 1, 2, 3, 100, 999999]}\n', capture_output=True, text=True, timeout=60)
    for rr in (r, r2):
        if rr.returncode not in (0, 1, 3) or "ERROR: AddressSanitizer" in rr.stderr or "runtime error" in rr.stderr:
            crashes += 1
            open(f"/tmp/lj_jf_crash{crashes}.json", "w").write(s)
            print("CRASH", rr.returncode, rr.stderr[-600:])
            break
print("crashes", crashes)
