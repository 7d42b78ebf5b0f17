/* Op tests for the CUDA backend: every op of the lj_backend table against a double-precision CPU
 * reference on random inputs (inputs rounded to bf16 first, so both sides see the same values),
 * with awkward sizes (T not a multiple of any tile, T = 1, 6/3 heads, d_state 8, d_conv 3,
 * sequences of a batch mixing prefill chunks and decode tokens).
 * Tolerances (normalised squared error): fp32 results (SSM state, conv window) 1e-5; bf16 outputs
 * 1e-3 (bf16 keeps 8 bits: a rounding of each output alone gives ~1e-6, bf16 probabilities in
 * attention's P·V a few 1e-6). Without a usable GPU the test prints why and returns 77. */
#include "kernels/backend.h"
#include "kernels/cuda/cuda_backend.h"
#include "tests/test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lj_backend *B;
static lj_dtype ACT;     /* the backend's activation (and weight, KV) dtype */
static size_t ES;        /* its element size */
static double TOL;       /* nmse bound for outputs in ACT: 1e-3 for bf16, 1e-5 for fp32 */
static uint64_t rng = 0x2545F4914F6CDD1Dull;

static float frand(void) {   /* uniform [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}
static float bf(float f) {   /* round to bf16 (nearest even) and back */
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}
static float RA(float f) { return ACT == LJ_BF16 ? bf(f) : f; }
static float *rand_vec(size_t n, float scale, int round) {
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = round ? bf(scale * frand()) : scale * frand();
    return v;
}
static void *dev(size_t bytes) {
    void *p = NULL;
    if (B->alloc(B, bytes, &p)) { fprintf(stderr, "alloc: %s\n", B->err); exit(1); }
    return p;
}
static void *dev_from(const float *h, size_t n, lj_dtype t) {
    void *p = dev(n * lj_dtype_size(t));
    if (B->upload(B, p, t, h, LJ_F32, n)) { fprintf(stderr, "upload: %s\n", B->err); exit(1); }
    return p;
}
static float *host_from(const void *d, size_t n, lj_dtype t) {
    float *h = malloc(n * sizeof *h);
    if (B->download(B, h, LJ_F32, d, t, n)) { fprintf(stderr, "download: %s\n", B->err); exit(1); }
    return h;
}
static double nmse(const float *out, const double *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) return INFINITY;
        double d = out[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}
#define OK(call) do { if ((call) != 0) { fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, B->err); test_failures++; return; } } while (0)
#define EXPECT_NMSE(what, out, ref, n, tol) do { double e_ = nmse((out), (ref), (n)); \
    printf("  %-40s nmse %.2e (tol %.0e)\n", (what), e_, (tol)); CHECKF(e_ <= (tol), "%s: nmse %.3e > %.0e", (what), e_, (tol)); } while (0)
static double silu(double v) { return v / (1.0 + exp(-v)); }
static double softplus(double v) { return v > 20 ? v : log1p(exp(v)); }

/* ---------------------------------------------------------------------------------------- */

/* RMSNorm of rows × n values with eps 1e-6, in double (the caller frees it) */
static double *rmsnorm_ref(const float *x, const float *w, size_t rows, size_t n) {
    double *ref = malloc(rows * n * sizeof *ref);
    for (size_t r = 0; r < rows; r++) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (double)x[r * n + i] * x[r * n + i];
        double inv = 1.0 / sqrt(ss / n + 1e-6);
        for (size_t i = 0; i < n; i++) ref[r * n + i] = x[r * n + i] * inv * w[i];
    }
    return ref;
}

