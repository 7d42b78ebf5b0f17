/* y = x · Wᵀ (+ bias) (+ y). The output columns are split across the pool's threads; each block
 * is one single-threaded OpenBLAS sgemm/sgemv when available (OpenBLAS's own threads are set to 1,
 * so its spinning workers never compete with the pool), else a dot-product loop (each output one
 * dot product in a fixed order, so results do not depend on M). */
#include "kernels/cpu/cpu.h"

#include <string.h>
#ifdef LONGJAM_HAVE_OPENBLAS
#include <cblas.h>
#endif

typedef struct mm_job {
    const lj_matmul_params *p;
    size_t k;
} mm_job;

#ifndef LONGJAM_HAVE_OPENBLAS
static float dot(const float *a, const float *b, size_t k) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < k; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* columns [n0, n1) of every row */
static void mm_cols(void *arg, size_t n0, size_t n1) {
    const mm_job *j = arg;
    const lj_matmul_params *p = j->p;
    const float *x = p->x, *w = p->w.data;
    float *y = p->y;
    for (size_t r = 0; r < p->m; r++) {
        const float *xr = x + r * p->ldx;
        float *yr = y + r * p->ldy;
        for (size_t n = n0; n < n1; n++) {
            float v = dot(xr, w + n * j->k, j->k);
            yr[n] = p->accumulate ? yr[n] + v : v;
        }
    }
}
#endif

#ifdef LONGJAM_HAVE_OPENBLAS
/* columns [n0, n1) = rows n0..n1 of W */
static void mm_blas_cols(void *arg, size_t n0, size_t n1) {
    const mm_job *j = arg;
    const lj_matmul_params *p = j->p;
    const float *w = (const float *)p->w.data + n0 * j->k;
    float *y = (float *)p->y + n0;
    float beta = p->accumulate ? 1.0f : 0.0f;
    if (p->m == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)(n1 - n0), (int)j->k, 1.0f, w, (int)j->k, p->x, 1, beta, y, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)p->m, (int)(n1 - n0), (int)j->k, 1.0f, p->x,
                    (int)p->ldx, w, (int)j->k, beta, y, (int)p->ldy);
}
#endif

int cpu_matmul(lj_backend *b, const lj_matmul_params *p) {
    if (p->w.dtype != LJ_F32) return cpu_fail(b, "cpu matmul: weights must be F32 (got dtype %d)", (int)p->w.dtype);
    size_t N = p->w.rows, K = p->w.cols, M = p->m;
    if (M == 0 || N == 0) return 0;
    mm_job j = {p, K};
    /* one block per thread, in multiples of 16 columns; small products stay on the caller */
    size_t t = (size_t)b->threads, grain = ((N + t - 1) / t + 15) & ~(size_t)15;
    if (M * N * K < ((size_t)1 << 17)) grain = N;
#ifdef LONGJAM_HAVE_OPENBLAS
    if (K == 0) {
        if (!p->accumulate)
            for (size_t r = 0; r < M; r++) memset((float *)p->y + r * p->ldy, 0, N * sizeof(float));
    } else {
        pool_for(cpu_pool_of(b), N, grain, mm_blas_cols, &j);
    }
#else
    pool_for(cpu_pool_of(b), N, grain, mm_cols, &j);
#endif
    if (p->bias) {
        float *y = p->y;
        for (size_t r = 0; r < M; r++)
            for (size_t n = 0; n < N; n++) y[r * p->ldy + n] += p->bias[n];
    }
    return 0;
}

void cpu_gemm(int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
              float beta, float *c, size_t ldc) {
    if (m == 0 || n == 0) return;
#ifdef LONGJAM_HAVE_OPENBLAS
    if (k > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a,
                    (int)lda, b, (int)ldb, beta, c, (int)ldc);
        return;
    }
#endif
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (size_t q = 0; q < k; q++) s += a[i * lda + q] * (trans_b ? b[j * ldb + q] : b[q * ldb + j]);
            c[i * ldc + j] = beta == 0.0f ? s : beta * c[i * ldc + j] + s;
        }
}
