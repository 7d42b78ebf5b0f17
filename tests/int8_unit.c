/* ExpertsInt8 units:
 *   - quant_rows_i8 on random matrices (F32, BF16, F16 sources; rows of very different ranges and
 *     an all-zero row): scale = max|row| / 127, q in [-127, 127], the largest element maps to
 *     ±127, and |w - q·scale| <= scale/2 (+ 1e-6 relative for the float arithmetic);
 *     a NaN is refused with its index;
 *   - the CPU backend's int8 matmul (M = 1, 5, 70; bias; accumulate) and MoE op against the same
 *     ops on the dequantised fp32 weights: they must agree to fp32 rounding (1e-5 relative), which
 *     proves the kernels apply the right scale to the right row. */
#include "engine/quant.h"
#include "kernels/backend.h"
#include "test_util.h"

#include "common/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static float frand(void) {   /* xorshift64 → [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static double max_rel(const float *a, const float *b, size_t n) {
    double mx = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        mx = fmax(mx, fabs((double)b[i]));
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
    }
    return mx > 0 ? d / mx : d;
}

static void test_quant(lj_dtype dt) {
    const size_t R = 37, C = 301;
    float *w = malloc(R * C * sizeof *w);
    unsigned char *src = malloc(R * C * 4);
    for (size_t r = 0; r < R; r++) {
        float range = r == 5 ? 0.0f : powf(10.0f, (float)((int)(r % 7) - 3));   /* 1e-3 .. 1e3, row 5 zero */
        for (size_t j = 0; j < C; j++) w[r * C + j] = frand() * range;
    }
    /* the source in dtype dt; w becomes exactly what the source holds */
    for (size_t i = 0; i < R * C; i++) {
        if (dt == LJ_F32) memcpy(src + 4 * i, &w[i], 4);
        else if (dt == LJ_BF16) { uint16_t h = lj_f32_to_bf16(w[i]); memcpy(src + 2 * i, &h, 2); w[i] = lj_bf16_to_f32(h); }
        else {   /* F16 by hand: round to 10 mantissa bits within the normal range used here */
            float v = w[i];
            uint32_t u; memcpy(&u, &v, 4);
            uint16_t h;
            if (v == 0.0f || fabsf(v) < 6.2e-5f) { h = (uint16_t)((u >> 16) & 0x8000); }
            else {
                int e = (int)((u >> 23) & 0xff) - 127 + 15;
                uint32_t man = u & 0x7fffff;
                uint32_t hm = (man + 0x1000) >> 13;   /* round half up */
                if (hm == 0x400) { hm = 0; e++; }
                h = (uint16_t)(((u >> 16) & 0x8000) | (uint32_t)e << 10 | hm);
            }
            memcpy(src + 2 * i, &h, 2);
            w[i] = lj_f16_to_f32(h);
        }
    }
    int8_t *q = malloc(R * C);
    float *s = malloc(R * sizeof *s), *back = malloc(R * C * sizeof *back);
    size_t bad;
    CHECK(quant_rows_i8(src, dt, R, C, q, s, &bad) == 0);
    quant_dequant_rows(q, s, R, C, back);
    size_t worst_row = 0;
    double worst = 0;
    for (size_t r = 0; r < R; r++) {
        float mx = 0;
        int qmax = 0;
        for (size_t j = 0; j < C; j++) {
            mx = fmaxf(mx, fabsf(w[r * C + j]));
            int v = q[r * C + j];
            CHECKF(v >= -127 && v <= 127, "row %zu: q %d out of range", r, v);
            qmax = abs(v) > qmax ? abs(v) : qmax;
        }
        CHECKF(s[r] == mx / 127.0f, "row %zu: scale %g, expected %g", r, s[r], mx / 127.0f);
        if (mx == 0) {
            for (size_t j = 0; j < C; j++) CHECKF(q[r * C + j] == 0 && back[r * C + j] == 0, "zero row %zu col %zu", r, j);
            continue;
        }
        CHECKF(qmax == 127, "row %zu: largest |q| %d, expected 127", r, qmax);
        for (size_t j = 0; j < C; j++) {
            double e = fabs((double)w[r * C + j] - (double)q[r * C + j] * (double)s[r]);
            double bound = s[r] / 2.0 * (1 + 1e-6);
            if (e / s[r] > worst) { worst = e / s[r]; worst_row = r; }
            CHECKF(e <= bound, "row %zu col %zu: |w - q*scale| = %g > scale/2 = %g", r, j, e, s[r] / 2.0);
        }
    }
    printf("quant dtype %d: worst |w - q*scale| / scale = %.6f (row %zu), bound 0.5\n", (int)dt, worst, worst_row);
    /* a NaN is refused with its index */
    if (dt == LJ_F32) {
        float nan = NAN;
        memcpy(src + 4 * (3 * C + 17), &nan, 4);
        CHECK(quant_rows_i8(src, dt, R, C, q, s, &bad) == -1 && bad == 3 * C + 17);
    }
    free(w); free(src); free(q); free(s); free(back);
}

/* Random [rows, cols] weights quantised: int8 tensor + its fp32 dequantised twin (backend memory). */
typedef struct qmat { lj_tensor q, f; } qmat;

