/* Weight binding: builds the list of tensors the config implies (Hugging Face names), looks each
 * up, and checks shape and dtype; then flags every checkpoint tensor nobody asked for. */
#include "engine/weights.h"

#include "common/error.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct expect {
    char *name;
    size_t ndim, shape[3];
    const st_tensor **slot;
    bool optional;   /* accepted when present, not required (lm_head when tied) */
} expect;

typedef struct binder {
    expect *e;
    size_t n, cap;
    char *msg;       /* accumulated problems */
    size_t msg_len, msg_cap, n_problems;
    bool oom;
} binder;

static void add(binder *b, const st_tensor **slot, bool optional, size_t ndim, size_t d0, size_t d1, size_t d2,
                const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static void add(binder *b, const st_tensor **slot, bool optional, size_t ndim, size_t d0, size_t d1, size_t d2,
                const char *fmt, ...) {
    if (b->n == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 64;
        expect *ne = realloc(b->e, nc * sizeof *ne);
        if (!ne) { b->oom = true; return; }
        b->e = ne;
        b->cap = nc;
    }
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    expect *e = &b->e[b->n++];
    e->name = strdup(name);
    e->ndim = ndim;
    e->shape[0] = d0;
    e->shape[1] = d1;
    e->shape[2] = d2;
    e->slot = slot;
    e->optional = optional;
}

static void problem(binder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(binder *b, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0) return;
    if ((size_t)len >= sizeof line) len = sizeof line - 1;
    size_t need = b->msg_len + (size_t)len + 3;
    if (need > b->msg_cap) {
        size_t nc = need * 2;
        char *nm = realloc(b->msg, nc);
        if (!nm) { b->oom = true; return; }
        b->msg = nm;
        b->msg_cap = nc;
    }
    if (b->msg_len) { memcpy(b->msg + b->msg_len, "; ", 2); b->msg_len += 2; }
    memcpy(b->msg + b->msg_len, line, (size_t)len);
    b->msg_len += (size_t)len;
    b->msg[b->msg_len] = '\0';
    b->n_problems++;
}

static void shape_str(char *buf, size_t n, const size_t *shape, size_t ndim) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (size_t i = 0; i < ndim && o < n; i++) o += (size_t)snprintf(buf + o, n - o, i ? ", %zu" : "%zu", shape[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

static int cmp_expect(const void *a, const void *b) {
    return strcmp(((const expect *)a)->name, ((const expect *)b)->name);
}

void weights_unbind(lj_checkpoint_tensors *w) {
    if (!w) return;
    for (size_t i = 0; w->layers && i < w->n_layers; i++) {
        free(w->layers[i].e_gate);
        free(w->layers[i].e_up);
        free(w->layers[i].e_down);
    }
    free(w->layers);
    memset(w, 0, sizeof *w);
}

int weights_bind(const lj_config *c, const st_set *set, lj_checkpoint_tensors *w, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    const size_t H = c->hidden_size, V = c->vocab_size, I = c->intermediate_size, L = c->num_hidden_layers;
    const size_t D = c->mamba_d_inner, N = c->mamba_d_state, R = c->mamba_dt_rank, K = c->mamba_d_conv;
    const size_t E = c->num_experts, Dh = c->head_dim;
    const size_t QD = c->num_attention_heads * Dh, KVD = c->num_key_value_heads * Dh;
    w->n_layers = L;
    w->layers = lj_calloc(L, sizeof *w->layers);
    if (!w->layers) return lj_errf(err, errlen, "out of memory binding %zu layers", L);
    binder b = {0};

    add(&b, &w->embed, false, 2, V, H, 0, "model.embed_tokens.weight");
    add(&b, &w->final_norm, false, 1, H, 0, 0, "model.final_layernorm.weight");
    /* Tied checkpoints may still carry lm_head.weight; it is then accepted and unused. */
    add(&b, &w->lm_head, c->tie_word_embeddings, 2, V, H, 0, "lm_head.weight");

    for (size_t l = 0; l < L; l++) {
        lj_layer_tensors *t = &w->layers[l];
        t->attention = config_layer_is_attention(c, l);
        t->moe = config_layer_is_moe(c, l);
        const char *p = "model.layers";
        add(&b, &t->input_norm, false, 1, H, 0, 0, "%s.%zu.input_layernorm.weight", p, l);
        add(&b, &t->pre_ff_norm, false, 1, H, 0, 0, "%s.%zu.pre_ff_layernorm.weight", p, l);
        if (t->attention) {
            add(&b, &t->q, false, 2, QD, H, 0, "%s.%zu.self_attn.q_proj.weight", p, l);
            add(&b, &t->k, false, 2, KVD, H, 0, "%s.%zu.self_attn.k_proj.weight", p, l);
            add(&b, &t->v, false, 2, KVD, H, 0, "%s.%zu.self_attn.v_proj.weight", p, l);
            add(&b, &t->o, false, 2, H, QD, 0, "%s.%zu.self_attn.o_proj.weight", p, l);
        } else {
            add(&b, &t->in_proj, false, 2, 2 * D, H, 0, "%s.%zu.mamba.in_proj.weight", p, l);
            if (c->mamba_proj_bias) add(&b, &t->in_proj_bias, false, 1, 2 * D, 0, 0, "%s.%zu.mamba.in_proj.bias", p, l);
            add(&b, &t->conv_w, false, 3, D, 1, K, "%s.%zu.mamba.conv1d.weight", p, l);
            if (c->mamba_conv_bias) add(&b, &t->conv_b, false, 1, D, 0, 0, "%s.%zu.mamba.conv1d.bias", p, l);
            add(&b, &t->x_proj, false, 2, R + 2 * N, D, 0, "%s.%zu.mamba.x_proj.weight", p, l);
            add(&b, &t->dt_proj, false, 2, D, R, 0, "%s.%zu.mamba.dt_proj.weight", p, l);
            add(&b, &t->dt_proj_bias, false, 1, D, 0, 0, "%s.%zu.mamba.dt_proj.bias", p, l);
            add(&b, &t->a_log, false, 2, D, N, 0, "%s.%zu.mamba.A_log", p, l);
            add(&b, &t->d_skip, false, 1, D, 0, 0, "%s.%zu.mamba.D", p, l);
            add(&b, &t->out_proj, false, 2, H, D, 0, "%s.%zu.mamba.out_proj.weight", p, l);
            if (c->mamba_proj_bias) add(&b, &t->out_proj_bias, false, 1, H, 0, 0, "%s.%zu.mamba.out_proj.bias", p, l);
            add(&b, &t->dt_norm, false, 1, R, 0, 0, "%s.%zu.mamba.dt_layernorm.weight", p, l);
            add(&b, &t->b_norm, false, 1, N, 0, 0, "%s.%zu.mamba.b_layernorm.weight", p, l);
            add(&b, &t->c_norm, false, 1, N, 0, 0, "%s.%zu.mamba.c_layernorm.weight", p, l);
        }
        if (t->moe) {
            add(&b, &t->router, false, 2, E, H, 0, "%s.%zu.feed_forward.router.weight", p, l);
            char fused[256];
            snprintf(fused, sizeof fused, "%s.%zu.feed_forward.experts.gate_up_proj", p, l);
            if (st_set_find(set, fused)) {
                add(&b, &t->fused_gate_up, false, 3, E, 2 * I, H, "%s", fused);
                add(&b, &t->fused_down, false, 3, E, H, I, "%s.%zu.feed_forward.experts.down_proj", p, l);
            } else {
                t->e_gate = lj_calloc(E, sizeof *t->e_gate);
                t->e_up = lj_calloc(E, sizeof *t->e_up);
                t->e_down = lj_calloc(E, sizeof *t->e_down);
                if (!t->e_gate || !t->e_up || !t->e_down) { b.oom = true; break; }
                for (size_t e = 0; e < E; e++) {
                    add(&b, &t->e_gate[e], false, 2, I, H, 0, "%s.%zu.feed_forward.experts.%zu.gate_proj.weight", p, l, e);
                    add(&b, &t->e_up[e], false, 2, I, H, 0, "%s.%zu.feed_forward.experts.%zu.up_proj.weight", p, l, e);
                    add(&b, &t->e_down[e], false, 2, H, I, 0, "%s.%zu.feed_forward.experts.%zu.down_proj.weight", p, l, e);
                }
            }
        } else {
            add(&b, &t->gate, false, 2, I, H, 0, "%s.%zu.feed_forward.gate_proj.weight", p, l);
            add(&b, &t->up, false, 2, I, H, 0, "%s.%zu.feed_forward.up_proj.weight", p, l);
            add(&b, &t->down, false, 2, H, I, 0, "%s.%zu.feed_forward.down_proj.weight", p, l);
        }
    }

    /* Look every expected tensor up. */
    for (size_t i = 0; i < b.n && !b.oom; i++) {
        expect *e = &b.e[i];
        const st_tensor *t = st_set_find(set, e->name);
        char want[96], got[96];
        if (!t) {
            if (!e->optional) problem(&b, "missing tensor %s", e->name);
            continue;
        }
        bool shape_ok = t->ndim == e->ndim;
        for (size_t d = 0; shape_ok && d < e->ndim; d++) shape_ok = t->shape[d] == e->shape[d];
        if (!shape_ok) {
            shape_str(want, sizeof want, e->shape, e->ndim);
            shape_str(got, sizeof got, t->shape, t->ndim);
            problem(&b, "tensor %s (%s) has shape %s, expected %s", e->name, t->file, got, want);
            continue;
        }
        if (t->dtype != ST_F32 && t->dtype != ST_BF16 && t->dtype != ST_F16) {
            problem(&b, "tensor %s (%s) has dtype %s, expected F32, BF16 or F16", e->name, t->file,
                    st_dtype_name(t->dtype));
            continue;
        }
        *e->slot = t;
    }
    /* Anything the config does not imply. */
    qsort(b.e, b.n, sizeof *b.e, cmp_expect);
    size_t n_all = st_set_count(set);
    for (size_t i = 0; i < n_all && !b.oom; i++) {
        const st_tensor *t = st_set_at(set, i);
        expect key = {.name = (char *)t->name};
        if (!bsearch(&key, b.e, b.n, sizeof *b.e, cmp_expect))
            problem(&b, "unexpected tensor %s (%s)", t->name, t->file);
    }
    int rc = 0;
    if (b.oom) rc = lj_errf(err, errlen, "out of memory while binding weights");
    else if (b.n_problems)
        rc = lj_errf(err, errlen, "checkpoint does not match config.json (%zu problem%s): %s", b.n_problems,
                     b.n_problems == 1 ? "" : "s", b.msg);
    for (size_t i = 0; i < b.n; i++) free(b.e[i].name);
    free(b.e);
    free(b.msg);
    if (rc) weights_unbind(w);
    return rc;
}
