/* lj_model_load: config.json → backend → bind every checkpoint tensor (errors before any upload)
 * → upload/convert each weight into backend memory. The mapped files are closed afterwards. */
#include "engine/model_internal.h"

#include "common/error.h"
#include "common/util.h"
#include "engine/safetensors.h"
#include "engine/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lj_dtype lj_of_st(st_dtype t) {
    switch (t) {
    case ST_BF16: return LJ_BF16;
    case ST_F16: return LJ_F16;
    default: return LJ_F32;   /* binding admits only F32/BF16/F16 */
    }
}

/* Uploads n elements at src (checkpoint dtype st) as dtype `to`; *out owns a new backend buffer. */
static int upload(lj_model *m, const char *name, const void *src, st_dtype st, size_t n, lj_dtype to, void **out,
                  char *err, size_t errlen) {
    lj_backend *b = m->be;
    if (m->n_allocs == m->cap_allocs) {
        size_t nc = m->cap_allocs ? 2 * m->cap_allocs : 256;
        void **na = realloc(m->allocs, nc * sizeof *na);
        if (!na) return lj_errf(err, errlen, "%s: out of memory", name);
        m->allocs = na;
        m->cap_allocs = nc;
    }
    size_t bytes;
    if (!lj_mul_ok(n, lj_dtype_size(to), &bytes)) return lj_errf(err, errlen, "%s: size overflows", name);
    void *p;
    if (b->alloc(b, bytes, &p)) return lj_errf(err, errlen, "%s: %s", name, b->err);
    m->allocs[m->n_allocs++] = p;
    if (b->upload(b, p, to, src, lj_of_st(st), n)) return lj_errf(err, errlen, "%s: %s", name, b->err);
    m->weight_bytes += bytes;
    *out = p;
    return 0;
}

static int up_vec(lj_model *m, const st_tensor *t, float **out, char *err, size_t errlen) {
    if (!t) { *out = NULL; return 0; }
    void *p;
    if (upload(m, t->name, t->data, t->dtype, t->numel, LJ_F32, &p, err, errlen)) return -1;
    *out = p;
    return 0;
}

/* A [rows, cols] matrix view of n = rows*cols elements starting at element `first` of t. */
static int up_mat_part(lj_model *m, const st_tensor *t, size_t first, size_t rows, size_t cols, lj_tensor *out,
                       char *err, size_t errlen) {
    void *p;
    const char *src = (const char *)t->data + first * st_dtype_size(t->dtype);
    if (upload(m, t->name, src, t->dtype, rows * cols, m->be->weight_dtype, &p, err, errlen)) return -1;
    *out = (lj_tensor){.data = p, .dtype = m->be->weight_dtype, .rows = rows, .cols = cols};
    return 0;
}

static int up_mat(lj_model *m, const st_tensor *t, lj_tensor *out, char *err, size_t errlen) {
    return up_mat_part(m, t, 0, t->shape[0], t->numel / (t->shape[0] ? t->shape[0] : 1), out, err, errlen);
}

static int upload_layer(lj_model *m, const lj_layer_tensors *t, layer_weights *w, char *err, size_t errlen) {
    const lj_config *c = &m->cfg;
    const size_t E = c->num_experts, I = c->intermediate_size, H = c->hidden_size;
    w->attention = t->attention;
    w->moe = t->moe;
    int rc = up_vec(m, t->input_norm, &w->input_norm, err, errlen) || up_vec(m, t->pre_ff_norm, &w->pre_ff_norm, err, errlen);
    if (t->attention) {
        rc = rc || up_mat(m, t->q, &w->q, err, errlen) || up_mat(m, t->k, &w->k, err, errlen) ||
             up_mat(m, t->v, &w->v, err, errlen) || up_mat(m, t->o, &w->o, err, errlen);
    } else {
        rc = rc || up_mat(m, t->in_proj, &w->in_proj, err, errlen) || up_vec(m, t->in_proj_bias, &w->in_proj_bias, err, errlen) ||
             up_vec(m, t->conv_w, &w->conv_w, err, errlen) || up_vec(m, t->conv_b, &w->conv_b, err, errlen) ||
             up_mat(m, t->x_proj, &w->x_proj, err, errlen) || up_mat(m, t->dt_proj, &w->dt_proj, err, errlen) ||
             up_vec(m, t->dt_proj_bias, &w->dt_bias, err, errlen) || up_vec(m, t->a_log, &w->a_log, err, errlen) ||
             up_vec(m, t->d_skip, &w->d_skip, err, errlen) || up_mat(m, t->out_proj, &w->out_proj, err, errlen) ||
             up_vec(m, t->out_proj_bias, &w->out_proj_bias, err, errlen) || up_vec(m, t->dt_norm, &w->dt_norm, err, errlen) ||
             up_vec(m, t->b_norm, &w->b_norm, err, errlen) || up_vec(m, t->c_norm, &w->c_norm, err, errlen);
    }
    if (rc) return -1;
    if (!t->moe)
        return up_mat(m, t->gate, &w->gate, err, errlen) || up_mat(m, t->up, &w->up, err, errlen) ||
               up_mat(m, t->down, &w->down, err, errlen) ? -1 : 0;
    if (up_mat(m, t->router, &w->router, err, errlen)) return -1;
    w->e_gate = lj_calloc(E, sizeof *w->e_gate);
    w->e_up = lj_calloc(E, sizeof *w->e_up);
    w->e_down = lj_calloc(E, sizeof *w->e_down);
    if (!w->e_gate || !w->e_up || !w->e_down) return lj_errf(err, errlen, "out of memory for %zu experts", E);
    for (size_t e = 0; e < E; e++) {
        if (t->fused_gate_up) {
            /* transformers v5: gate_up_proj [E, 2I, H] (gate rows first), down_proj [E, H, I] */
            if (up_mat_part(m, t->fused_gate_up, e * 2 * I * H, I, H, &w->e_gate[e], err, errlen) ||
                up_mat_part(m, t->fused_gate_up, e * 2 * I * H + I * H, I, H, &w->e_up[e], err, errlen) ||
                up_mat_part(m, t->fused_down, e * H * I, H, I, &w->e_down[e], err, errlen))
                return -1;
        } else if (up_mat(m, t->e_gate[e], &w->e_gate[e], err, errlen) || up_mat(m, t->e_up[e], &w->e_up[e], err, errlen) ||
                   up_mat(m, t->e_down[e], &w->e_down[e], err, errlen)) {
            return -1;
        }
    }
    return 0;
}

