/* Runs evaluation prompts through a model: the pipelines' engine backend (pipelines/backend.h)
 * driven by the engine's continuous-batching scheduler (engine/scheduler.h), several samples in
 * flight, greedy decoding (temperature 0: argmax, lowest id on ties; deterministic, and the same
 * tokens whatever the batch, as the pipelines' batching tests prove).
 *
 * Ownership: eval_runner_open/eval_runner_close are a pair; texts returned are malloc'd. */
#ifndef LJ_EVAL_RUNNER_H
#define LJ_EVAL_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/model.h"
#include "engine/scheduler.h"
#include "engine/tokenizer.h"
#include "pipelines/backend.h"

typedef struct eval_runner {
    pl_backend *backend;      /* model + scheduler binding */
    lj_sched *sched;
    lj_tokenizer *tok;        /* DIR/tokenizer.json, for generators that count tokens */
    char *tokenizer_path;
    const char *device;
    size_t max_context;       /* prompt + output tokens allowed per sample */
    size_t chunk;             /* prefill chunk */
    size_t batch;             /* sequences in flight */
} eval_runner;

/* Loads DIR's model and tokenizer. max_context 0 = the backend's context; chunk 0 = 512;
 * batch 0 = 4 sequences in flight. */
int eval_runner_open(const char *dir, const lj_load_opts *o, size_t max_context, size_t chunk, size_t batch,
                     eval_runner **out, char *err, size_t errlen);
void eval_runner_close(eval_runner *r);

/* Cuts ids in the middle to keep `keep` tokens: the first keep/2 and the last keep/2 (LongBench's
 * rule; an odd keep loses one token as there). In place; returns the new count. */
size_t eval_truncate_middle(int32_t *ids, size_t n, size_t keep);

typedef struct eval_output {
    char *text;              /* decoded new tokens, special tokens skipped (caller frees) */
    size_t n_tokens;         /* tokens generated (end token not counted) */
    size_t prompt_tokens;    /* tokens actually prefilled (after truncation) */
    int truncated;           /* the prompt was cut in the middle to fit max_context */
    double seconds;          /* from submission to the end of the sequence */
} eval_output;

typedef struct eval_job {
    /* set by the caller */
    const char *prompt;          /* encoded with add_special 0: chat-templated text carries its BOS */
    size_t max_new;
    const int32_t *extra_stop;   /* more end ids (LongBench samsum: "\n") */
    size_t n_extra;
    const char *label;           /* names the sample in warnings and errors */
    /* filled */
    eval_output out;
    int failed;
    char err[512];
    /* private */
    int32_t *ids, *gen;
    size_t n_ids;
    double t0;
    void *batch;
    lj_seq seq;
} eval_job;

/* Runs the jobs through the scheduler (truncating over-long prompts in the middle to
 * max_context - max_new, with a warning naming the label). A job that fails gets failed = 1 and a
 * message; the call fails only when it cannot run at all. on_done (may be NULL) is called as each
 * job finishes, in completion order. */
int eval_generate_batch(eval_runner *r, eval_job *jobs, size_t n, void (*on_done)(eval_job *j, void *user), void *user,
                        char *err, size_t errlen);

/* One prompt (a batch of one). */
int eval_generate(eval_runner *r, const char *prompt, size_t max_new, const int32_t *extra_stop, size_t n_extra,
                  const char *label, eval_output *out, char *err, size_t errlen);

struct eval_model_opts;
/* The settings every results file records: model, tokenizer, chat template text and hash,
 * decoding, context, batching. New reference. */
json_t *eval_settings_common(const struct eval_model_opts *m, const eval_runner *r);

#endif
