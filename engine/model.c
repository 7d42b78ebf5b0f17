/* The Jamba forward pass over one batched step: it walks the layers and calls only the backend
 * table (kernels/backend.h). Sequences' new tokens are packed one after another; each layer's
 * per-sequence state pointers come from the lj_state of each step entry. */
#include "engine/model_internal.h"

#include "common/error.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int model_workspace(lj_model *m, size_t T, size_t rows, char *err, size_t errlen);   /* model_load.c */

#define ACT(p, off) ((void *)((char *)(p) + (off) * asz))   /* element offset into an activation */
#define TRY(call) do { if ((call) != 0) { rc = lj_errf(err, errlen, "layer %zu: %s", l, b->err); goto done; } } while (0)
#define TRY_COMM(call) do { if ((call) != 0) { rc = lj_errf(err, errlen, "layer %zu: %s", l, m->comm->err); goto done; } } while (0)

/* Tensor parallel: a row-parallel projection (o_proj, out_proj, down, the experts) leaves partial
 * sums on each rank. They go to ws->mo, are summed over the ranks, then added to the residual.
 * At world 1 the projection accumulates straight into the residual x. */
static void *row_parallel_out(lj_model *m) { return m->comm ? m->ws.mo : m->ws.x; }

static int residual_reduce(lj_model *m, size_t T, size_t l, char *err, size_t errlen) {
    lj_backend *b = m->be;
    const size_t n = T * m->cfg.hidden_size;
    int rc = 0;
    if (!m->comm) return 0;
    TRY_COMM(m->comm->all_reduce_sum(m->comm, m->ws.mo, b->act_dtype, n));
    TRY(b->add(b, &(lj_add_params){.a = m->ws.x, .b = m->ws.mo, .y = m->ws.x, .n = n}));
done:
    return rc;
}

/* Mamba mixer: x += out_proj(scan(conv(in_proj(xn))))   (JambaMambaMixer.slow_forward) */
static int mamba_mixer(lj_model *m, const layer_weights *w, size_t l, const lj_seq_batch *batch, lj_state **states,
                       float **win, float **ssm, char *err, size_t errlen) {
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    workspace *ws = &m->ws;
    const size_t T = batch->n_tokens, D = c->mamba_d_inner, N = c->mamba_d_state, R = c->mamba_dt_rank;
    const size_t XP = R + 2 * N, asz = lj_dtype_size(b->act_dtype);
    int rc = 0;
    for (size_t s = 0; s < batch->n_seqs; s++) { win[s] = states[s]->conv[l]; ssm[s] = states[s]->ssm[l]; }
    // torch: projected = in_proj(x); x, z = projected.chunk(2)            // xz [T, 2D]: x = [:, :D], z = [:, D:]
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xn, .ldx = c->hidden_size, .w = w->in_proj, .bias = w->in_proj_bias,
                                          .y = ws->xz, .ldy = 2 * D, .m = T}));
    // torch: x = silu(conv1d(x)[..., :T]) with the carried window           // xc [T, D]
    TRY(b->conv1d(b, &(lj_conv1d_params){.batch = *batch, .x = ws->xz, .ldx = 2 * D, .weight = w->conv_w,
                                          .bias = w->conv_b, .window = win, .y = ws->xc, .ldy = D, .d = D,
                                          .k = c->mamba_d_conv}));
    // torch: dt, B, C = split(x_proj(x), [R, N, N])                         // dbc [T, R+2N]
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xc, .ldx = D, .w = w->x_proj, .y = ws->dbc, .ldy = XP, .m = T}));
    if (m->comm) TRY_COMM(m->comm->all_reduce_sum(m->comm, ws->dbc, b->act_dtype, T * XP));   // row-parallel
    // torch: dt = dt_layernorm(dt); B = b_layernorm(B); C = c_layernorm(C)  (in place, strided)
    const float eps = (float)c->rms_norm_eps;
    TRY(b->rmsnorm(b, &(lj_rmsnorm_params){.x = ws->dbc, .ldx = XP, .weight = w->dt_norm, .y = ws->dbc, .ldy = XP,
                                            .rows = T, .n = R, .eps = eps}));
    TRY(b->rmsnorm(b, &(lj_rmsnorm_params){.x = ACT(ws->dbc, R), .ldx = XP, .weight = w->b_norm, .y = ACT(ws->dbc, R),
                                            .ldy = XP, .rows = T, .n = N, .eps = eps}));
    TRY(b->rmsnorm(b, &(lj_rmsnorm_params){.x = ACT(ws->dbc, R + N), .ldx = XP, .weight = w->c_norm,
                                            .y = ACT(ws->dbc, R + N), .ldy = XP, .rows = T, .n = N, .eps = eps}));
    // torch: dt_proj.weight @ dt  (its bias goes inside the scan's softplus)  // dt [T, D]
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->dbc, .ldx = XP, .w = w->dt_proj, .y = ws->dt, .ldy = D, .m = T}));
    // torch: selective_scan(x, dt, A, B, C, D, z, delta_bias, delta_softplus=True)   // y [T, D]
    TRY(b->scan(b, &(lj_scan_params){.batch = *batch, .x = ws->xc, .ldx = D, .dt = ws->dt, .lddt = D,
                                      .dt_bias = w->dt_bias, .a_log = w->a_log, .b = ACT(ws->dbc, R), .ldb = XP,
                                      .c = ACT(ws->dbc, R + N), .ldc = XP, .d_skip = w->d_skip, .z = ACT(ws->xz, D),
                                      .ldz = 2 * D, .state = ssm, .y = ws->y, .ldy = D, .d = D, .n = N}));
    // torch: hidden = residual + out_proj(y)                                // x [T, H]
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->y, .ldx = D, .w = w->out_proj, .bias = w->out_proj_bias,
                                          .y = row_parallel_out(m), .ldy = c->hidden_size, .m = T,
                                          .accumulate = !m->comm}));
    rc = residual_reduce(m, T, l, err, errlen);