int lj_model_load(const char *dir, const lj_load_opts *opts, lj_model **out, char *err, size_t errlen) {
    *out = NULL;
    lj_load_opts def = {0};
    if (!opts) opts = &def;
    lj_model *m = lj_calloc(1, sizeof *m);
    if (!m) return lj_errf(err, errlen, "out of memory");
    st_set *set = NULL;
    lj_checkpoint_tensors ct = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (config_load(path, &m->cfg, err, errlen)) goto fail;
    if (generation_config_load(dir, &m->cfg, &m->gen, err, errlen)) goto fail;
    if (st_set_open(dir, &set, err, errlen)) goto fail;
    if (weights_bind(&m->cfg, set, &ct, err, errlen)) { lj_err_prefix(err, errlen, "%s", dir); goto fail; }

    const char *dev = opts->device ? opts->device : "cpu";
    if (!strcmp(dev, "cpu")) {
        if (lj_backend_cpu_new(opts->threads, &m->be, err, errlen)) goto fail;
    } else if (!strcmp(dev, "cuda")) {
#ifdef LONGJAM_HAVE_CUDA
        if (lj_backend_cuda_new(opts->gpu, &m->be, err, errlen)) goto fail;
#else
        lj_errf(err, errlen, "device \"cuda\": this longjam was built without the CUDA backend");
        goto fail;
#endif
    } else {
        lj_errf(err, errlen, "unknown device \"%s\" (expected cpu or cuda)", dev);
        goto fail;
    }

    const lj_config *c = &m->cfg;
    m->layers = lj_calloc(c->num_hidden_layers, sizeof *m->layers);
    if (!m->layers) { lj_errf(err, errlen, "out of memory"); goto fail; }
    if (up_mat(m, ct.embed, &m->embed, err, errlen) || up_vec(m, ct.final_norm, &m->final_norm, err, errlen)) goto fail;
    if (c->tie_word_embeddings) m->lm_head = m->embed;
    else if (up_mat(m, ct.lm_head, &m->lm_head, err, errlen)) goto fail;
    for (size_t l = 0; l < c->num_hidden_layers; l++)
        if (upload_layer(m, &ct.layers[l], &m->layers[l], err, errlen)) goto fail;
    if (m->be->sync(m->be)) { lj_errf(err, errlen, "%s", m->be->err); goto fail; }
    weights_unbind(&ct);
    st_set_close(set);
    *out = m;
    return 0;
fail:
    weights_unbind(&ct);
    st_set_close(set);
    lj_model_free(m);
    return -1;
}

static void ws_free(lj_model *m) {
    lj_backend *b = m->be;
    workspace *w = &m->ws;
    void *bufs[] = {w->ids, w->x, w->xn, w->q, w->k, w->v, w->att, w->xz, w->xc, w->dbc, w->dt, w->y,
                    w->g, w->u, w->mo, w->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) b->free(b, bufs[i]);
    memset(w, 0, sizeof *w);
}