static void test_rmsnorm_silu_add_embed_argmax(void) {
    size_t rows = 7, n = 100;
    float *x = rand_vec(rows * n, 2.0f, 1), *w = rand_vec(n, 1.0f, 0);
    void *dx = dev_from(x, rows * n, ACT), *dw = dev_from(w, n, LJ_F32), *dy = dev(rows * n * ES);
    lj_rmsnorm_params p = {dx, n, dw, dy, n, rows, n, 1e-6f};
    OK(B->rmsnorm(B, &p));
    double *ref = rmsnorm_ref(x, w, rows, n);
    float *y = host_from(dy, rows * n, ACT);
    EXPECT_NMSE("rmsnorm [7,100]", y, ref, rows * n, TOL);
    p.y = dx;   /* in place */
    OK(B->rmsnorm(B, &p));
    free(y);
    y = host_from(dx, rows * n, ACT);
    EXPECT_NMSE("rmsnorm in place", y, ref, rows * n, TOL);
    free(y);

    /* silu_mul over strided halves of one [rows, 2n] buffer, and add */
    float *ab = rand_vec(rows * 2 * n, 3.0f, 1);
    void *dab = dev_from(ab, rows * 2 * n, ACT), *dout = dev(rows * n * ES);
    lj_silu_mul_params sp = {dab, 2 * n, (char *)dab + n * ES, 2 * n, dout, n, rows, n};
    OK(B->silu_mul(B, &sp));
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++) ref[r * n + i] = silu(ab[r * 2 * n + i]) * ab[r * 2 * n + n + i];
    y = host_from(dout, rows * n, ACT);
    EXPECT_NMSE("silu_mul strided", y, ref, rows * n, TOL);
    free(y);
    lj_add_params ap = {dout, dx, dout, rows * n};
    float *xr = host_from(dx, rows * n, ACT), *o0 = host_from(dout, rows * n, ACT);
    OK(B->add(B, &ap));
    for (size_t i = 0; i < rows * n; i++) ref[i] = (double)o0[i] + xr[i];
    y = host_from(dout, rows * n, ACT);
    EXPECT_NMSE("add in place", y, ref, rows * n, 1e-4);
    free(y); free(xr); free(o0);

    /* embedding + argmax */
    size_t V = 33, H = 24, T = 9;
    float *tab = rand_vec(V * H, 1.0f, 1);
    int32_t ids[9] = {0, 5, 32, 7, 7, 1, 31, 2, 16};
    void *dtab = dev_from(tab, V * H, ACT), *dids = dev(T * 4), *demb = dev(T * H * ES);
    OK(B->upload(B, dids, LJ_I32, ids, LJ_I32, T));
    lj_embedding_params ep = {dids, {dtab, ACT, V, H, NULL}, demb, T};
    OK(B->embedding(B, &ep));
    float *emb = host_from(demb, T * H, ACT);
    int same = 1;
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < H; i++) same &= emb[t * H + i] == tab[ids[t] * H + i];
    CHECKF(same, "embedding rows differ from the table");
    void *dam = dev(V * 4);
    lj_argmax_params gp = {dtab, H, dam, V, H};
    OK(B->argmax(B, &gp));
    int32_t *am = malloc(V * 4);
    OK(B->download(B, am, LJ_I32, dam, LJ_I32, V));
    B->free(B, dam);
    int amok = 1;
    for (size_t r = 0; r < V; r++) {
        size_t best = 0;
        for (size_t i = 1; i < H; i++) if (tab[r * H + i] > tab[r * H + best]) best = i;
        amok &= (size_t)am[r] == best;
    }
    CHECKF(amok, "argmax differs from the CPU's");
    printf("  embedding, argmax                        %s\n", same && amok ? "exact" : "WRONG");
    free(am); free(emb); free(tab); free(ab); free(ref); free(x); free(w);
    B->free(B, dx); B->free(B, dw); B->free(B, dy); B->free(B, dab); B->free(B, dout);
    B->free(B, dtab); B->free(B, dids); B->free(B, demb);
}

/* decode-shaped norms (one row of 4,096; the SSM's 256- and 16-wide ones) and a row past the
 * vector kernel's width, in place, against the CPU formula */
static void test_rmsnorm_rows(size_t rows, size_t n) {
    float *x = rand_vec(rows * n, 2.0f, 1), *w = rand_vec(n, 1.0f, 0);
    void *dx = dev_from(x, rows * n, ACT), *dw = dev_from(w, n, LJ_F32);
    lj_rmsnorm_params p = {dx, n, dw, dx, n, rows, n, 1e-6f};
    OK(B->rmsnorm(B, &p));
    double *ref = rmsnorm_ref(x, w, rows, n);
    float *y = host_from(dx, rows * n, ACT);
    char what[64];
    snprintf(what, sizeof what, "rmsnorm in place [%zu,%zu]", rows, n);
    EXPECT_NMSE(what, y, ref, rows * n, TOL);
    free(x); free(w); free(ref); free(y);
    B->free(B, dx); B->free(B, dw);
}

