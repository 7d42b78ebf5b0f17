/* Engine internals shared by model_load.c (load/free), model.c (forward) and state.c. */
#ifndef LJ_ENGINE_MODEL_INTERNAL_H
#define LJ_ENGINE_MODEL_INTERNAL_H

#include "engine/model.h"
#include "engine/plan.h"
#include "kernels/backend.h"
#include "kernels/comm.h"

#include <stdbool.h>

/* One decoder layer's weights in backend memory. Vectors are fp32; matrices weight_dtype. */
typedef struct layer_weights {
    bool attention, moe;
    float *input_norm, *pre_ff_norm;                 // [H]
    lj_tensor q, k, v, o;                            // [QD, H], [KVD, H], [KVD, H], [H, QD]
    lj_tensor in_proj;                               // [2D, H]
    float *in_proj_bias;                             // [2D] or NULL
    float *conv_w, *conv_b;                          // [D, K], [D] or NULL
    lj_tensor x_proj, dt_proj;                       // [R+2N, D], [D, R]
    float *dt_bias, *a_log, *d_skip;                 // [D], [D, N], [D]
    lj_tensor out_proj;                              // [H, D]
    float *out_proj_bias;                            // [H] or NULL
    float *dt_norm, *b_norm, *c_norm;                // [R], [N], [N]
    lj_tensor gate, up, down;                        // dense: [I, H], [I, H], [H, I]
    lj_tensor router;                                // [E, H]
    lj_tensor *e_gate, *e_up, *e_down;               // [E] each
} layer_weights;

/* One rank's share of the weights under tensor + expert parallelism (engine/tp.c); world 1 holds
 * everything. Ranges are [first, first + count) of the full model's dimension. */
typedef struct tp_split {
    int rank, world;
    size_t q0, qn;      // query heads: q/k/v column-parallel by head, o_proj row-parallel
    size_t kv0, kvn;    // KV heads (whole GQA groups, or one head shared when ranks outnumber them)
    size_t d0, dn;      // Mamba channels (d_inner): in_proj column-, x_proj/out_proj row-parallel
    size_t i0, in;      // dense MLP intermediate: gate/up column-, down row-parallel
    size_t e0, en;      // experts held (the router is replicated)
    size_t v0, vn;      // lm_head rows (vocabulary)
} tp_split;

/* The split of rank `rank` of `world` for config c (the full model's); -1 with a message naming
 * the dimension that does not divide. */
int tp_split_of(const lj_config *c, int rank, int world, tp_split *out, char *err, size_t errlen);

/* Per-step activations, grown to the largest step seen (never shrunk). */
typedef struct workspace {
    size_t cap_tokens, cap_rows;
    int32_t *ids;                                    // [T]
    void *x, *xn;                                    // [T, H]
    void *q, *k, *v, *att;                           // [T, QD], [T, KVD] x2, [T, QD]
    void *xz, *xc, *dbc, *dt, *y;                    // [T, 2D], [T, D], [T, R+2N], [T, D], [T, D]
    void *g, *u, *mo;                                // [T, I], [T, I], [T, H]
    void *logits;                                    // [rows, V] (tensor parallel: [world, rows, V/world])
    void *logits_part;                               // [rows, V/world] this rank's lm_head rows; NULL at world 1
} workspace;

struct lj_model {
    lj_config cfg;                                   // a rank's: heads, KV heads and d_inner are its share
    lj_generation_config gen;
    lj_backend *be;
    layer_weights *layers;                           // [L]
    lj_tensor embed, lm_head;                        // [V, H] (lm_head = embed when tied)
    float *final_norm;                               // [H]
    void **allocs;                                   // every weight buffer, for free
    size_t n_allocs, cap_allocs;
    size_t weight_bytes;
    lj_dtype expert_dtype;                           // weight_dtype, or LJ_I8 (ExpertsInt8)
    lj_plan plan;                                    // the memory plan the model was loaded with
    size_t state_bytes_live;                         // bytes of every live lj_state of this model
    size_t ws_bytes;                                 // bytes of the current workspace (plan terms)
    workspace ws;
    /* Tensor parallel. A rank: comm != NULL, tp its split (world 1 otherwise: comm NULL).
     * A group (engine/tp.c): ranks != NULL, be NULL, cfg the full config; every call goes to the
     * ranks, one thread each. */
    tp_split tp;
    lj_comm *comm;
    lj_model **ranks;                                // [world] (a group only)
    int broken;                                      // a group whose collectives were aborted
    char backend_name[48];                           // a group's, e.g. "cpu x4 (tensor parallel)"
};

/* One rank's forward (model.c). want_logits: compute the lm_head (a collective at world > 1) even
 * when this rank does not download them (logits NULL). */
int model_forward(lj_model *m, lj_seq_step *steps, size_t n_steps, float *logits, int want_logits, float *hidden,
                  char *err, size_t errlen);
/* Loads rank `rank` of a group sharing `comm` (model_load.c); world 1 with comm NULL = the model. */
int model_load_rank(const char *dir, const lj_load_opts *o, const tp_split *sp, lj_comm *comm, lj_model **out,
                    char *err, size_t errlen);
/* Group versions of the public calls (engine/tp.c). */
int tp_group_load(const char *dir, const lj_load_opts *o, lj_model **out, char *err, size_t errlen);
int tp_group_forward(lj_model *g, lj_seq_step *steps, size_t n_steps, float *logits, float *hidden, char *err,
                     size_t errlen);
void tp_group_free(lj_model *g);
/* A group state: one state per rank, new (src NULL) or forked from src. */
int tp_state_new(lj_model *g, size_t max_tokens, const lj_state *src, lj_state **out, char *err, size_t errlen);
void tp_state_free(lj_state *s);

/* Plan checks (plan_model.c): 0 when `bytes` more fit beside what the model holds now, else -1
 * with a message naming `what` and what to change. */
int plan_model_reserve(const lj_model *m, size_t bytes, const char *what, char *err, size_t errlen);

struct lj_state {
    lj_model *m;
    size_t len, cap;
    size_t bytes;                                    // plan bytes counted in m->state_bytes_live
    void **k, **v;                                   // [L] KV caches (attention layers, else NULL): [cap, KVD]
    float **conv, **ssm;                             // [L] conv window [K-1, D] and SSM state [D, N] (Mamba layers)
    lj_state **ranks;                                // [world]: a group model's state is one state per rank
};

#endif
