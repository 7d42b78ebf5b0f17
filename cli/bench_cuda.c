/* longjam bench --device cuda: GPU throughput of the Jamba forward with synthetic weights of a named
 * shape, created on the GPU from a seeded RNG (no checkpoint), and per-op timings (--op).
 *
 * The forward here walks the layers over the CUDA backend's op table (kernels/backend.h) the way
 * the engine does, with the bench's own weight layout (fused qkv and gate|up projections), so it
 * measures the backend without a checkpoint. Figures printed per context length: prefill tokens/s
 * (chunked prefill of one sequence), decode tokens/s at each batch size (sequences forked from the
 * prefilled one), peak GPU memory in use, achieved prefill TFLOP/s and its ratio to a cuBLAS bf16
 * GEMM (8192³) timed in the same run. Called from cli/bench_model.c for `--device cuda`. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int bench_cuda_main(int argc, char **argv);

#include "kernels/backend.h"
#include "kernels/backend_open.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_plugin.h"

/* The CUDA plugin's extras (fills, timers, device figures), set by bench_cuda_main once the
 * plugin is loaded: this file links no CUDA. */
static const ljc_api *ljc;

/* ---- shape ------------------------------------------------------------------------------- */

typedef struct bshape {
    char name[64];
    size_t vocab, hidden, inter, layers, heads, kv_heads, head_dim, experts, topk;
    size_t attn_period, attn_offset, expert_period, expert_offset;
    size_t d_state, d_conv, expand, dt_rank, d_inner;
    int conv_bias;
    double eps;
} bshape;

static void shape_mini(bshape *s) {
    /* ai21labs/AI21-Jamba-1.5-Mini config.json (same shape as Jamba-v0.1) */
    *s = (bshape){"jamba-1.5-mini", 65536, 4096, 14336, 32, 32, 8, 128, 16, 2, 8, 4, 2, 1, 16, 4, 2, 256, 8192, 1, 1e-6};
}
static void shape_large(bshape *s) {
    /* ai21labs/AI21-Jamba-1.5-Large config.json: hidden 8192, 72 layers, 64/8 heads, 24576 FFN,
     * dt_rank "auto" = ceil(8192/16) */
    *s = (bshape){"jamba-1.5-large", 65536, 8192, 24576, 72, 64, 8, 128, 16, 2, 8, 4, 2, 1, 16, 4, 2, 512, 16384, 1, 1e-6};
}

/* A number in a flat config.json ("key": value); dflt when absent or null. */
static double json_num(const char *js, const char *key, double dflt) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(js, pat);
    if (!p) return dflt;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':') p++;
    if (!strncmp(p, "true", 4)) return 1;
    if (!strncmp(p, "false", 5)) return 0;
    char *end;
    double v = strtod(p, &end);
    return end == p ? dflt : v;
}

static int shape_load(const char *arg, bshape *s) {
    if (!strcmp(arg, "jamba-1.5-mini") || !strcmp(arg, "jamba-v0.1")) { shape_mini(s); return 0; }
    if (!strcmp(arg, "jamba-1.5-large")) { shape_large(s); return 0; }
    size_t len;
    char rerr[256];
    char *js = lj_read_file(arg, &len, rerr, sizeof rerr);
    if (!js) { fprintf(stderr, "bench: --shape %s: not a named shape (jamba-1.5-mini, jamba-1.5-large) and not a readable config.json: %s\n", arg, rerr); return -1; }
    snprintf(s->name, sizeof s->name, "%s", arg);
    s->vocab = (size_t)json_num(js, "vocab_size", 65536);
    s->hidden = (size_t)json_num(js, "hidden_size", 0);
    s->inter = (size_t)json_num(js, "intermediate_size", 0);
    s->layers = (size_t)json_num(js, "num_hidden_layers", 0);
    s->heads = (size_t)json_num(js, "num_attention_heads", 0);
    s->kv_heads = (size_t)json_num(js, "num_key_value_heads", 8);
    s->head_dim = s->heads ? s->hidden / s->heads : 0;
    s->experts = (size_t)json_num(js, "num_experts", 16);
    s->topk = (size_t)json_num(js, "num_experts_per_tok", 2);
    s->attn_period = (size_t)json_num(js, "attn_layer_period", 8);
    s->attn_offset = (size_t)json_num(js, "attn_layer_offset", 4);
    s->expert_period = (size_t)json_num(js, "expert_layer_period", 2);
    s->expert_offset = (size_t)json_num(js, "expert_layer_offset", 1);
    s->d_state = (size_t)json_num(js, "mamba_d_state", 16);
    s->d_conv = (size_t)json_num(js, "mamba_d_conv", 4);
    s->expand = (size_t)json_num(js, "mamba_expand", 2);
    s->dt_rank = (size_t)json_num(js, "mamba_dt_rank", (double)((s->hidden + 15) / 16));
    s->conv_bias = (int)json_num(js, "mamba_conv_bias", 1);
    s->eps = json_num(js, "rms_norm_eps", 1e-6);
    s->d_inner = s->expand * s->hidden;
    free(js);
    if (!s->hidden || !s->inter || !s->layers || !s->heads || !s->kv_heads || !s->attn_period || !s->expert_period) {
        fprintf(stderr, "bench: %s: missing core sizes (hidden_size, intermediate_size, num_hidden_layers, num_attention_heads)\n", arg);
        return -1;
    }
    return 0;
}

static int is_attn(const bshape *s, size_t i) { return i % s->attn_period == s->attn_offset; }
static int is_moe(const bshape *s, size_t i) { return s->experts > 1 && i % s->expert_period == s->expert_offset; }

/* ---- synthetic model on the GPU ------------------------------------------------------------ */

typedef struct blayer {
    float *ln1, *ln2;
    /* attention */
    void *wqkv, *wo;
    /* mamba */
    void *in_proj, *x_proj, *dt_proj, *out_proj;
    float *conv_w, *conv_b, *dt_bias, *a_log, *d_skip, *dt_norm, *b_norm, *c_norm;
    /* ffn */
    void *w_gu, *w_down;                 /* dense: [2F, H], [H, F] */
    void *router, *experts;              /* moe: [E, H]; E × (gate [F,H], up [F,H], down [H,F]) */
    lj_tensor *eg, *eu, *ed;
} blayer;

typedef struct bmodel {
    bshape s;
    lj_backend *b;
    blayer *L;
    void *embed, *lm_head;
    float *final_norm;
    size_t weight_bytes;
    size_t expert_bytes, expert_each;    /* all experts' bytes (scales included), one expert's */
    int experts_int8;                    /* --experts int8: ExpertsInt8 synthetic experts */
    /* activations, sized by the largest step */
    size_t max_rows;
    void *x, *n, *qkv, *o, *xz, *xc, *dbc, *dt, *y, *gu, *f;
    void *logits;
    int32_t *ids;
    /* sequence states: [seq][layer] */
    size_t n_seqs, cap;
    void **kc, **vc;
    float **win, **ssm;
} bmodel;

static uint64_t g_seed = 1234;

static int dalloc(bmodel *m, size_t bytes, void **p) {
    if (m->b->alloc(m->b, bytes, p)) { fprintf(stderr, "bench: %s\n", m->b->err); return -1; }
    return 0;
}
/* bf16 weight [rows, cols] with uniform values of std 1/sqrt(cols) (keeps activations O(1)) */
static int wmat(bmodel *m, size_t rows, size_t cols, void **p) {
    if (dalloc(m, rows * cols * 2, p)) return -1;
    m->weight_bytes += rows * cols * 2;
    return ljc->fill_random(m->b, *p, LJ_BF16, rows * cols, g_seed++, sqrtf(3.0f / (float)cols), 0.0f);
}
static int wvec(bmodel *m, size_t n, float scale, float offset, float **p) {
    if (dalloc(m, n * 4, (void **)p)) return -1;
    m->weight_bytes += n * 4;
    return ljc->fill_random(m->b, *p, LJ_F32, n, g_seed++, scale, offset);
}

