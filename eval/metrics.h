/* Answer-quality metrics that reproduce the official Python scorers exactly:
 *   - SQuAD v1.1 evaluate script / LongBench metrics.py: normalize_answer, exact match, token F1
 *   - LongBench rouge_score: the `rouge` package (pltrdy, 1.0.1) Rouge().get_scores(avg=True)
 *     ["rouge-l"]["f"], including its sentence split on '.', set-based union LCS, and the
 *     exceptions LongBench turns into 0 (empty hypothesis/reference, Python's recursion limit)
 *   - Google rouge-score (rouge_scorer.RougeScorer, with or without stemming): rouge1, rouge2, rougeL
 *   - RULER string_match_all / string_match_part (per sample, as a fraction in [0, 1])
 *   - fuzzywuzzy fuzz.ratio with python-Levenshtein (Indel ratio), LongBench code_sim_score
 *   - LongBench classification_score, retrieval_score (en/zh), count_score
 * Inputs are NUL-terminated UTF-8. Scores are doubles in [0, 1] unless stated. */
#ifndef LJ_EVAL_METRICS_H
#define LJ_EVAL_METRICS_H

#include <stddef.h>

/* SQuAD normalize_answer: lower, drop ASCII punctuation, drop articles a/an/the as words, collapse
 * whitespace. Returns a malloc'd string (caller frees), NULL when out of memory. */
char *metric_normalize_answer(const char *s);

/* SQuAD v1.1 exact_match_score (0 or 1) and f1_score (= LongBench qa_f1_score). */
double metric_exact_match(const char *pred, const char *ref);
double metric_qa_f1(const char *pred, const char *ref);

/* Depth limit of the `rouge` package's recursive LCS read-out when called as LongBench's eval.py
 * calls it (Python 3 default recursion limit 1000 minus the frames above): a read-out needing more
 * calls raises RecursionError, which LongBench's rouge_score catches and scores 0. */
#define METRIC_ROUGE_PY_MAX_CALLS 991

/* LongBench rouge_score: `rouge` package ROUGE-L F (summary level), 0 when the package raises.
 * *raised (may be NULL) tells whether it would have raised. */
double metric_rouge_l_longbench(const char *pred, const char *ref, int *raised);

typedef struct metric_prf {
    double precision, recall, fmeasure;
} metric_prf;

/* Google rouge-score, RougeScorer([type], use_stemmer).score(target, prediction): type "rouge1",
 * "rouge2" (any "rougeN") or "rougeL"; use_stemmer applies NLTK's Porter stemmer to tokens longer
 * than 3 characters, as rouge-score does. Returns -1 for an unknown type. */
int metric_rouge_google(const char *type, const char *target, const char *pred, int use_stemmer, metric_prf *out);

/* RULER postprocess_pred: strip, control characters (\x00-\x1f) to '\n', strip. malloc'd. */
char *metric_ruler_postprocess(const char *pred);
/* RULER per-sample scores: fraction of refs found (case-insensitive substring) / any found. */
double metric_string_match_all(const char *pred, const char *const *refs, size_t n_refs);
double metric_string_match_part(const char *pred, const char *const *refs, size_t n_refs);

/* fuzzywuzzy fuzz.ratio (0..100) with python-Levenshtein installed. */
int metric_fuzz_ratio(const char *a, const char *b);
/* LongBench code_sim_score: first line without '`', '#', '//' of the prediction vs reference. */
double metric_code_sim(const char *pred, const char *ref);
/* LongBench classification_score (with its list-mutation-during-iteration quirk reproduced). */
double metric_classification(const char *pred, const char *ref, const char *const *classes, size_t n);
/* LongBench retrieval_score ("Paragraph N") / retrieval_zh_score ("段落N"). Returns -1 (and sets
 * *score = 0) when the reference has no paragraph id, where LongBench itself raises IndexError. */
int metric_retrieval(const char *pred, const char *ref, int zh, double *score);
/* LongBench count_score. */
double metric_count(const char *pred, const char *ref);

#endif
