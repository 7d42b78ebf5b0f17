/* Runs evaluation prompts through a model: prefill, then greedy decoding (argmax, lowest id on
 * ties; deterministic). One function, eval_generate, is the seam where the pipelines' scheduler
 * can take over (batching many samples) without touching the callers.
 * TODO(pipelines scheduler): route eval_generate through engine/scheduler.h once it is on main.
 *
 * Ownership: eval_runner_open/eval_runner_close are a pair; text returned is malloc'd. */
#ifndef LJ_EVAL_RUNNER_H
#define LJ_EVAL_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/model.h"
#include "engine/tokenizer.h"

typedef struct eval_runner {
    lj_model *model;
    lj_tokenizer *tok;
    char *tokenizer_path;
    size_t max_context;       /* prompt + output tokens allowed per sample */
    size_t chunk;             /* prefill chunk (0 = one pass) */
    int threads;
} eval_runner;

/* Loads DIR's model and DIR/tokenizer.json. max_context 0 = the config's max_position_embeddings. */
int eval_runner_open(const char *dir, const lj_load_opts *o, size_t max_context, size_t chunk, eval_runner **out,
                     char *err, size_t errlen);
void eval_runner_close(eval_runner *r);

/* Cuts ids in the middle to keep `keep` tokens: the first keep/2 and the last keep/2 (LongBench's
 * rule; an odd keep loses one token as there). In place; returns the new count. */
size_t eval_truncate_middle(int32_t *ids, size_t n, size_t keep);

typedef struct eval_output {
    char *text;              /* decoded new tokens, special tokens skipped (caller frees) */
    size_t n_tokens;         /* tokens generated */
    size_t prompt_tokens;    /* tokens actually prefilled (after truncation) */
    int truncated;           /* the prompt was cut in the middle to fit max_context */
    double seconds;
} eval_output;

/* Encodes prompt (add_special 0: chat-templated text carries its BOS), truncates in the middle to
 * max_context - max_new when needed (warning on stderr naming `label`), prefills and decodes up to
 * max_new tokens greedily, stopping at the model's eos ids or one of extra_stop. */
int eval_generate(eval_runner *r, const char *prompt, size_t max_new, const int32_t *extra_stop, size_t n_extra,
                  const char *label, eval_output *out, char *err, size_t errlen);

struct eval_model_opts;
/* The settings every results file records: model, tokenizer, chat template text and hash,
 * decoding, context. New reference. */
json_t *eval_settings_common(const struct eval_model_opts *m, const eval_runner *r);

#endif