static int model_build(bmodel *m) {
    bshape *s = &m->s;
    size_t H = s->hidden, F = s->inter, D = s->d_inner, R = s->dt_rank, N = s->d_state, E = s->experts;
    size_t qkvd = (s->heads + 2 * s->kv_heads) * s->head_dim;
    m->L = calloc(s->layers, sizeof *m->L);
    if (wmat(m, s->vocab, H, &m->embed) || wmat(m, s->vocab, H, &m->lm_head) || wvec(m, H, 0.1f, 1.0f, &m->final_norm)) return -1;
    for (size_t i = 0; i < s->layers; i++) {
        blayer *l = &m->L[i];
        if (wvec(m, H, 0.1f, 1.0f, &l->ln1) || wvec(m, H, 0.1f, 1.0f, &l->ln2)) return -1;
        if (is_attn(s, i)) {
            if (wmat(m, qkvd, H, &l->wqkv) || wmat(m, H, s->heads * s->head_dim, &l->wo)) return -1;
        } else {
            if (wmat(m, 2 * D, H, &l->in_proj) || wmat(m, R + 2 * N, D, &l->x_proj) || wmat(m, D, R, &l->dt_proj) ||
                wmat(m, H, D, &l->out_proj))
                return -1;
            if (wvec(m, D * s->d_conv, 0.5f, 0.0f, &l->conv_w) || wvec(m, D, 0.1f, 0.0f, &l->conv_b) ||
                wvec(m, D, 1.0f, -4.0f, &l->dt_bias) || wvec(m, D, 0.5f, 1.0f, &l->d_skip) ||
                wvec(m, R, 0.1f, 1.0f, &l->dt_norm) || wvec(m, N, 0.1f, 1.0f, &l->b_norm) || wvec(m, N, 0.1f, 1.0f, &l->c_norm))
                return -1;
            if (dalloc(m, D * N * 4, (void **)&l->a_log) || ljc->fill_alog(m->b, l->a_log, D * N, N)) return -1;
            m->weight_bytes += D * N * 4;
        }
        if (is_moe(s, i)) {
            if (wmat(m, E, H, &l->router)) return -1;
            size_t per = 3 * F * H;
            l->eg = calloc(E, sizeof(lj_tensor));
            l->eu = calloc(E, sizeof(lj_tensor));
            l->ed = calloc(E, sizeof(lj_tensor));
            if (!l->eg || !l->eu || !l->ed) return -1;
            const float wscale = sqrtf(3.0f / (float)H);   /* the bf16 experts' uniform range */
            if (m->experts_int8) {
                /* ExpertsInt8 layout (engine/quant.c): per expert gate|up int8 [2F, H] then down [H, F];
                 * scales [2F] then [H]. Uniform int8 in [-127, 127] times wscale/127 has the range of
                 * the bf16 experts. */
                float *sc;
                if (dalloc(m, E * per, &l->experts) ||
                    ljc->fill_random(m->b, l->experts, LJ_I8, E * per, g_seed++, 127.0f, 0.0f) ||
                    dalloc(m, E * (2 * F + H) * 4, (void **)&sc) ||
                    ljc->fill_random(m->b, sc, LJ_F32, E * (2 * F + H), g_seed++, 0.0f, wscale / 127.0f))
                    return -1;
                m->weight_bytes += E * per + E * (2 * F + H) * 4;
                m->expert_bytes += E * per + E * (2 * F + H) * 4;
                m->expert_each = per + (2 * F + H) * 4;
                for (size_t e = 0; e < E; e++) {
                    char *base = (char *)l->experts + e * per;
                    float *se = sc + e * (2 * F + H);
                    l->eg[e] = (lj_tensor){base, LJ_I8, F, H, se};
                    l->eu[e] = (lj_tensor){base + F * H, LJ_I8, F, H, se + F};
                    l->ed[e] = (lj_tensor){base + 2 * F * H, LJ_I8, H, F, se + 2 * F};
                }
            } else {
                if (dalloc(m, E * per * 2, &l->experts) ||
                    ljc->fill_random(m->b, l->experts, LJ_BF16, E * per, g_seed++, wscale, 0.0f))
                    return -1;
                m->weight_bytes += E * per * 2;
                m->expert_bytes += E * per * 2;
                m->expert_each = per * 2;
                for (size_t e = 0; e < E; e++) {
                    char *base = (char *)l->experts + e * per * 2;
                    l->eg[e] = (lj_tensor){base, LJ_BF16, F, H, NULL};
                    l->eu[e] = (lj_tensor){base + F * H * 2, LJ_BF16, F, H, NULL};
                    l->ed[e] = (lj_tensor){base + 2 * F * H * 2, LJ_BF16, H, F, NULL};
                }
            }
        } else {
            if (wmat(m, 2 * F, H, &l->w_gu) || wmat(m, H, F, &l->w_down)) return -1;
        }
    }
    return m->b->sync(m->b) ? (fprintf(stderr, "bench: %s\n", m->b->err), -1) : 0;
}

static int model_activations(bmodel *m, size_t rows, size_t logit_rows) {
    bshape *s = &m->s;
    size_t H = s->hidden, D = s->d_inner;
    size_t qkvd = (s->heads + 2 * s->kv_heads) * s->head_dim;
    m->max_rows = rows;
    if (dalloc(m, rows * H * 2, &m->x) || dalloc(m, rows * H * 2, &m->n) || dalloc(m, rows * qkvd * 2, &m->qkv) ||
        dalloc(m, rows * s->heads * s->head_dim * 2, &m->o) || dalloc(m, rows * 2 * D * 2, &m->xz) ||
        dalloc(m, rows * D * 2, &m->xc) || dalloc(m, rows * (s->dt_rank + 2 * s->d_state) * 2, &m->dbc) ||
        dalloc(m, rows * D * 2, &m->dt) || dalloc(m, rows * D * 2, &m->y) || dalloc(m, rows * 2 * s->inter * 2, &m->gu) ||
        dalloc(m, rows * H * 2, &m->f) || dalloc(m, logit_rows * s->vocab * 2, &m->logits) || dalloc(m, rows * 4, (void **)&m->ids))
        return -1;
    return 0;
}

static int model_states(bmodel *m, size_t n_seqs, size_t cap) {
    bshape *s = &m->s;
    size_t Lc = s->layers;
    m->n_seqs = n_seqs;
    m->cap = cap;
    m->kc = calloc(n_seqs * Lc, sizeof(void *));
    m->vc = calloc(n_seqs * Lc, sizeof(void *));
    m->win = calloc(n_seqs * Lc, sizeof(float *));
    m->ssm = calloc(n_seqs * Lc, sizeof(float *));
    size_t kvd = s->kv_heads * s->head_dim;
    for (size_t q = 0; q < n_seqs; q++)
        for (size_t i = 0; i < Lc; i++) {
            size_t j = q * Lc + i;
            if (is_attn(s, i)) {
                if (dalloc(m, cap * kvd * 2, &m->kc[j]) || dalloc(m, cap * kvd * 2, &m->vc[j])) return -1;
            } else if (dalloc(m, (s->d_conv - 1) * s->d_inner * 4, (void **)&m->win[j]) ||
                       dalloc(m, s->d_inner * s->d_state * 4, (void **)&m->ssm[j]))
                return -1;
        }
    return 0;
}

static void model_free_states(bmodel *m) {
    size_t n = m->n_seqs * m->s.layers;
    for (size_t j = 0; j < n; j++) {
        if (m->kc[j]) m->b->free(m->b, m->kc[j]);
        if (m->vc[j]) m->b->free(m->b, m->vc[j]);
        if (m->win[j]) m->b->free(m->b, m->win[j]);
        if (m->ssm[j]) m->b->free(m->b, m->ssm[j]);
    }
    free(m->kc); free(m->vc); free(m->win); free(m->ssm);
    m->kc = m->vc = NULL;
    m->win = m->ssm = NULL;
    m->n_seqs = 0;
}

