/* Sequence state: per attention layer a KV cache [cap, KVD] x2, per Mamba layer a conv window
 * [K-1, D] and an SSM state [D, N], all in backend memory and zeroed at creation. */
#include "engine/model_internal.h"

#include "common/error.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

void lj_state_free(lj_state *s) {
    if (!s) return;
    if (s->ranks) { tp_state_free(s); return; }
    lj_backend *b = s->m->be;
    s->m->state_bytes_live -= s->bytes;
    for (size_t l = 0; l < s->m->cfg.num_hidden_layers; l++) {
        if (s->k && s->k[l]) b->free(b, s->k[l]);
        if (s->v && s->v[l]) b->free(b, s->v[l]);
        if (s->conv && s->conv[l]) b->free(b, s->conv[l]);
        if (s->ssm && s->ssm[l]) b->free(b, s->ssm[l]);
    }
    free(s->k);
    free(s->v);
    free(s->conv);
    free(s->ssm);
    free(s);
}

/* Bytes of each per-layer buffer for capacity cap. */
static void layer_bytes(const lj_model *m, size_t cap, size_t *kv, size_t *conv, size_t *ssm) {
    const lj_config *c = &m->cfg;
    *kv = cap * c->num_key_value_heads * c->head_dim * lj_dtype_size(m->be->kv_dtype);
    *conv = (c->mamba_d_conv - 1) * c->mamba_d_inner * lj_dtype_size(m->be->state_dtype);
    *ssm = c->mamba_d_inner * c->mamba_d_state * lj_dtype_size(m->be->state_dtype);
}

int lj_state_new(lj_model *m, size_t max_tokens, lj_state **out, char *err, size_t errlen) {
    *out = NULL;
    if (max_tokens == 0) return lj_errf(err, errlen, "state: capacity must be at least 1 token");
    if (m->ranks) return tp_state_new(m, max_tokens, NULL, out, err, errlen);
    const lj_config *c = &m->cfg;
    lj_backend *b = m->be;
    size_t kvb, convb, ssmb;
    size_t chk;
    if (!lj_mul_ok(max_tokens, c->num_key_value_heads * c->head_dim * 8, &chk))
        return lj_errf(err, errlen, "state: %zu tokens overflow the KV cache size", max_tokens);
    layer_bytes(m, max_tokens, &kvb, &convb, &ssmb);
    /* the memory plan first: a state it has no room for is refused before any allocation */
    size_t bytes = lj_plan_state_bytes_of(m, max_tokens);
    char what[96];
    snprintf(what, sizeof what, "a state of %zu tokens", max_tokens);
    if (plan_model_reserve(m, bytes, what, err, errlen)) return -1;
    lj_state *s = lj_calloc(1, sizeof *s);
    if (!s) return lj_errf(err, errlen, "state: out of memory");
    s->m = m;
    s->cap = max_tokens;
    s->bytes = bytes;
    m->state_bytes_live += bytes;
    size_t L = c->num_hidden_layers;
    s->k = lj_calloc(L, sizeof *s->k);
    s->v = lj_calloc(L, sizeof *s->v);
    s->conv = lj_calloc(L, sizeof *s->conv);
    s->ssm = lj_calloc(L, sizeof *s->ssm);
    if (!s->k || !s->v || !s->conv || !s->ssm) { lj_state_free(s); return lj_errf(err, errlen, "state: out of memory"); }
    for (size_t l = 0; l < L; l++) {
        int rc;
        if (config_layer_is_attention(c, l))
            rc = b->alloc(b, kvb, &s->k[l]) || b->alloc(b, kvb, &s->v[l]);
        else
            rc = b->alloc(b, convb ? convb : 1, (void **)&s->conv[l]) || b->alloc(b, ssmb, (void **)&s->ssm[l]);
        if (rc) {
            lj_errf(err, errlen, "state for %zu tokens, layer %zu: %s", max_tokens, l, b->err);
            lj_state_free(s);
            return -1;
        }
        /* alloc zeroes: an empty window and a zero SSM state, as transformers starts */
    }
    *out = s;
    return 0;
}

int lj_state_fork(const lj_state *src, lj_state **out, char *err, size_t errlen) {
    lj_model *m = src->m;
    if (src->ranks) return tp_state_new(m, src->cap, src, out, err, errlen);
    lj_backend *b = m->be;
    if (lj_state_new(m, src->cap, out, err, errlen)) return -1;
    lj_state *s = *out;
    size_t kvb, convb, ssmb;
    layer_bytes(m, src->len, &kvb, &convb, &ssmb);   /* only the filled KV rows */
    for (size_t l = 0; l < m->cfg.num_hidden_layers; l++) {
        int rc = 0;
        if (src->k[l]) rc = (kvb && b->copy(b, s->k[l], src->k[l], kvb)) || (kvb && b->copy(b, s->v[l], src->v[l], kvb));
        else rc = (convb && b->copy(b, s->conv[l], src->conv[l], convb)) || b->copy(b, s->ssm[l], src->ssm[l], ssmb);
        if (rc) {
            lj_errf(err, errlen, "state fork, layer %zu: %s", l, b->err);
            lj_state_free(s);
            *out = NULL;
            return -1;
        }
    }
    s->len = src->len;
    return 0;
}

size_t lj_state_length(const lj_state *s) { return s->len; }
size_t lj_state_capacity(const lj_state *s) { return s->cap; }
