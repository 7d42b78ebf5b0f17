#!/usr/bin/env python3
"""Differential fuzzing of `longjam tokenize` against Hugging Face `tokenizers`.

Takes the small tokenizers under tests/tokenizer/, swaps in many normalizer / pre-tokenizer /
decoder / post-processor / added-token variants (by editing the JSON), and compares ids
(with and without special tokens) and decoded text on random texts.

usage: tools/tok_fuzz.py [--longjam build/cli/longjam] [--n 200] [--seed 1] [--only SUBSTR]
"""
import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T = os.path.join(ROOT, "tests", "tokenizer")

FRAGS = ["hello", "world", "The", " the", "license", "GNU", "  ", " ", "\n", "\t", "\r\n", "é", "e\u0301",
         "ﬁ", "①", "İ", "ΣΑΣ", "ß", "日本", "👨‍👩‍👧", "🇫🇷", "\u00a0", "\u3000", "123", "4", "0.5", ",", ".", "!?",
         "'s", "'LL", "_", "-", "##", "</w>", "▁", "▁▁", "<0x41>", "\x00", "\x7f", "\u200b", "a", "b", "ab",
         "software", "free", "²", "½", "٣", "Ⅻ", "ⓐ", "〇", "(c)", "http://x.org/a?b=c", "Привет", "مرحبا"]


def rand_text(rng, specials):
    parts = []
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        if r < 0.15 and specials:
            parts.append(rng.choice(specials))
        elif r < 0.2:
            parts.append(" " * rng.randint(1, 5))
        else:
            parts.append(rng.choice(FRAGS))
    return "".join(parts)


