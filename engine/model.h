/* The public engine API: load a Jamba checkpoint onto a backend, keep per-sequence state, run
 * batched forward steps. Pipelines and the CLI use only this header (plus tokenizer.h and
 * sampler.h); they never touch kernels.
 *
 * Threading: one lj_model is driven by one thread at a time (the scheduler's); the backend uses
 * its own worker threads inside a forward. States belong to the model that made them.
 * Ownership: every *_new, *_load and *_fork has a *_free twin; the caller owns what they return. */
#ifndef LJ_ENGINE_MODEL_H
#define LJ_ENGINE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

typedef struct lj_model lj_model;   /* config + bound weights on one backend */
typedef struct lj_state lj_state;   /* one sequence: KV per attention layer, conv+SSM per Mamba layer */

typedef struct lj_load_opts {
    const char *device;      /* "cpu" (default) or "cuda" */
    int threads;             /* CPU worker threads; 0 = all online CPUs */
    const char *experts;     /* "auto" (default), "bf16", "int8": expert weight format. "bf16" = the
                                backend's float weights (bf16 on CUDA, fp32 on the CPU); "int8" =
                                ExpertsInt8 (per-output-channel symmetric scales, engine/quant.h);
                                "auto" = int8 on CUDA when float experts leave no room for the
                                planned states below, else float */
    int gpu;                 /* CUDA device ordinal */
    /* Memory plan (engine/plan.h), checked before any weight is allocated: room for `seqs`
     * sequences of `context` tokens and steps of `chunk` tokens. 0 = reserve none (states and
     * steps are still checked against the plan's memory when they are made). */
    size_t context, chunk, seqs;
    size_t memory;           /* bytes the plan may use; 0 = what the backend reports (GPU free
                                memory, host RAM), or unlimited when it reports nothing */
    int tp;                  /* tensor + expert parallel over this many ranks (0 or 1 = none): one
                                backend and thread per rank, attention heads, Mamba channels, dense
                                MLP columns, experts and the vocabulary split between them
                                (engine/tp.c). CPU ranks share `threads`. */
} lj_load_opts;

/* Loads config.json + safetensors (one file or sharded through model.safetensors.index.json) from
 * dir, binds and checks every tensor the config implies (all problems reported in one message),
 * and uploads/converts weights for the backend. opts may be NULL for defaults. */
int lj_model_load(const char *dir, const lj_load_opts *opts, lj_model **out, char *err, size_t errlen);
void lj_model_free(lj_model *m);

const lj_config *lj_model_config(const lj_model *m);
const char *lj_model_backend_name(const lj_model *m);
/* eos ids and sampling defaults from generation_config.json (config.json's eos when absent). */
const lj_generation_config *lj_model_generation_config(const lj_model *m);

/* Sizes for `longjam info` and memory planning. Parameters count every weight element of the
 * checkpoint the config implies (tied lm_head counted once); active = per token (top-k experts). */
typedef struct lj_model_sizes {
    size_t params_total, params_active;
    size_t weight_bytes;            /* backend memory held by the loaded weights (0 from config only) */
    size_t kv_bytes_per_token;      /* all attention layers, K and V, backend kv dtype */
    size_t state_bytes_per_seq;     /* conv windows + SSM states of all Mamba layers */
} lj_model_sizes;
void lj_model_sizes_of(const lj_model *m, lj_model_sizes *out);
/* The same from a config alone (kv/state in fp32, weight_bytes = params_total * dtype_bytes). */
void lj_config_sizes(const lj_config *c, size_t dtype_bytes, lj_model_sizes *out);

/* A new empty sequence that can hold up to max_tokens tokens (KV cache capacity). */
int lj_state_new(lj_model *m, size_t max_tokens, lj_state **out, char *err, size_t errlen);
/* Deep copy of src (same capacity): QA forks one prefilled document per question. */
int lj_state_fork(const lj_state *src, lj_state **out, char *err, size_t errlen);
void lj_state_free(lj_state *s);
/* Tokens already processed by this sequence (its next position). */
size_t lj_state_length(const lj_state *s);
size_t lj_state_capacity(const lj_state *s);

/* One forward step over several sequences. Each entry appends n_tokens tokens to its state.
 * Logits: when want_all_logits is 0 the step writes one row (the last token's) per entry,
 * otherwise one row per token; rows are packed in entry order into `logits` [rows, vocab]. */
typedef struct lj_seq_step {
    lj_state *state;
    const int32_t *tokens;    /* [n_tokens] */
    size_t n_tokens;
    int want_all_logits;
} lj_seq_step;

/* The whole step is checked (states of this model, capacity, token ids < vocab, no state twice)
 * before anything runs; a refused step leaves every state as it was. A backend failure during
 * the step (out of memory, device error) leaves the states of that step unusable: free them.
 * Optional per-layer outputs for parity tests: hidden [L+1, total_tokens, H] in token order of the
 * step (embedding output, then each decoder layer's output before the final norm). NULL = off. */
int lj_forward(lj_model *m, lj_seq_step *steps, size_t n_steps, float *logits, float *hidden,
               char *err, size_t errlen);

/* Convenience: prefill a prompt into one state in chunks of `chunk` tokens (0 = one pass).
 * logits: [n, vocab] for every token when all_logits, else [vocab] for the last token; may be NULL. */
int lj_prefill(lj_model *m, lj_state *s, const int32_t *tokens, size_t n, size_t chunk, int all_logits,
               float *logits, char *err, size_t errlen);

#endif
