/* The engine backend: engine/model.h (lj_model, lj_state, lj_forward) and engine/tokenizer.h on a
 * model directory. Built in when the engine's config header and the tokenizer sources are present
 * (LJ_HAVE_ENGINE, set by pipelines/CMakeLists.txt); otherwise opening a directory says so. */
#include "pipelines/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

#if defined(LJ_HAVE_ENGINE) && __has_include("engine/config.h")
#include "engine/model.h"
#include "engine/tokenizer.h"

typedef struct engine_impl {
    lj_model *model;
    lj_tokenizer *tok;
    lj_seq_step *steps;   /* grown to the largest step seen (a handful of sequences) */
    size_t n_steps;
} engine_impl;

static int e_state_new(void *ctx, size_t cap, void **out, char *err, size_t errlen) {
    engine_impl *e = ctx;
    return lj_state_new(e->model, cap, (lj_state **)out, err, errlen);
}
static int e_state_fork(void *ctx, const void *src, void **out, char *err, size_t errlen) {
    return lj_state_fork((const lj_state *)src, (lj_state **)out, err, errlen);
}
static void e_state_free(void *ctx, void *s) { lj_state_free((lj_state *)s); }

static int e_forward(void *ctx, const lj_sched_entry *steps, size_t n, float *logits, char *err, size_t errlen) {
    engine_impl *e = ctx;
    if (n > e->n_steps) {
        lj_seq_step *p = realloc(e->steps, n * sizeof *p);
        if (!p) return lj_errf(err, errlen, "engine: out of memory");
        e->steps = p;
        e->n_steps = n;
    }
    for (size_t i = 0; i < n; i++)
        e->steps[i] = (lj_seq_step){.state = steps[i].state, .tokens = steps[i].tokens,
                                    .n_tokens = steps[i].n_tokens, .want_all_logits = 0};
    return lj_forward(e->model, e->steps, n, logits, NULL, err, errlen);
}

static int e_encode(pl_backend *b, const char *text, size_t len, int add_special, int32_t **ids, size_t *n,
                    char *err, size_t errlen) {
    engine_impl *e = b->impl;
    return tok_encode(e->tok, text, len, add_special, ids, n, err, errlen);
}
static int e_decode(pl_backend *b, const int32_t *ids, size_t n, char **text, char *err, size_t errlen) {
    engine_impl *e = b->impl;
    return tok_decode(e->tok, ids, n, 1, text, err, errlen);
}

static void e_close(pl_backend *b) {
    engine_impl *e = b->impl;
    if (e) {
        lj_model_free(e->model);
        tok_free(e->tok);
        free(e->steps);
        free(e);
    }
    free(b);
}

int pl_backend_engine_available(void) { return 1; }

int pl_backend_open_engine(const char *dir, const pl_backend_opts *o, pl_backend **out, char *err, size_t errlen) {
    *out = NULL;
    pl_backend *b = lj_calloc(1, sizeof *b);
    engine_impl *e = lj_calloc(1, sizeof *e);
    if (!b || !e) { free(b); free(e); return lj_errf(err, errlen, "out of memory"); }
    b->impl = e;
    b->close = e_close;
    lj_load_opts lo = {.device = o && o->device ? o->device : "cpu", .threads = o ? o->threads : 0,
                       .experts = o && o->experts ? o->experts : "auto", .gpu = o ? o->gpu : 0,
                       .tp = o ? o->tp : 0};
    if (lj_model_load(dir, &lo, &e->model, err, errlen)) { e_close(b); return -1; }
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (tok_load(path, &e->tok, err, errlen)) { e_close(b); return -1; }
    lj_sampler_defaults(NULL, &b->defaults);
    b->n_ctx = 262144;
    if (pl_read_generation_config(dir, b, err, errlen)) { e_close(b); return -1; }
    const char *base = strrchr(dir, '/');
    while (base && base[1] == 0 && base > dir) {   // trailing slash: take the component before it
        const char *p = base - 1;
        while (p > dir && *p != '/') p--;
        base = p;
    }
    snprintf(b->name, sizeof b->name, "%s", base && *base == '/' ? base + 1 : dir);
    char *slash = strchr(b->name, '/');
    if (slash) *slash = 0;
    b->model = (lj_sched_model){e, tok_vocab_size(e->tok), e_state_new, e_state_fork, e_state_free, e_forward};
    // the model's vocab (lm_head rows) may exceed the tokenizer's: logits rows follow the model
    json_error_t je;
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *cfg = json_load_file(path, 0, &je);
    if (cfg) {
        json_t *v = json_object_get(cfg, "vocab_size");
        if (json_is_integer(v) && json_integer_value(v) > 0) b->model.vocab = (size_t)json_integer_value(v);
        json_decref(cfg);
    }
    b->encode = e_encode;
    b->decode = e_decode;
    *out = b;
    return 0;
}

#else

int pl_backend_engine_available(void) { return 0; }

int pl_backend_open_engine(const char *dir, const pl_backend_opts *o, pl_backend **out, char *err, size_t errlen) {
    *out = NULL;
    return lj_errf(err, errlen, "--model %s: this build has no engine or tokenizer yet (use --model toy for a "
                   "weightless test backend)", dir);
}

#endif
