/* The memory plan: every byte a run will hold on its device — weights, KV caches, Mamba states,
 * workspace — computed from the config, the dtypes, the context, the chunk and the number of
 * sequences before anything is allocated. A run that would not fit is refused up front with the
 * budget and what to change; the loaded model keeps its plan and refuses a state (lj_state_new) or
 * a step's workspace (lj_forward) that the plan has no room for, so memory never runs out halfway
 * through a batch.
 *
 * Workspace = the largest per-step buffers: one layer's activations for `chunk` tokens (the
 * engine's workspace: x, xn, q/k/v/att, Mamba xz/xc/dbc/dt/y, dense FFN g/u, moe out), the MoE
 * grouped buffers (router logits, tokens gathered by expert, expert gate|up and down outputs) and
 * the logits rows; plus a fixed runtime reserve on CUDA (context, cuBLAS workspace, op scratch).
 * Ownership: plain structs, nothing to free. */
#ifndef LJ_ENGINE_PLAN_H
#define LJ_ENGINE_PLAN_H

#include "engine/config.h"
#include "engine/model.h"
#include "kernels/backend.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What a device stores: dtypes of matrices, activations, KV cache, recurrent state, and its
 * runtime reserve. lj_plan_device("cpu"|"cuda") gives the defaults of the two backends; the
 * loader fills one from the backend it made. */
typedef struct lj_plan_device {
    const char *name;            /* "cpu", "cuda" */
    lj_dtype weight, act, kv, state;
    size_t reserve;              /* bytes held outside the plan's buffers (CUDA context, cuBLAS, scratch) */
} lj_plan_device;
int lj_plan_device_of(const char *name, lj_plan_device *out, char *err, size_t errlen);

typedef struct lj_plan_request {
    const char *experts;         /* "auto" (NULL), "bf16" (the device's float weights), "int8" */
    size_t context;              /* KV capacity of each sequence, tokens */
    size_t chunk;                /* tokens of one forward step, all sequences together */
    size_t seqs;                 /* sequences resident at once (each with a state of `context`) */
    size_t logit_rows;           /* logits rows per step (0 = seqs: the last token of each) */
    size_t memory;               /* bytes the device offers; 0 = unknown (nothing is refused) */
} lj_plan_request;

typedef struct lj_plan {
    lj_plan_device dev;
    lj_plan_request req;
    bool experts_int8;           /* resolved "auto" */
    /* weights */
    size_t w_embed, w_lm_head;               /* lm_head 0 when tied */
    size_t w_attention, w_mamba, w_dense_ffn, w_router, w_norms;
    size_t w_experts, w_expert_scales;
    size_t weights;
    /* per-sequence state */
    size_t kv_per_token, kv_per_seq, mamba_per_seq, state_per_seq;
    size_t states;                            /* seqs × state_per_seq */
    /* workspace */
    size_t ws_activations, ws_moe, ws_logits, workspace;
    size_t total;                             /* weights + states + workspace + reserve */
    bool fits;                                /* total <= memory (true when memory is 0) */
} lj_plan;

/* Computes the plan (resolving experts "auto": int8 when the device is CUDA and the bf16 plan
 * does not fit, else the device's float weights). Fails only on a bad request (unknown experts
 * value, sizes that overflow); a plan that does not fit is returned with fits = false. */
int lj_plan_compute(const lj_config *c, const lj_plan_device *dev, const lj_plan_request *r, lj_plan *out,
                    char *err, size_t errlen);

/* 0 when p fits; else -1 with a message giving the budget and what to change (int8 experts, a
 * smaller chunk, fewer sequences, a shorter context), each with the value that would fit. */
int lj_plan_check(const lj_config *c, const lj_plan *p, char *err, size_t errlen);

/* Largest context (tokens per sequence) that fits with the rest of r unchanged; 0 when even an
 * empty context does not fit (or memory is unknown). */
size_t lj_plan_max_context(const lj_config *c, const lj_plan_device *dev, const lj_plan_request *r);

/* "12.34 GiB", "5.67 MiB", "123 B" into buf (returned). */
const char *lj_plan_human(size_t bytes, char buf[32]);

/* The budget as a table (one line per item, bytes and GiB). */
void lj_plan_print(const lj_plan *p, FILE *f);

/* Per-item sizes shared with the engine (so that the plan and the allocations agree). */
size_t lj_plan_state_bytes(const lj_config *c, const lj_plan_device *dev, size_t context);
size_t lj_plan_workspace_bytes(const lj_config *c, const lj_plan_device *dev, size_t tokens, size_t logit_rows);

/* Named shapes for planning without a checkpoint: "jamba-1.5-mini", "jamba-1.5-large",
 * "jamba-v0.1" (their Hugging Face config.json values). -1 with the known names otherwise. */
int lj_config_named(const char *name, lj_config *out, char *err, size_t errlen);

/* ---- a loaded model's plan: admission by memory for the scheduler ---- */

/* The plan the model was loaded with (its request as given in lj_load_opts). */
const lj_plan *lj_model_plan(const lj_model *m);
/* Bytes a new state of max_tokens takes on this model's backend. */
size_t lj_plan_state_bytes_of(const lj_model *m, size_t max_tokens);
/* Bytes still free under the plan: memory − weights − reserve − workspace − live states
 * (SIZE_MAX when the memory is unknown). */
size_t lj_plan_free_bytes(const lj_model *m);
/* True when a state of max_tokens can be created now (lj_state_new would not refuse it). */
bool lj_plan_admits(const lj_model *m, size_t max_tokens);

#endif