/* a vocabulary-wide argmax with the maximum planted twice (the lower index must win) */
static void test_argmax_wide(size_t rows, size_t n) {
    float *x = rand_vec(rows * n, 1.0f, 1);
    size_t *want = malloc(rows * sizeof *want);
    for (size_t r = 0; r < rows; r++) {
        want[r] = (r * 7919 + n / 3) % n;
        x[r * n + want[r]] = 4.0f;
        if (want[r] + n / 2 < n) x[r * n + want[r] + n / 2] = 4.0f;   /* the same maximum, later */
    }
    void *dx = dev_from(x, rows * n, ACT), *dids = dev(rows * 4);
    lj_argmax_params p = {dx, n, dids, rows, n};
    OK(B->argmax(B, &p));
    int32_t *ids = malloc(rows * 4);
    OK(B->download(B, ids, LJ_I32, dids, LJ_I32, rows));
    int ok = 1;
    for (size_t r = 0; r < rows; r++) ok &= (size_t)ids[r] == want[r];
    printf("  argmax [%zu,%zu], a tie above the first   %s\n", rows, n, ok ? "exact" : "WRONG");
    CHECKF(ok, "argmax [%zu,%zu] differs from the planted maximum", rows, n);
    free(x); free(want); free(ids);
    B->free(B, dx); B->free(B, dids);
}

static void test_matmul(size_t M, size_t N, size_t K, int with_bias) {
    float *x = rand_vec(M * K, 1.0f, 1), *w = rand_vec(N * K, 0.5f, 1), *bias = rand_vec(N, 1.0f, 0);
    float *y0 = rand_vec(M * N, 1.0f, 1);
    size_t ldx = K + 8, ldy = N + 2;   /* strided rows */
    float *xs = calloc(M * ldx, sizeof *xs), *ys = calloc(M * ldy, sizeof *ys);
    for (size_t m = 0; m < M; m++) {
        memcpy(xs + m * ldx, x + m * K, K * 4);
        memcpy(ys + m * ldy, y0 + m * N, N * 4);
    }
    void *dx = dev_from(xs, M * ldx, ACT), *dw = dev_from(w, N * K, ACT), *db = dev_from(bias, N, LJ_F32);
    void *dy = dev_from(ys, M * ldy, ACT);
    lj_matmul_params p = {dx, ldx, {dw, ACT, N, K, NULL}, with_bias ? db : NULL, dy, ldy, M, 1};
    OK(B->matmul(B, &p));
    float *y = host_from(dy, M * ldy, ACT);
    double *ref = malloc(M * N * sizeof *ref);
    float *yc = malloc(M * N * sizeof *yc);
    for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
            double acc = y0[m * N + n] + (with_bias ? bias[n] : 0);
            for (size_t k = 0; k < K; k++) acc += (double)x[m * K + k] * w[n * K + k];
            ref[m * N + n] = acc;
            yc[m * N + n] = y[m * ldy + n];
        }
    char what[64];
    snprintf(what, sizeof what, "matmul accumulate %zux%zux%zu%s", M, N, K, with_bias ? " +bias" : "");
    EXPECT_NMSE(what, yc, ref, M * N, TOL);
    free(x); free(w); free(bias); free(y0); free(xs); free(ys); free(y); free(ref); free(yc);
    B->free(B, dx); B->free(B, dw); B->free(B, db); B->free(B, dy);
}

/* ---- conv1d ---------------------------------------------------------------------------- */