done:
    return rc;
}

/* Attention mixer: x += o_proj(attn(q(xn), k(xn), v(xn)))   (JambaAttention, no RoPE) */
static int attention_mixer(lj_model *m, const layer_weights *w, size_t l, const lj_seq_batch *batch,
                           lj_state **states, void **kc, void **vc, char *err, size_t errlen) {
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    workspace *ws = &m->ws;
    const size_t T = batch->n_tokens, H = c->hidden_size, Dh = c->head_dim;
    const size_t QD = c->num_attention_heads * Dh, KVD = c->num_key_value_heads * Dh;
    int rc = 0;
    for (size_t s = 0; s < batch->n_seqs; s++) { kc[s] = states[s]->k[l]; vc[s] = states[s]->v[l]; }
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xn, .ldx = H, .w = w->q, .y = ws->q, .ldy = QD, .m = T}));   // [T, QD]
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xn, .ldx = H, .w = w->k, .y = ws->k, .ldy = KVD, .m = T}));  // [T, KVD]
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xn, .ldx = H, .w = w->v, .y = ws->v, .ldy = KVD, .m = T}));  // [T, KVD]
    // torch: softmax(q kᵀ · head_dim^-0.5 + causal) v, k/v repeated over GQA groups   // att [T, QD]
    TRY(b->attention(b, &(lj_attention_params){.batch = *batch, .q = ws->q, .ldq = QD, .k = ws->k, .ldk = KVD,
                                                .v = ws->v, .ldv = KVD, .k_cache = kc, .v_cache = vc, .out = ws->att,
                                                .ldo = QD, .n_heads = c->num_attention_heads,
                                                .n_kv_heads = c->num_key_value_heads, .head_dim = Dh,
                                                .scale = (float)(1.0 / sqrt((double)Dh))}));
    TRY(b->matmul(b, &(lj_matmul_params){.x = ws->att, .ldx = QD, .w = w->o, .y = row_parallel_out(m), .ldy = H,
                                          .m = T, .accumulate = !m->comm}));   // x [T, H] += o_proj(att)
    rc = residual_reduce(m, T, l, err, errlen);
done:
    return rc;
}

/* FFN: x += mlp(xn) (dense SwiGLU) or moe(xn). */
static int ffn(lj_model *m, const layer_weights *w, size_t l, size_t T, char *err, size_t errlen) {
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    workspace *ws = &m->ws;
    const size_t H = c->hidden_size, I = w->moe ? c->intermediate_size : w->gate.rows;   // dense: this rank's share
    int rc = 0;
    if (w->moe) {
        // torch: JambaSparseMoeBlock(xn)                                    // mo [T, H]
        TRY(b->moe(b, &(lj_moe_params){.x = ws->xn, .ldx = H, .router = w->router, .gate = w->e_gate, .up = w->e_up,
                                        .down = w->e_down, .out = ws->mo, .ldo = H, .n_tokens = T,
                                        .n_experts = c->num_experts, .top_k = c->num_experts_per_tok, .hidden = H,
                                        .inter = I}));
        if (m->comm) rc = residual_reduce(m, T, l, err, errlen);   // each rank ran its own experts
        else TRY(b->add(b, &(lj_add_params){.a = ws->x, .b = ws->mo, .y = ws->x, .n = T * H}));
    } else {
        // torch: down_proj(silu(gate_proj(x)) * up_proj(x))
        TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xn, .ldx = H, .w = w->gate, .y = ws->g, .ldy = I, .m = T}));  // [T, I]
        TRY(b->matmul(b, &(lj_matmul_params){.x = ws->xn, .ldx = H, .w = w->up, .y = ws->u, .ldy = I, .m = T}));    // [T, I]
        TRY(b->silu_mul(b, &(lj_silu_mul_params){.a = ws->g, .lda = I, .b = ws->u, .ldb = I, .out = ws->g, .ldo = I,
                                                  .rows = T, .n = I}));
        TRY(b->matmul(b, &(lj_matmul_params){.x = ws->g, .ldx = I, .w = w->down, .y = row_parallel_out(m), .ldy = H,
                                              .m = T, .accumulate = !m->comm}));   // x [T, H]
        rc = residual_reduce(m, T, l, err, errlen);
    }
