#!/usr/bin/env python3
"""Makes tests/eval/metric_cases.jsonl: (prediction, reference) pairs with the scores the official
Python implementations give, for the C metrics in eval/metrics.c to match.

References (pip install rouge rouge-score fuzzywuzzy python-Levenshtein):
  squad_em, squad_f1     the SQuAD v1.1 evaluate script's functions (same as LongBench's
                         normalize_answer / qa_f1_score), written out below as published
  longbench_rouge        LongBench metrics.rouge_score: rouge.Rouge().get_scores([p],[r],avg=True)
                         ["rouge-l"]["f"], 0.0 when it raises; called from a scorer() frame as
                         LongBench's eval.py does (the recursion limit matters for long sentences)
  rouge1/rouge2/rougeL   rouge_score.rouge_scorer.RougeScorer([t], use_stemmer=False).score(ref, pred)
  rouge*_stem            the same with use_stemmer=True (NLTK PorterStemmer, NLTK_EXTENSIONS mode)
  porter                 nltk.stem.porter.PorterStemmer().stem(word) (pred = word, ref = stem)
  string_match_all/part  RULER scripts/eval/synthetic/constants.py, for one sample (fraction)
  fuzz_ratio, code_sim   fuzzywuzzy.fuzz.ratio (python-Levenshtein backend), LongBench code_sim_score
  classification, retrieval, retrieval_zh, count   LongBench metrics.py

Usage: python3 tools/make_eval_metric_cases.py [--seed S] [--n N] \
           [--score-cases tests/eval/score_preds.jsonl tests/eval/score_expected.json] > tests/eval/metric_cases.jsonl
"""
import argparse
import json
import random
import re
import string
import sys
from collections import Counter

from fuzzywuzzy import fuzz
from rouge import Rouge
from nltk.stem.porter import PorterStemmer
from rouge_score import rouge_scorer

HAYSTACK = __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "samples", "haystack", "licenses.txt")


# ---- SQuAD v1.1 evaluate script (functions as published) ----
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()
    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


# ---- LongBench metrics.py (as published) ----
def rouge_score(prediction, ground_truth, **kwargs):
    rouge = Rouge()
    try:
        scores = rouge.get_scores([prediction], [ground_truth], avg=True)
    except:  # noqa: E722 (LongBench catches everything, RecursionError included)
        return 0.0
    return scores["rouge-l"]["f"]


def code_sim_score(prediction, ground_truth, **kwargs):
    all_lines = prediction.lstrip('\n').split('\n')
    prediction = ""
    for line in all_lines:
        if ('`' not in line) and ('#' not in line) and ('//' not in line):
            prediction = line
            break
    return (fuzz.ratio(prediction, ground_truth) / 100)


def classification_score(prediction, ground_truth, **kwargs):
    em_match_list = []
    all_classes = kwargs["all_classes"]
    for class_name in all_classes:
        if class_name in prediction:
            em_match_list.append(class_name)
    for match_term in em_match_list:
        if match_term in ground_truth and match_term != ground_truth:
            em_match_list.remove(match_term)
    if ground_truth in em_match_list:
        score = (1.0 / len(em_match_list))
    else:
        score = 0.0
    return score


def count_score(prediction, ground_truth, **kwargs):
    numbers = re.findall(r"\d+", prediction)
    right_num = 0
    for number in numbers:
        if str(number) == str(ground_truth):
            right_num += 1
    final_score = 0.0 if len(numbers) == 0 else right_num / len(numbers)
    return float(final_score)


def retrieval_score(prediction, ground_truth, pattern=r"Paragraph (\d+)", **kwargs):
    matches = re.findall(pattern, ground_truth)
    ground_truth_id = matches[0]
    numbers = re.findall(r"\d+", prediction)
    right_num = 0
    for number in numbers:
        if str(number) == str(ground_truth_id):
            right_num += 1
    final_score = 0.0 if len(numbers) == 0 else right_num / len(numbers)
    return float(final_score)


def scorer(metric, prediction, ground_truth):
    # one frame like LongBench eval.py's scorer(), so that recursion depth matches
    return metric(prediction, ground_truth)


# ---- RULER scripts/eval/synthetic/constants.py, one sample ----
def string_match_part(pred, ref):
    return max([1.0 if r.lower() in pred.lower() else 0.0 for r in ref])


def string_match_all(pred, ref):
    return sum([1.0 if r.lower() in pred.lower() else 0.0 for r in ref]) / len(ref)