void lj_model_free(lj_model *m) {
    if (!m) return;
    if (m->be) {
        ws_free(m);
        for (size_t i = 0; i < m->n_allocs; i++) m->be->free(m->be, m->allocs[i]);
    }
    for (size_t l = 0; m->layers && l < m->cfg.num_hidden_layers; l++) {
        free(m->layers[l].e_gate);
        free(m->layers[l].e_up);
        free(m->layers[l].e_down);
    }
    free(m->layers);
    free(m->allocs);
    if (m->be) m->be->destroy(m->be);
    free(m);
}

/* Grows the workspace for a step of T tokens and `rows` logits rows. */
int model_workspace(lj_model *m, size_t T, size_t rows, char *err, size_t errlen) {
    workspace *w = &m->ws;
    if (T <= w->cap_tokens && rows <= w->cap_rows) return 0;
    if (T < w->cap_tokens) T = w->cap_tokens;
    if (rows < w->cap_rows) rows = w->cap_rows;
    ws_free(m);
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    const size_t a = lj_dtype_size(b->act_dtype), H = c->hidden_size, D = c->mamba_d_inner;
    const size_t QD = c->num_attention_heads * c->head_dim, KVD = c->num_key_value_heads * c->head_dim;
    const size_t XP = c->mamba_dt_rank + 2 * c->mamba_d_state, I = c->intermediate_size;
    struct { void **p; size_t elems, esize; } plan[] = {
        {(void **)&w->ids, T, 4}, {&w->x, T * H, a}, {&w->xn, T * H, a}, {&w->q, T * QD, a}, {&w->k, T * KVD, a},
        {&w->v, T * KVD, a}, {&w->att, T * QD, a}, {&w->xz, T * 2 * D, a}, {&w->xc, T * D, a}, {&w->dbc, T * XP, a},
        {&w->dt, T * D, a}, {&w->y, T * D, a}, {&w->g, T * I, a}, {&w->u, T * I, a}, {&w->mo, T * H, a},
        {&w->logits, rows * c->vocab_size, a},
    };
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        size_t bytes;
        if (!lj_mul_ok(plan[i].elems, plan[i].esize, &bytes) || b->alloc(b, bytes, plan[i].p)) {
            ws_free(m);
            return lj_errf(err, errlen, "workspace for %zu tokens: %s", T, b->err);
        }
    }
    w->cap_tokens = T;
    w->cap_rows = rows;
    return 0;
}

const lj_config *lj_model_config(const lj_model *m) { return &m->cfg; }
const char *lj_model_backend_name(const lj_model *m) { return m->be->name; }
const lj_generation_config *lj_model_generation_config(const lj_model *m) { return &m->gen; }

void lj_config_sizes(const lj_config *c, size_t dtype_bytes, lj_model_sizes *o) {
    memset(o, 0, sizeof *o);
    const size_t H = c->hidden_size, V = c->vocab_size, I = c->intermediate_size, D = c->mamba_d_inner;
    const size_t N = c->mamba_d_state, R = c->mamba_dt_rank, K = c->mamba_d_conv, E = c->num_experts;
    const size_t QD = c->num_attention_heads * c->head_dim, KVD = c->num_key_value_heads * c->head_dim;
    size_t total = V * H + H + (c->tie_word_embeddings ? 0 : V * H), active = total;
    for (size_t l = 0; l < c->num_hidden_layers; l++) {
        size_t mixer, ffn_total, ffn_active;
        if (config_layer_is_attention(c, l)) {
            mixer = 2 * QD * H + 2 * KVD * H;
            o->kv_bytes_per_token += 2 * KVD * 4;
        } else {
            mixer = 2 * D * H + D * K + (R + 2 * N) * D + D * R + D + D * N + D + H * D + R + 2 * N;
            if (c->mamba_conv_bias) mixer += D;
            if (c->mamba_proj_bias) mixer += 2 * D + H;
            o->state_bytes_per_seq += ((K - 1) * D + D * N) * 4;
        }
        if (config_layer_is_moe(c, l)) {
            ffn_total = E * H + E * 3 * I * H;
            ffn_active = E * H + c->num_experts_per_tok * 3 * I * H;
        } else {
            ffn_total = ffn_active = 3 * I * H;
        }
        total += 2 * H + mixer + ffn_total;
        active += 2 * H + mixer + ffn_active;
    }
    o->params_total = total;
    o->params_active = active;
    o->weight_bytes = total * dtype_bytes;
}

void lj_model_sizes_of(const lj_model *m, lj_model_sizes *o) {
    lj_config_sizes(&m->cfg, lj_dtype_size(m->be->weight_dtype), o);
    o->weight_bytes = m->weight_bytes;
    size_t kvs = lj_dtype_size(m->be->kv_dtype);
    o->kv_bytes_per_token = o->kv_bytes_per_token / 4 * kvs;
}
