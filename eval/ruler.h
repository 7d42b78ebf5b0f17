/* RULER-style synthetic long-context tasks (NVIDIA/RULER scripts/data/synthetic/ *.py), generated
 * at a length measured in the model's own tokens: needle in a haystack (single, multi-key,
 * multi-value, multi-query; number/word/uuid values; essay, repeated-noise or needle haystacks),
 * variable tracking, common-word and frequent-word extraction. Templates, answer prefixes, output
 * budgets and the scoring metric (string_match_all) are RULER's; the random number generator,
 * the key word lists and the essay text are ours, so samples are not RULER's byte for byte.
 *
 * Length: the whole prompt (chat template + task input + answer prefix) in tokens plus the task's
 * tokens_to_generate is the largest that does not exceed the requested length (RULER's rule).
 *
 * Ownership: ruler_ctx_init/ruler_ctx_free and ruler_sample_make/ruler_sample_free are pairs. */
#ifndef LJ_EVAL_RULER_H
#define LJ_EVAL_RULER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer.h"

typedef enum { RULER_NIAH, RULER_VT, RULER_CWE, RULER_FWE } ruler_kind;

typedef struct ruler_task {
    const char *name;           /* RULER's name (synthetic.yaml): niah_single_1, vt, cwe, ... */
    ruler_kind kind;
    int tokens_to_generate;
    const char *haystack;       /* niah/vt: "essay", "noise" or "needle" */
    const char *type_k, *type_v;/* niah: "words", "numbers", "uuids" */
    int num_k, num_v, num_q;    /* niah */
    int num_chains, num_hops;   /* vt */
    int freq_cw, freq_ucw, num_cw; /* cwe */
    double alpha;               /* fwe */
} ruler_task;

extern const ruler_task ruler_tasks[];
extern const size_t ruler_n_tasks;
const ruler_task *ruler_task_find(const char *name);

/* The chat template applied to every prompt (Jamba-1.5: BOS, <|bom|><|user|> ... <|eom|>,
 * <|bom|><|assistant|>), its text for the record, and a hash of that text. */
char *eval_chat_render(const char *user, const char *assistant_prefix);
const char *eval_chat_template_text(void);
uint64_t eval_chat_template_hash(void);

typedef struct ruler_ctx {
    const lj_tokenizer *tok;
    char *essay;                 /* whitespace-normalized haystack text */
    size_t *word_start;          /* essay words (start offsets, lengths) */
    size_t *word_len;
    size_t *word_tokens;         /* tokens of " word" for each essay word */
    size_t n_words;
    uint64_t seed;
    const double *depths;        /* niah: needle depths in percent to use instead of random ones */
    size_t n_depths;
    int threads;                 /* tokenizer threads */
} ruler_ctx;

/* essay: the haystack text (copied). Returns -1 with a message when it has no words. */
int ruler_ctx_init(ruler_ctx *c, const lj_tokenizer *tok, const char *essay, size_t essay_len, uint64_t seed,
                   char *err, size_t errlen);
void ruler_ctx_free(ruler_ctx *c);

typedef struct ruler_sample {
    char *input;            /* the user message (task input, context included) */
    char *answer_prefix;    /* RULER's answer prefix, put after the assistant turn opens */
    char *prompt;           /* chat-templated input + answer prefix: what the model reads */
    char **outputs;         /* reference values */
    size_t n_outputs;
    double *depths;         /* niah/vt: where each inserted needle/chain line sits, 0..1 of the haystack */
    char **needles;         /* the inserted needle texts, same order as depths */
    size_t n_needles;
    size_t prompt_tokens;   /* tokens of prompt */
    size_t length;          /* prompt_tokens + tokens_to_generate (<= requested) */
    size_t haystack_units;  /* words / sentences / list entries used */
} ruler_sample;

/* Makes sample `index` of `task` at `length` tokens. Deterministic in (seed, task, length, index).
 * Fails (with a message) when even the smallest haystack does not fit. */
int ruler_sample_make(ruler_ctx *c, const ruler_task *task, size_t length, size_t index, ruler_sample *out,
                      char *err, size_t errlen);
void ruler_sample_free(ruler_sample *s);

#endif
