/* Engine internals shared by model_load.c (load/free), model.c (forward) and state.c. */
#ifndef LJ_ENGINE_MODEL_INTERNAL_H
#define LJ_ENGINE_MODEL_INTERNAL_H

#include "engine/model.h"
#include "kernels/backend.h"

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

/* Per-step activations, grown to the largest step seen (never shrunk). */
typedef struct workspace {
    size_t cap_tokens, cap_rows;
    int32_t *ids;                                    // [T]
    void *x, *xn;                                    // [T, H]
    void *q, *k, *v, *att;                           // [T, QD], [T, KVD] x2, [T, QD]
    void *xz, *xc, *dbc, *dt, *y;                    // [T, 2D], [T, D], [T, R+2N], [T, D], [T, D]
    void *g, *u, *mo;                                // [T, I], [T, I], [T, H]
    void *logits;                                    // [rows, V]
} workspace;

struct lj_model {
    lj_config cfg;
    lj_generation_config gen;
    lj_backend *be;
    layer_weights *layers;                           // [L]
    lj_tensor embed, lm_head;                        // [V, H] (lm_head = embed when tied)
    float *final_norm;                               // [H]
    void **allocs;                                   // every weight buffer, for free
    size_t n_allocs, cap_allocs;
    size_t weight_bytes;
    workspace ws;
};

struct lj_state {
    lj_model *m;
    size_t len, cap;
    void **k, **v;                                   // [L] KV caches (attention layers, else NULL): [cap, KVD]
    float **conv, **ssm;                             // [L] conv window [K-1, D] and SSM state [D, N] (Mamba layers)
};

#endif