# ---- text generators ----
WORDS = ("the a an The A AN tHe cat dog Cat DOG bank river money paris Paris london 1990 42 3.14 "
         "don't it's U.S.A. e-mail state-of-the-art anthem then another apple_pie _the the_ "
         "café CAFÉ naïve Straße STRASSE İstanbul ıi ΟΔΟΣ ΣΟΦΙΑ Σ σ ς ΑΣ. Ωmega "
         "北京 東京 中文 答案 段落3 ١٢٣ ٣ ½ ² Ⅻ 🙂 ✓ — – … « » “quoted” ‘single’ "
         "K Kelvin Å é e\u0301 x\u00a0y zero\u200bwidth tab\tsep new\nline").split(" ")
PUNCT = list(".,;:!?()[]{}\"'`-_/\\@#$%^&*+=<>|~") + ["...", " . ", ".", "\u3002", "\uff0c"]
SEPS = [" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u3000", ", ", ". ", "; ", " - "]


def rand_text(rng, lo=0, hi=25):
    k = rng.randint(lo, hi)
    out = []
    for _ in range(k):
        r = rng.random()
        if r < 0.75:
            out.append(rng.choice(WORDS))
        elif r < 0.9:
            out.append(rng.choice(PUNCT))
        else:
            out.append(rng.choice(WORDS) + rng.choice(PUNCT))
        out.append(rng.choice(SEPS))
    s = "".join(out)
    if rng.random() < 0.2:
        s = s.strip()
    return s


def perturb(rng, s):
    toks = s.split(" ")
    ops = rng.randint(0, 4)
    for _ in range(ops):
        r = rng.random()
        if r < 0.3 and toks:
            del toks[rng.randrange(len(toks))]
        elif r < 0.6:
            toks.insert(rng.randint(0, len(toks)), rng.choice(WORDS))
        elif r < 0.8 and toks:
            i = rng.randrange(len(toks))
            toks[i] = toks[i].upper() if rng.random() < 0.5 else toks[i].lower()
        else:
            toks.append(rng.choice(PUNCT))
    return " ".join(toks)


SPECIAL = ["", " ", ".", "...", " . . ", "\n", "a", "the", "The", "an apple", "a an the",
           "Σ", "ΑΣ", "ΑΣ.", "İ", "K", "x", "x.", ".x", "word word word word", "Paragraph 7"]


def pair(rng):
    r = rng.random()
    if r < 0.08:
        return rng.choice(SPECIAL), rng.choice(SPECIAL + [rand_text(rng)])
    if r < 0.14:
        return rand_text(rng), rng.choice(SPECIAL)
    p = rand_text(rng)
    if r < 0.6:
        return p, perturb(rng, p)
    return p, rand_text(rng)


def long_sentence(rng, k, vocab=40):
    return " ".join("w%d" % rng.randrange(vocab) for _ in range(k))


ROUGE_PAIRS = []