static void test_conv(size_t D, size_t K, size_t ns, const size_t *ntok, const size_t *pos) {
    size_t T = 0;
    for (size_t s = 0; s < ns; s++) T += ntok[s];
    size_t ldx = 2 * D;   /* the x half of in_proj's output */
    float *x = rand_vec(T * ldx, 2.0f, 1), *w = rand_vec(D * K, 0.7f, 0), *bias = rand_vec(D, 0.3f, 0);
    float **win = malloc(ns * sizeof *win);
    void **dwin = malloc(ns * sizeof *dwin);
    for (size_t s = 0; s < ns; s++) {
        win[s] = rand_vec((K - 1) * D, 1.0f, 0);
        if (pos[s] == 0) memset(win[s], 0, (K - 1) * D * 4);
        dwin[s] = dev_from(win[s], (K - 1) * D, LJ_F32);
    }
    void *dx = dev_from(x, T * ldx, ACT), *dw = dev_from(w, D * K, LJ_F32), *dbias = dev_from(bias, D, LJ_F32);
    void *dy = dev(T * D * ES);
    lj_conv1d_params p = {{ns, ntok, pos, T}, dx, ldx, dw, dbias, (float *const *)dwin, dy, D, D, K};
    OK(B->conv1d(B, &p));
    double *ref = malloc(T * D * sizeof *ref), *wref = malloc((K - 1) * D * ns * sizeof *wref);
    size_t row = 0;
    for (size_t s = 0; s < ns; s++) {
        for (size_t t = 0; t < ntok[s]; t++)
            for (size_t d = 0; d < D; d++) {
                double acc = bias[d];
                for (size_t j = 0; j < K; j++) {
                    long tau = (long)t - (long)(K - 1) + (long)j;
                    double in = tau >= 0 ? x[(row + tau) * ldx + d] : win[s][(K - 1 + tau) * D + d];
                    acc += w[d * K + j] * in;
                }
                ref[(row + t) * D + d] = silu(acc);
            }
        for (size_t j = 0; j < K - 1; j++)
            for (size_t d = 0; d < D; d++) {
                long tau = (long)ntok[s] - (long)(K - 1) + (long)j;
                wref[(s * (K - 1) + j) * D + d] = tau >= 0 ? x[(row + tau) * ldx + d] : win[s][(K - 1 + tau) * D + d];
            }
        row += ntok[s];
    }
    float *y = host_from(dy, T * D, ACT);
    char what[80];
    snprintf(what, sizeof what, "conv1d D=%zu K=%zu seqs=%zu T=%zu", D, K, ns, T);
    EXPECT_NMSE(what, y, ref, T * D, TOL);
    float *wout = malloc((K - 1) * D * ns * sizeof *wout);
    for (size_t s = 0; s < ns; s++) {
        float *h = host_from(dwin[s], (K - 1) * D, LJ_F32);
        memcpy(wout + s * (K - 1) * D, h, (K - 1) * D * 4);
        free(h);
        B->free(B, dwin[s]);
        free(win[s]);
    }
    EXPECT_NMSE("  carried window (fp32)", wout, wref, (K - 1) * D * ns, 1e-5);
    free(wout); free(y); free(ref); free(wref); free(x); free(w); free(bias); free(win); free(dwin);
    B->free(B, dx); B->free(B, dw); B->free(B, dbias); B->free(B, dy);
}

/* ---- selective scan ------------------------------------------------------------------ */

static void test_scan(size_t D, size_t N, size_t ns, const size_t *ntok, int mode) {
    size_t T = 0;
    for (size_t s = 0; s < ns; s++) T += ntok[s];
    /* x/z halves of one buffer; B, C inside x_proj's rows after R dt-rank columns: R = 8 keeps every row
     * 16-byte aligned when N = 16 and D % 8 == 0 (the single pass's vector staging), R = 5 does not */
    size_t ldxz = 2 * D, R = N == 16 && D % 8 == 0 ? 8 : 5, ldbc = R + 2 * N;
    float *xz = rand_vec(T * ldxz, 1.5f, 1), *dt = rand_vec(T * D, 1.5f, 1), *bc = rand_vec(T * ldbc, 1.0f, 1);
    float *dtb = rand_vec(D, 1.0f, 0), *alog = malloc(D * N * 4), *dsk = rand_vec(D, 1.0f, 0);
    for (size_t i = 0; i < D * N; i++) alog[i] = logf(1.0f + (float)(i % N)) + 0.3f * frand();
    float **st = malloc(ns * sizeof *st);
    void **dst = malloc(ns * sizeof *dst);
    size_t *pos = calloc(ns, sizeof *pos);
    for (size_t s = 0; s < ns; s++) {
        st[s] = rand_vec(D * N, 1.0f, 0);
        dst[s] = dev_from(st[s], D * N, LJ_F32);
    }
    void *dxz = dev_from(xz, T * ldxz, ACT), *ddt = dev_from(dt, T * D, ACT), *dbc = dev_from(bc, T * ldbc, ACT);
    void *ddtb = dev_from(dtb, D, LJ_F32), *dal = dev_from(alog, D * N, LJ_F32), *ddsk = dev_from(dsk, D, LJ_F32);
    void *dy = dev(T * D * ES);
    lj_scan_params p = {{ns, ntok, pos, T}, dxz, ldxz, ddt, D, ddtb, dal, (char *)dbc + R * ES, ldbc,
                        (char *)dbc + (R + N) * ES, ldbc, ddsk, (char *)dxz + D * ES, ldxz, (float *const *)dst, dy, D, D, N};
    ljc_set_scan_mode(B, mode);
    int rc = B->scan(B, &p);
    ljc_set_scan_mode(B, LJC_SCAN_AUTO);   /* before OK, which returns on failure */
    OK(rc);
    double *ref = malloc(T * D * sizeof *ref), *sref = malloc(ns * D * N * sizeof *sref), *h = malloc(N * sizeof *h);
    size_t row = 0;
    for (size_t s = 0; s < ns; s++) {
        for (size_t d = 0; d < D; d++) {
            for (size_t n = 0; n < N; n++) h[n] = st[s][d * N + n];
            for (size_t t = 0; t < ntok[s]; t++) {
                size_t r = row + t;
                double xv = xz[r * ldxz + d], dv = softplus((double)dt[r * D + d] + dtb[d]), acc = 0;
                for (size_t n = 0; n < N; n++) {
                    double A = -exp((double)alog[d * N + n]);
                    h[n] = exp(dv * A) * h[n] + dv * xv * bc[r * ldbc + R + n];
                    acc += h[n] * bc[r * ldbc + R + N + n];
                }
                ref[r * D + d] = (acc + dsk[d] * xv) * silu(xz[r * ldxz + D + d]);
            }
            for (size_t n = 0; n < N; n++) sref[(s * D + d) * N + n] = h[n];
        }
        row += ntok[s];
    }
    float *y = host_from(dy, T * D, ACT);
    char what[80];
    snprintf(what, sizeof what, "scan %s D=%zu N=%zu seqs=%zu T=%zu",
             T == ns && N <= 32 ? "decode step" : mode == LJC_SCAN_SINGLE ? "single-pass" : "chunked", D, N, ns, T);
    EXPECT_NMSE(what, y, ref, T * D, TOL);
    float *sout = malloc(ns * D * N * sizeof *sout);
    for (size_t s = 0; s < ns; s++) {
        float *hs = host_from(dst[s], D * N, LJ_F32);
        memcpy(sout + s * D * N, hs, D * N * 4);
        free(hs);
        B->free(B, dst[s]);
        free(st[s]);
    }
    EXPECT_NMSE("  carried SSM state (fp32)", sout, sref, ns * D * N, 1e-5);
    free(sout); free(y); free(ref); free(sref); free(h); free(xz); free(dt); free(bc); free(dtb); free(alog);
    free(dsk); free(st); free(dst); free(pos);
    B->free(B, dxz); B->free(B, ddt); B->free(B, dbc); B->free(B, ddtb); B->free(B, dal); B->free(B, ddsk); B->free(B, dy);
}