/* Zero the states of sequence q (a new sequence). */
static int seq_reset(bmodel *m, size_t q) {
    bshape *s = &m->s;
    for (size_t i = 0; i < s->layers; i++) {
        size_t j = q * s->layers + i;
        if (!is_attn(s, i) && (m->b->zero(m->b, m->win[j], (s->d_conv - 1) * s->d_inner * 4) ||
                               m->b->zero(m->b, m->ssm[j], s->d_inner * s->d_state * 4)))
            return -1;
    }
    return 0;
}
/* Copy sequence 0's states (first `len` cache rows) to sequence q: a fork. */
static int seq_fork(bmodel *m, size_t q, size_t len) {
    bshape *s = &m->s;
    size_t kvd = s->kv_heads * s->head_dim;
    for (size_t i = 0; i < s->layers; i++) {
        size_t j = q * s->layers + i;
        int rc = is_attn(s, i)
                     ? m->b->copy(m->b, m->kc[j], m->kc[i], len * kvd * 2) || m->b->copy(m->b, m->vc[j], m->vc[i], len * kvd * 2)
                     : m->b->copy(m->b, m->win[j], m->win[i], (s->d_conv - 1) * s->d_inner * 4) ||
                           m->b->copy(m->b, m->ssm[j], m->ssm[i], s->d_inner * s->d_state * 4);
        if (rc) return -1;
    }
    return 0;
}

#define TRY(call) do { if ((call) != 0) { fprintf(stderr, "bench: %s: %s\n", #call, b->err); return -1; } } while (0)

/* One forward step: sequences first..first+ns-1 (ids already in m->ids, rows packed), each with
 * ntok[s] new tokens at pos[s]. Logits of each sequence's last token into m->logits [ns, V]. */
static int model_step(bmodel *m, size_t first, size_t ns, const size_t *ntok, const size_t *pos) {
    bshape *s = &m->s;
    lj_backend *b = m->b;
    size_t T = 0;
    for (size_t q = 0; q < ns; q++) T += ntok[q];
    size_t H = s->hidden, F = s->inter, D = s->d_inner, R = s->dt_rank, N = s->d_state, hd = s->head_dim;
    size_t qd = s->heads * hd, kvd = s->kv_heads * hd, qkvd = qd + 2 * kvd, ldbc = R + 2 * N;
    lj_seq_batch batch = {ns, ntok, pos, T};
    void *kp[64], *vp[64];
    float *wp[64], *sp[64];
    if (ns > 64) return -1;

    lj_embedding_params ep = {m->ids, {m->embed, LJ_BF16, s->vocab, H, NULL}, m->x, T};
    TRY(b->embedding(b, &ep));
    for (size_t i = 0; i < s->layers; i++) {
        blayer *l = &m->L[i];
        lj_rmsnorm_params n1 = {m->x, H, l->ln1, m->n, H, T, H, (float)s->eps};
        TRY(b->rmsnorm(b, &n1));
        if (is_attn(s, i)) {
            for (size_t q = 0; q < ns; q++) { kp[q] = m->kc[(first + q) * s->layers + i]; vp[q] = m->vc[(first + q) * s->layers + i]; }
            lj_matmul_params mq = {m->n, H, {l->wqkv, LJ_BF16, qkvd, H, NULL}, NULL, m->qkv, qkvd, T, 0};   // [T, qd+2kvd]
            TRY(b->matmul(b, &mq));
            lj_attention_params ap = {batch, m->qkv, qkvd, (char *)m->qkv + qd * 2, qkvd, (char *)m->qkv + (qd + kvd) * 2, qkvd,
                                      kp, vp, m->o, qd, s->heads, s->kv_heads, hd, 1.0f / sqrtf((float)hd)};
            TRY(b->attention(b, &ap));
            lj_matmul_params mo = {m->o, qd, {l->wo, LJ_BF16, H, qd, NULL}, NULL, m->x, H, T, 1};   // x += o·Woᵀ
            TRY(b->matmul(b, &mo));
        } else {
            for (size_t q = 0; q < ns; q++) { wp[q] = m->win[(first + q) * s->layers + i]; sp[q] = m->ssm[(first + q) * s->layers + i]; }
            lj_matmul_params mi = {m->n, H, {l->in_proj, LJ_BF16, 2 * D, H, NULL}, NULL, m->xz, 2 * D, T, 0};   // [T, 2D] = (x | z)
            TRY(b->matmul(b, &mi));
            lj_conv1d_params cp = {batch, m->xz, 2 * D, l->conv_w, s->conv_bias ? l->conv_b : NULL, wp, m->xc, D, D, s->d_conv};
            TRY(b->conv1d(b, &cp));
            lj_matmul_params mx = {m->xc, D, {l->x_proj, LJ_BF16, ldbc, D, NULL}, NULL, m->dbc, ldbc, T, 0};   // [T, R+2N]
            TRY(b->matmul(b, &mx));
            lj_rmsnorm_params nd = {m->dbc, ldbc, l->dt_norm, m->dbc, ldbc, T, R, (float)s->eps};
            lj_rmsnorm_params nb = {(char *)m->dbc + R * 2, ldbc, l->b_norm, (char *)m->dbc + R * 2, ldbc, T, N, (float)s->eps};
            lj_rmsnorm_params nc = {(char *)m->dbc + (R + N) * 2, ldbc, l->c_norm, (char *)m->dbc + (R + N) * 2, ldbc, T, N, (float)s->eps};
            TRY(b->rmsnorm(b, &nd));
            TRY(b->rmsnorm(b, &nb));
            TRY(b->rmsnorm(b, &nc));
            lj_matmul_params mdt = {m->dbc, ldbc, {l->dt_proj, LJ_BF16, D, R, NULL}, NULL, m->dt, D, T, 0};   // [T, D]
            TRY(b->matmul(b, &mdt));
            lj_scan_params sc = {batch, m->xc, D, m->dt, D, l->dt_bias, l->a_log, (char *)m->dbc + R * 2, ldbc,
                                 (char *)m->dbc + (R + N) * 2, ldbc, l->d_skip, (char *)m->xz + D * 2, 2 * D, sp, m->y, D, D, N};
            TRY(b->scan(b, &sc));
            lj_matmul_params mo = {m->y, D, {l->out_proj, LJ_BF16, H, D, NULL}, NULL, m->x, H, T, 1};   // x += y·Woutᵀ
            TRY(b->matmul(b, &mo));
        }
        lj_rmsnorm_params n2 = {m->x, H, l->ln2, m->n, H, T, H, (float)s->eps};
        TRY(b->rmsnorm(b, &n2));
        if (is_moe(s, i)) {
            lj_moe_params mp = {m->n, H, {l->router, LJ_BF16, s->experts, H, NULL}, l->eg, l->eu, l->ed, m->f, H, T,
                                s->experts, s->topk, H, F};
            TRY(b->moe(b, &mp));
            lj_add_params ad = {m->x, m->f, m->x, T * H};
            TRY(b->add(b, &ad));
        } else {
            lj_matmul_params mg = {m->n, H, {l->w_gu, LJ_BF16, 2 * F, H, NULL}, NULL, m->gu, 2 * F, T, 0};   // [T, 2F]
            TRY(b->matmul(b, &mg));
            lj_silu_mul_params sm = {m->gu, 2 * F, (char *)m->gu + F * 2, 2 * F, m->gu, 2 * F, T, F};
            TRY(b->silu_mul(b, &sm));
            lj_matmul_params md = {m->gu, 2 * F, {l->w_down, LJ_BF16, H, F, NULL}, NULL, m->x, H, T, 1};
            TRY(b->matmul(b, &md));
        }
    }
    /* final norm + lm_head on each sequence's last token */
    size_t row = 0;
    for (size_t q = 0; q < ns; q++) {
        row += ntok[q];
        lj_rmsnorm_params nf = {(char *)m->x + (row - 1) * H * 2, H, m->final_norm, (char *)m->n + q * H * 2, H, 1, H, (float)s->eps};
        TRY(b->rmsnorm(b, &nf));
    }
    lj_matmul_params ml = {m->n, H, {m->lm_head, LJ_BF16, s->vocab, H, NULL}, NULL, m->logits, s->vocab, ns, 0};
    TRY(b->matmul(b, &ml));
    return 0;
}

