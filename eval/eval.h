/* The evaluation commands as library calls (cli/cmd_eval.c parses options and calls these). Each
 * returns 0 when done, -1 with a message in err. Tables go to `out` (stdout), progress and
 * warnings to stderr. */
#ifndef LJ_EVAL_EVAL_H
#define LJ_EVAL_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/model.h"

typedef struct eval_model_opts {
    const char *model_dir;
    lj_load_opts load;
    size_t max_context;        /* 0 = the model's max_position_embeddings */
    size_t chunk;              /* prefill chunk, 0 = one pass */
} eval_model_opts;

typedef struct eval_ruler_opts {
    eval_model_opts m;
    const size_t *lengths; size_t n_lengths;
    const char *const *tasks; size_t n_tasks;   /* NULL = all */
    size_t samples;            /* per task and length */
    const char *haystack;      /* NULL = samples/haystack/licenses.txt */
    uint64_t seed;
    const double *depths; size_t n_depths;     /* optional forced needle depths (percent) */
    const char *output;        /* results JSON (NULL = none); <output>.partial.jsonl for resume */
    const char *plot;          /* PNG path or NULL */
} eval_ruler_opts;
int eval_ruler_run(const eval_ruler_opts *o, FILE *out, char *err, size_t errlen);

typedef struct eval_longbench_opts {
    eval_model_opts m;
    const char *data;          /* LongBench / LongBench-E / LongBench v2 JSONL */
    const char *const *datasets; size_t n_datasets;   /* NULL = every dataset in the file */
    size_t limit;              /* max samples per dataset, 0 = all */
    const char *output, *plot;
} eval_longbench_opts;
int eval_longbench_run(const eval_longbench_opts *o, FILE *out, char *err, size_t errlen);

/* Rescores predictions: JSONL lines with dataset|task, prediction|pred, answers|outputs
 * (+ all_classes, length; LongBench v2: answer + pred letter or response). */
int eval_score_run(const char *pred_path, const char *output, const char *plot, FILE *out, char *err, size_t errlen);

/* Default haystack path (the source tree's samples/haystack/licenses.txt, or next to cwd). */
const char *eval_default_haystack(void);

#endif