/* ---- attention ------------------------------------------------------------------------- */

static void test_attention(size_t H, size_t KVH, size_t hd, size_t ns, const size_t *ntok, const size_t *pos) {
    size_t T = 0, cap = 0;
    for (size_t s = 0; s < ns; s++) {
        T += ntok[s];
        if (pos[s] + ntok[s] > cap) cap = pos[s] + ntok[s];
    }
    size_t qd = H * hd, kvd = KVH * hd, ldqkv = qd + 2 * kvd;   /* one fused qkv buffer */
    float *qkv = rand_vec(T * ldqkv, 1.0f, 1);
    float **kc = malloc(ns * sizeof *kc), **vc = malloc(ns * sizeof *vc);
    void **dk = malloc(ns * sizeof *dk), **dv = malloc(ns * sizeof *dv);
    for (size_t s = 0; s < ns; s++) {
        kc[s] = rand_vec(cap * kvd, 1.0f, 1);
        vc[s] = rand_vec(cap * kvd, 1.0f, 1);
        dk[s] = dev_from(kc[s], cap * kvd, ACT);
        dv[s] = dev_from(vc[s], cap * kvd, ACT);
    }
    void *dqkv = dev_from(qkv, T * ldqkv, ACT), *dout = dev(T * qd * ES);
    float scale = 1.0f / sqrtf((float)hd);
    lj_attention_params p = {{ns, ntok, pos, T}, dqkv, ldqkv, (char *)dqkv + qd * ES, ldqkv, (char *)dqkv + (qd + kvd) * ES,
                             ldqkv, dk, dv, dout, qd, H, KVH, hd, scale};
    OK(B->attention(B, &p));
    /* reference: caches with the new rows appended */
    double *ref = malloc(T * qd * sizeof *ref), *sc = malloc(cap * sizeof *sc);
    size_t row = 0;
    for (size_t s = 0; s < ns; s++) {
        for (size_t t = 0; t < ntok[s]; t++) {
            memcpy(kc[s] + (pos[s] + t) * kvd, qkv + (row + t) * ldqkv + qd, kvd * 4);
            memcpy(vc[s] + (pos[s] + t) * kvd, qkv + (row + t) * ldqkv + qd + kvd, kvd * 4);
        }
        for (size_t t = 0; t < ntok[s]; t++)
            for (size_t h = 0; h < H; h++) {
                size_t g = h / (H / KVH), P = pos[s] + t;
                const float *q = qkv + (row + t) * ldqkv + h * hd;
                double mx = -INFINITY, sum = 0;
                for (size_t j = 0; j <= P; j++) {
                    double a = 0;
                    for (size_t d = 0; d < hd; d++) a += (double)q[d] * kc[s][j * kvd + g * hd + d];
                    sc[j] = a * scale;
                    if (sc[j] > mx) mx = sc[j];
                }
                for (size_t j = 0; j <= P; j++) { sc[j] = exp(sc[j] - mx); sum += sc[j]; }
                for (size_t d = 0; d < hd; d++) {
                    double acc = 0;
                    for (size_t j = 0; j <= P; j++) acc += sc[j] * vc[s][j * kvd + g * hd + d];
                    ref[(row + t) * qd + h * hd + d] = acc / sum;
                }
            }
        row += ntok[s];
    }
    float *out = host_from(dout, T * qd, ACT);
    char what[96];
    snprintf(what, sizeof what, "attention %zu/%zu hd%zu seqs=%zu T=%zu cache<=%zu", H, KVH, hd, ns, T, cap);
    EXPECT_NMSE(what, out, ref, T * qd, TOL);
    /* and each sequence alone: outputs shrink with the keys they average, so a wrong short
     * sequence could hide under a long one's energy in the batch's NMSE */
    for (size_t s = 0, r0 = 0; ns > 1 && s < ns; r0 += ntok[s], s++) {
        snprintf(what, sizeof what, "  sequence %zu (%zu new, pos %zu)", s, ntok[s], pos[s]);
        EXPECT_NMSE(what, out + r0 * qd, ref + r0 * qd, ntok[s] * qd, TOL);
    }
    int cache_ok = 1;
    for (size_t s = 0; s < ns; s++) {
        float *k2 = host_from(dk[s], cap * kvd, ACT), *v2 = host_from(dv[s], cap * kvd, ACT);
        for (size_t i = 0; i < (pos[s] + ntok[s]) * kvd; i++) cache_ok &= k2[i] == kc[s][i] && v2[i] == vc[s][i];
        free(k2); free(v2);
        B->free(B, dk[s]); B->free(B, dv[s]);
        free(kc[s]); free(vc[s]);
    }
    CHECKF(cache_ok, "KV cache after append differs");
    free(out); free(ref); free(sc); free(qkv); free(kc); free(vc); free(dk); free(dv);
    B->free(B, dqkv); B->free(B, dout);
}