/* FLOPs of a prefill chunk of T tokens after P cached ones (GEMMs count routed experts only). */
static double step_flops(const bshape *s, double T, double P) {
    double H = s->hidden, F = s->inter, D = s->d_inner, R = s->dt_rank, N = s->d_state, hd = s->head_dim;
    double qkvd = (s->heads + 2.0 * s->kv_heads) * hd, f = 0;
    for (size_t i = 0; i < s->layers; i++) {
        if (is_attn(s, i)) {
            f += 2 * T * (H * qkvd + s->heads * hd * H);
            f += 4.0 * s->heads * hd * T * (P + (T + 1) / 2);   /* QKᵀ and PV over the visible keys */
        } else {
            f += 2 * T * (H * 2 * D + D * (R + 2 * N) + R * D + D * H);
            f += T * D * N * 6;   /* scan */
        }
        f += is_moe(s, i) ? 2 * T * (s->topk * 3 * H * F + s->experts * H) : 2 * T * 3 * H * F;
    }
    return f + 2 * H * s->vocab;
}

static int parse_list(const char *arg, size_t *out, int max) {
    int n = 0;
    const char *p = arg;
    while (*p && n < max) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) return -1;
        if (*end == 'K' || *end == 'k') { v *= 1024; end++; }
        out[n++] = (size_t)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

static int random_ids(bmodel *m, size_t n, uint64_t seed) {
    int32_t *h = malloc(n * 4);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        h[i] = (int32_t)(x % m->s.vocab);
    }
    int rc = m->b->upload(m->b, m->ids, LJ_I32, h, LJ_I32, n);
    free(h);
    return rc;
}

static double gemm_tflops(lj_backend *b) {
    size_t n = 8192;
    void *x, *w, *y;
    if (b->alloc(b, n * n * 2, &x) || b->alloc(b, n * n * 2, &w) || b->alloc(b, n * n * 2, &y)) return 0;
    ljc->fill_random(b, x, LJ_BF16, n * n, 7, 1.0f, 0.0f);
    ljc->fill_random(b, w, LJ_BF16, n * n, 8, 1.0f, 0.0f);
    lj_matmul_params p = {x, n, {w, LJ_BF16, n, n, NULL}, NULL, y, n, n, 0};
    for (int i = 0; i < 3; i++) b->matmul(b, &p);
    ljc_timer t;
    double ms = 0;
    ljc->timer_start(b, &t);
    for (int i = 0; i < 10; i++) b->matmul(b, &p);
    ljc->timer_stop(b, &t, &ms);
    b->free(b, x); b->free(b, w); b->free(b, y);
    return 10 * 2.0 * n * n * n / (ms * 1e-3) / 1e12;
}

/* ---- per-op timings (--op) -------------------------------------------------------------- */

static int time_op(lj_backend *b, int (*fn)(lj_backend *, const void *), const void *p, int reps, double *ms) {
    if (fn(b, p) || fn(b, p)) return -1;   /* warm-up */
    ljc_timer t;
    if (ljc->timer_start(b, &t)) return -1;
    for (int i = 0; i < reps; i++) if (fn(b, p)) return -1;
    if (ljc->timer_stop(b, &t, ms)) return -1;
    *ms /= reps;
    return 0;
}
static int op_attn(lj_backend *b, const void *p) { return b->attention(b, (const lj_attention_params *)p); }
static int op_scan(lj_backend *b, const void *p) { return b->scan(b, (const lj_scan_params *)p); }
static int op_conv(lj_backend *b, const void *p) { return b->conv1d(b, (const lj_conv1d_params *)p); }
static int op_scan_floor(lj_backend *b, const void *p) { return ljc->scan_floor(b, *(const size_t *)p); }
static int op_moe(lj_backend *b, const void *p) { return b->moe(b, (const lj_moe_params *)p); }

/* The expert GEMMs alone, gate|up then down, on rows already grouped by expert: int8 (the W8A16
 * kernels through ljc_w8a16_gemm) or bf16 (one cuBLAS GEMM per expert, as the bf16 MoE op runs
 * prefill). */
typedef struct gemm_run {
    const lj_tensor *gu, *dn;   /* [E] */
    size_t E, H, F;
    const int *cnt;
    void *x, *g, *y;            /* x [R, H], g [R, 2F], y [R, H] */
} gemm_run;

static int op_gemms(lj_backend *b, const void *pv) {
    const gemm_run *p = pv;
    if (p->gu[0].dtype == LJ_I8)
        return ljc->w8a16_gemm(b, p->gu, p->E, p->cnt, p->x, p->H, p->g, 2 * p->F) ||
               ljc->w8a16_gemm(b, p->dn, p->E, p->cnt, p->g, 2 * p->F, p->y, p->H);
    for (size_t e = 0, r = 0; e < p->E; r += (size_t)p->cnt[e], e++) {
        if (!p->cnt[e]) continue;
        lj_matmul_params gu = {(char *)p->x + r * p->H * 2, p->H, p->gu[e], NULL, (char *)p->g + r * 2 * p->F * 2, 2 * p->F,
                               (size_t)p->cnt[e], 0};
        lj_matmul_params dn = {(char *)p->g + r * 2 * p->F * 2, 2 * p->F, p->dn[e], NULL, (char *)p->y + r * p->H * 2, p->H,
                               (size_t)p->cnt[e], 0};
        if (b->matmul(b, &gu) || b->matmul(b, &dn)) return -1;
    }
    return 0;
}

/* prefill: 8192 tokens x top-k rows split evenly over the experts, TF/s int8 vs bf16; decode: 1 and
 * 8 tokens (one row for each of the first top-k x T experts), GB/s of the weights read */