def emit(metric, **kw):
    sys.stdout.write(json.dumps(dict(metric=metric, **kw), ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--n", type=int, default=300, help="pairs per metric family")
    ap.add_argument("--score-cases", nargs=2, metavar=("PRED_JSONL", "EXPECTED_JSON"),
                    help="also write `longjam eval score` cases and LongBench/RULER's aggregate results")
    a = ap.parse_args()
    if a.score_cases:
        make_score_cases(a.seed, *a.score_cases)
    rng = random.Random(a.seed)


    # SQuAD EM / F1
    for _ in range(a.n):
        p, g = pair(rng)
        emit("squad_f1", pred=p, ref=g, score=float(f1_score(p, g)))
        emit("squad_em", pred=p, ref=g, score=float(exact_match_score(p, g)))

    # rouge package (LongBench) and Google rouge-score on the same pairs
    scorers = {t: rouge_scorer.RougeScorer([t], use_stemmer=False) for t in ("rouge1", "rouge2", "rougeL")}
    scorers.update({t + "_stem": rouge_scorer.RougeScorer([t], use_stemmer=True) for t in ("rouge1", "rouge2", "rougeL")})
    pairs = [pair(rng) for _ in range(a.n)]
    long_pairs = []
    # long sentences around Python's recursion limit, with and without sentence breaks
    for k in (985, 989, 990, 991, 992, 1000):
        s = long_sentence(rng, k, vocab=1) if rng.random() < 0.5 else " ".join("u%d" % i for i in range(k))
        long_pairs.append((s, s))
    for k in (400, 600, 1200):
        long_pairs.append((long_sentence(rng, k), long_sentence(rng, k // 2)))
        long_pairs.append((long_sentence(rng, k // 3) + ". " + long_sentence(rng, k), long_sentence(rng, k)))
    ROUGE_PAIRS.extend(pairs + long_pairs)
    def emit_google(p, g):
        # one line per pair: {type: [precision, recall, fmeasure]} for every scorer
        res = {}
        for t, sc in scorers.items():
            s = sc.score(g, p)[t.replace("_stem", "")]
            res[t] = [s.precision, s.recall, s.fmeasure]
        emit("rouge_google", pred=p, ref=g, scores=res)

    for p, g in pairs:
        emit_google(p, g)

    # NLTK Porter stemmer (rouge-score's use_stemmer=True): words of the licence haystack and
    # suffixed variants, and stemmed ROUGE on sentences made of them
    stemmer = PorterStemmer()
    base = sorted(set(re.findall(r"[a-z0-9]+", open(HAYSTACK).read().lower())))
    suffixes = ["", "s", "es", "ies", "ed", "ied", "ing", "ly", "ness", "ful", "fully", "ational", "ization",
                "alli", "bli", "logi", "ement", "ence", "ance", "ism", "ous", "ive", "ize", "iciti", "able",
                "ll", "eed", "y", "yy", "ying"]
    words = set(base[::3]) | {"sky", "skies", "dying", "lying", "tying", "news", "innings", "outings", "cannings",
                         "howe", "proceed", "exceed", "succeed", "agreed", "feed", "bled", "hopping", "filing",
                         "sized", "happy", "yyyy", "syzygy", "ay", "by", "yet", "toy", "boyish", "playing"}
    for w in base[::40]:
        for suf in suffixes:
            words.add(w + suf)
    for w in sorted(words):
        emit("porter", pred=w, ref=stemmer.stem(w), score=1.0)
    stem_words = sorted(words)
    for _ in range(a.n):
        p = " ".join(rng.choice(stem_words) for _ in range(rng.randint(0, 20)))
        g = perturb(rng, p) if rng.random() < 0.6 else " ".join(rng.choice(stem_words) for _ in range(rng.randint(0, 20)))
        emit_google(p, g)

    # RULER
    for _ in range(a.n):
        p = rand_text(rng, 0, 30)
        toks = [t for t in re.split(r"\s+", p) if t] or ["x"]
        refs = []
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            if r < 0.5:
                t = rng.choice(toks)
                refs.append(t.upper() if rng.random() < 0.3 else t)
            elif r < 0.7:
                refs.append(str(rng.randint(1000000, 9999999)))
            else:
                refs.append(rng.choice(WORDS))
        if rng.random() < 0.3:
            p = p + " " + " ".join(refs[: rng.randint(0, len(refs))])
        emit("string_match_all", pred=p, refs=refs, score=string_match_all(p, refs))
        emit("string_match_part", pred=p, refs=refs, score=string_match_part(p, refs))

    # fuzzywuzzy ratio / code_sim
    code = ["x = foo(bar)", "return self.value", "for i in range(10):", "  if (a && b) {", "}",
            "printf(\"%d\\n\", n);", "# comment", "// comment", "```python", "int main() {",
            "self.assertEqual(a, b)", "naïve = 'café'", "λ x: x", "", "    ", "a" * 50]
    for _ in range(a.n):
        r = rng.random()
        if r < 0.5:
            s1 = rng.choice(code)
            s2 = perturb(rng, s1) if rng.random() < 0.7 else rng.choice(code)
        else:
            s1, s2 = pair(rng)
        emit("fuzz_ratio", pred=s1, ref=s2, score=float(fuzz.ratio(s1, s2)))
        lines = [rng.choice(code) for _ in range(rng.randint(0, 4))]
        pred = rng.choice(["", "\n", "\n\n"]) + "\n".join(lines)
        emit("code_sim", pred=pred, ref=s2, score=float(code_sim_score(pred, s2)))

    # classification (trec-like classes, substrings of one another)
    classes_pool = ["Location", "City", "Country", "Description", "Definition", "Manner", "Number",
                    "Date", "Count", "Individual", "Human being", "Human", "Animal", "Food",
                    "Other location", "Other number", "Other entity", "Entity", "Abbreviation",
                    "Expression abbreviated", "Cit", "Num"]
    for _ in range(a.n):
        classes = rng.sample(classes_pool, rng.randint(2, len(classes_pool)))
        if rng.random() < 0.1:
            classes.append(rng.choice(classes))   # duplicates exercise list.remove()
        ref = rng.choice(classes)
        pred = " ".join(rng.choice(classes + WORDS[:20]) for _ in range(rng.randint(0, 4)))
        emit("classification", pred=pred, ref=ref, classes=classes,
             score=float(classification_score(pred, ref, all_classes=classes)))

    # retrieval / count
    for _ in range(a.n):
        gid = str(rng.randint(0, 40))
        ref = "Paragraph " + gid
        nums = [str(rng.randint(0, 40)) if rng.random() < 0.7 else gid for _ in range(rng.randint(0, 4))]
        pred = rng.choice(["Paragraph ", "The answer is Paragraph ", "", "段落"]) + ", ".join(nums)
        if rng.random() < 0.1:
            pred += " ١٢ 7"
        emit("retrieval", pred=pred, ref=ref, score=retrieval_score(pred, ref))
        emit("retrieval_zh", pred=pred, ref="段落" + gid, score=retrieval_score(pred, "段落" + gid, r'段落(\d+)'))
        emit("count", pred=pred, ref=gid, score=count_score(pred, gid))


# ---- `longjam eval score` cases: prediction files in LongBench / RULER format, with the per-dataset
# results LongBench's eval.py scorer() and RULER's evaluate (string_match_all/part) give. ----
def make_score_cases(seed, path_jsonl, path_expected):
    rng = random.Random(seed)
    dataset2metric = {
        "hotpotqa": lambda p, g, **k: f1_score(p, g), "triviaqa": lambda p, g, **k: f1_score(p, g),
        "gov_report": rouge_score, "samsum": rouge_score, "trec": classification_score,
        "passage_retrieval_en": retrieval_score, "passage_count": count_score, "lcc": code_sim_score,
    }
    lines, expected = [], {}
    for ds, metric in dataset2metric.items():
        preds, answers, classes = [], [], ["Location", "City", "Number", "Date", "Human", "Individual"]
        for _ in range(12):
            if ds == "trec":
                ans = [rng.choice(classes)]
                pred = rng.choice(["", "\n"]) + " ".join(rng.choice(classes) for _ in range(rng.randint(0, 2))) + rng.choice(["", "\nLocation"])
            elif ds in ("passage_retrieval_en",):
                ans = ["Paragraph %d" % rng.randint(1, 30)]
                pred = "Paragraph %d" % rng.randint(1, 30) if rng.random() < 0.5 else ans[0]
            elif ds == "passage_count":
                ans = [str(rng.randint(1, 20))]
                pred = rng.choice([ans[0], str(rng.randint(1, 20)), "%s or %s" % (ans[0], rng.randint(1, 20))])
            elif ds == "lcc":
                ans = ["return self.value"]
                pred = rng.choice(["# note\nreturn self.value", "return value", "```\nreturn self.val\n```", ""])
            else:
                p, g = pair(rng)
                ans = [g] + ([perturb(rng, g)] if rng.random() < 0.5 else [])
                pred = p + (rng.choice(["", "\nsecond line"]) if ds in ("triviaqa", "samsum") else "")
            preds.append(pred)
            answers.append(ans)
            lines.append({"dataset": ds, "pred": pred, "answers": ans, "all_classes": classes if ds == "trec" else None})
        # LongBench eval.py scorer()
        total = 0.
        for prediction, ground_truths in zip(preds, answers):
            score = 0.
            if ds in ["trec", "triviaqa", "samsum", "lsht"]:
                prediction = prediction.lstrip('\n').split('\n')[0]
            for ground_truth in ground_truths:
                score = max(score, metric(prediction, ground_truth, all_classes=classes))
            total += score
        expected[ds] = round(100 * total / len(preds), 2)
    # RULER tasks (string_match_all; qa -> part), per task and length
    for task in ("niah_single_1", "vt", "qa_1"):
        for length in (4096, 8192):
            preds, refs = [], []
            for _ in range(6):
                r = [str(rng.randint(1000000, 9999999)) for _ in range(rng.randint(1, 3))]
                pred = " ".join(x for x in r if rng.random() < 0.6) + rng.choice(["", " \x01 ", "\n"])
                preds.append(pred)
                refs.append(r)
                lines.append({"task": task, "length": length, "prediction": pred, "outputs": r})
            # RULER evaluate.py: postprocess_pred then the metric over all samples
            pp = [re.sub(r'[\x00-\x1f]', '\n', p.strip()).strip() for p in preds]
            fn = string_match_part if task.startswith("qa") else string_match_all
            expected["%s@%d" % (task, length)] = round(sum(fn(p, r) for p, r in zip(pp, refs)) / len(pp) * 100, 2)
    with open(path_jsonl, "w") as f:
        for l in lines:
            f.write(json.dumps({k: v for k, v in l.items() if v is not None}, ensure_ascii=False) + "\n")
    with open(path_expected, "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
    # LongBench's eval.py calls scorer() from module level; so do we, so that the Python stack is
    # as deep as there when rouge's recursive LCS read-out meets the recursion limit.
    for p, g in ROUGE_PAIRS:
        emit("longbench_rouge", pred=p, ref=g, score=float(scorer(rouge_score, p, g)))
