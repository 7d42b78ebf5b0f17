"""Synthetic long-document tasks (RULER-style) over real Debian text, in Jamba-1.5's chat format.

A sample is one conversation turn, built in token space to an exact length:

    <|startoftext|>[<|bom|><|system|> <|eom|>]<|bom|><|user|> {document}\n\n{question}<|eom|><|bom|><|assistant|> {answer}<|eom|>

The empty system turn `<|bom|><|system|> <|eom|>` is what Jamba-1.5's own chat template renders when
no system message is given; half the samples carry it and half leave it out, so the model answers
either way. The question line is `{q}`, `Question: {q}` or `longjam qa`'s default
`Answer the question about the text above.\nQuestion: {q}`. Needles are whole paragraphs
("The special magic number for {key} is {value}.") placed between paragraphs of the haystack.
Weights: 1 on the answer tokens (and the closing <|eom|>), `lm_weight` on ordinary document tokens
(next-token prediction on real text), 0 on needles, prompt scaffolding and padding.
"""
import json
import random
import re
import zlib

import numpy as np

BOS, BOM, EOM, SYSTEM, USER, ASSISTANT = 1, 4, 5, 6, 7, 8

NEEDLE = "The special magic number for {key} is {value}."
Q_SINGLE = "What is the special magic number for {key}?"
Q_VALUES = "What are all the special magic numbers for {key}?"
Q_MULTI = "What are the special magic numbers for {k1} and {k2}?"
Q_TITLE = "What is the title of this document?"
# Text between the document's blank line and the question: none, "Question: ", and the default
# instruction of `longjam qa` (pipelines), so the model answers in each of these framings.
QPREFIXES = ["", "Question: ", "Answer the question about the text above.\nQuestion: "]


def held_out(source, every=20):
    """Documents kept out of training haystacks (evaluation, samples/qa): chosen by a hash of their
    source name, so the choice does not depend on how much text was extracted."""
    return zlib.crc32(source.encode()) % every == 0


class Corpus:
    """Debian text cut into paragraphs, each tokenized once (with its trailing blank line)."""

    def __init__(self, jsonl, tok, holdout_every=20):
        docs = [json.loads(l) for l in open(jsonl)]
        self.tok = tok
        paras, owner = [], []
        for i, d in enumerate(docs):
            for p in re.split(r"\n\s*\n", d["text"]):
                p = p.strip("\n")
                if p.strip():
                    paras.append(p + "\n\n")
                    owner.append(i)
        enc = tok.encode_batch(paras, add_special_tokens=False)
        self.paras = [np.asarray(e.ids, dtype=np.int32) for e in enc]
        self.text = paras
        self.owner = np.asarray(owner)
        self.docs = docs
        self.sep = np.asarray(tok.encode("\n\n", add_special_tokens=False).ids, dtype=np.int32)
        held = np.asarray([held_out(docs[i]["source"], holdout_every) for i in owner], dtype=bool)
        self.split = {"train": np.nonzero(~held)[0], "eval": np.nonzero(held)[0]}
        words = {}
        for d in docs[:400]:
            for w in re.findall(r"\b[a-z]{4,9}\b", d["text"]):
                words[w] = words.get(w, 0) + 1
        self.words = sorted(w for w, c in words.items() if c >= 3)
        self.titled = {s: [i for i in range(len(docs)) if held_out(docs[i]["source"], holdout_every) == (s == "eval")
                           and 4 <= len(docs[i]["title"]) <= 80] for s in ("train", "eval")}

    def haystack(self, rng, n, split):
        """Consecutive paragraphs (crossing documents) totalling exactly n tokens: list of arrays."""
        idx = self.split[split]
        j = int(idx[rng.randrange(len(idx))])
        out, have = [], 0
        sep = self.sep
        while have < n:
            p = self.paras[j % len(self.paras)]
            room = n - have
            if len(p) > room:   # cut the last paragraph short, still ending with a blank line
                p = np.concatenate([p[: room - len(sep)], sep]) if room > len(sep) else sep[:room]
            out.append(p)
            have += len(p)
            j += 1
        return out


def rand_key(rng, words):
    return f"{rng.choice(words)}-{rng.choice(words)}"


def rand_value(rng):
    return str(rng.randrange(1_000_000, 10_000_000))