static int bench_w8a16_gemms(lj_backend *b, const bshape *s, void *ex16, void *ex8) {
    const size_t H = s->hidden, F = s->inter, E = s->experts, R = 8192 * s->topk;
    const size_t per8 = 3 * F * H + (2 * F + H) * 4;
    lj_tensor gu8[64], dn8[64], gu16[64], dn16[64];
    for (size_t e = 0; e < E; e++) {
        char *b16 = (char *)ex16 + e * 3 * F * H * 2, *b8 = (char *)ex8 + e * per8;
        float *sc = (float *)(b8 + 3 * F * H);
        gu8[e] = (lj_tensor){b8, LJ_I8, 2 * F, H, sc};
        dn8[e] = (lj_tensor){b8 + 2 * F * H, LJ_I8, H, F, sc + 2 * F};
        gu16[e] = (lj_tensor){b16, LJ_BF16, 2 * F, H, NULL};
        dn16[e] = (lj_tensor){b16 + 2 * F * H * 2, LJ_BF16, H, F, NULL};
    }
    void *x, *g, *y;
    if (b->alloc(b, R * H * 2, &x) || b->alloc(b, R * 2 * F * 2, &g) || b->alloc(b, R * H * 2, &y)) return -1;
    ljc->fill_random(b, x, LJ_BF16, R * H, 71, 1.0f, 0.0f);
    int cnt[64];
    for (size_t e = 0; e < E; e++) cnt[e] = (int)(R / E + (e < R % E));
    gemm_run r8 = {gu8, dn8, E, H, F, cnt, x, g, y}, r16 = r8;
    r16.gu = gu16; r16.dn = dn16;
    double ms8, ms16;
    if (time_op(b, op_gemms, &r8, 5, &ms8) || time_op(b, op_gemms, &r16, 5, &ms16)) return -1;
    double fl = 2.0 * R * 3 * H * F;
    printf("expert GEMMs int8 R=%zu E=%zu      %8.3f %9.1f TF/s   %.0f%% of bf16 per-expert cuBLAS (%.3f ms, %.1f TF/s)\n", R, E,
           ms8, fl / ms8 / 1e9, 100 * ms16 / ms8, ms16, fl / ms16 / 1e9);
    const size_t Ts[2] = {1, 8};
    for (int k = 0; k < 2; k++) {
        size_t rows = Ts[k] * s->topk, used = rows < E ? rows : E;
        for (size_t e = 0; e < E; e++) cnt[e] = (int)(rows / E + (e < rows % E));
        if (time_op(b, op_gemms, &r8, 50, &ms8) || time_op(b, op_gemms, &r16, 50, &ms16)) return -1;
        double gb8 = used * 3.0 * H * F / (ms8 * 1e-3) / 1e9, gb16 = used * 6.0 * H * F / (ms16 * 1e-3) / 1e9;
        printf("expert GEMMs int8 T=%zu (decode)   %8.3f %9.0f GB/s   %.0f%% of 3000 GB/s; bf16 %.3f ms (%.0f GB/s)\n", Ts[k],
               ms8, gb8, gb8 / 30, ms16, gb16);
    }
    b->free(b, x); b->free(b, g); b->free(b, y);
    return 0;
}

/* The MoE block with ExpertsInt8 experts (W8A16 kernels) against the same block with bf16 experts,
 * in one run: prefill (T = 8192, TF/s of the routed expert GEMMs) and decode (T = 1 and 8: GB/s
 * of expert weights read, int8 bytes for int8, vs 3000 GB/s). Same routing inputs for both. */
static int bench_moe_int8(lj_backend *b, const bshape *s) {
    const size_t Hd = s->hidden, F = s->inter, E = s->experts, Tmax = 8192;
    const size_t per8 = 3 * F * Hd + (2 * F + Hd) * 4;   /* int8 gate|up, down, then fp32 scales */
    void *x, *router, *ex16, *ex8, *out;
    if (b->alloc(b, Tmax * Hd * 2, &x) || b->alloc(b, E * Hd * 2, &router) || b->alloc(b, E * 3 * F * Hd * 2, &ex16) ||
        b->alloc(b, E * per8, &ex8) || b->alloc(b, Tmax * Hd * 2, &out))
        return -1;
    ljc->fill_random(b, x, LJ_BF16, Tmax * Hd, 51, 1.0f, 0.0f);
    ljc->fill_random(b, router, LJ_BF16, E * Hd, 52, 0.05f, 0.0f);
    ljc->fill_random(b, ex16, LJ_BF16, E * 3 * F * Hd, 53, 0.02f, 0.0f);
    lj_tensor g16[64], u16[64], d16[64], g8[64], u8[64], d8[64];
    if (E > 64) return 0;
    for (size_t e = 0; e < E; e++) {
        char *b16 = (char *)ex16 + e * 3 * F * Hd * 2, *b8 = (char *)ex8 + e * per8;
        float *sc = (float *)(b8 + 3 * F * Hd);
        ljc->fill_random(b, b8, LJ_I8, 3 * F * Hd, 60 + e, 127.0f, 0.0f);
        ljc->fill_random(b, sc, LJ_F32, 2 * F + Hd, 90 + e, 0.0001f, 0.00015f);
        g16[e] = (lj_tensor){b16, LJ_BF16, F, Hd, NULL};
        u16[e] = (lj_tensor){b16 + F * Hd * 2, LJ_BF16, F, Hd, NULL};
        d16[e] = (lj_tensor){b16 + 2 * F * Hd * 2, LJ_BF16, Hd, F, NULL};
        g8[e] = (lj_tensor){b8, LJ_I8, F, Hd, sc};
        u8[e] = (lj_tensor){b8 + F * Hd, LJ_I8, F, Hd, sc + F};
        d8[e] = (lj_tensor){b8 + 2 * F * Hd, LJ_I8, Hd, F, sc + 2 * F};
    }
    const size_t Ts[3] = {8192, 1, 8};
    for (int k = 0; k < 3; k++) {
        double ms16, ms8;
        size_t T = Ts[k];
        lj_moe_params p16 = {x, Hd, {router, LJ_BF16, E, Hd, NULL}, g16, u16, d16, out, Hd, T, E, s->topk, Hd, F};
        lj_moe_params p8 = p16;
        p8.gate = g8; p8.up = u8; p8.down = d8;
        if (time_op(b, op_moe, &p16, k == 0 ? 5 : 20, &ms16) || time_op(b, op_moe, &p8, k == 0 ? 5 : 20, &ms8)) return -1;
        if (k == 0) {
            double tf16 = 2.0 * T * s->topk * 3 * Hd * F / (ms16 * 1e-3) / 1e12, tf8 = tf16 * ms16 / ms8;
            printf("moe block int8 T=%zu E=%zu top%zu %8.3f %9.1f TF/s   %.0f%% of bf16 experts (%.3f ms, %.1f TF/s)\n", T,
                   E, s->topk, ms8, tf8, 100 * ms16 / ms8, ms16, tf16);
        } else {
            size_t used = E < T * s->topk ? E : T * s->topk;
            double gb8 = used * 3.0 * Hd * F / (ms8 * 1e-3) / 1e9, gb16 = used * 6.0 * Hd * F / (ms16 * 1e-3) / 1e9;
            printf("moe block int8 T=%zu (decode)     %8.3f %9.0f GB/s   %.0f%% of 3000 GB/s; bf16 %.3f ms (%.0f GB/s), "
                   "int8 %.2fx faster\n", T, ms8, gb8, gb8 / 30, ms16, gb16, ms16 / ms8);
        }
    }
    if (bench_w8a16_gemms(b, s, ex16, ex8) != 0) return -1;
    b->free(b, x); b->free(b, router); b->free(b, ex16); b->free(b, ex8); b->free(b, out);
    return 0;
}