done:
    return rc;
}

int lj_forward(lj_model *m, lj_seq_step *steps, size_t n_steps, float *logits, float *hidden, char *err,
               size_t errlen) {
    if (m->ranks) return tp_group_forward(m, steps, n_steps, logits, hidden, err, errlen);
    return model_forward(m, steps, n_steps, logits, logits != NULL, hidden, err, errlen);
}

/* Tensor parallel logits: each rank's [rows, V/world] slice, gathered [world, rows, V/world], then
 * laid out [rows, V] on the host (only where logits is wanted). */
static int gather_logits(lj_model *m, size_t rows, float *logits, size_t l, char *err, size_t errlen) {
    lj_backend *b = m->be;
    const size_t Vl = m->lm_head.rows, W = (size_t)m->tp.world;
    int rc = 0;
    float *all = NULL;
    TRY_COMM(m->comm->all_gather(m->comm, m->ws.logits_part, m->ws.logits, b->act_dtype, rows * Vl));
    if (!logits) return 0;
    all = malloc(W * rows * Vl * sizeof *all);
    if (!all) { rc = lj_errf(err, errlen, "logits: out of memory"); goto done; }
    TRY(b->download(b, all, LJ_F32, m->ws.logits, b->act_dtype, W * rows * Vl));
    for (size_t r = 0; r < W; r++)
        for (size_t i = 0; i < rows; i++) memcpy(logits + i * W * Vl + r * Vl, all + (r * rows + i) * Vl, Vl * sizeof *all);
done:
    free(all);
    return rc;
}

