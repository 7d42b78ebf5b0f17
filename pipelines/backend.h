/* What the pipelines need from a model: the scheduler binding (engine/scheduler.h), a tokenizer,
 * the chat template, end ids, context length and generation defaults.
 *
 * Two backends: a model directory (engine/model.h + engine/tokenizer.h on tiny-chat or a real
 * Jamba checkpoint), and "toy[:VOCAB]", a deterministic hashing stand-in with a byte tokenizer that
 * exercises every pipeline path (queueing, batching, resume, shards) without weights. The toy is for
 * tests and for measuring the pipeline's own overhead; its outputs mean nothing.
 *
 * Ownership: pl_backend_open returns a backend freed with pl_backend_close. Strings returned through
 * out-parameters are malloc'd and owned by the caller. encode/decode may be called from several
 * threads at once; the scheduler binding from one thread. */
#ifndef LJ_PIPELINES_BACKEND_H
#define LJ_PIPELINES_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/sampler.h"
#include "engine/scheduler.h"

typedef struct pl_backend pl_backend;
struct pl_backend {
    lj_sched_model model;
    char name[256];            /* model name reported in responses (directory basename or "toy") */
    size_t n_ctx;              /* tokens one sequence may hold */
    int32_t eos[8];
    size_t n_eos;
    lj_sampler_params defaults;      /* from generation_config.json where present */
    size_t default_max_new;          /* generation_config max_new_tokens, 0 = to the end of the context */
    /* add_special: the tokenizer's post-processor (BOS) as for a raw completion prompt; chat text
     * carries its own BOS string. */
    int (*encode)(pl_backend *b, const char *text, size_t len, int add_special, int32_t **ids, size_t *n,
                  char *err, size_t errlen);
    /* Decodes skipping special tokens. */
    int (*decode)(pl_backend *b, const int32_t *ids, size_t n, char **text, char *err, size_t errlen);
    void (*close)(pl_backend *b);
    void *impl;
};

typedef struct pl_backend_opts {
    const char *device;   /* "cpu" (default) | "cuda" */
    int threads;          /* engine worker threads (0 = all) */
    const char *experts;  /* "auto" (NULL), "int8" or "bf16": expert weights (lj_load_opts.experts) */
    int tp;               /* tensor-parallel ranks (lj_load_opts.tp; 0 = none) */
    int gpu;              /* CUDA device ordinal (data-parallel replica i runs on GPU i) */
} pl_backend_opts;

int pl_backend_open(const char *model, const pl_backend_opts *o, pl_backend **out, char *err, size_t errlen);
void pl_backend_close(pl_backend *b);

/* True when this build has the engine + tokenizer linked in (model directories can be opened). */
int pl_backend_engine_available(void);

/* Renders OpenAI chat messages ([{role, content}], content a string or [{type:"text", text}])
 * through the Jamba chat template (engine/chat.h) with the generation prompt, as text holding the special-token
 * strings; the tokenizer turns those into their ids. Errors name the message index. */
int pl_chat_render(json_t *messages, char **out, char *err, size_t errlen);
/* The chat prefix that a user turn's content follows, and the suffix after it (both static):
 * render(user: D + Q) == prefix + D + Q + suffix, which QA uses to share the document prefix. */
const char *pl_chat_user_prefix(void);
const char *pl_chat_user_suffix(void);

/* Reads generation defaults and end ids from a model directory's config.json and
 * generation_config.json (missing generation_config is fine). */
int pl_read_generation_config(const char *dir, pl_backend *b, char *err, size_t errlen);

/* Toy backend and engine backend constructors (pl_backend_open picks one). */
int pl_backend_open_toy(const char *spec, pl_backend **out, char *err, size_t errlen);
int pl_backend_open_engine(const char *dir, const pl_backend_opts *o, pl_backend **out, char *err, size_t errlen);

#endif