static int bench_ops(lj_backend *b, const bshape *s, const char *which, double gemm) {
    int all = !strcmp(which, "all");
    size_t hd = s->head_dim, H = s->heads, KV = s->kv_heads, D = s->d_inner, N = s->d_state;
    printf("\n%-34s %12s %12s   %s\n", "op (jamba shape)", "time ms", "figure", "vs");
    /* decode first: after the prefill ops, 32K at batch 1 read 75% of HBM where it reads 85-86%
     * alone (H100; likely the power-capped clocks those ops leave behind, not measured) */
    if (all || !strcmp(which, "decode")) {
        size_t ctxs[2] = {32768, 131072}, bs[2] = {1, 8};
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < 2; k++) {
                size_t C = ctxs[c], nb = bs[k], qd = H * hd, kvd = KV * hd;
                void *q, *o, *kc[8], *vc[8];
                size_t nt[8], ps[8];
                if (b->alloc(b, nb * (qd + 2 * kvd) * 2, &q) || b->alloc(b, nb * qd * 2, &o)) return -1;
                ljc->fill_random(b, q, LJ_BF16, nb * (qd + 2 * kvd), 12, 1.0f, 0.0f);
                for (size_t i = 0; i < nb; i++) {
                    if (b->alloc(b, (C + 1) * kvd * 2, &kc[i]) || b->alloc(b, (C + 1) * kvd * 2, &vc[i])) return -1;
                    ljc->fill_random(b, kc[i], LJ_BF16, (C + 1) * kvd, 13 + i, 1.0f, 0.0f);
                    ljc->fill_random(b, vc[i], LJ_BF16, (C + 1) * kvd, 23 + i, 1.0f, 0.0f);
                    nt[i] = 1;
                    ps[i] = C;
                }
                lj_attention_params p = {{nb, nt, ps, nb}, q, qd + 2 * kvd, (char *)q + qd * 2, qd + 2 * kvd,
                                         (char *)q + (qd + kvd) * 2, qd + 2 * kvd, kc, vc, o, qd, H, KV, hd, 1.0f / sqrtf((float)hd)};
                double ms;
                if (time_op(b, op_attn, &p, 20, &ms)) return -1;
                double gbs = nb * 2.0 * (C + 1) * kvd * 2 / (ms * 1e-3) / 1e9;
                printf("decode attention ctx=%-6zu batch %zu %12.3f %9.0f GB/s   %.0f%% of 3000 GB/s\n", C, nb, ms, gbs, gbs / 30);
                for (size_t i = 0; i < nb; i++) { b->free(b, kc[i]); b->free(b, vc[i]); }
                b->free(b, q); b->free(b, o);
            }
    }
    if (all || !strcmp(which, "attention")) {
        size_t Ts[3] = {4096, 16384, 32768};
        for (int k = 0; k < 3; k++) {
            size_t T = Ts[k], qd = H * hd, kvd = KV * hd;
            void *q, *kc, *vc, *o;
            if (b->alloc(b, T * (qd + 2 * kvd) * 2, &q) || b->alloc(b, T * kvd * 2, &kc) || b->alloc(b, T * kvd * 2, &vc) ||
                b->alloc(b, T * qd * 2, &o)) return -1;
            ljc->fill_random(b, q, LJ_BF16, T * (qd + 2 * kvd), 11, 1.0f, 0.0f);
            size_t nt = T, ps = 0;
            lj_attention_params p = {{1, &nt, &ps, T}, q, qd + 2 * kvd, (char *)q + qd * 2, qd + 2 * kvd, (char *)q + (qd + kvd) * 2,
                                     qd + 2 * kvd, &kc, &vc, o, qd, H, KV, hd, 1.0f / sqrtf((float)hd)};
            double ms;
            if (time_op(b, op_attn, &p, 5, &ms)) return -1;
            double tf = 4.0 * H * hd * (double)T * (T + 1) / 2 / (ms * 1e-3) / 1e12;
            static const double sdpa[3] = {503, 649, 600};
            printf("attention prefill T=%-6zu %zu/%zu    %12.3f %9.1f TF/s   %.0f%% of SDPA %.0f TF/s\n", T, H, KV, ms, tf,
                   100 * tf / sdpa[k], sdpa[k]);
            b->free(b, q); b->free(b, kc); b->free(b, vc); b->free(b, o);
        }
    }
    if (all || !strcmp(which, "scan") || !strcmp(which, "conv")) {
        size_t T = 8192, R = s->dt_rank, ldbc = R + 2 * N;
        void *xz, *x, *dt, *bc, *y;
        float *dtb, *al, *dsk, *st, *cw, *cb, *win;
        if (b->alloc(b, T * 2 * D * 2, &xz) || b->alloc(b, T * D * 2, &x) || b->alloc(b, T * D * 2, &dt) ||
            b->alloc(b, T * ldbc * 2, &bc) || b->alloc(b, T * D * 2, &y) || b->alloc(b, D * 4, (void **)&dtb) ||
            b->alloc(b, D * N * 4, (void **)&al) || b->alloc(b, D * 4, (void **)&dsk) || b->alloc(b, D * N * 4, (void **)&st) ||
            b->alloc(b, D * s->d_conv * 4, (void **)&cw) || b->alloc(b, D * 4, (void **)&cb) ||
            b->alloc(b, (s->d_conv - 1) * D * 4, (void **)&win))
            return -1;
        ljc->fill_random(b, xz, LJ_BF16, T * 2 * D, 31, 1.0f, 0.0f);
        ljc->fill_random(b, x, LJ_BF16, T * D, 32, 1.0f, 0.0f);
        ljc->fill_random(b, dt, LJ_BF16, T * D, 33, 1.0f, 0.0f);
        ljc->fill_random(b, bc, LJ_BF16, T * ldbc, 34, 1.0f, 0.0f);
        ljc->fill_random(b, dtb, LJ_F32, D, 35, 1.0f, -4.0f);
        ljc->fill_alog(b, al, D * N, N);
        ljc->fill_random(b, dsk, LJ_F32, D, 36, 1.0f, 0.0f);
        ljc->fill_random(b, cw, LJ_F32, D * s->d_conv, 37, 0.5f, 0.0f);
        ljc->fill_random(b, cb, LJ_F32, D, 38, 0.1f, 0.0f);
        size_t nt = T, ps = 0;
        lj_seq_batch batch = {1, &nt, &ps, T};
        double ms;
        if (all || !strcmp(which, "scan")) {
            lj_scan_params p = {batch, x, D, dt, D, dtb, al, (char *)bc + R * 2, ldbc, (char *)bc + (R + N) * 2, ldbc, dsk,
                                (char *)xz + D * 2, 2 * D, &st, y, D, D, N};
            if (time_op(b, op_scan, &p, 5, &ms)) return -1;
            double bytes = (double)T * D * 2 * 4 + (double)T * 2 * N * 2;   /* x, dt, z, y + B, C */
            printf("selective scan T=%zu D=%zu N=%zu %8.3f %9.0f GB/s   %.0f%% of 3000 GB/s\n", T, D, N, ms,
                   bytes / (ms * 1e-3) / 1e9, bytes / (ms * 1e-3) / 3e10);
            /* the roofline: the same state-steps' exps and FMAs alone, in registers */
            size_t steps = T * D * N;
            double fms;
            if (time_op(b, op_scan_floor, &steps, 5, &fms)) return -1;
            printf("  its arithmetic alone (1 ex2 + 3 FMA-pipe ops per state-step, no memory) %8.3f ms: the scan at %.0f%% of it;\n"
                   "  at that time the scan's bytes would move at %.0f%% of 3000 GB/s (the most any one-exp scan reaches)\n",
                   fms, 100 * fms / ms, bytes / (fms * 1e-3) / 3e10);
        }
        if (all || !strcmp(which, "conv")) {
            lj_conv1d_params p = {batch, xz, 2 * D, cw, cb, &win, y, D, D, s->d_conv};
            if (time_op(b, op_conv, &p, 10, &ms)) return -1;
            double bytes = (double)T * D * 2 * 2;
            printf("conv1d+silu T=%zu D=%zu K=%zu    %8.3f %9.0f GB/s   %.0f%% of 3000 GB/s\n", T, D, s->d_conv, ms,
                   bytes / (ms * 1e-3) / 1e9, bytes / (ms * 1e-3) / 3e10);
        }
        b->free(b, xz); b->free(b, x); b->free(b, dt); b->free(b, bc); b->free(b, y); b->free(b, dtb); b->free(b, al);
        b->free(b, dsk); b->free(b, st); b->free(b, cw); b->free(b, cb); b->free(b, win);
    }
    if ((all || !strcmp(which, "moe")) && s->experts > 1) {
        size_t T = 8192, Hd = s->hidden, F = s->inter, E = s->experts;
        void *x, *router, *ex, *out;
        if (b->alloc(b, T * Hd * 2, &x) || b->alloc(b, E * Hd * 2, &router) || b->alloc(b, E * 3 * F * Hd * 2, &ex) ||
            b->alloc(b, T * Hd * 2, &out))
            return -1;
        ljc->fill_random(b, x, LJ_BF16, T * Hd, 41, 1.0f, 0.0f);
        ljc->fill_random(b, router, LJ_BF16, E * Hd, 42, 0.05f, 0.0f);
        ljc->fill_random(b, ex, LJ_BF16, E * 3 * F * Hd, 43, 0.02f, 0.0f);
        lj_tensor *tg = calloc(E, sizeof *tg), *tu = calloc(E, sizeof *tu), *td = calloc(E, sizeof *td);
        for (size_t e = 0; e < E; e++) {
            char *base = (char *)ex + e * 3 * F * Hd * 2;
            tg[e] = (lj_tensor){base, LJ_BF16, F, Hd, NULL};
            tu[e] = (lj_tensor){base + F * Hd * 2, LJ_BF16, F, Hd, NULL};
            td[e] = (lj_tensor){base + 2 * F * Hd * 2, LJ_BF16, Hd, F, NULL};
        }
        static const char *mode_name[3] = {"auto", "grouped", "per-expert"};
        size_t Ts[2] = {8192, 8};
        for (int k = 0; k < 2; k++)
            for (int mode = k == 0 ? 1 : 0; mode <= 2; mode++) {   /* decode: auto runs the grouped GEMV */
                size_t Tk = Ts[k];
                lj_moe_params p = {x, Hd, {router, LJ_BF16, E, Hd, NULL}, tg, tu, td, out, Hd, Tk, E, s->topk, Hd, F};
                double ms;
                ljc->set_moe_gemm(b, mode);
                if (time_op(b, op_moe, &p, k == 0 ? 5 : 20, &ms)) return -1;
                double tf = 2.0 * Tk * s->topk * 3 * Hd * F / (ms * 1e-3) / 1e12;
                if (k == 0)
                    printf("moe block T=%zu E=%zu top%zu %-10s %8.3f %9.1f TF/s   %.0f%% of cuBLAS GEMM %.0f TF/s\n", Tk, E,
                           s->topk, mode_name[mode], ms, tf, 100 * tf / gemm, gemm);
                else
                    printf("moe block T=%zu (decode) %-10s  %8.3f %9.0f GB/s (expert weights read)\n", Tk, mode_name[mode], ms,
                           3.0 * Hd * F * 2 * (E < Tk * s->topk ? E : Tk * s->topk) / (ms * 1e-3) / 1e9);
            }
        ljc->set_moe_gemm(b, LJC_MOE_AUTO);
        free(tg); free(tu); free(td);
        b->free(b, x); b->free(b, router); b->free(b, ex); b->free(b, out);
    }
    if ((all || !strcmp(which, "moe8")) && s->experts > 1 && bench_moe_int8(b, s) != 0) return -1;
    return 0;
}

