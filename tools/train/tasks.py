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

Two more families follow the exact prompts of longjam's own commands:
  - summary / combine: `longjam summarize`'s map prompt ("Summarize the following text.\n\n" +
    window) and reduce prompt ("Combine these partial summaries of one document into a single
    summary.\n\n" + parts). The target is extractive: the text's lead (its first sentences, up to
    about 40 tokens), which a small model can learn to copy and which reads as a summary.
  - ruler_*: `longjam eval ruler`'s NIAH template and answer prefix (eval/ruler.c, from RULER's
    constants.py): "One of the special magic numbers for {key} is: {value}." needles in a text,
    noise or needle haystack, keys "adjective-noun" from eval/ruler_words.c, values 7-digit numbers
    or UUIDs; the assistant turn starts with RULER's answer prefix and the model continues it.
"""
import json
import os
import random
import re
import uuid
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

# longjam summarize (cli/cmd_summarize.c, pipelines/summarize.c)
SUMMARIZE = "Summarize the following text."
COMBINE = "Combine these partial summaries of one document into a single summary."
# longjam eval ruler (eval/ruler.c: NIAH_T, NIAH_P, the needle sentence, NOISE)
RULER_T = ("Some special magic {tv} are hidden within the following text. Make sure to memorize it. "
           "I will quiz you about the {tv} afterwards.\n{context}\nWhat are all the special magic "
           "{tv} for {query} mentioned in the provided text?")
RULER_P = " The special magic {tv} for {query} mentioned in the provided text are"
RULER_NEEDLE = "One of the special magic {tv} for {key} is: {value}."
RULER_NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."


def ruler_singular(text):
    """RULER's rewrite of its template when one value is asked for (eval/ruler.c build_niah)."""
    for a, b in (("Some", "A"), ("are all", "is"), ("are", "is"), ("answers", "answer")):
        text = text.replace(a, b)
    return text


