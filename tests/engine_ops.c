/* CPU backend ops against naive double-precision references written straight from the PyTorch
 * expressions, on random data with two sequences at different positions, row strides wider than
 * the rows, and a few threads. Tolerance 1e-5 relative to each output's largest magnitude (fp32
 * accumulation over at most a few hundred terms). A device backend's op test can reuse the same
 * cases against the CPU. */
#include "kernels/backend.h"
#include "test_util.h"

#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static float frand(void) {   /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static float *rnd(size_t n, float scale) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = scale * frand();
    return p;
}
static double rel(const float *a, const double *ref, size_t n, size_t lda, size_t cols) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = i / cols, c = i % cols;
        double d = fabs(a[r * lda + c] - ref[i]);
        if (!(d <= md)) md = d;
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return mr > 0 ? md / mr : md;
}
#define TOL 1e-5

static double silu(double x) { return x / (1 + exp(-x)); }


static void attention_case(lj_backend *b, size_t pos0, size_t n0, size_t n1, size_t Hq, size_t Hkv, size_t Dh) {
    const size_t QD = Hq * Dh, KVD = Hkv * Dh, cap = pos0 + n0 + n1;
    size_t ntok[2] = {n0, n1}, pos[2] = {pos0, 0}, T = n0 + n1;
    float *q = rnd(T * QD, 1), *k = rnd(T * KVD, 1), *v = rnd(T * KVD, 1), *out = calloc(T * QD, sizeof(float));
    float *kc0 = rnd(cap * KVD, 1), *vc0 = rnd(cap * KVD, 1), *kc1 = calloc(cap * KVD, 4), *vc1 = calloc(cap * KVD, 4);
    float *K0 = malloc(cap * KVD * 4), *V0 = malloc(cap * KVD * 4), *K1 = calloc(cap * KVD, 4), *V1 = calloc(cap * KVD, 4);
    memcpy(K0, kc0, cap * KVD * 4);
    memcpy(V0, vc0, cap * KVD * 4);
    double *ref = malloc(T * QD * sizeof *ref), *sc = malloc(cap * sizeof *sc);
    for (size_t s = 0, row = 0; s < 2; row += ntok[s], s++) {
        float *Kc = s ? K1 : K0, *Vc = s ? V1 : V0;
        for (size_t t = 0; t < ntok[s]; t++) {   /* reference cache = old rows + new rows */
            memcpy(Kc + (pos[s] + t) * KVD, k + (row + t) * KVD, KVD * 4);
            memcpy(Vc + (pos[s] + t) * KVD, v + (row + t) * KVD, KVD * 4);
        }
        for (size_t t = 0; t < ntok[s]; t++)
            for (size_t hh = 0; hh < Hq; hh++) {
                // torch: softmax(q k^T / sqrt(Dh), causal) v with k, v repeated over the GQA group
                size_t P = pos[s] + t, g = hh / (Hq / Hkv);
                double mx = -1e300, sum = 0;
                for (size_t j = 0; j <= P; j++) {
                    double a = 0;
                    for (size_t e = 0; e < Dh; e++) a += (double)q[(row + t) * QD + hh * Dh + e] * Kc[j * KVD + g * Dh + e];
                    sc[j] = a / sqrt((double)Dh);
                    mx = sc[j] > mx ? sc[j] : mx;
                }
                for (size_t j = 0; j <= P; j++) { sc[j] = exp(sc[j] - mx); sum += sc[j]; }
                for (size_t e = 0; e < Dh; e++) {
                    double o = 0;
                    for (size_t j = 0; j <= P; j++) o += sc[j] / sum * Vc[j * KVD + g * Dh + e];
                    ref[(row + t) * QD + hh * Dh + e] = o;
                }
            }
    }
    void *kcs[2] = {kc0, kc1}, *vcs[2] = {vc0, vc1};
    lj_attention_params ap = {.batch = {2, ntok, pos, T}, .q = q, .ldq = QD, .k = k, .ldk = KVD, .v = v, .ldv = KVD,
                              .k_cache = kcs, .v_cache = vcs, .out = out, .ldo = QD, .n_heads = Hq, .n_kv_heads = Hkv,
                              .head_dim = Dh, .scale = 1.0f / sqrtf((float)Dh)};
    CHECK(b->attention(b, &ap) == 0);
    double e = rel(out, ref, T * QD, QD, QD);
    CHECKF(e < TOL, "attention %.3g", e);
    /* the op appended the new rows to each cache exactly as the reference did */
    CHECK(memcmp(kc0, K0, (pos0 + n0) * KVD * 4) == 0 && memcmp(vc0, V0, (pos0 + n0) * KVD * 4) == 0);
    CHECK(memcmp(kc1, K1, n1 * KVD * 4) == 0 && memcmp(vc1, V1, n1 * KVD * 4) == 0);
    printf("attention (pos %zu, %zu + %zu tokens, heads %zu/%zu, head_dim %zu): %.3g\n", pos0, n0, n1, Hq, Hkv, Dh, e);
    free(q); free(k); free(v); free(out); free(kc0); free(vc0); free(kc1); free(vc1);
    free(K0); free(V0); free(K1); free(V1); free(ref); free(sc);
}