static void usage(void) {
    printf("usage: longjam bench --device cuda --shape NAME|config.json --synthetic [OPTIONS]\n"
           "       longjam bench --device cuda --shape NAME --op all|attention|decode|scan|conv|moe|moe8\n\n"
           "Synthetic weights of a real shape created on the GPU (seeded), then per context length:\n"
           "prefill tokens/s, decode tokens/s per batch size, peak GPU memory, prefill TFLOP/s and its\n"
           "ratio to a cuBLAS bf16 GEMM timed in the same run.\n\n"
           "  --shape S        jamba-1.5-mini | jamba-1.5-large | path to a config.json\n"
           "  --layers N       first N layers of the pattern (default: all)\n"
           "  --context LIST   context lengths, e.g. 4096,32768,131072 (K suffix allowed)\n"
           "  --chunk N        prefill chunk (default 8192)\n"
           "  --decode N       decode steps timed per batch size (default 64)\n"
           "  --repeat N       prefills timed per context, the median printed (default 3)\n"
           "  --batch LIST     decode batch sizes (default 1)\n"
           "  --gpu N          CUDA device (default 0)\n"
           "  --seed N         weight seed (default 1234)\n"
           "  --experts F      bf16 (default) or int8: ExpertsInt8 experts (per-row scales, W8A16 kernels)\n"
           "  --op NAME        time single ops at the shape's sizes instead\n");
}