def ruler_words():
    """eval/ruler_words.c's adjectives and nouns (the eval's key vocabulary)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for p in (os.path.join(here, "ruler_words.c"), os.path.join(here, "..", "..", "eval", "ruler_words.c")):
        if os.path.exists(p):
            src = open(p).read()
            lists = re.findall(r"\[\]\s*=\s*\{(.*?)\};", src, re.S)
            return [re.findall(r'"([^"]+)"', l) for l in lists[:2]]
    raise FileNotFoundError("ruler_words.c (eval/ruler_words.c) not found next to tasks.py or in the repository")


def lead(text, max_words=36):
    """The first sentences of a text, whitespace collapsed: at least one sentence, more while the
    total stays under max_words words, cut at max_words words when the first one is longer."""
    flat = " ".join(text.split())
    sents = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", flat)
    out = []
    for snt in sents:
        if out and len(" ".join(out + [snt]).split()) > max_words:
            break
        out.append(snt)
        if len(" ".join(out).split()) >= max_words // 2:
            break
    words = " ".join(out).split()
    return " ".join(words[:max_words])


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
        """kind: single | multikey | multivalue | multiquery | title | summary | combine | ruler_single |
        ruler_multikey | ruler_needles | ruler_multivalue | ruler_multiquery.
        Returns (ids, weights, answer text)."""
        if system is None:
            system = rng.random() < 0.5
        if kind in ("summary", "combine"):
            return self._summary(rng, T, kind, split, system)
        if kind.startswith("ruler_"):
            return self._ruler(rng, T, kind, split, system)
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


    # ---- longjam summarize and longjam eval ruler prompts ----------------------------------------

    def _assemble(self, T, system, parts, prefix_ids, answer):
        """head, then parts (list of (ids, weight) in the user turn), <|eom|><|bom|><|assistant|>,
        prefix_ids (weight 0), the answer (weight 1) and <|eom|>; checks the length is exactly T."""
        head = [BOS] + ([BOM, SYSTEM] + list(self.enc(" ")) + [EOM] if system else []) + [BOM, USER]
        aids = self.enc(" " + answer)
        ids = [np.asarray(head, np.int32)] + [p for p, _ in parts] + \
              [np.asarray([EOM, BOM, ASSISTANT], np.int32), prefix_ids, aids, np.asarray([EOM], np.int32)]
        w = [np.zeros(len(head), np.float32)] + [np.full(len(p), wt, np.float32) for p, wt in parts] + \
            [np.zeros(3 + len(prefix_ids), np.float32)]
        wt = np.concatenate(w)
        wt[-1] = 1.0                                    # predict the first answer token
        wt = np.concatenate([wt, np.ones(len(aids), np.float32), np.zeros(1, np.float32)])
        ids = np.concatenate(ids)
        assert len(ids) == T == len(wt), (len(ids), T, len(wt))
        return ids, wt, answer

    def _fixed(self, system, prefix_ids, answer):
        return 1 + (3 + len(self.enc(" ")) if system else 0) + 2 + 3 + len(prefix_ids) + len(self.enc(" " + answer)) + 1

    def _text_tokens(self, rng, n, split, doc=None):
        """Exactly n tokens of real text: a document from its first line (doc), or consecutive
        paragraphs from a random place. Returns (list of token arrays, the text's start as a string)."""
        if doc is not None:
            body = doc["text"]
            parts, have, text = [], 0, []
            for p in re.split(r"\n\s*\n", body[: n * 8]):
                if not p.strip() or have >= n:
                    continue
                e = self.enc(p.strip("\n") + "\n\n")
                room = n - have
                if len(e) > room:
                    e = np.concatenate([e[: room - len(self.c.sep)], self.c.sep]) if room > len(self.c.sep) else self.c.sep[:room]
                parts.append(e)
                text.append(p)
                have += len(e)
            if have < n:
                parts += self.c.haystack(rng, n - have, split)
            return parts, "\n\n".join(text)
        hay = self.c.haystack(rng, n, split)
        return hay, self.tok.decode(np.concatenate(hay[:4]).tolist())

    def _summary(self, rng, T, kind, split, system):
        if kind == "summary":
            pre = self.enc(" " + SUMMARIZE + "\n\n")
            if rng.random() < 0.7:   # a document from its start (title line first)
                pool = self.c.titled[split]
                doc = self.c.docs[pool[rng.randrange(len(pool))]]
            else:                    # a window from the middle of the text
                doc = None
            # the lead is taken from the text itself, so build the text first with a guessed budget
            guess_ans = 128
            n = T - self._fixed(system, np.zeros(0), "x" * 0) - len(pre) - guess_ans
            if n < 32:
                raise ValueError(f"T={T} too short for {kind}")
            parts, start = self._text_tokens(rng, n, split, doc)
            ans = lead(start)
            if not ans:
                raise ValueError("empty lead")
            slack = T - (self._fixed(system, np.zeros(0), ans) + len(pre) + n)
            if slack < 0:
                raise ValueError("lead too long")
            if slack:   # top the text up to exactly T with more paragraphs after it
                parts += self.c.haystack(rng, slack, split)
            return self._assemble(T, system, [(pre, 0.0)] + [(p, self.lm_weight) for p in parts],
                                  np.zeros(0, np.int32), ans)
        # combine: partial summaries (leads of consecutive texts) separated by a blank line; the
        # answer is the first (extractive: the document's opening)
        pre = self.enc(" " + COMBINE + "\n\n")
        leads = []
        while len(leads) < 6:
            hay, start = self._text_tokens(rng, 64, split)
            l = lead(start, 30)
            if l:
                leads.append(l)
        ans = leads[0]
        n = T - self._fixed(system, np.zeros(0), ans) - len(pre)
        if n < 16:
            raise ValueError(f"T={T} too short for {kind}")
        parts, have = [], 0
        for i, l in enumerate(leads):
            e = self.enc(l + ("\n\n" if i + 1 < len(leads) else ""))
            if have + len(e) > n:
                break
            parts.append(e)
            have += len(e)
        if have < n:   # pad with the separator-free tail of real text (another part, cut)
            parts += [np.concatenate(self.c.haystack(rng, n - have, split))]
        return self._assemble(T, system, [(pre, 0.0)] + [(p, 0.0) for p in parts], np.zeros(0, np.int32), ans)

    def _ruler_key(self, rng, typ):
        if typ == "uuids":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if typ == "numbers":
            return str(rng.randrange(1_000_000, 10_000_000))
        if not hasattr(self, "_rw"):
            self._rw = ruler_words()
        return f"{rng.choice(self._rw[0])}-{rng.choice(self._rw[1])}"

    def _ruler(self, rng, T, kind, split, system):
        tv = "numbers" if rng.random() < 0.75 else "uuids"
        typ_k = "uuids" if (kind == "ruler_needles" and rng.random() < 0.3) else "words"
        nk = {"ruler_single": 1, "ruler_multikey": rng.randint(2, 4), "ruler_needles": 1,
              "ruler_multivalue": 1, "ruler_multiquery": rng.randint(2, 4)}[kind]
        nv = rng.randint(2, 4) if kind == "ruler_multivalue" else 1
        nq = nk if kind == "ruler_multiquery" else 1
        keys = [self._ruler_key(rng, typ_k) for _ in range(nk)]
        vals = [[self._ruler_key(rng, tv) for _ in range(nv)] for _ in range(nk)]
        needles = [RULER_NEEDLE.format(tv=tv, key=k, value=v) for k, vs in zip(keys, vals) for v in vs]
        rng.shuffle(needles)
        asked = list(range(nq)) if nq > 1 else [0]
        if nq == 1 and nk > 1:
            asked = [rng.randrange(nk)]
        qk = [keys[i] for i in asked]
        query = qk[0] if len(qk) == 1 else ", ".join(qk[:-1]) + ", and " + qk[-1]
        answers = [v for i in asked for v in vals[i]]
        tmpl, pref = RULER_T, RULER_P
        tv_word = tv
        if len(answers) == 1:
            tmpl, pref = ruler_singular(tmpl), ruler_singular(pref)
            tv_word = tv[:-1]
        before, after = tmpl.split("{context}")
        pre = self.enc(" " + before.format(tv=tv_word))
        q = self.enc("\n" + after.format(tv=tv_word, query=query))
        prefix = self.enc(pref.format(tv=tv_word, query=query))
        ans = ", ".join(answers) + "."
        needle_ids = [self.enc(nd + "\n") for nd in needles]
        n = T - self._fixed(system, prefix, ans) - len(pre) - len(q) - sum(map(len, needle_ids))
        if n < 16:
            raise ValueError(f"T={T} too short for {kind}")
        style = "needle" if kind == "ruler_needles" else rng.choice(["text", "text", "noise"])
        if style == "text":
            hay = self.c.haystack(rng, n, split)
        else:
            unit = (lambda: self.enc(RULER_NOISE + "\n")) if style == "noise" else \
                (lambda: self.enc(RULER_NEEDLE.format(tv=tv, key=self._ruler_key(rng, typ_k),
                                                      value=self._ruler_key(rng, tv)) + "\n"))
            hay, have = [], 0
            while have < n:
                e = unit()[: n - have]
                hay.append(e)
                have += len(e)
        slots = sorted(rng.randint(0, len(hay)) for _ in needle_ids)
        parts, ni = [(pre, 0.0)], 0
        for i in range(len(hay) + 1):
            while ni < len(needle_ids) and slots[ni] == i:
                parts.append((needle_ids[ni], 0.0))
                ni += 1
            if i < len(hay):
                parts.append((hay[i], self.lm_weight if style == "text" else 0.0))
        parts.append((q, 0.0))
        return self._assemble(T, system, parts, prefix, ans)


def prompt_text(document, question, system=True, qprefix="Question: "):
    """The exact string the model was trained on, up to and including <|assistant|>."""
    sys_turn = "<|bom|><|system|> <|eom|>" if system else ""
    q = qprefix + question
    return f"<|startoftext|>{sys_turn}<|bom|><|user|> {document}\n\n{q}<|eom|><|bom|><|assistant|>"