class TaskGen:
    """Makes training/eval samples: ids [T] int32 and weights [T] float32 (weight on predicting ids[t+1])."""

    def __init__(self, corpus, lm_weight=0.1):
        self.c = corpus
        self.tok = corpus.tok
        self.lm_weight = lm_weight
        self._cache = {}

    def enc(self, s):
        e = self._cache.get(s)
        if e is None:
            e = np.asarray(self.tok.encode(s, add_special_tokens=False).ids, dtype=np.int32)
            if len(self._cache) < 4096:
                self._cache[s] = e
        return e

    def sample(self, rng, T, kind, split="train", system=None, qprefix=None):
        """kind: single | multikey | multivalue | multiquery | title. Returns (ids, weights, answer text)."""
        if system is None:
            system = rng.random() < 0.5
        if qprefix is None:
            qprefix = rng.choice(QPREFIXES)
        elif qprefix is True:
            qprefix = QPREFIXES[1]
        elif qprefix is False:
            qprefix = QPREFIXES[0]
        words = self.c.words
        title_doc = None
        if kind == "single":
            k, v = rand_key(rng, words), rand_value(rng)
            needles, q, ans = [(k, v)], Q_SINGLE.format(key=k), v
        elif kind == "multikey":
            n = rng.randint(2, 8)
            keys = list({rand_key(rng, words) for _ in range(n)})
            pairs = [(k, rand_value(rng)) for k in keys]
            k, v = rng.choice(pairs)
            needles, q, ans = pairs, Q_SINGLE.format(key=k), v
        elif kind == "multivalue":
            k = rand_key(rng, words)
            vals = [rand_value(rng) for _ in range(rng.randint(2, 4))]
            needles, q, ans = [(k, v) for v in vals], Q_VALUES.format(key=k), ", ".join(vals)
        elif kind == "multiquery":
            k1, k2 = rand_key(rng, words), rand_key(rng, words)
            pairs = [(k1, rand_value(rng)), (k2, rand_value(rng))]
            extra = [(rand_key(rng, words), rand_value(rng)) for _ in range(rng.randint(0, 3))]
            needles = pairs + extra
            rng.shuffle(needles)
            q, ans = Q_MULTI.format(k1=k1, k2=k2), f"{pairs[0][1]}, {pairs[1][1]}"  # question order
        elif kind == "title":
            pool = self.c.titled[split]
            title_doc = self.c.docs[pool[rng.randrange(len(pool))]]
            needles, q, ans = [], Q_TITLE, title_doc["title"]
        else:
            raise ValueError(kind)

        head = [BOS] + ([BOM, SYSTEM] + list(self.enc(" ")) + [EOM] if system else []) + [BOM, USER]
        qids = self.enc(qprefix + q)
        tail = [EOM, BOM, ASSISTANT]
        aids = self.enc(" " + ans)
        needle_ids = [self.enc(NEEDLE.format(key=k, value=v) + "\n\n") for k, v in needles]
        if title_doc is not None:
            first = self.enc(" " + title_doc["title"] + "\n\n")
        else:
            first = None
        fixed = len(head) + len(qids) + len(tail) + len(aids) + 1 + sum(map(len, needle_ids))
        fixed += len(first) if first is not None else 1   # 1: the "▁" after <|user|>
        n_hay = T - fixed
        if n_hay < 16:
            raise ValueError(f"T={T} too short for {kind}")
        if title_doc is not None:
            # the document's own text after its title line, then other paragraphs if it is short
            hay = self._doc_body(title_doc, n_hay, rng, split)
        else:
            hay = self.c.haystack(rng, n_hay, split)
            first = self.enc(" ")           # the space after <|user|> (the real tokenizer may merge it)
        # insert needles at random paragraph boundaries (depths)
        slots = sorted(rng.randint(0, len(hay)) for _ in needle_ids)
        pieces, w = [], []
        ni = 0
        for i in range(len(hay) + 1):
            while ni < len(needle_ids) and slots[ni] == i:
                pieces.append(needle_ids[ni])
                w.append(np.zeros(len(needle_ids[ni]), np.float32))
                ni += 1
            if i < len(hay):
                pieces.append(hay[i])
                w.append(np.full(len(hay[i]), self.lm_weight, np.float32))
        pieces.insert(0, first)
        w.insert(0, np.zeros(len(first), np.float32))
        ids = np.concatenate([np.asarray(head, np.int32)] + pieces +
                             [qids, np.asarray(tail, np.int32), aids, np.asarray([EOM], np.int32)])
        # weight[t] is the weight of predicting ids[t+1]
        wt = np.concatenate([np.zeros(len(head), np.float32)] + w +
                            [np.zeros(len(qids) + len(tail), np.float32)])
        wt[-1] = 1.0                                                  # predict first answer token
        wt = np.concatenate([wt, np.ones(len(aids), np.float32), np.zeros(1, np.float32)])
        assert len(ids) == T == len(wt), (len(ids), T, len(wt))
        return ids, wt, ans

    def _doc_body(self, doc, n, rng, split):
        body = doc["text"]
        nl = body.find("\n")
        body = body[nl + 1:].lstrip("\n") if nl >= 0 else ""
        parts = [self.enc(p.strip("\n") + "\n\n") for p in re.split(r"\n\s*\n", body[:n * 8]) if p.strip()]
        out, have = [], 0
        sep = self.c.sep
        for p in parts:
            if have >= n:
                break
            room = n - have
            if len(p) > room:
                p = np.concatenate([p[: room - len(sep)], sep]) if room > len(sep) else sep[:room]
            out.append(p)
            have += len(p)
        if have < n:
            out += self.c.haystack(rng, n - have, split)
        return out


def prompt_text(document, question, system=True, qprefix="Question: "):
    """The exact string the model was trained on, up to and including <|assistant|>."""
    sys_turn = "<|bom|><|system|> <|eom|>" if system else ""
    q = qprefix + question
    return f"<|startoftext|>{sys_turn}<|bom|><|user|> {document}\n\n{q}<|eom|><|bom|><|assistant|>"