static void qmat_make(lj_backend *b, size_t rows, size_t cols, qmat *m) {
    float *w = malloc(rows * cols * sizeof *w), *s, *f;
    int8_t *q;
    for (size_t i = 0; i < rows * cols; i++) w[i] = frand() * 0.2f;
    b->alloc(b, rows * cols, (void **)&q);
    b->alloc(b, rows * sizeof *s, (void **)&s);
    b->alloc(b, rows * cols * sizeof *f, (void **)&f);
    size_t bad;
    CHECK(quant_rows_i8(w, LJ_F32, rows, cols, q, s, &bad) == 0);
    quant_dequant_rows(q, s, rows, cols, f);
    m->q = (lj_tensor){.data = q, .dtype = LJ_I8, .rows = rows, .cols = cols, .scale = s};
    m->f = (lj_tensor){.data = f, .dtype = LJ_F32, .rows = rows, .cols = cols};
    free(w);
}

static void qmat_free(lj_backend *b, qmat *m) {
    b->free(b, (void *)m->q.data);
    b->free(b, (void *)m->q.scale);
    b->free(b, (void *)m->f.data);
}

static void test_matmul(lj_backend *b) {
    const size_t N = 67, K = 45;
    qmat w;
    qmat_make(b, N, K, &w);
    float bias[67];
    for (size_t i = 0; i < N; i++) bias[i] = frand();
    size_t ms[] = {1, 5, 70};
    for (size_t k = 0; k < 3; k++) {
        size_t M = ms[k], ldy = N + 3;
        float *x = malloc(M * K * sizeof *x), *y1 = calloc(M * ldy, sizeof *y1), *y2 = calloc(M * ldy, sizeof *y2);
        for (size_t i = 0; i < M * K; i++) x[i] = frand();
        for (size_t i = 0; i < M * ldy; i++) y1[i] = y2[i] = frand();
        for (int acc = 0; acc < 2; acc++) {
            lj_matmul_params p = {.x = x, .ldx = K, .w = w.q, .bias = bias, .y = y1, .ldy = ldy, .m = M, .accumulate = acc};
            CHECKF(b->matmul(b, &p) == 0, "%s", b->err);
            p.w = w.f;
            p.y = y2;
            CHECKF(b->matmul(b, &p) == 0, "%s", b->err);
            double e = max_rel(y1, y2, M * ldy);
            CHECKF(e <= 1e-5, "int8 matmul M=%zu acc=%d: rel err %.3g vs dequantised fp32", M, acc, e);
        }
        free(x); free(y1); free(y2);
    }
    qmat_free(b, &w);
}

static void test_moe(lj_backend *b) {
    const size_t E = 4, H = 24, I = 40, T = 19, K = 2;
    qmat gate[4], up[4], down[4];
    lj_tensor gq[4], uq[4], dq[4], gf[4], uf[4], df[4];
    for (size_t e = 0; e < E; e++) {
        qmat_make(b, I, H, &gate[e]); qmat_make(b, I, H, &up[e]); qmat_make(b, H, I, &down[e]);
        gq[e] = gate[e].q; uq[e] = up[e].q; dq[e] = down[e].q;
        gf[e] = gate[e].f; uf[e] = up[e].f; df[e] = down[e].f;
    }
    float *router = malloc(E * H * sizeof *router), *x = malloc(T * H * sizeof *x);
    float *o1 = malloc(T * H * sizeof *o1), *o2 = malloc(T * H * sizeof *o2);
    for (size_t i = 0; i < E * H; i++) router[i] = frand();
    for (size_t i = 0; i < T * H; i++) x[i] = frand();
    lj_moe_params p = {.x = x, .ldx = H, .router = {.data = router, .dtype = LJ_F32, .rows = E, .cols = H},
                       .gate = gq, .up = uq, .down = dq, .out = o1, .ldo = H, .n_tokens = T, .n_experts = E,
                       .top_k = K, .hidden = H, .inter = I};
    CHECKF(b->moe(b, &p) == 0, "%s", b->err);
    p.gate = gf; p.up = uf; p.down = df; p.out = o2;
    CHECKF(b->moe(b, &p) == 0, "%s", b->err);
    double e = max_rel(o1, o2, T * H), mx = 0;
    for (size_t i = 0; i < T * H; i++) mx = fmax(mx, fabs(o2[i]));
    printf("cpu moe int8 vs dequantised fp32: rel err %.3g (max|out| %.3g)\n", e, mx);
    CHECK(mx > 1e-3);
    CHECKF(e <= 1e-5, "int8 moe rel err %.3g", e);
    for (size_t e2 = 0; e2 < E; e2++) { qmat_free(b, &gate[e2]); qmat_free(b, &up[e2]); qmat_free(b, &down[e2]); }
    free(router); free(x); free(o1); free(o2);
}

int main(void) {
    test_quant(LJ_F32);
    test_quant(LJ_BF16);
    test_quant(LJ_F16);
    char err[LJ_ERRLEN];
    lj_backend *b;
    if (lj_backend_cpu_new(2, &b, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    test_matmul(b);
    test_moe(b);
    b->destroy(b);
    return test_finish("int8_unit");
}