int bench_cuda_main(int argc, char **argv) {
    const char *shape_arg = "jamba-1.5-mini", *op = NULL;
    size_t layers = 0, chunk = 8192, decode = 64, repeat = 3, ctx[16], bsz[16];
    int nctx = 0, nb = 0, gpu = 0, experts_int8 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if (!strcmp(a, "--synthetic") || !strcmp(a, "model")) continue;
        else if (!strcmp(a, "--device")) { if (!v || strcmp(v, "cuda")) { fprintf(stderr, "bench: --device %s: this path is cuda\n", v ? v : ""); return 2; } i++; }
        else if (!v) { fprintf(stderr, "bench: %s needs a value\n", a); return 2; }
        else if (!strcmp(a, "--shape")) { shape_arg = v; i++; }
        else if (!strcmp(a, "--op")) { op = v; i++; }
        else if (!strcmp(a, "--experts")) {
            if (!v || (strcmp(v, "int8") && strcmp(v, "bf16"))) { fprintf(stderr, "bench: --experts int8|bf16\n"); return 2; }
            experts_int8 = !strcmp(v, "int8"); i++;
        }
        else if (!strcmp(a, "--layers")) { layers = strtoul(v, NULL, 10); i++; }
        else if (!strcmp(a, "--chunk")) { chunk = strtoul(v, NULL, 10); i++; }
        else if (!strcmp(a, "--decode")) { decode = strtoul(v, NULL, 10); i++; }
        else if (!strcmp(a, "--repeat")) { repeat = strtoul(v, NULL, 10); i++; }
        else if (!strcmp(a, "--gpu")) { gpu = atoi(v); i++; }
        else if (!strcmp(a, "--seed")) { g_seed = strtoull(v, NULL, 10); i++; }
        else if (!strcmp(a, "--context")) { if ((nctx = parse_list(v, ctx, 16)) <= 0) { fprintf(stderr, "bench: bad --context %s\n", v); return 2; } i++; }
        else if (!strcmp(a, "--batch")) { if ((nb = parse_list(v, bsz, 16)) <= 0) { fprintf(stderr, "bench: bad --batch %s\n", v); return 2; } i++; }
        else { fprintf(stderr, "bench: unknown option %s (see --help)\n", a); return 2; }
    }
    if (!nctx) { ctx[0] = 4096; nctx = 1; }
    if (!nb) { bsz[0] = 1; nb = 1; }
    if (!chunk) chunk = 8192;
    if (repeat < 1) repeat = 1;
    if (repeat > 15) repeat = 15;
    bmodel m;
    memset(&m, 0, sizeof m);
    m.experts_int8 = experts_int8;
    if (shape_load(shape_arg, &m.s)) return 2;
    if (layers && layers < m.s.layers) m.s.layers = layers;
    char err[512];
    if (!(ljc = ljc_api_get(err, sizeof err))) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    if (lj_backend_open("cuda", 0, gpu, &m.b, err, sizeof err)) { fprintf(stderr, "bench: %s\n", err); return 1; }
    lj_backend *b = m.b;
    char dev[128];
    size_t used0 = 0, total = 0, used = 0, peak = 0;
    ljc->device_info(b, dev, sizeof dev, &used0, &total);
    double gemm = gemm_tflops(b);
    printf("device: %s, %.1f GiB; backend %s; cuBLAS bf16 GEMM 8192^3: %.1f TFLOP/s\n", dev, total / 1073741824.0, b->name, gemm);
    if (op) {
        int rc = bench_ops(b, &m.s, op, gemm);
        b->destroy(b);
        return rc ? 1 : 0;
    }
    size_t n_attn = 0, n_moe = 0;
    for (size_t i = 0; i < m.s.layers; i++) { n_attn += is_attn(&m.s, i); n_moe += is_moe(&m.s, i); }
    printf("shape %s: %zu layers (%zu attention, %zu MoE), hidden %zu, heads %zu/%zu, experts %zu top-%zu, vocab %zu\n",
           m.s.name, m.s.layers, n_attn, n_moe, m.s.hidden, m.s.heads, m.s.kv_heads, m.s.experts, m.s.topk, m.s.vocab);
    double t0 = lj_now();
    if (model_build(&m)) { b->destroy(b); return 1; }
    printf("weights: %.2f GB (%s experts, the rest bf16) made on the GPU in %.1f s (seed %llu)\n", m.weight_bytes / 1e9,
           m.experts_int8 ? "int8" : "bf16", lj_now() - t0,
           (unsigned long long)g_seed);
    size_t maxb = 1, maxctx = 0;
    for (int k = 0; k < nb; k++) if (bsz[k] > maxb) maxb = bsz[k];
    for (int c = 0; c < nctx; c++) if (ctx[c] > maxctx) maxctx = ctx[c];
    if (maxb > 64) { fprintf(stderr, "bench: batch at most 64\n"); return 2; }
    size_t rows = chunk > maxb ? chunk : maxb;
    if (model_activations(&m, rows, maxb) || model_states(&m, maxb, maxctx + decode + 1)) {
        ljc->device_info(b, NULL, 0, &used, &total);
        fprintf(stderr, "bench: does not fit: %.1f GiB in use of %.1f GiB (try fewer --layers, a shorter --context or smaller --batch)\n",
                used / 1073741824.0, total / 1073741824.0);
        b->destroy(b);
        return 1;
    }
    printf("\n%8s %8s %12s %10s %9s %10s %12s\n", "context", "chunk", "prefill t/s", "TFLOP/s", "vs cuBLAS", "batch", "decode t/s");
    typedef struct { size_t ctx; double pf_tps, tf; double dec[16]; double peak; } rowres;
    rowres res[16];
    for (int c = 0; c < nctx; c++) {
        size_t C = ctx[c];
        /* warm-up on the first context (kernels, cuBLAS heuristics, scratch growth) */
        if (c == 0) {
            size_t w = C < chunk ? C : chunk, ps = 0;
            if (seq_reset(&m, 0) || random_ids(&m, w, 99) || model_step(&m, 0, 1, &w, &ps)) { b->destroy(b); return 1; }
        }
        /* `repeat` whole prefills of the context, the median kept (one 4K prefill is ~50-100 ms:
         * single runs differed by up to 20% between calls) */
        double runs[15], ms_total = 0, flops = 0;
        for (size_t r = 0; r < repeat; r++) {
            if (seq_reset(&m, 0)) return 1;
            runs[r] = 0;
            flops = 0;
            for (size_t p = 0; p < C; p += chunk) {
                size_t n = C - p < chunk ? C - p : chunk;
                if (random_ids(&m, n, 1000 + p)) return 1;   /* upload outside the timed region */
                ljc_timer t;
                double ms;
                ljc->timer_start(b, &t);
                if (model_step(&m, 0, 1, &n, &p)) { b->destroy(b); return 1; }
                if (ljc->timer_stop(b, &t, &ms)) { fprintf(stderr, "bench: %s\n", b->err); return 1; }
                runs[r] += ms;
                flops += step_flops(&m.s, (double)n, (double)p);
            }
        }
        for (size_t i = 1; i < repeat; i++)   /* insertion sort: at most 15 */
            for (size_t j = i; j > 0 && runs[j - 1] > runs[j]; j--) {
                double t = runs[j];
                runs[j] = runs[j - 1];
                runs[j - 1] = t;
            }
        ms_total = repeat % 2 ? runs[repeat / 2] : 0.5 * (runs[repeat / 2 - 1] + runs[repeat / 2]);
        ljc->device_info(b, NULL, 0, &used, &total);
        if (used > peak) peak = used;
        res[c].ctx = C;
        res[c].pf_tps = C / (ms_total * 1e-3);
        res[c].tf = flops / (ms_total * 1e-3) / 1e12;
        for (int k = 0; k < nb; k++) {
            size_t B = bsz[k], nt[64], ps[64];
            for (size_t q = 1; q < B; q++) if (seq_fork(&m, q, C)) return 1;
            for (size_t q = 0; q < B; q++) { nt[q] = 1; ps[q] = C; }
            if (random_ids(&m, B, 7)) return 1;
            /* one untimed step (decode kernels' first launch), then the timed steps; positions
             * advance; sequence 0's state moves on too, the next batch size re-forks from it */
            if (model_step(&m, 0, B, nt, ps)) { b->destroy(b); return 1; }
            for (size_t q = 0; q < B; q++) ps[q]++;
            ljc_timer t;
            double ms;
            ljc->timer_start(b, &t);
            for (size_t st = 0; st < decode && ps[0] < m.cap; st++) {
                lj_argmax_params am = {m.logits, m.s.vocab, m.ids, B, m.s.vocab};   /* greedy: next ids on the device */
                if (b->argmax(b, &am) || model_step(&m, 0, B, nt, ps)) { fprintf(stderr, "bench: %s\n", b->err); return 1; }
                for (size_t q = 0; q < B; q++) ps[q]++;
            }
            if (ljc->timer_stop(b, &t, &ms)) return 1;
            res[c].dec[k] = (double)B * decode / (ms * 1e-3);
            ljc->device_info(b, NULL, 0, &used, &total);
            if (used > peak) peak = used;
            if (seq_reset(&m, 0)) return 1;
        }
        res[c].peak = peak;
        for (int k = 0; k < nb; k++) {
            if (k == 0)
                printf("%8zu %8zu %12.0f %10.1f %8.0f%% %10zu %12.1f\n", C, chunk, res[c].pf_tps, res[c].tf, 100 * res[c].tf / gemm,
                       bsz[k], res[c].dec[k]);
            else
                printf("%8s %8s %12s %10s %9s %10zu %12.1f\n", "", "", "", "", "", bsz[k], res[c].dec[k]);
        }
        fflush(stdout);
    }
    /* the decode figure: batch 1 against the weight-read roofline — the bytes of the weights a
     * token reads (all but the embedding table, of which one row, and only top-k experts per MoE
     * layer) at the 3.0 TB/s HBM anchor; also with the KV cache the attention layers read */
    for (int k = 0; k < nb; k++) {
        if (bsz[k] != 1) continue;
        double active = (double)m.weight_bytes - (double)m.s.vocab * m.s.hidden * 2 + m.s.hidden * 2 - (double)m.expert_bytes +
                        (double)n_moe * (m.s.topk < m.s.experts ? m.s.topk : m.s.experts) * m.expert_each;
        printf("\ndecode at batch 1 vs the weight-read roofline (%.2f GB of active weights per token at 3.0 TB/s: %.1f tok/s):\n",
               active / 1e9, 3.0e12 / active);
        for (int c = 0; c < nctx; c++) {
            double kv = (double)n_attn * 2 * (res[c].ctx + 1) * m.s.kv_heads * m.s.head_dim * 2, roof = 3.0e12 / active;
            printf("  context %7zu: %7.1f tok/s = %3.0f%% of the roofline; %3.0f%% counting the KV cache read too (%.2f GB)\n",
                   res[c].ctx, res[c].dec[k], 100 * res[c].dec[k] / roof, 100 * res[c].dec[k] / (3.0e12 / (active + kv)), kv / 1e9);
        }
    }
    printf("\npeak GPU memory in use: %.2f GiB of %.1f GiB (weights %.2f GB; before the model %.2f GiB)\n", peak / 1073741824.0,
           total / 1073741824.0, m.weight_bytes / 1e9, used0 / 1073741824.0);
    printf("# summary %s layers=%zu", m.s.name, m.s.layers);
    for (int c = 0; c < nctx; c++) printf(" prefill@%zu=%.0f", res[c].ctx, res[c].pf_tps);
    printf("\n");
    model_free_states(&m);
    b->destroy(b);   /* device memory goes with the context at exit */
    return 0;
}