/* ---- MoE --------------------------------------------------------------------------------- */

/* joined: each expert's gate and up back to back in one allocation (the engine's layout) */
static void test_moe(size_t T, size_t H, size_t I, size_t E, size_t K, int joined) {
    size_t ldx = H + 16;
    float *x = rand_vec(T * ldx, 1.0f, 1), *router = rand_vec(E * H, 0.5f, 1);
    float **g = malloc(E * sizeof *g), **u = malloc(E * sizeof *u), **dn = malloc(E * sizeof *dn);
    lj_tensor *tg = malloc(E * sizeof *tg), *tu = malloc(E * sizeof *tu), *td = malloc(E * sizeof *td);
    for (size_t e = 0; e < E; e++) {
        g[e] = rand_vec(I * H, 0.3f, 1); u[e] = rand_vec(I * H, 0.3f, 1); dn[e] = rand_vec(H * I, 0.3f, 1);
        if (joined) {
            float *gu = malloc(2 * I * H * sizeof *gu);
            memcpy(gu, g[e], I * H * 4);
            memcpy(gu + I * H, u[e], I * H * 4);
            void *d = dev_from(gu, 2 * I * H, ACT);
            free(gu);
            tg[e] = (lj_tensor){d, ACT, I, H, NULL};
            tu[e] = (lj_tensor){(char *)d + I * H * ES, ACT, I, H, NULL};
        } else {
            tg[e] = (lj_tensor){dev_from(g[e], I * H, ACT), ACT, I, H, NULL};
            tu[e] = (lj_tensor){dev_from(u[e], I * H, ACT), ACT, I, H, NULL};
        }
        td[e] = (lj_tensor){dev_from(dn[e], H * I, ACT), ACT, H, I, NULL};
    }
    void *dx = dev_from(x, T * ldx, ACT), *dr = dev_from(router, E * H, ACT), *dout = dev(T * H * ES);
    lj_moe_params p = {dx, ldx, {dr, ACT, E, H, NULL}, tg, tu, td, dout, H, T, E, K, H, I};
    OK(B->moe(B, &p));
    double *ref = calloc(T * H, sizeof *ref), *lg = malloc(E * sizeof *lg), *act = malloc(I * sizeof *act);
    int *taken = malloc(E * sizeof *taken);
    for (size_t t = 0; t < T; t++) {
        const float *xr = x + t * ldx;
        double mx = -INFINITY, sum = 0;
        for (size_t e = 0; e < E; e++) {
            double a = 0;
            for (size_t h = 0; h < H; h++) a += (double)xr[h] * router[e * H + h];
            lg[e] = a;
            if (a > mx) mx = a;
            taken[e] = 0;
        }
        for (size_t e = 0; e < E; e++) sum += exp(lg[e] - mx);
        for (size_t j = 0; j < K; j++) {
            size_t best = E;
            for (size_t e = 0; e < E; e++) if (!taken[e] && (best == E || lg[e] > lg[best])) best = e;
            taken[best] = 1;
            double wgt = exp(lg[best] - mx) / sum;
            for (size_t i = 0; i < I; i++) {
                double a = 0, b = 0;
                for (size_t h = 0; h < H; h++) { a += (double)xr[h] * g[best][i * H + h]; b += (double)xr[h] * u[best][i * H + h]; }
                act[i] = RA((float)a) * RA((float)b) / (1.0 + exp(-RA((float)a)));   /* the GPU stores gate/up in ACT */
            }
            for (size_t h = 0; h < H; h++) {
                double a = 0;
                for (size_t i = 0; i < I; i++) a += act[i] * dn[best][h * I + i];
                ref[t * H + h] += wgt * a;
            }
        }
    }
    float *out = host_from(dout, T * H, ACT);
    char what[80];
    snprintf(what, sizeof what, "moe T=%zu H=%zu I=%zu E=%zu top%zu%s", T, H, I, E, K, joined ? " gate|up" : "");
    EXPECT_NMSE(what, out, ref, T * H, TOL);
    for (size_t e = 0; e < E; e++) {
        B->free(B, (void *)tg[e].data); B->free(B, (void *)td[e].data);
        if (!joined) B->free(B, (void *)tu[e].data);
        free(g[e]); free(u[e]); free(dn[e]);
    }
    free(out); free(ref); free(lg); free(act); free(taken); free(x); free(router); free(g); free(u); free(dn);
    free(tg); free(tu); free(td);
    B->free(B, dx); B->free(B, dr); B->free(B, dout);
}