int model_forward(lj_model *m, lj_seq_step *steps, size_t n_steps, float *logits, int want_logits, float *hidden,
                  char *err, size_t errlen) {
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    const size_t H = c->hidden_size, V = c->vocab_size, L = c->num_hidden_layers;
    const size_t asz = lj_dtype_size(b->act_dtype);
    if (n_steps == 0) return 0;
    /* Check the whole step before touching any state. */
    size_t T = 0, rows = 0;
    for (size_t s = 0; s < n_steps; s++) {
        const lj_seq_step *st = &steps[s];
        if (!st->state || st->state->m != m) return lj_errf(err, errlen, "forward: entry %zu has no state of this model", s);
        if (st->n_tokens == 0 || !st->tokens) return lj_errf(err, errlen, "forward: entry %zu has no tokens", s);
        if (st->state->len + st->n_tokens > st->state->cap)
            return lj_errf(err, errlen, "forward: entry %zu: %zu + %zu tokens exceed the state's capacity of %zu", s,
                           st->state->len, st->n_tokens, st->state->cap);
        for (size_t q = 0; q < s; q++)
            if (steps[q].state == st->state) return lj_errf(err, errlen, "forward: entries %zu and %zu share a state", q, s);
        for (size_t t = 0; t < st->n_tokens; t++)
            if (st->tokens[t] < 0 || (size_t)st->tokens[t] >= V)
                return lj_errf(err, errlen, "forward: entry %zu token %zu: id %d is outside the vocabulary of %zu", s, t,
                               st->tokens[t], V);
        T += st->n_tokens;
        rows += st->want_all_logits ? st->n_tokens : 1;
    }
    if (model_workspace(m, T, rows, err, errlen)) {
        if (m->comm) m->comm->abort(m->comm, err);   /* the other ranks would wait for this one */
        return -1;
    }
    workspace *ws = &m->ws;
    int rc = 0;
    size_t l = 0;
    /* Host-side per-sequence arrays (the backend copies what it needs). */
    size_t *seq_tokens = malloc(n_steps * sizeof *seq_tokens), *seq_pos = malloc(n_steps * sizeof *seq_pos);
    lj_state **states = malloc(n_steps * sizeof *states);
    void **pa = malloc(2 * n_steps * sizeof *pa);
    float **pf = malloc(2 * n_steps * sizeof *pf);
    if (!seq_tokens || !seq_pos || !states || !pa || !pf) { rc = lj_errf(err, errlen, "forward: out of memory"); goto done; }
    for (size_t s = 0, off = 0; s < n_steps; s++) {
        seq_tokens[s] = steps[s].n_tokens;
        seq_pos[s] = steps[s].state->len;
        states[s] = steps[s].state;
        TRY(b->upload(b, ws->ids + off, LJ_I32, steps[s].tokens, LJ_I32, steps[s].n_tokens));
        off += steps[s].n_tokens;
    }
    lj_seq_batch batch = {.n_seqs = n_steps, .seq_tokens = seq_tokens, .seq_pos = seq_pos, .n_tokens = T};

    // torch: hidden = embed_tokens(input_ids)                               // x [T, H]
    TRY(b->embedding(b, &(lj_embedding_params){.ids = ws->ids, .table = m->embed, .out = ws->x, .n_tokens = T}));
    if (hidden) TRY(b->download(b, hidden, LJ_F32, ws->x, b->act_dtype, T * H));
    for (l = 0; l < L; l++) {
        const layer_weights *w = &m->layers[l];
        // torch: residual + mixer(input_layernorm(x))                       // xn [T, H]
        TRY(b->rmsnorm(b, &(lj_rmsnorm_params){.x = ws->x, .ldx = H, .weight = w->input_norm, .y = ws->xn, .ldy = H,
                                                .rows = T, .n = H, .eps = (float)c->rms_norm_eps}));
        if (w->attention) rc = attention_mixer(m, w, l, &batch, states, pa, pa + n_steps, err, errlen);
        else rc = mamba_mixer(m, w, l, &batch, states, pf, pf + n_steps, err, errlen);
        if (rc) goto done;
        // torch: residual + ffn(pre_ff_layernorm(x))
        TRY(b->rmsnorm(b, &(lj_rmsnorm_params){.x = ws->x, .ldx = H, .weight = w->pre_ff_norm, .y = ws->xn, .ldy = H,
                                                .rows = T, .n = H, .eps = (float)c->rms_norm_eps}));
        if (ffn(m, w, l, T, err, errlen)) { rc = -1; goto done; }
        if (hidden) TRY(b->download(b, hidden + (l + 1) * T * H, LJ_F32, ws->x, b->act_dtype, T * H));
    }
    // torch: logits = lm_head(final_layernorm(x)), only the rows asked for  // logits [rows, V]
    TRY(b->rmsnorm(b, &(lj_rmsnorm_params){.x = ws->x, .ldx = H, .weight = m->final_norm, .y = ws->xn, .ldy = H,
                                            .rows = T, .n = H, .eps = (float)c->rms_norm_eps}));
    if (want_logits) {
        /* this rank's vocabulary rows (all of them at world 1) */
        const size_t Vl = m->lm_head.rows;
        void *dst = m->comm ? ws->logits_part : ws->logits;   // [rows, Vl]
        size_t row = 0, out = 0;
        for (size_t s = 0; s < n_steps; s++) {
            size_t first = steps[s].want_all_logits ? row : row + steps[s].n_tokens - 1;
            size_t n = steps[s].want_all_logits ? steps[s].n_tokens : 1;
            TRY(b->matmul(b, &(lj_matmul_params){.x = ACT(ws->xn, first * H), .ldx = H, .w = m->lm_head,
                                                  .y = ACT(dst, out * Vl), .ldy = Vl, .m = n}));
            row += steps[s].n_tokens;
            out += n;
        }
        if (m->comm) { if (gather_logits(m, rows, logits, l, err, errlen)) { rc = -1; goto done; } }
        else if (logits) TRY(b->download(b, logits, LJ_F32, ws->logits, b->act_dtype, rows * V));
    }
    TRY(b->sync(b));
    for (size_t s = 0; s < n_steps; s++) steps[s].state->len += steps[s].n_tokens;
done:
    /* a rank that fails mid-step must not leave the others waiting in a collective */
    if (rc && m->comm) m->comm->abort(m->comm, err);
    free(seq_tokens);
    free(seq_pos);
    free(states);
    free(pa);
    free(pf);
    return rc;
}

int lj_prefill(lj_model *m, lj_state *s, const int32_t *tokens, size_t n, size_t chunk, int all_logits,
               float *logits, char *err, size_t errlen) {
    if (n == 0) return lj_errf(err, errlen, "prefill: empty prompt");
    if (chunk == 0 || chunk > n) chunk = n;
    const size_t V = m->cfg.vocab_size;
    for (size_t i = 0; i < n; i += chunk) {
        size_t len = n - i < chunk ? n - i : chunk;
        int last = i + len == n;
        lj_seq_step st = {.state = s, .tokens = tokens + i, .n_tokens = len, .want_all_logits = all_logits};
        float *dst = NULL;
        if (logits && all_logits) dst = logits + i * V;
        else if (logits && last) dst = logits;
        if (lj_forward(m, &st, 1, dst, NULL, err, errlen)) return lj_err_prefix(err, errlen, "prefill at token %zu", i);
    }
    return 0;
}
