/* Binding a checkpoint's tensors to the model the config implies: every expected tensor found by
 * its Hugging Face name with the right shape and a float dtype, nothing unexpected; all problems
 * are collected and reported in one message before any compute. */
#ifndef LJ_ENGINE_WEIGHTS_H
#define LJ_ENGINE_WEIGHTS_H

#include "engine/config.h"
#include "engine/safetensors.h"

#include <stdbool.h>

/* Checkpoint tensors of one layer (views into the mapped files; NULL = not present). */
typedef struct lj_layer_tensors {
    bool attention, moe;
    const st_tensor *input_norm, *pre_ff_norm;                     // [H]
    /* attention */
    const st_tensor *q, *k, *v, *o;                                // [Hq*Dh, H], [Hkv*Dh, H] x2, [H, Hq*Dh]
    /* mamba */
    const st_tensor *in_proj, *in_proj_bias;                       // [2D, H], [2D]
    const st_tensor *conv_w, *conv_b;                              // [D, 1, K], [D]
    const st_tensor *x_proj;                                       // [R + 2N, D]
    const st_tensor *dt_proj, *dt_proj_bias;                       // [D, R], [D]
    const st_tensor *a_log, *d_skip;                               // [D, N], [D]
    const st_tensor *out_proj, *out_proj_bias;                     // [H, D], [H]
    const st_tensor *dt_norm, *b_norm, *c_norm;                    // [R], [N], [N]
    /* dense FFN */
    const st_tensor *gate, *up, *down;                             // [I, H], [I, H], [H, I]
    /* MoE: per-expert (hub names) or fused (transformers v5 names) */
    const st_tensor *router;                                       // [E, H]
    const st_tensor **e_gate, **e_up, **e_down;                    // [E] -> [I, H], [I, H], [H, I]
    const st_tensor *fused_gate_up, *fused_down;                   // [E, 2I, H], [E, H, I]
} lj_layer_tensors;

typedef struct lj_checkpoint_tensors {
    const st_tensor *embed, *final_norm, *lm_head;                 // [V, H], [H], [V, H] (lm_head NULL when tied)
    size_t n_layers;
    lj_layer_tensors *layers;                                      // [L]
} lj_checkpoint_tensors;

/* Binds and checks; on failure the message lists every missing, unexpected, misshaped or
 * wrongly typed tensor by name. The caller owns w (weights_unbind); the views stay valid while
 * the st_set is open. */
int weights_bind(const lj_config *c, const st_set *set, lj_checkpoint_tensors *w, char *err, size_t errlen);
void weights_unbind(lj_checkpoint_tensors *w);

#endif