static void run_all(void) {
    printf("backend %s (activations %s)\n", B->name, ACT == LJ_F32 ? "fp32" : "bf16");
    test_rmsnorm_silu_add_embed_argmax();
    test_matmul(37, 70, 48, 1);
    test_matmul(1, 256, 512, 0);
    /* <= 2 rows: the small-batch GEMV in bf16 — rows per pass 1 and 2, channels off the block size,
     * 2-, 4- and 8-channel blocks, 4 warps, K of one warp's pieces (4 and 8 rows per pass: the MoE
     * tests below); 3, 5, 8 rows: cuBLAS again */
    test_matmul(2, 70, 48, 1);
    test_matmul(3, 70, 48, 1);
    test_matmul(2, 8192, 1024, 0);
    test_matmul(1, 8192, 256, 0);
    test_matmul(1, 2048, 4096, 0);
    test_matmul(1, 16384, 512, 0);
    test_matmul(1, 16, 4096, 0);   /* the router's shape: 8 warps split K */
    test_matmul(8, 300, 1024, 0);
    test_matmul(5, 13, 264, 0);
    test_rmsnorm_rows(1, 4096);
    test_rmsnorm_rows(3, 256);
    test_rmsnorm_rows(2, 16);
    test_rmsnorm_rows(1, 6144);   /* 4 pieces per thread */
    test_rmsnorm_rows(1, 8200);
    test_argmax_wide(2, 65536);
    test_argmax_wide(1, 1000);
    {
        size_t nt[3] = {1, 70, 2}, ps[3] = {5, 0, 9};
        test_conv(50, 3, 3, nt, ps);
        size_t nt2[2] = {200, 1}, ps2[2] = {3, 1};
        test_conv(64, 4, 2, nt2, ps2);
    }
    {
        /* both ways of running it (auto picks the single pass only for wide models); d_state 64 has
         * only the chunked one */
        for (int mode = LJC_SCAN_SINGLE; mode <= LJC_SCAN_CHUNKED; mode++) {
            size_t nt[3] = {1, 300, 129};
            test_scan(40, 8, 3, nt, mode);
            size_t nt2[2] = {517, 3};
            test_scan(136, 16, 2, nt2, mode);
            size_t nt4[2] = {2200, 5};   /* 18 chunks: the carry walks them in batches of 16 */
            test_scan(40, 8, 2, nt4, mode);
            size_t nt5[3] = {64, 65, 1000};   /* whole and partial 64-step iterations; 12 states of 16 */
            test_scan(50, 12, 3, nt5, mode);
        }
        size_t nt3[1] = {70};
        test_scan(33, 64, 1, nt3, LJC_SCAN_CHUNKED);
        /* decode: one token per sequence (the step kernel up to 32 states; 64 keeps the chunks) */
        size_t one[3] = {1, 1, 1};
        test_scan(136, 16, 3, one, LJC_SCAN_AUTO);
        test_scan(40, 8, 2, one, LJC_SCAN_AUTO);
        test_scan(50, 12, 3, one, LJC_SCAN_AUTO);
        test_scan(33, 32, 2, one, LJC_SCAN_AUTO);
        test_scan(33, 64, 2, one, LJC_SCAN_AUTO);
    }
    {
        size_t nt[4] = {100, 1, 64, 1}, ps[4] = {37, 500, 0, 0};
        test_attention(6, 3, 16, 4, nt, ps);
        size_t nt2[3] = {130, 1, 1}, ps2[3] = {200, 5000, 77};
        test_attention(32, 8, 128, 3, nt2, ps2);
        /* head_dim 128 prefill (the sm_90a kernel on Hopper): several 128-query and 128-key tiles,
         * with and without a cache, lengths off the tile sizes */
        size_t nt6[2] = {300, 129}, ps6[2] = {0, 140};
        test_attention(8, 2, 128, 2, nt6, ps6);
        /* more than 32 query tiles: the sm_90a kernel's other block order (query-tile major) */
        size_t nt7[1] = {4200}, ps7[1] = {0};
        test_attention(2, 1, 128, 1, nt7, ps7);
        /* six prefill sequences among decode ones: the sm_90a kernel's TMA descriptors travel as
         * kernel parameters, F3_MAX_SEQS (4) sequences per launch, so two launches */
        size_t nt8[8] = {150, 2, 1, 260, 3, 129, 1, 40}, ps8[8] = {0, 10, 50, 7, 300, 0, 9, 1000};
        test_attention(4, 2, 128, 8, nt8, ps8);
        /* the same head-dim-128 prefills on the mma.sync kernel: what runs on other GPUs, and on
         * Hopper when the driver makes no TMA descriptor (LJC_FA3=off selects it) */
        setenv("LJC_FA3", "off", 1);
        test_attention(8, 2, 128, 2, nt6, ps6);
        test_attention(4, 2, 128, 8, nt8, ps8);
        unsetenv("LJC_FA3");
        size_t nt3[2] = {65, 1}, ps3[2] = {0, 63};
        test_attention(4, 2, 64, 2, nt3, ps3);
        size_t nt4[1] = {45};
        size_t ps4[1] = {0};
        test_attention(8, 8, 32, 1, nt4, ps4);
        size_t nt5[2] = {20, 1}, ps5[2] = {5, 30};
        test_attention(6, 3, 8, 2, nt5, ps5);   /* head_dim 8: the generic kernel */
    }
    test_moe(37, 64, 96, 6, 2, 0);
    test_moe(1, 128, 64, 16, 2, 0);
    test_moe(300, 64, 128, 4, 2, 0);
    /* decode-sized (<= 64 routed rows): the grouped GEMV, gate|up apart or as one matrix */
    test_moe(1, 128, 64, 16, 2, 1);
    test_moe(20, 64, 96, 6, 2, 1);
    test_moe(8, 256, 160, 16, 2, 0);
}

int main(void) {
    char why[256], err[512];
    if (!ljc_device_available(why, sizeof why)) {
        printf("SKIP test_cuda_ops: %s\n", why);
        return TEST_SKIP;
    }
    /* both precisions of the backend: bf16 (default) and fp32 (LONGJAM_CUDA_PRECISION=fp32) */
    const char *modes[2] = {"bf16", "fp32"};
    for (int m = 0; m < 2; m++) {
        setenv("LONGJAM_CUDA_PRECISION", modes[m], 1);
        if (lj_backend_cuda_new(0, &B, err, sizeof err)) {
            printf("SKIP test_cuda_ops: %s\n", err);
            return TEST_SKIP;
        }
        ACT = B->act_dtype;
        ES = lj_dtype_size(ACT);
        TOL = ACT == LJ_F32 ? 1e-5 : 1e-3;
        run_all();
        B->destroy(B);
    }
    unsetenv("LONGJAM_CUDA_PRECISION");
    return test_finish("test_cuda_ops");
}