def variants():
    """(name, base tokenizer dir, function editing the JSON dict)"""
    V = []

    def bl(name, fn):
        V.append((name, "gpt2-bytelevel", fn))

    def sp(name, fn):
        V.append((name, "metaspace-bytes", fn))

    bl("bytelevel-prefix", lambda j: j.update(pre_tokenizer={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}))
    bl("bytelevel-noregex", lambda j: j.update(pre_tokenizer={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}))
    bl("bytelevel-nfkc-lower", lambda j: j.update(normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}))
    bl("bytelevel-strip", lambda j: j.update(normalizer={"type": "Strip", "strip_left": True, "strip_right": False}))
    bl("bytelevel-roberta", lambda j: j.update(post_processor={"type": "RobertaProcessing", "sep": ["<|endoftext|>", 0], "cls": ["<|pad|>", 1], "trim_offsets": True, "add_prefix_space": True}))
    bl("bytelevel-bert", lambda j: j.update(post_processor={"type": "BertProcessing", "sep": ["<|endoftext|>", 0], "cls": ["<|pad|>", 1]}))
    bl("empty-affixes", lambda j: j["model"].update(continuing_subword_prefix="", end_of_word_suffix=""))
    bl("bytelevel-ignore-merges", lambda j: j["model"].update(ignore_merges=True))
    bl("bytelevel-nodecoder", lambda j: j.update(decoder=None))
    bl("bytelevel-seqpost", lambda j: j.update(post_processor={"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
         "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]}}}]}))
    for beh in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
        for inv in [False, True]:
            for pat in [{"String": " "}, {"Regex": r"\s+"}, {"Regex": r"[a-z]"}, {"String": "ab"}]:
                def f(j, beh=beh, inv=inv, pat=pat):
                    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
                        {"type": "Split", "pattern": pat, "behavior": beh, "invert": inv},
                        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
                bl(f"split-{beh}-{inv}-{list(pat.values())[0]}", f)
    bl("whitespace", lambda j: j.update(pre_tokenizer={"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}))
    bl("wssplit-punct", lambda j: j.update(pre_tokenizer={"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Contiguous"}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}))
    bl("chardelim-digits", lambda j: j.update(pre_tokenizer={"type": "Sequence", "pretokenizers": [{"type": "CharDelimiterSplit", "delimiter": "e"}, {"type": "Digits", "individual_digits": False}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}))

    def added_flags(j, norm):
        for t in j["added_tokens"]:
            if t["content"] in ("<mask>", "[word]", "<sep>"):
                t["normalized"] = norm
        j["normalizer"] = {"type": "Lowercase"}
    bl("added-normalized", lambda j: added_flags(j, True))
    bl("added-raw-lower", lambda j: added_flags(j, False))

    sp("metaspace-first", lambda j: j.update(pre_tokenizer={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
                                                  decoder={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}))
    sp("metaspace-always-nosplit", lambda j: j.update(pre_tokenizer={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": False},
                                                           decoder={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": False}))
    sp("metaspace-never", lambda j: j.update(pre_tokenizer={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": True},
                                                  decoder={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": True}))
    sp("metaspace-legacy", lambda j: j.update(pre_tokenizer={"type": "Metaspace", "replacement": "▁", "add_prefix_space": True},
                                                   decoder={"type": "Metaspace", "replacement": "▁", "add_prefix_space": True}))
    sp("prepend-replace", lambda j: j.update(normalizer={"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}, pre_tokenizer=None))
    sp("prepend-metaspace-first", lambda j: j.update(normalizer={"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Prepend", "prepend": "▁"}]},
                                                          pre_tokenizer={"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}]}))
    sp("nfd-stripaccents", lambda j: j.update(normalizer={"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}, {"type": "Replace", "pattern": {"Regex": "[0-9]+"}, "content": "#"}]}, pre_tokenizer=None))
    sp("nofallback-unk", lambda j: (j["model"].update(byte_fallback=False, fuse_unk=False), j.update(pre_tokenizer=None)))
    sp("nofallback-fuse", lambda j: (j["model"].update(byte_fallback=False, fuse_unk=True), j.update(pre_tokenizer=None)))
    sp("ignore-merges", lambda j: (j["model"].update(ignore_merges=True), j.update(pre_tokenizer={"type": "WhitespaceSplit"})))
    sp("decoder-strip2", lambda j: j.update(decoder={"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 2, "stop": 1}]}))
    sp("decoder-bytelevel", lambda j: j.update(decoder={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}))

    def sp_added(j):
        j["added_tokens"].append({"id": len(j["model"]["vocab"]), "content": "mask", "single_word": True, "lstrip": True, "rstrip": True, "normalized": True, "special": False})
        j["added_tokens"].append({"id": len(j["model"]["vocab"]) + 1, "content": "<x>", "single_word": False, "lstrip": True, "rstrip": True, "normalized": False, "special": True})
        j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
        j["pre_tokenizer"] = None
    sp("added-strip-prepend", sp_added)
    return V


def run(args):
    rng = random.Random(args.seed)
    failures = 0
    for name, base, fn in variants():
        if args.only and args.only not in name:
            continue
        j = json.load(open(os.path.join(T, base, "tokenizer.json")))
        fn(j)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(j, f, ensure_ascii=False)
            path = f.name
        try:
            tok = Tokenizer.from_file(path)
        except Exception as e:
            print(f"{name}: HF refuses it ({e}); skipped")
            continue
        specials = [t["content"] for t in j["added_tokens"]]
        texts = [rand_text(rng, specials) for _ in range(args.n)]
        exp = []
        for t in texts:
            e = tok.encode(t).ids
            p = tok.encode(t, add_special_tokens=False).ids
            try:
                d = tok.decode(e, skip_special_tokens=True)
            except BaseException:
                d = None
            exp.append((e, p, d))
        inp = "".join(json.dumps({"text": t}) + "\n" for t in texts)
        o1 = subprocess.run([args.longjam, "tokenize", "--tokenizer", path], input=inp, capture_output=True, text=True)
        o2 = subprocess.run([args.longjam, "tokenize", "--tokenizer", path, "--no-special"], input=inp, capture_output=True, text=True)
        if o1.returncode not in (0,) or not o1.stdout:
            print(f"{name}: longjam failed: {o1.stderr.strip()[:300]}")
            failures += 1
            continue
        g1 = [json.loads(l) for l in o1.stdout.splitlines()]
        g2 = [json.loads(l) for l in o2.stdout.splitlines()]
        dec_in = "".join(json.dumps({"ids": e}) + "\n" for e, _, _ in exp)
        o3 = subprocess.run([args.longjam, "tokenize", "--tokenizer", path, "--decode"], input=dec_in, capture_output=True, text=True)
        g3 = [json.loads(l) for l in o3.stdout.splitlines()]
        bad = 0
        for t, (e, p, d), a, b, c in zip(texts, exp, g1, g2, g3):
            why = []
            if a.get("ids") != e:
                why.append(f"ids want {e} got {a}")
            if b.get("ids") != p:
                why.append(f"plain want {p} got {b}")
            if d is not None and c.get("text") != d:
                why.append(f"decoded want {d!r} got {c!r}")
            if why:
                bad += 1
                if bad <= 2:
                    print(f"{name}: text {t!r}:\n   " + "\n   ".join(why))
        print(f"{name}: {len(texts) - bad}/{len(texts)} ok")
        failures += bad
        os.unlink(path)
    return 1 if failures else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--longjam", default=os.path.join(ROOT, "build", "cli", "longjam"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only")
    sys.exit(run(ap.parse_args()))