int main(void) {
    char err[LJ_ERRLEN];
    lj_backend *b;
    if (lj_backend_cpu_new(3, &b, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }

    /* matmul with bias, strides, accumulate */
    {
        size_t M = 37, N = 70, K = 45, ldx = 50, ldy = 80;
        float *x = rnd(M * ldx, 1), *w = rnd(N * K, 1), *bias = rnd(N, 1), *y = rnd(M * ldy, 1);
        double *ref = malloc(M * N * sizeof *ref);
        for (size_t m = 0; m < M; m++)
            for (size_t n = 0; n < N; n++) {
                double s = y[m * ldy + n] + bias[n];
                for (size_t k = 0; k < K; k++) s += (double)x[m * ldx + k] * w[n * K + k];
                ref[m * N + n] = s;
            }
        lj_matmul_params p = {.x = x, .ldx = ldx, .w = {.data = w, .dtype = LJ_F32, .rows = N, .cols = K}, .bias = bias,
                              .y = y, .ldy = ldy, .m = M, .accumulate = 1};
        CHECK(b->matmul(b, &p) == 0);
        double e = rel(y, ref, M * N, ldy, N);
        CHECKF(e < TOL, "matmul %.3g", e);
        printf("matmul: %.3g\n", e);
        free(x); free(w); free(bias); free(y); free(ref);
    }
    /* rmsnorm in place on a strided slice */
    {
        size_t R = 9, n = 13, ld = 20;
        float *x = rnd(R * ld, 2), *g = rnd(n, 1);
        double *ref = malloc(R * n * sizeof *ref);
        for (size_t r = 0; r < R; r++) {
            double ss = 0;
            for (size_t i = 0; i < n; i++) ss += (double)x[r * ld + 3 + i] * x[r * ld + 3 + i];
            for (size_t i = 0; i < n; i++) ref[r * n + i] = g[i] * x[r * ld + 3 + i] / sqrt(ss / n + 1e-6);
        }
        lj_rmsnorm_params p = {.x = x + 3, .ldx = ld, .weight = g, .y = x + 3, .ldy = ld, .rows = R, .n = n, .eps = 1e-6f};
        CHECK(b->rmsnorm(b, &p) == 0);
        double e = rel(x + 3, ref, R * n, ld, n);
        CHECKF(e < TOL, "rmsnorm %.3g", e);
        free(x); free(g); free(ref);
    }
    /* conv1d + scan over two sequences (one continuing with a carried window/state), chunk vs tokens */
    {
        const size_t D = 24, K = 4, N = 8, n0 = 5, n1 = 11, T = n0 + n1, ldx = 2 * D;
        float *xz = rnd(T * ldx, 1), *w = rnd(D * K, 0.5f), *cb = rnd(D, 0.1f);
        float *win0 = rnd((K - 1) * D, 1), *win1 = calloc((K - 1) * D, sizeof(float));
        float *w0c = malloc((K - 1) * D * sizeof(float));
        memcpy(w0c, win0, (K - 1) * D * sizeof(float));
        float *y = calloc(T * D, sizeof(float));
        double *ref = malloc(T * D * sizeof *ref);
        size_t ntok[2] = {n0, n1}, pos[2] = {7, 0};
        for (size_t s = 0, row = 0; s < 2; row += ntok[s], s++)
            for (size_t d = 0; d < D; d++)
                for (size_t t = 0; t < ntok[s]; t++) {
                    double acc = cb[d];
                    for (size_t j = 0; j < K; j++) {
                        long src = (long)t + (long)j - (long)(K - 1);   /* chunk time */
                        double v = src >= 0 ? xz[(row + src) * ldx + d]
                                            : (s == 0 ? w0c[(K - 1 + src) * D + d] : 0.0);
                        acc += w[d * K + j] * v;
                    }
                    ref[(row + t) * D + d] = silu(acc);
                }
        float *wins[2] = {win0, win1};
        lj_conv1d_params cp = {.batch = {2, ntok, pos, T}, .x = xz, .ldx = ldx, .weight = w, .bias = cb, .window = wins,
                               .y = y, .ldy = D, .d = D, .k = K};
        CHECK(b->conv1d(b, &cp) == 0);
        double ec = rel(y, ref, T * D, D, D);
        CHECKF(ec < TOL, "conv1d %.3g", ec);
        /* new windows = last K-1 inputs */
        int win_ok = 1;
        for (size_t j = 0; j < K - 1; j++)
            for (size_t d = 0; d < D; d++) {
                win_ok &= win0[j * D + d] == xz[(n0 - (K - 1) + j) * ldx + d];
                win_ok &= win1[j * D + d] == xz[(n0 + n1 - (K - 1) + j) * ldx + d];
            }
        CHECK(win_ok);
        /* scan */
        const size_t XP = 3 + 2 * N;
        float *dt = rnd(T * D, 1), *dtb = rnd(D, 1), *alog = rnd(D * N, 1), *bc = rnd(T * XP, 1), *dsk = rnd(D, 1);
        float *st0 = rnd(D * N, 1), *st1 = calloc(D * N, sizeof(float)), *ys = calloc(T * D, sizeof(float));
        double *h = malloc(2 * D * N * sizeof *h), *sref = malloc(T * D * sizeof *sref);
        for (size_t i = 0; i < D * N; i++) { h[i] = st0[i]; h[D * N + i] = 0; }
        for (size_t s = 0, row = 0; s < 2; row += ntok[s], s++)
            for (size_t t = 0; t < ntok[s]; t++)
                for (size_t d = 0; d < D; d++) {
                    size_t r = row + t;
                    double v = dt[r * D + d] + dtb[d], delta = v > 20 ? v : log1p(exp(v)), xv = y[r * D + d], acc = 0;
                    for (size_t n = 0; n < N; n++) {
                        double A = -exp((double)alog[d * N + n]);
                        double *hh = &h[s * D * N + d * N + n];
                        *hh = exp(A * delta) * *hh + delta * bc[r * XP + 3 + n] * xv;
                        acc += *hh * bc[r * XP + 3 + N + n];
                    }
                    sref[r * D + d] = (acc + xv * dsk[d]) * silu(xz[r * ldx + D + d]);
                }
        float *sts[2] = {st0, st1};
        lj_scan_params sp = {.batch = {2, ntok, pos, T}, .x = y, .ldx = D, .dt = dt, .lddt = D, .dt_bias = dtb,
                             .a_log = alog, .b = bc + 3, .ldb = XP, .c = bc + 3 + N, .ldc = XP, .d_skip = dsk,
                             .z = xz + D, .ldz = ldx, .state = sts, .y = ys, .ldy = D, .d = D, .n = N};
        CHECK(b->scan(b, &sp) == 0);
        double e = rel(ys, sref, T * D, D, D);
        CHECKF(e < TOL, "scan %.3g", e);
        float *hf = malloc(2 * D * N * sizeof *hf);
        memcpy(hf, st0, D * N * sizeof *hf);
        memcpy(hf + D * N, st1, D * N * sizeof *hf);
        double es = rel(hf, h, 2 * D * N, 2 * D * N, 2 * D * N);
        CHECKF(es < TOL, "scan state %.3g", es);
        printf("conv1d: %.3g, scan: %.3g, state %.3g\n", ec, e, es);
        free(xz); free(w); free(cb); free(win0); free(win1); free(w0c); free(y); free(ref);
        free(dt); free(dtb); free(alog); free(bc); free(dsk); free(st0); free(st1); free(ys); free(h); free(sref); free(hf);
    }
    /* attention: sequence 0 continues after cached tokens, sequence 1 is new; GQA; short and
     * long (several query blocks of 32 and key blocks of 256) */
    attention_case(b, 6, 3, 5, 6, 2, 8);
    attention_case(b, 300, 70, 40, 4, 1, 16);
    /* moe: top-2 of 5, weights not renormalised */
    {
        const size_t T = 7, H = 12, I = 10, E = 5, k = 2;
        float *x = rnd(T * H, 1), *router = rnd(E * H, 2), *out = calloc(T * H, 4);
        float *wg[5], *wu[5], *wd[5];
        lj_tensor g[5], u[5], dn[5];
        for (size_t e = 0; e < E; e++) {
            wg[e] = rnd(I * H, 1); wu[e] = rnd(I * H, 1); wd[e] = rnd(H * I, 1);
            g[e] = (lj_tensor){.data = wg[e], .dtype = LJ_F32, .rows = I, .cols = H};
            u[e] = (lj_tensor){.data = wu[e], .dtype = LJ_F32, .rows = I, .cols = H};
            dn[e] = (lj_tensor){.data = wd[e], .dtype = LJ_F32, .rows = H, .cols = I};
        }
        double *ref = calloc(T * H, sizeof *ref);
        for (size_t t = 0; t < T; t++) {
            double lg[5], mx = -1e300, sum = 0;
            for (size_t e = 0; e < E; e++) {
                lg[e] = 0;
                for (size_t i = 0; i < H; i++) lg[e] += (double)x[t * H + i] * router[e * H + i];
                mx = lg[e] > mx ? lg[e] : mx;
            }
            for (size_t e = 0; e < E; e++) sum += exp(lg[e] - mx);
            int used[5] = {0};
            for (size_t j = 0; j < k; j++) {
                size_t best = E;
                for (size_t e = 0; e < E; e++)
                    if (!used[e] && (best == E || lg[e] > lg[best])) best = e;
                used[best] = 1;
                double wgt = exp(lg[best] - mx) / sum, act[16];
                for (size_t i = 0; i < I; i++) {
                    double a = 0, c = 0;
                    for (size_t hh = 0; hh < H; hh++) {
                        a += (double)wg[best][i * H + hh] * x[t * H + hh];
                        c += (double)wu[best][i * H + hh] * x[t * H + hh];
                    }
                    act[i] = silu(a) * c;
                }
                for (size_t hh = 0; hh < H; hh++) {
                    double o = 0;
                    for (size_t i = 0; i < I; i++) o += wd[best][hh * I + i] * act[i];
                    ref[t * H + hh] += wgt * o;
                }
            }
        }
        lj_moe_params mp = {.x = x, .ldx = H, .router = {.data = router, .dtype = LJ_F32, .rows = E, .cols = H},
                            .gate = g, .up = u, .down = dn, .out = out, .ldo = H, .n_tokens = T, .n_experts = E,
                            .top_k = k, .hidden = H, .inter = I};
        CHECK(b->moe(b, &mp) == 0);
        double e = rel(out, ref, T * H, H, H);
        CHECKF(e < TOL, "moe %.3g", e);
        printf("moe: %.3g\n", e);
        for (size_t i = 0; i < E; i++) { free(wg[i]); free(wu[i]); free(wd[i]); }
        free(x); free(router); free(out); free(ref);
    }
    /* conversions: bf16 / f16 uploads */
    {
        uint16_t hb[4] = {0x3f80, 0xc000, 0x0000, 0x3e00}, hh[4] = {0x3c00, 0xc000, 0x0001, 0x7bff};
        float fb[4], fh[4];
        CHECK(b->upload(b, fb, LJ_F32, hb, LJ_BF16, 4) == 0 && b->upload(b, fh, LJ_F32, hh, LJ_F16, 4) == 0);
        CHECK(fb[0] == 1.0f && fb[1] == -2.0f && fb[2] == 0.0f && fb[3] == 0.125f);
        CHECK(fh[0] == 1.0f && fh[1] == -2.0f && fh[2] == 5.9604644775390625e-8f && fh[3] == 65504.0f);
        CHECK(lj_f32_to_bf16(1.0f) == 0x3f80 && lj_f32_to_bf16(1.00390625f) == 0x3f80 && lj_f32_to_bf16(1.01171875f) == 0x3f82);
    }
    b->destroy(b);
    return test_finish("engine_ops");
}
